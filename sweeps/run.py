"""The sweep's phases on Ray.

1. Training: a Tune grid over arch x seed x held-out triple. The trainable returns at once
   for a trial whose results are complete; the dataset reaches workers once, through the
   object store (`tune.with_parameters`). With packs (`--pack K`), a Tune trial is a pack of
   up to K trials of one architecture (`fakedet.pack.run_pack`): it skips its complete
   members, so a pack retried after a node loss redoes only the unfinished ones.
2. Cross-evaluation: for every (seed, triple) with two or more finished architectures,
   each discriminator on fakes of every other architecture's generator, as Ray tasks that
   read the networks from the results store.
3. Dedicated detectors: for every (seed, triple) whose architectures all finished and
   each architecture left out, a detector trained on the others' fakes
   (`fakedet.detector_trial`), as Ray tasks with the trials' resources; the dataset goes
   to the object store once.

Every phase is idempotent: complete results are never recomputed, so rerunning the same
command after any interruption finishes only what is missing.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # Tune prints nothing at verbose=0

import ray  # noqa: E402
from ray import tune  # noqa: E402

from fakedet.config import TrialConfig, from_tune, tune_point  # noqa: E402
from fakedet.cross import cross_evaluate  # noqa: E402
from fakedet.data import FashionMNIST  # noqa: E402
from fakedet.detector import DetectorRecipe  # noqa: E402
from fakedet.detector_trial import DetectorTrial, detector_trials, run_detector_trial  # noqa: E402
from fakedet.errors import first_line  # noqa: E402
from fakedet.pack import run_pack  # noqa: E402
from fakedet.store import ResultsStore  # noqa: E402
from fakedet.trial import run_trial  # noqa: E402
from sweeps.progress import LiveStatus  # noqa: E402
from sweeps.spec import (  # noqa: E402
    SweepSpec,
    member_points,
    packs,
    plan_name,
    same_data_groups,
)

TUNE_DIR = "_tune"  # experiment state, beside the results


def trainable(
    config: dict, data: FashionMNIST, results: str, cpus: float, classifier: dict | None = None
) -> None:
    """One Tune trial: run (or skip) the trial of `config` (its own fields and budget), or
    the pack of trials it holds, and report its summary once. The infrastructure comes
    apart: the dataset, the results root, the CPUs it may use and the state of the
    classifier that measures the fakes' quality (None: not measured)."""
    import torch

    torch.set_num_threads(max(1, int(cpus)))
    store = ResultsStore(results)
    clf = _classifier(classifier)
    if "pack" not in config:
        tune.report(run_trial(from_tune(config), data, store, classifier=clf))
        return
    summaries = run_pack(trials_of(config), data, store, classifier=clf)
    done = [s["key"] for s in summaries if s["status"] == "done"]
    status = "done" if done else "skipped"
    tune.report(dict(status=status, members_done=len(done), members=len(summaries)))


def _classifier(state: dict | None):
    """The quality classifier from its state (`fakedet.quality.Classifier.state`), or None."""
    if state is None:
        return None
    from fakedet.quality import Classifier

    return Classifier.from_state(state)


def trials_of(config: dict) -> list[TrialConfig]:
    """The trials of a Tune trial's config: one, or a pack's members."""
    return [from_tune(point) for point in member_points(config)]


def param_space(spec: SweepSpec, pack: dict[str, int] | None = None) -> dict:
    """Tune's grid: arch x seed x held-out triple, each trial with the shared budget; with
    `pack` ({arch: K}) a list of packs, each with its members' Tune points."""
    if pack and max(pack.values()) > 1:
        points = [
            {"members": [tune_point(t.arch, t.seed, t.heldout, spec.budget) for t in group]}
            for group in packs(spec.trials(), pack)
        ]
        return {"pack": tune.grid_search(points)}
    grid = {name: tune.grid_search(values) for name, values in spec.grid().items()}
    return {**grid, "budget": spec.budget.to_dict()}


def _dirname(config: dict) -> str:
    keys = [t.key for t in trials_of(config)]
    return keys[0] if len(keys) == 1 else f"pack{len(keys)}-{keys[0]}"


