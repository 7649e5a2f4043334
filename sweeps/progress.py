"""What the sweep's driver shows: the plan, a live status per phase, and the summary.

On a terminal the live status is a table rich redraws twice a second; elsewhere (a log
file, a pipe, a Ray job's log) it is one line, printed when the phase or a count changes
and at least every `HEARTBEAT` seconds while nothing does.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator

from ray import tune
from rich.console import Group
from rich.live import Live
from rich.table import Table

from fakedet.config import from_tune
from sweeps import estimate
from sweeps.spec import SweepSpec, member_points


class LiveStatus(tune.Callback):
    """Counts for the live display (rich renders it). During training Tune calls the
    `on_trial_*` hooks on the driver; the task phases call `start_phase` and
    `task_finished`.

    With packs (`--pack K`), a Tune trial is up to K trials: every count is of trials.

    Tune pickles its callbacks with the experiment; a restored experiment gets the status
    of the running driver back (`__reduce__`), not the counts of the crashed one.
    """

    current: LiveStatus | None = None

    def __init__(self, total: int, already_done: int, phase: str = "training"):
        self.start_phase(phase, total, already_done)
        LiveStatus.current = self

    def start_phase(self, phase: str, total: int, already_done: int, running: Iterable = ()):
        self.total, self.already, self.phase = total, already_done, phase
        self.running, self.failed, self.done, self.retries = set(running), set(), 0, 0
        self.skipped: set[str] = set()  # complete before this run: counted in `already`
        self.size: dict[str, int] = {}  # trials per running Tune trial (a pack's members)
        self.members_done: dict[str, int] = {}  # a pack's members it ran to completion
        self.latest: dict[str, dict] = {}  # a running Tune trial's last checkpoint figures
        self.names: dict[str, str] = {}  # a running Tune trial's first trial key
        self.t0 = time.time()

    def __reduce__(self):
        return (_current_status, ())

    def __rich__(self) -> Group:
        return Group(self.table(), self.running_table())

    # --- Tune's hooks (training) ---------------------------------------------------------
    def on_trial_start(self, iteration, trials, trial, **info):
        self.running.add(trial.trial_id)
        points = member_points(trial.config)
        self.size[trial.trial_id] = len(points)
        self.names[trial.trial_id] = from_tune(points[0]).key + (
            f" (+{len(points) - 1})" if len(points) > 1 else ""
        )

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if result.get("status") == "skipped":
            self.skipped.add(trial.trial_id)
        if "members_done" in result:
            self.members_done[trial.trial_id] = result["members_done"]
        elif "step" in result:  # a checkpoint's figures, as the trial saved it
            self.latest[trial.trial_id] = result

    def on_trial_complete(self, iteration, trials, trial, **info):
        self.running.discard(trial.trial_id)
        self.latest.pop(trial.trial_id, None)
        done = int(trial.trial_id not in self.skipped)
        self.done += self.members_done.get(trial.trial_id, done)

    def on_trial_recover(self, iteration, trials, trial, **info):
        self.running.discard(trial.trial_id)
        self.retries += 1

    def on_trial_error(self, iteration, trials, trial, **info):
        self.running.discard(trial.trial_id)
        self.failed.update(from_tune(m).key for m in member_points(trial.config))

    # --- task phases -------------------------------------------------------------------
    def task_finished(self, label: str, failed: bool) -> None:
        self.running.discard(label)
        if failed:
            self.failed.add(label)
        else:
            self.done += 1

    def counts(self) -> dict[str, str]:
        """The status's columns: done, running, pending, failed, retries, per hour, ETA."""
        elapsed = max(time.time() - self.t0, 1e-9)
        rate = self.done / elapsed * 3600
        left = self.total - self.already - self.done - len(self.failed)
        eta = f"{left / rate * 3600:,.0f} s" if rate > 0 and left > 0 else "-"
        running = sum(self.size.get(t, 1) for t in self.running - self.skipped)
        return {
            "done": f"{self.already + self.done}/{self.total}",
            "running": str(running),
            "pending": str(max(left - running, 0)),
            "failed": str(len(self.failed)),
            "retries": str(self.retries),
            "per hour": f"{rate:,.0f}",
            "ETA": eta,
        }

    def table(self) -> Table:
        counts = self.counts()
        t = Table(title=f"sweep: {self.phase}", show_header=True)
        for col in counts:
            t.add_column(col, justify="right")
        t.add_row(*counts.values())
        return t

    def line(self) -> str:
        """The status as one line, elapsed time first (for logs)."""
        counts = self.counts()
        parts = ", ".join(f"{v} {k}" for k, v in counts.items() if k not in ("per hour", "ETA"))
        return f"[{time.time() - self.t0:,.0f} s] sweep: {self.phase}: {parts}, ETA {counts['ETA']}"

    def running_table(self) -> Table:
        """Each running trial's step and its latest checkpoint's figures (a pack: its
        first member's)."""
        t = Table(title="running trials: latest checkpoint", show_header=True)
        t.add_column("trial")
        for _, header in RUNNING_COLUMNS:
            t.add_column(header, justify="right")
        for trial_id in sorted(self.running - self.skipped, key=lambda i: self.names.get(i, i)):
            result = self.latest.get(trial_id, {})
            cells = []
            for name, _ in RUNNING_COLUMNS:
                value = result.get(name, result.get(f"member0/{name}"))
                cells.append("-" if value is None else f"{value:,.3g}" if name != "step"
                             else f"{value:,}")  # fmt: skip
            t.add_row(self.names.get(trial_id, trial_id), *cells)
        return t


