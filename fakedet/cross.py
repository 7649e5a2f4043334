"""Cross-architecture evaluation: one trial's discriminator against another's generator.

Both trials share (seed, held-out triple, protocol), so the detector sees fakes of a
generator trained on the same images. The networks come from the results store, so this
runs anywhere the store is reachable, without the dataset. Idempotent: an existing result
is left alone.
"""

from __future__ import annotations

import time

import numpy as np
import pyarrow.compute as pc

from fakedet import evaluate
from fakedet.schema import METRICS_SCHEMA, to_table
from fakedet.store import ResultsStore
from fakedet.train import pick_device
from fakedet.trial import TrialConfig, identity, load_networks, score_rows, scores_table

CROSS_NOISE_OFFSET = 2_000_003  # cross fakes use noise seeded apart from the trial's own
DEFAULT_CROSS_FAKES = 10_000


def real_test_scores(store: ResultsStore, cfg: TrialConfig) -> np.ndarray:
    """The detector's stored scores of its real_test suite."""
    table = store.read_table(store.scores_path(cfg.key, cfg.arch, cfg.protocol))
    return table.filter(pc.equal(table["suite"], "real_test"))["score"].to_numpy()


def cross_evaluate(
    store: ResultsStore,
    detector: TrialConfig,
    generator: TrialConfig,
    n_fakes: int = DEFAULT_CROSS_FAKES,
    device: str | None = None,
) -> str:
    """Score `n_fakes` of `generator`'s fakes with `detector`'s discriminator.

    Writes the `cross_fake` metric rows (generator_arch = generator.arch) and their
    per-image scores next to the detector's results.

    Returns:
        'skipped' when the result already exists, else 'done'.
    """
    path = store.metrics_path(detector.key, detector.arch, detector.protocol, generator.arch)
    if store.exists(path):
        return "skipped"
    scores_path = store.scores_path(detector.key, detector.arch, detector.protocol, generator.arch)
    store.remove_temporaries(path, scores_path)  # an earlier attempt died mid-write?
    t0 = time.perf_counter()
    dev = pick_device(device)
    G, _ = load_networks(store, generator, dev)
    _, D = load_networks(store, detector, dev)
    seed = CROSS_NOISE_OFFSET + detector.seed
    fakes = evaluate.generate(G, n_fakes, seed, generator.recipe.latent_dim, dev)
    s_fake = evaluate.score(D, fakes)
    rows = evaluate.cross_rows(s_fake, real_test_scores(store, detector))

    trial_info = store.read_json(store.trial_path(detector.key, "trial.json"))
    provenance = {k: trial_info[k] for k in METRICS_SCHEMA.names if k in trial_info}
    base = {
        **provenance,
        **identity(detector),
        "generator_arch": generator.arch,
        "wall_seconds": time.perf_counter() - t0,
        "device": str(dev),
    }
    store.write_scores(
        scores_table([score_rows(detector, "cross_fake", generator.arch, s_fake)]),
        detector.key,
        detector.arch,
        detector.protocol,
        generator.arch,
    )
    store.write_metrics(
        to_table([{**base, **r} for r in rows], METRICS_SCHEMA),
        detector.key,
        detector.arch,
        detector.protocol,
        generator.arch,
    )
    return "done"
