"""The sweep on Ray: plan, train every trial with Ray Tune, then cross-evaluate.

Phase 1 is a Tune grid over arch x seed x held-out triple; the trainable (`trainable`
below) returns at once for a trial whose results are complete, and the dataset reaches
workers once through the object store. Phase 2 evaluates, for every (seed, triple) with
two or more finished architectures, each discriminator on fakes of every other
architecture's generator, as Ray tasks that read the networks from the results store.

Both phases are idempotent: complete results are never recomputed, so rerunning the same
command after any interruption finishes only what is missing.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import socket
import time
from collections import defaultdict
from dataclasses import dataclass, field

os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # Tune prints nothing at verbose=0

import ray  # noqa: E402
from ray import tune
from rich.live import Live
from rich.table import Table

from fakedet.cross import DEFAULT_CROSS_FAKES, cross_evaluate
from fakedet.data import FashionMNIST
from fakedet.errors import UserError
from fakedet.models import REPORT_ARCHS, get_arch
from fakedet.protocol import ALL_TRIPLES, parse_triple
from fakedet.store import ResultsStore
from fakedet.trial import TrialConfig, make_config, run_trial

TUNE_DIR = "_tune"  # experiment state, beside the results


# --- the plan ----------------------------------------------------------------------------
def parse_archs(text: str) -> tuple[str, ...]:
    archs = tuple(dict.fromkeys(a.strip() for a in text.split(",") if a.strip()))
    if not archs:
        raise UserError("--archs is empty")
    for a in archs:
        get_arch(a)
    return archs


def parse_seeds(text: str) -> tuple[int, ...]:
    """'0-4' -> (0, 1, 2, 3, 4); '0,3' -> (0, 3); '2' -> (2,)."""
    seeds = []
    try:
        for part in text.split(","):
            lo, sep, hi = part.strip().partition("-")
            seeds += range(int(lo), int(hi) + 1) if sep else [int(lo)]
    except ValueError:
        raise UserError(f"--seeds {text!r}: expected e.g. 0-4 or 0,1,2") from None
    if not seeds or min(seeds) < 0:
        raise UserError(f"--seeds {text!r}: expected non-negative seeds, e.g. 0-4")
    return tuple(dict.fromkeys(seeds))


def parse_triples(text: str) -> tuple[tuple[int, int, int], ...]:
    """'all' -> the 120 triples; '0,6,9;1,2,3' -> those; 'N' -> N triples spread evenly
    over the fixed order of all 120 (so every class is held out about equally often)."""
    text = text.strip()
    if text == "all":
        return ALL_TRIPLES
    if text.isdigit():
        n = int(text)
        if not 1 <= n <= len(ALL_TRIPLES):
            raise UserError(f"--triples {text}: a count must be in 1..{len(ALL_TRIPLES)}")
        return tuple(ALL_TRIPLES[i * len(ALL_TRIPLES) // n] for i in range(n))
    return tuple(dict.fromkeys(parse_triple(t) for t in text.split(";") if t.strip()))


@dataclass(frozen=True)
class SweepSpec:
    """What to run."""

    archs: tuple[str, ...] = REPORT_ARCHS
    """Architectures (the report's two by default)."""
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    """Trial seeds."""
    triples: tuple[tuple[int, int, int], ...] = ALL_TRIPLES
    """Held-out triples."""
    protocol: str = "seed"
    """Data protocol."""
    epochs: int | None = None
    """Override every recipe's epochs."""
    max_steps: int | None = None
    """Cap training steps."""
    eval_limit: int | None = None
    """Cap real images per suite."""
    overrides: dict = field(default_factory=dict)
    """Recipe overrides applied to every architecture."""
    cross_fakes: int = DEFAULT_CROSS_FAKES
    """Fakes per cross-architecture evaluation."""

    def budget(self) -> dict:
        """What every trial shares: the arguments of `make_config` besides arch, seed, triple."""
        return dict(
            protocol=self.protocol,
            overrides=dict(self.overrides),
            epochs=self.epochs,
            max_steps=self.max_steps,
            eval_limit=self.eval_limit,
        )

    def param_space(self) -> dict:
        """Tune's grid: arch x seed x held-out triple, each trial with the shared budget."""
        return {
            "arch": tune.grid_search(list(self.archs)),
            "seed": tune.grid_search(list(self.seeds)),
            "heldout": tune.grid_search([list(t) for t in self.triples]),
            "budget": self.budget(),
        }

    def trials(self) -> list[TrialConfig]:
        """Every trial of the sweep, in a fixed order (triple, seed, arch)."""
        budget = self.budget()
        return [
            trial_config({"arch": arch, "seed": seed, "heldout": triple, "budget": budget})
            for triple, seed, arch in itertools.product(self.triples, self.seeds, self.archs)
        ]


def trial_config(config: dict) -> TrialConfig:
    """The trial of one point of the grid (a Tune config)."""
    return make_config(config["arch"], config["seed"], config["heldout"], **config["budget"])


def plan_name(trials: list[TrialConfig]) -> str:
    """A deterministic experiment name for a set of trials."""
    digest = hashlib.sha1("\n".join(sorted(t.key for t in trials)).encode()).hexdigest()
    return f"sweep-{digest[:10]}"


def cross_pairs(trials: list[TrialConfig], done: set[str]) -> list[tuple[TrialConfig, ...]]:
    """(detector, generator) pairs of different archs sharing seed, triple and protocol."""
    groups = defaultdict(list)
    for t in trials:
        if t.key in done:
            groups[(t.seed, t.heldout, t.protocol)].append(t)
    return [(d, g) for group in groups.values() for d in group for g in group if d.arch != g.arch]


# --- Ray ---------------------------------------------------------------------------------
def _reachable(address: str, timeout: float = 5.0) -> bool:
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def connect(address: str | None, num_cpus: int | None = None, num_gpus: int | None = None):
    """Join the cluster at `address` ('auto', host:port), or start a local Ray."""
    kwargs = dict(log_to_driver=False, logging_level="WARNING", include_dashboard=False)
    address = address or os.environ.get("RAY_ADDRESS")
    if address and address != "auto" and not _reachable(address):
        raise UserError(f"cannot reach a Ray cluster at {address}")
    try:
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=num_cpus, num_gpus=num_gpus, **kwargs)
    except ConnectionError as e:
        raise UserError(f"cannot connect to Ray at {address}: {str(e).splitlines()[0]}") from None


