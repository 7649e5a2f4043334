"""Cross-architecture evaluation: one trial's discriminator against another's generator.

Both trials share (seed, held-out triple, protocol), so the detector sees fakes of a
generator trained on the same images. The networks and the detector's own real-image
logits come from the results store, so this runs anywhere the store is reachable, without
the dataset. Idempotent: an existing result is left alone.
"""

from __future__ import annotations

import time

from fakedet import evaluate, metrics, uploads
from fakedet.config import DEFAULT_CROSS_FAKES, TrialConfig
from fakedet.protocol import make_split
from fakedet.record import cross_record, identity, load_networks
from fakedet.schema import METRICS_SCHEMA, eight_bit
from fakedet.store import ResultsStore
from fakedet.train import pick_device

CROSS_NOISE_OFFSET = 2_000_003  # cross fakes use noise seeded apart from the trial's own
CROSS_FAKE, CROSS_FAKE_8BIT = "cross_fake", eight_bit("cross_fake")


def cross_evaluate(
    store: ResultsStore,
    detector_trial: TrialConfig,
    generator_trial: TrialConfig,
    n_fakes: int = DEFAULT_CROSS_FAKES,
    device: str | None = None,
    data=None,
    classifier=None,
) -> str:
    """Score `n_fakes` of `generator_trial`'s fakes with `detector_trial`'s discriminator.

    Writes the `cross_fake` and `cross_fake_8bit` metric rows (generator_arch =
    generator_trial.arch) and their per-image scores next to the detector's results; with
    the dataset `data` and a `classifier` (`fakedet.quality`), also the fakes' quality
    (suite fake_quality).

    Returns:
        'skipped' when the result already exists, else 'done'.
    """
    det, garch = detector_trial, generator_trial.arch
    path = store.metrics_path(det, garch)
    if store.exists(path):
        return "skipped"
    store.remove_temporaries(*store.record_paths(det, generator_arch=garch))  # a killed one's?
    t0 = time.perf_counter()
    dev = pick_device(device)
    G, _ = load_networks(store, generator_trial, dev)
    _, D = load_networks(store, det, dev)
    seed = CROSS_NOISE_OFFSET + det.seed
    fakes = evaluate.generate(G, n_fakes, seed, generator_trial.recipe.latent_dim, dev)
    floats = fakes.cpu().numpy()
    fakes8 = uploads.to_8bit(floats)
    scored = {CROSS_FAKE: evaluate.logits(D, fakes), CROSS_FAKE_8BIT: evaluate.logits(D, fakes8)}
    reals = metrics.stored_logits(store.read_table(store.scores_path(det)))
    held, test = reals["real_heldout"][0], reals["real_test"][0]
    rows = [r for suite, x in scored.items() for r in metrics.fake_rows(suite, x, held, test)]
    if data is not None and classifier is not None:
        rows += cross_quality(det, data, classifier, floats, fakes8)

    trial_info = store.read_json(store.trial_path(det, "trial.json"))
    provenance = {k: trial_info[k] for k in METRICS_SCHEMA.names if k in trial_info}
    base = {
        **provenance,
        **identity(det),
        "wall_seconds": time.perf_counter() - t0,
        "device": str(dev),
        "checkpoint_step": trial_info.get("steps"),
        "checkpoint_epoch": trial_info.get("epochs"),
    }
    store.write_record(cross_record(det, garch, scored, rows, base))
    return "done"


def cross_quality(det: TrialConfig, data, classifier, floats, fakes8) -> list[dict]:
    """The fake_quality rows of another generator's fakes against the detector trial's
    seen-class reals (the same images its own fakes are measured against)."""
    split = make_split(data, det.heldout, det.seed, det.protocol)
    held_x = split.real_heldout_images[: det.eval_limit]
    test_x = split.real_test_images[: det.eval_limit]
    return evaluate.quality_rows(classifier, floats, fakes8, held_x, test_x, det.heldout)[0]
