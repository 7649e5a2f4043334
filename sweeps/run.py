"""The sweep's phases on Ray.

1. Training: a Tune grid over arch x seed x held-out triple. The trainable returns at once
   for a trial whose results are complete; the dataset reaches workers once, through the
   object store (`tune.with_parameters`). With packs (`--pack K`), a Tune trial is a pack of
   up to K trials of one architecture (`fakedet.gan_job.run_gan`): it skips its complete
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

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # Tune prints nothing at verbose=0

import ray  # noqa: E402
from ray import tune  # noqa: E402

from fakedet.config import (  # noqa: E402
    DEFAULT_MINUTES,  # noqa: E402
    TrialConfig,
    from_tune,
    tune_point,
)
from fakedet.cross import cross_evaluate  # noqa: E402
from fakedet.data import FashionMNIST  # noqa: E402
from fakedet.detector import DetectorRecipe  # noqa: E402
from fakedet.detector_trial import DetectorTrial, detector_trials, run_detector_trial  # noqa: E402
from fakedet.errors import UserError, first_line  # noqa: E402
from fakedet.gan_job import run_gan  # noqa: E402
from fakedet.store import ResultsStore  # noqa: E402
from sweeps.progress import LiveStatus  # noqa: E402
from sweeps.spec import (  # noqa: E402
    SweepSpec,
    member_points,
    packs,
    plan_name,
)

TUNE_DIR = "_tune"  # experiment state, beside the results


class TuneSink:
    """A trial's checkpoints through Tune's API (`fakedet.checkpoint.Sink`): each save is
    a `tune.report` of the step's live figures with the state as a Tune checkpoint, kept
    by Tune in the experiment's storage (the results store, local or s3://) so that
    `FailureConfig` and `Tuner.restore` resume the trial from it, on any node.

    Tune keeps the last `KEEP` checkpoints of a trial; the trial's last report carries a
    marker of a few bytes instead of a state (`final`), so a finished trial's states are
    deleted by Tune itself."""

    STATE, DONE, KEEP = "state.pt", "done.json", 1

    def load(self) -> bytes | None:
        saved = tune.get_checkpoint()
        if saved is None:
            return None
        with saved.as_directory() as d:
            path = Path(d) / self.STATE
            return path.read_bytes() if path.exists() else None

    def save(self, data: bytes, step: int, figures: dict) -> None:
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / self.STATE).write_bytes(data)
            tune.report({"step": step, **figures}, checkpoint=tune.Checkpoint.from_directory(d))

    def clear(self) -> None:
        """Nothing here: the final report's marker replaces the state (`final`)."""

    def final(self, summary: dict) -> None:
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / self.DONE).write_text(json.dumps({"status": summary["status"]}))
            tune.report(summary, checkpoint=tune.Checkpoint.from_directory(d))


def trainable(
    config: dict,
    data: FashionMNIST,
    results: str,
    cpus: float,
    minutes: float = DEFAULT_MINUTES,
    classifier: dict | None = None,
) -> None:
    """One Tune trial: run (or skip) the trials of `config` (one trial's fields and budget,
    or a pack's members), reporting each checkpoint's figures as they come and the
    summary at the end. The infrastructure comes apart: the dataset, the results root,
    the CPUs it may use, the checkpoint interval and the state of the classifier that
    measures the fakes' quality (None: not measured)."""
    import torch

    torch.set_num_threads(max(1, int(cpus)))
    sink, store = TuneSink(), ResultsStore(results)
    summaries = run_gan(
        trials_of(config), data, store, classifier=_classifier(classifier), sink=sink,
        minutes=minutes,
    )  # fmt: skip
    done = [s["key"] for s in summaries if s["status"] == "done"]
    own = summaries[0] if len(summaries) == 1 else {}
    sink.final(
        {**own, "status": "done" if done else "skipped", "members_done": len(done),
         "members": len(summaries)}
    )  # fmt: skip


def _classifier(state: dict | None):
    """The quality classifier from its state (`fakedet.quality.Classifier.state`), or None."""
    if state is None:
        return None
    from fakedet.quality import Classifier

    return Classifier.from_state(state)


def trials_of(config: dict) -> list[TrialConfig]:
    """The trials of a Tune trial's config: one, or a pack's members."""
    return [from_tune(point) for point in member_points(config)]