def wait_for_gpus(timeout: float, poll: float = 5.0) -> float:
    """Wait up to `timeout` seconds for GPUs to join (an autoscaling cluster starts its GPU
    workers after the head); returns the GPUs seen."""
    deadline = time.time() + timeout
    while (gpus := ray.cluster_resources().get("GPU", 0)) == 0 and time.time() < deadline:
        time.sleep(poll)
    return gpus


def trial_resources(cpus: float, gpus: float) -> dict:
    """Per-trial resources: a GPU fraction only where the cluster has GPUs."""
    have_gpus = ray.cluster_resources().get("GPU", 0) > 0
    return {"cpu": cpus, "gpu": gpus if have_gpus else 0}


def trainable(config: dict, data: FashionMNIST) -> None:
    """One Tune trial: run (or skip) the trial and report its summary once."""
    import torch

    torch.set_num_threads(max(1, int(config["cpus"])))
    store = ResultsStore(config["results"])
    tune.report(run_trial(trial_config(config), data, store))


@ray.remote(max_retries=3)
def _cross_task(root: str, detector: dict, generator: dict, n_fakes: int, threads: int) -> str:
    import torch

    torch.set_num_threads(max(1, threads))
    store = ResultsStore(root)
    return cross_evaluate(
        store, TrialConfig.from_dict(detector), TrialConfig.from_dict(generator), n_fakes
    )


