"""One runner for every job that writes records: GAN trials, packs, cross-evaluations and
detector trials.

A job is a group of results computed together (one GAN trial, the members of a pack,
one cross-evaluation, one detector trial). The runner does, once for every kind: skip
the results that are complete (their metrics file exists) unless forced; delete what a
killed attempt left half-written; time the work; write each record with its metrics
file last (`ResultsStore.write_record`). A job kind only computes its records.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from fakedet.store import Record, ResultsStore, Trial


@dataclass(frozen=True)
class Result:
    """A computed record and the summary its job returns for it."""

    record: Record
    summary: dict


@dataclass(frozen=True)
class Job:
    """What the runner needs to know of a job: whose results, which files."""

    trials: Sequence[Trial]
    """The results it writes, one record each."""
    files: tuple[str, ...] = ()
    """Each record's files in its trial's directory (besides scores and metrics)."""
    generator_arch: str | None = None
    """Set for a cross-evaluation (its files are named after the other generator)."""


def complete(store: ResultsStore, job: Job, trial: Trial) -> bool:
    return store.exists(store.metrics_path(trial, job.generator_arch))


def run_job(
    store: ResultsStore,
    job: Job,
    compute: Callable[[list, float], Iterable[Result]],
    force: bool = False,
) -> list[dict]:
    """Run `job`: skip its complete results, clean up, compute the others, write them.

    Args:
        store: the results root.
        job: whose results and which files.
        compute: called as compute(todo, t0) with the trials to run and the start time
            (`time.perf_counter()`); yields one `Result` per trial of `todo`, in order.
        force: recompute complete results too.

    Returns:
        One summary per trial of the job, in order: {'status': 'skipped', 'key'} for a
        complete one, else the summary `compute` gave it.
    """
    summaries = {
        t.key: dict(status="skipped", key=t.key)
        for t in job.trials
        if not force and complete(store, job, t)
    }
    todo = [t for t in job.trials if t.key not in summaries]
    if todo:
        for t in todo:  # a killed attempt's half-written files?
            store.remove_temporaries(*store.record_paths(t, job.files, job.generator_arch))
        t0 = time.perf_counter()
        for trial, result in zip(todo, compute(todo, t0), strict=True):
            t_write = time.perf_counter()
            store.write_record(result.record)
            summaries[trial.key] = {
                **result.summary,
                "write_seconds": time.perf_counter() - t_write,
            }
    return [summaries[t.key] for t in job.trials]
