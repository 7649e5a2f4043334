"""Synthetic results roots in the real schema, for tests and the summary benchmark.

`write_root` writes, through the same store and schema as a real trial, one metrics file
per trial (and one per cross-evaluation) whose values come from a function the caller
chooses, so every statistic of the summary has a known answer.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from fakedet.protocol import triple_str
from fakedet.schema import METRIC_VERSION, METRICS_SCHEMA, SUITES, to_table
from fakedet.store import ResultsStore, TrialId

# value(arch, suite, metric, generator, class_id, seed, triple) -> float
ValueFn = Callable[[str, str, str, str, int | None, int, tuple], float]

# Each suite's trial-level metrics, as a trial writes them (per-class rows aside).
SUITE_METRICS = {name: suite.metrics for name, suite in SUITES.items() if name != "train_fake"}


def constant(table: dict) -> ValueFn:
    """Values from {(arch, suite, metric): value}, 0.5 for anything else."""
    return lambda arch, suite, metric, *_: table.get((arch, suite, metric), 0.5)


def trial_rows(arch, seed, triple, archs, value: ValueFn, steps: int = 100):
    key = f"{arch}_s{seed}_h{triple_str(triple)}_seed_synthetic"
    base = dict(
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
        epochs=1.0,
        steps=steps,
        wall_seconds=1.0,
        recipe="{}",
        metric_version=METRIC_VERSION,
        checkpoint_step=steps,
        checkpoint_epoch=1.0,
    )
    own, cross = [], {g: [] for g in archs if g != arch}
    for suite, metrics in SUITE_METRICS.items():
        gens = list(cross) if suite == "cross_fake" else [arch]
        for gen, metric in itertools.product(gens, metrics):
            row = dict(
                base,
                suite=suite,
                generator_arch=gen,
                class_id=None,
                metric=metric,
                value=value(arch, suite, metric, gen, None, seed, triple),
            )
            (cross[gen] if suite == "cross_fake" else own).append(row)
    for suite, classes in (
        ("real_heldout", triple),
        ("real_test", [c for c in range(10) if c not in triple]),
    ):
        for c in classes:
            own.append(
                dict(
                    base,
                    suite=suite,
                    generator_arch=arch,
                    class_id=c,
                    metric="false_flag_rate",
                    value=value(arch, suite, "false_flag_rate", arch, c, seed, triple),
                )
            )
    return key, own, cross


def write_root(
    root: str,
    archs: Iterable[str],
    seeds: Iterable[int],
    triples: Iterable[tuple],
    value: ValueFn,
    cross: bool = True,
    steps: int = 100,
) -> int:
    """Write a synthetic results root; returns the number of trials written."""
    store, archs = ResultsStore(root), list(archs)
    jobs = list(itertools.product(archs, seeds, triples))

    def write(job):
        arch, seed, triple = job
        key, own, cross_rows = trial_rows(arch, seed, triple, archs, value, steps)
        trial = TrialId(key, arch, "seed")
        store.write_metrics(to_table(own, METRICS_SCHEMA), trial)
        if cross:
            for gen, rows in cross_rows.items():
                store.write_metrics(to_table(rows, METRICS_SCHEMA), trial, gen)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, jobs))
    return len(jobs)