# --- progress ----------------------------------------------------------------------------
class LiveStatus(tune.Callback):
    """Counts for the live display (rich renders it); Tune calls these hooks on the driver.

    Tune pickles its callbacks with the experiment; a restored experiment gets the status
    of the running driver back (`__reduce__`), not the counts of the crashed one.
    """

    current: LiveStatus | None = None

    def __init__(self, total: int, already_done: int, phase: str = "training"):
        self.total, self.already, self.phase = total, already_done, phase
        self.running, self.failed, self.done, self.retries = set(), set(), 0, 0
        self.skipped: set[str] = set()  # complete before this run: counted in `already`
        self.t0 = time.time()
        LiveStatus.current = self

    def __reduce__(self):
        return (_current_status, ())

    def __rich__(self) -> Table:
        return self.table()

    def on_trial_start(self, iteration, trials, trial, **info):
        self.running.add(trial.trial_id)

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if result.get("status") == "skipped":
            self.skipped.add(trial.trial_id)

    def on_trial_complete(self, iteration, trials, trial, **info):
        self.running.discard(trial.trial_id)
        self.done += trial.trial_id not in self.skipped

    def on_trial_recover(self, iteration, trials, trial, **info):
        self.running.discard(trial.trial_id)
        self.retries += 1

    def on_trial_error(self, iteration, trials, trial, **info):
        self.running.discard(trial.trial_id)
        self.failed.add(trial_config(trial.config).key)

    def table(self) -> Table:
        elapsed = max(time.time() - self.t0, 1e-9)
        rate = self.done / elapsed * 3600
        left = self.total - self.already - self.done - len(self.failed)
        eta = f"{left / rate * 3600:,.0f} s" if rate > 0 and left > 0 else "-"
        t = Table(title=f"sweep: {self.phase}", show_header=True)
        for col in ("done", "running", "pending", "failed", "retries", "trials/hour", "ETA"):
            t.add_column(col, justify="right")
        running = len(self.running - self.skipped)
        pending = max(left - running, 0)
        t.add_row(
            f"{self.already + self.done}/{self.total}",
            str(running),
            str(pending),
            str(len(self.failed)),
            str(self.retries),
            f"{rate:,.0f}",
            eta,
        )
        return t


def _current_status() -> LiveStatus:
    return LiveStatus.current or LiveStatus(0, 0)


# --- the two phases ----------------------------------------------------------------------
def _tuner(spec, wrapped, store, name, resources, status, max_failures, console):
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
                console.print(f"[yellow]cannot restore {path} ({e}); starting afresh")
            name = f"{name}-{int(time.time())}"
    return tune.Tuner(
        wrapped,
        param_space={**spec.param_space(), "results": store.root, "cpus": resources["cpu"]},
        tune_config=tune.TuneConfig(
            trial_dirname_creator=lambda trial: trial_config(trial.config).key,
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
) -> dict[str, str]:
    """Phase 1: every trial of `spec` through Tune; complete ones skip at once.

    The experiment is named after the plan, so rerunning the same command restores it
    (`Tuner.restore`): finished trials stay finished, the others run. Trials a restored
    experiment holds as finished but whose results are gone run in a second experiment.

    Returns:
        {trial key: last line of its error} of the trials that failed after retries.
    """
    wrapped = tune.with_resources(tune.with_parameters(trainable, data=data), resources)
    plan = spec.trials()
    errors, name = {}, plan_name(plan)
    for attempt in range(2):
        tuner = _tuner(spec, wrapped, store, name, resources, status, max_failures, console)
        for r in tuner.fit():
            if r.error is not None and r.config:
                errors[trial_config(r.config).key] = (
                    str(r.error).strip().splitlines() or ["unknown error"]
                )[-1]
        missing = [
            t
            for t in plan
            if t.key not in errors and not store.is_complete(t.key, t.arch, t.protocol)
        ]
        if not missing:
            break
        name = f"{plan_name(plan)}-{attempt + 1}-{int(time.time())}"
    return errors


def cross_all(
    pairs: list[tuple[TrialConfig, TrialConfig]],
    store: ResultsStore,
    n_fakes: int,
    resources: dict,
) -> tuple[int, int, dict[str, str]]:
    """Phase 2: cross-evaluate `pairs` as Ray tasks. Returns (done, skipped, errors)."""
    todo = [
        (d, g)
        for d, g in pairs
        if not store.exists(store.metrics_path(d.key, d.arch, d.protocol, g.arch))
    ]
    options = dict(num_cpus=resources["cpu"], num_gpus=resources["gpu"])
    refs = {
        _cross_task.options(**options).remote(
            store.root, d.to_dict(), g.to_dict(), n_fakes, int(resources["cpu"])
        ): f"{d.key} x {g.arch}"
        for d, g in todo
    }
    done, errors = 0, {}
    for ref, label in refs.items():
        try:
            ray.get(ref)
            done += 1
        except Exception as e:  # report, keep going; a rerun retries it
            errors[label] = (str(e).strip().splitlines() or ["unknown error"])[-1]
    return done, len(pairs) - len(todo), errors


def live(status: LiveStatus, console) -> Live:
    return Live(status, console=console, refresh_per_second=2, transient=False)
