"""Synthetic results roots in the real schema, for tests and the summary benchmark.

It lives in `bench` (not `tests/`) because `python -m bench.summary_time` writes its root
with it; the tests import it from here.

`write_root` writes, through the same store and schema as a real trial, one metrics file
per trial (and one per cross-evaluation) whose values come from a function the caller
chooses, so every statistic of the summary has a known answer. Optionally each GAN trial
also holds rows of earlier checkpoints, and a dedicated detector is written per (seed,
triple) and left-out architecture.

The value function is called as value(arch, suite, metric, generator, class_id, seed,
triple), with the keyword `epoch=` added for the rows of an earlier checkpoint (only when
checkpoints are asked for). A dedicated detector's rows are asked for with arch
`detector-lo-<left_out>`, the label the analysis gives it (`analysis.grid`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from analysis.grid import DETECTOR, detector_label
from analysis.measures import (
    CROSS_FAKE,
    FALSE_FLAG_RATE,
    OWN_FAKE,
    REAL_HELDOUT,
    REAL_TEST,
    TRAIN_FAKE,
)
from fakedet.protocol import triple_str
from fakedet.schema import METRIC_VERSION, METRICS_SCHEMA, SUITES, to_table
from fakedet.store import ResultsStore, TrialId

# value(arch, suite, metric, generator, class_id, seed, triple[, epoch=]) -> float
ValueFn = Callable[..., float]

# Each suite's trial-level metrics, as a trial writes them (per-class rows aside).
# The first release's suites: the 8-bit, upload and quality suites are measured on real
# trials (tests/analysis/test_marketplace.py), not simulated here.
FIRST_SUITES = ("own_fake", "cross_fake", "train_fake", "real_heldout", "real_test", "overall",
                "operating_point")  # fmt: skip
SUITE_METRICS = {name: SUITES[name].metrics for name in FIRST_SUITES}
GAN_SUITES = [s for s in SUITE_METRICS if s != TRAIN_FAKE]
DETECTOR_SUITES = [s for s in SUITE_METRICS if s != OWN_FAKE]


def constant(table: dict) -> ValueFn:
    """Values from {(arch, suite, metric): value}, 0.5 for anything else."""
    return lambda arch, suite, metric, *_, **__: table.get((arch, suite, metric), 0.5)


def _base(key, arch, seed, triple, steps, epochs, step, epoch, left_out=None) -> dict:
    return dict(
        trial_key=key,
        arch=arch,
        seed=seed,
        heldout=triple_str(triple),
        protocol="seed",
        support=100,
        fakedet_version="synthetic",
        git_commit=None,
        torch_version="-",
        device="cpu",
        precision="fp32",
        epochs=epochs,
        steps=steps,
        wall_seconds=1.0,
        recipe="{}",
        metric_version=METRIC_VERSION,
        checkpoint_step=step,
        checkpoint_epoch=epoch,
        left_out=left_out,
    )


def _rows(label, base, suites, own_generator, cross_generators, value, seed, triple, **kw):
    """(own rows, {generator: cross rows}) of one checkpoint; `label` is asked for values."""
    own, cross = [], {g: [] for g in cross_generators}
    for suite in suites:
        gens = list(cross) if suite == CROSS_FAKE else [own_generator]
        for gen, metric in itertools.product(gens, SUITE_METRICS[suite]):
            v = value(
                label,
                suite,
                metric,
                gen if suite == CROSS_FAKE else label,
                None,
                seed,
                triple,
                **kw,
            )
            row = dict(base, suite=suite, generator_arch=gen, class_id=None, metric=metric, value=v)
            (cross[gen] if suite == CROSS_FAKE else own).append(row)
    for suite, classes in (
        (REAL_HELDOUT, triple),
        (REAL_TEST, [c for c in range(10) if c not in triple]),
    ):
        for c in classes:
            v = value(label, suite, FALSE_FLAG_RATE, label, c, seed, triple, **kw)
            own.append(
                dict(
                    base,
                    suite=suite,
                    generator_arch=own_generator,
                    class_id=c,
                    metric=FALSE_FLAG_RATE,
                    value=v,
                )
            )
    return own, cross


def trial_rows(arch, seed, triple, archs, value: ValueFn, steps: int = 100, checkpoints=()):
    """A GAN trial's key, own rows (every checkpoint) and {generator: cross rows}.

    Args:
        checkpoints: epochs of earlier checkpoints (< 1: the final step is epoch 1.0).
    """
    key = f"{arch}_s{seed}_h{triple_str(triple)}_seed_synthetic"
    others = [g for g in archs if g != arch]
    base = _base(key, arch, seed, triple, steps, 1.0, steps, 1.0)
    own, cross = _rows(arch, base, GAN_SUITES, arch, others, value, seed, triple)
    for epoch in checkpoints:
        early = dict(base, checkpoint_step=round(steps * epoch), checkpoint_epoch=epoch)
        rows, _ = _rows(arch, early, GAN_SUITES, arch, [], value, seed, triple, epoch=epoch)
        own += rows
    return key, own, cross


def detector_rows(left_out, seed, triple, archs, value: ValueFn, steps: int = 100):
    """A dedicated detector's key and rows: trained on the fakes of `archs` but `left_out`,
    tested on `left_out`'s (its cross_fake rows, in the same file)."""
    key = f"{DETECTOR}_s{seed}_h{triple_str(triple)}_seed_lo-{left_out}_synthetic"
    trained_on = "+".join(a for a in archs if a != left_out)
    base = _base(key, DETECTOR, seed, triple, steps, 1.0, steps, 1.0, left_out=left_out)
    label = detector_label(left_out)
    own, cross = _rows(label, base, DETECTOR_SUITES, trained_on, [left_out], value, seed, triple)
    for r in own:
        if r["suite"] != TRAIN_FAKE:
            r["generator_arch"] = DETECTOR
    return key, own + cross[left_out]


def write_root(
    root: str,
    archs: Iterable[str],
    seeds: Iterable[int],
    triples: Iterable[tuple],
    value: ValueFn,
    cross: bool = True,
    steps: int = 100,
    checkpoints: Iterable[float] = (),
    detectors: bool = False,
) -> int:
    """Write a synthetic results root; returns the number of trials written.

    Args:
        checkpoints: epochs of earlier checkpoints every GAN trial holds (each < 1.0, the
            final step's epoch).
        detectors: also write a dedicated detector per (seed, triple) and left-out arch.
    """
    store, archs, checkpoints = ResultsStore(root), list(archs), tuple(checkpoints)
    jobs = [(a, s, t, False) for a, s, t in itertools.product(archs, seeds, triples)]
    if detectors:
        jobs += [(a, s, t, True) for a, s, t in itertools.product(archs, seeds, triples)]

    def write(job):
        arch, seed, triple, is_detector = job
        if is_detector:
            key, rows = detector_rows(arch, seed, triple, archs, value, steps)
            store.write_metrics(to_table(rows, METRICS_SCHEMA), TrialId(key, DETECTOR, "seed"))
            return
        key, own, cross_rows = trial_rows(arch, seed, triple, archs, value, steps, checkpoints)
        trial = TrialId(key, arch, "seed")
        store.write_metrics(to_table(own, METRICS_SCHEMA), trial)
        if cross:
            for gen, rows in cross_rows.items():
                store.write_metrics(to_table(rows, METRICS_SCHEMA), trial, gen)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, jobs))
    return len(jobs)