RUNNING_COLUMNS = (
    ("step", "step"),
    ("d_loss", "D loss"),
    ("g_loss", "G loss"),
    ("own_fakes_flagged", "own fakes flagged"),
    ("real_recall_test", "real passed (seen)"),
    ("real_recall_heldout", "real passed (held out)"),
    ("auroc_heldout", "AUROC held out"),
)
"""The running table's columns: (figure of a checkpoint report, header)."""


def _current_status() -> LiveStatus:
    return LiveStatus.current or LiveStatus(0, 0)


HEARTBEAT = 60.0
"""Seconds between status lines in a log while no count changes."""


@contextlib.contextmanager
def live(status: LiveStatus, console, heartbeat: float = HEARTBEAT) -> Iterator[None]:
    """Show `status` while the block runs: a live table on a terminal, else log lines."""
    if console.is_terminal:
        with Live(status, console=console, refresh_per_second=2, transient=False):
            yield
        return
    stop = threading.Event()

    def report():
        shown, last = None, 0.0
        while True:
            now = (status.phase, *(v for k, v in status.counts().items() if k != "per hour"))
            if now[:-1] != shown or time.time() - last >= heartbeat:  # ETA alone: heartbeat
                console.print(status.line(), highlight=False)
                shown, last = now[:-1], time.time()
            if stop.wait(0.5):
                return

    thread = threading.Thread(target=report, name="sweep-status", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        console.print(status.line(), highlight=False)


def plan_table(spec: SweepSpec, todo, n_total: int, n_done: int, resources, cluster) -> Table:
    t = Table(title="sweep plan", show_header=False)
    t.add_column(style="bold")
    t.add_column()
    t.add_row(
        "trials",
        f"{n_total} = {len(spec.archs)} archs x {len(spec.seeds)} seeds x "
        f"{len(spec.triples)} triples ({spec.budget.protocol} protocol)",
    )
    t.add_row("already done", str(n_done))
    t.add_row("to run", str(n_total - n_done))
    t.add_row("per trial", f"{resources['cpu']:g} CPU, {resources['gpu']:g} GPU")
    t.add_row("cluster", ", ".join(f"{cluster.get(k, 0):g} {k}" for k in ("CPU", "GPU")))
    b = spec.budget
    if b.max_steps:
        budget = f"max {b.max_steps} steps"
    else:
        budget = f"{b.epochs} epochs" if b.epochs else "the recipes' full budgets"
    t.add_row("budget", budget)
    checkpoints = "default ladder" if b.eval_at is None else (
        ",".join(f"{e:g}" for e in b.eval_at) or "final only")  # fmt: skip
    t.add_row("evaluated at", f"{checkpoints} (epochs) and the final step")
    t.add_row("detector phase", "on" if spec.detector else "off (--no-detector)")
    for line in estimate.describe(todo):
        t.add_row("estimate", line)
    return t


def summary_table(rows: list[tuple[str, int, int, int]]) -> Table:
    """(phase, done, skipped, failed) per phase."""
    t = Table(title="sweep summary")
    for col in ("phase", "done", "skipped (already complete)", "failed"):
        t.add_column(col, justify="right" if col != "phase" else "left")
    for phase, *counts in rows:
        t.add_row(phase, *(str(c) for c in counts))
    return t