def param_space(spec: SweepSpec, groups: list[list[TrialConfig]] | None = None) -> dict:
    """Tune's grid: arch x seed x held-out triple, each trial with the shared budget; with
    `groups` (`sweeps.spec.packs`) a list of packs, each with its members' Tune points."""
    if groups:
        points = [
            {"members": [tune_point(t.arch, t.seed, t.heldout, spec.budget) for t in group]}
            for group in groups
        ]
        return {"pack": tune.grid_search(points)}
    grid = {name: tune.grid_search(values) for name, values in spec.grid().items()}
    return {**grid, "budget": spec.budget.to_dict()}


def _dirname(config: dict) -> str:
    keys = [t.key for t in trials_of(config)]
    return keys[0] if len(keys) == 1 else f"pack{len(keys)}-{keys[0]}"


@dataclass(frozen=True)
class Live:
    """How a sweep's trials save and show their progress."""

    minutes: float = DEFAULT_MINUTES
    """A trial saves a checkpoint at every evaluation and at least this often."""
    mlflow: str | None = None
    """An MLflow tracking URI to log every trial's parameters and curves to, or None."""

    def callbacks(self, name: str) -> list:
        if not self.mlflow:
            return []
        from ray.air.integrations.mlflow import MLflowLoggerCallback

        return [MLflowLoggerCallback(tracking_uri=self.mlflow, experiment_name=name)]


def check_mlflow(uri: str) -> None:
    """`--mlflow URI` needs the optional extra; without it, one clear line."""
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise UserError(
            f"--mlflow {uri}: MLflow is not installed; pip install 'fakedet[mlflow]'"
        ) from None


SNAPSHOT_WARNING = "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S"
"""Tune snapshots the experiment state whenever a trial has saved `num_to_keep` checkpoints
since the last snapshot; with `TuneSink.KEEP = 1` that is every checkpoint, on purpose, and
Tune warns about it each time two trials checkpoint within 5 s. The sweep turns that
warning off unless the user set the variable."""


def _tuner(spec, wrapped, store, name, status, max_failures, console, groups, live):
    """Restore the experiment `name` where Tune can, else start it over the whole grid."""
    os.environ.setdefault(SNAPSHOT_WARNING, "0")
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
        param_space=param_space(spec, groups),
        tune_config=tune.TuneConfig(
            trial_dirname_creator=lambda trial: _dirname(trial.config),
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(
            name=name,
            storage_path=store.uri(TUNE_DIR),
            failure_config=tune.FailureConfig(max_failures=max_failures),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=TuneSink.KEEP),
            verbose=0,
            callbacks=[status, *live.callbacks(name)],
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
    live: Live = Live(),
    packed: list[list[TrialConfig]] | None = None,
) -> dict[str, str]:
    """Phase 1: every trial of `spec` through Tune; complete ones skip at once.

    The experiment is named after the plan, so rerunning the same command restores it
    (`Tuner.restore`): finished trials stay finished, the others run. Trials a restored
    experiment holds as finished but whose results are gone run in a second experiment.

    `pack` ({arch: K}) trains up to K trials of an architecture as one Tune trial;
    `packed`, the packs `sweeps.spec.packs` made of the plan with it, where the caller has
    them already.
    `classifier` (a `fakedet.quality.Classifier.state`) reaches the trials as the dataset
    does; None: no quality figures. `live`: the checkpoint interval, and MLflow if asked.
    Each trial reports every checkpoint's figures to Tune as it saves it (Tune's CSV, JSON
    and TensorBoard files hold a curve per trial: `tensorboard --logdir <results>/_tune`).

    Returns:
        {trial key: last line of its error} of the trials that failed after retries.
    """
    wrapped = tune.with_parameters(
        trainable,
        data=data,
        results=store.root,
        cpus=resources["cpu"],
        minutes=live.minutes,
        classifier=classifier,
    )
    wrapped = tune.with_resources(wrapped, resources)
    plan = spec.trials()
    sizes = pack if pack and max(pack.values()) > 1 else None
    if sizes and packed is None:
        packed = packs(plan, sizes)
    errors, name = {}, plan_name(plan) + _pack_suffix(sizes)
    for attempt in range(2):
        tuner = _tuner(spec, wrapped, store, name, status, max_failures, console, packed, live)
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


def detector_plan(spec: SweepSpec, groups: list[list[TrialConfig]]):
    """The detectors of every (seed, triple) whose GAN trials all finished (`groups`: the
    finished trials by shared data, `sweeps.spec.same_data_groups`)."""
    recipe = DetectorRecipe(max_steps=spec.budget.max_steps)  # a capped sweep caps these too
    groups = [g for g in groups if len(g) == len(spec.archs)]
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