def _tuner(spec, wrapped, store, name, resources, status, max_failures, console, pack=None):
    """Restore the experiment `name` where Tune can, else start it over the whole grid."""
    path = store.uri(TUNE_DIR, name)
    if tune.Tuner.can_restore(path):
        try:
            tuner = tune.Tuner.restore(
                path, trainable=wrapped, resume_unfinished=True, restart_errored=True
            )
            if console:
                console.print(f"resuming the Tune experiment at {path}")
            return tuner
        except Exception as e:  # a damaged experiment state: start afresh beside it
            if console:
                console.print(f"[yellow]cannot restore {path} ({first_line(e)}); starting afresh")
            name = f"{name}-{int(time.time())}"
    return tune.Tuner(
        wrapped,
        param_space=param_space(spec, pack),
        tune_config=tune.TuneConfig(
            trial_dirname_creator=lambda trial: _dirname(trial.config),
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(
            name=name,
            storage_path=store.uri(TUNE_DIR),
            failure_config=tune.FailureConfig(max_failures=max_failures),
            verbose=0,
            callbacks=[status],
        ),
    )


def train_all(
    spec: SweepSpec,
    data: FashionMNIST,
    store: ResultsStore,
    resources: dict,
    status: LiveStatus,
    max_failures: int = 3,
    console=None,
    pack: dict[str, int] | None = None,
    classifier: dict | None = None,
) -> dict[str, str]:
    """Phase 1: every trial of `spec` through Tune; complete ones skip at once.

    The experiment is named after the plan, so rerunning the same command restores it
    (`Tuner.restore`): finished trials stay finished, the others run. Trials a restored
    experiment holds as finished but whose results are gone run in a second experiment.

    `pack` ({arch: K}) trains up to K trials of an architecture as one Tune trial.
    `classifier` (a `fakedet.quality.Classifier.state`) reaches the trials as the dataset
    does; None: no quality figures.

    Returns:
        {trial key: last line of its error} of the trials that failed after retries.
    """
    wrapped = tune.with_parameters(
        trainable, data=data, results=store.root, cpus=resources["cpu"], classifier=classifier
    )
    wrapped = tune.with_resources(wrapped, resources)
    plan = spec.trials()
    sizes = pack if pack and max(pack.values()) > 1 else None
    errors, name = {}, plan_name(plan) + _pack_suffix(sizes)
    for attempt in range(2):
        tuner = _tuner(spec, wrapped, store, name, resources, status, max_failures, console, sizes)
        for r in tuner.fit():
            if r.error is not None and r.config:
                for t in trials_of(r.config):
                    if not store.is_complete(t):
                        errors[t.key] = first_line(r.error, last=True)
        missing = [t for t in plan if t.key not in errors and not store.is_complete(t)]
        if not missing:
            break
        name = f"{plan_name(plan)}{_pack_suffix(sizes)}-{attempt + 1}-{int(time.time())}"
    return errors


def _pack_suffix(sizes: dict[str, int] | None) -> str:
    """Packs are another grid: another experiment name (none for one trial per Tune trial)."""
    return "" if not sizes else "-pack" + "".join(f"-{a}{k}" for a, k in sorted(sizes.items()))


@ray.remote(max_retries=3)
def _cross_task(
    root: str, detector: dict, generator: dict, n_fakes: int, threads: int, data, classifier
) -> str:
    import torch

    torch.set_num_threads(max(1, threads))
    store = ResultsStore(root)
    det, gen = TrialConfig.from_dict(detector), TrialConfig.from_dict(generator)
    return cross_evaluate(store, det, gen, n_fakes, data=data, classifier=_classifier(classifier))


def run_tasks(refs: dict, status: LiveStatus | None = None) -> tuple[int, dict[str, str]]:
    """Wait for Ray tasks {ref: label}; returns (done, {label: last line of its error})."""
    done, errors, pending = 0, {}, list(refs)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        try:
            ray.get(ready[0])
            done += 1
        except Exception as e:  # report, keep going; a rerun retries it
            errors[refs[ready[0]]] = first_line(e, last=True)
        if status is not None:
            status.task_finished(refs[ready[0]], refs[ready[0]] in errors)
    return done, errors


def cross_all(
    pairs: list[tuple[TrialConfig, TrialConfig]],
    store: ResultsStore,
    n_fakes: int,
    resources: dict,
    status: LiveStatus | None = None,
    data_ref=None,
    classifier_ref=None,
) -> tuple[int, int, dict[str, str]]:
    """Phase 2: cross-evaluate `pairs` as Ray tasks. Returns (done, skipped, errors).

    With the dataset's and the quality classifier's object refs, each also measures the
    other generator's fakes' quality."""
    todo = [(d, g) for d, g in pairs if not store.exists(store.metrics_path(d, g.arch))]
    options = dict(num_cpus=resources["cpu"], num_gpus=resources["gpu"])
    refs = {
        _cross_task.options(**options).remote(
            store.root,
            d.to_dict(),
            g.to_dict(),
            n_fakes,
            int(resources["cpu"]),
            data_ref,
            classifier_ref,
        ): f"{d.key} x {g.arch}"  # fmt: skip
        for d, g in todo
    }
    if status is not None:
        status.start_phase("cross-evaluation", len(pairs), len(pairs) - len(todo), refs.values())
    done, errors = run_tasks(refs, status)
    return done, len(pairs) - len(todo), errors


@ray.remote(max_retries=3)
def _detector_task(root: str, trial: dict, data: FashionMNIST, threads: int) -> str:
    import torch

    torch.set_num_threads(max(1, threads))
    return run_detector_trial(DetectorTrial.from_dict(trial), data, ResultsStore(root))


def detector_plan(spec: SweepSpec, trials: list[TrialConfig], complete: set[str]):
    """The detectors of every (seed, triple) whose GAN trials all finished."""
    recipe = DetectorRecipe(max_steps=spec.budget.max_steps)  # a capped sweep caps these too
    groups = [g for g in same_data_groups(trials, complete) if len(g) == len(spec.archs)]
    options = dict(train_fakes=2 * spec.cross_fakes, test_fakes=spec.cross_fakes,
                   eval_limit=spec.budget.eval_limit, recipe=recipe)  # fmt: skip
    return detector_trials(groups, **options)


def detect_all(
    detectors: list[DetectorTrial],
    store: ResultsStore,
    data_ref,
    resources: dict,
    status: LiveStatus | None = None,
) -> tuple[int, int, dict[str, str]]:
    """Phase 3: train and evaluate the dedicated detectors as Ray tasks with the trials'
    resources. Returns (done, skipped, errors)."""
    todo = [d for d in detectors if not store.is_complete(d)]
    options = dict(num_cpus=resources["cpu"], num_gpus=resources["gpu"])
    refs = {
        _detector_task.options(**options).remote(
            store.root, d.to_dict(), data_ref, int(resources["cpu"])
        ): d.key
        for d in todo
    }
    if status is not None:
        status.start_phase("detectors", len(detectors), len(detectors) - len(todo), refs.values())
    done, errors = run_tasks(refs, status)
    return done, len(detectors) - len(todo), errors
