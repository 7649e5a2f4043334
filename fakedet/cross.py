"""Cross-architecture evaluation: one trial's discriminator against another's generator.

Both trials share (seed, held-out triple, protocol), so the detector sees fakes of a
generator trained on the same images. The networks and the detector's own real-image
logits come from the results store, so this runs anywhere the store is reachable, without
the dataset. Idempotent: an existing result is left alone.
"""

from __future__ import annotations

import time

from fakedet import evaluate, metrics
from fakedet.config import DEFAULT_CROSS_FAKES, TrialConfig
from fakedet.record import cross_record, identity, load_networks
from fakedet.schema import METRICS_SCHEMA
from fakedet.store import ResultsStore
from fakedet.train import pick_device

CROSS_NOISE_OFFSET = 2_000_003  # cross fakes use noise seeded apart from the trial's own


def cross_evaluate(
    store: ResultsStore,
    detector_trial: TrialConfig,
    generator_trial: TrialConfig,
    n_fakes: int = DEFAULT_CROSS_FAKES,
    device: str | None = None,
) -> str:
    """Score `n_fakes` of `generator_trial`'s fakes with `detector_trial`'s discriminator.

    Writes the `cross_fake` metric rows (generator_arch = generator_trial.arch) and their
    per-image scores next to the detector's results.

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
    fake = evaluate.logits(D, fakes)
    reals = metrics.stored_logits(store.read_table(store.scores_path(det)))
    rows = metrics.cross_rows(fake, reals["real_heldout"][0], reals["real_test"][0])

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
    store.write_record(cross_record(det, garch, fake, rows, base))
    return "done"
