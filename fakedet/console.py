"""The console of one trial: a progress bar while training, then rich tables of its rows."""

from __future__ import annotations

import contextlib

import pandas as pd
from rich.console import Console, Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from fakedet.schema import SUITES, final_checkpoint

__all__ = ["Console", "done_line", "trial_tables", "training_progress"]


@contextlib.contextmanager
def training_progress(console: Console, description: str):
    """A progress bar of training steps; yields the `on_step(done, total)` callback."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


def done_line(summary: dict, root: str) -> str:
    return (
        f"[green]done[/] {summary['key']}: {summary['steps']} steps on {summary['device']} in "
        f"{summary['seconds']:.1f} s (training {summary['train_seconds']:.1f} s, "
        f"{summary['checkpoints']} evaluations {summary['eval_seconds']:.1f} s, "
        f"writing {summary['write_seconds']:.1f} s)"
        f" → {root}"
    )


def _value(df: pd.DataFrame, suite: str, metric: str, generator: str | None = None):
    sel = df[(df.suite == suite) & (df.metric == metric) & df.class_id.isna()]
    if generator is not None:
        sel = sel[sel.generator_arch == generator]
    return (sel.value.iloc[0], int(sel.support.iloc[0])) if len(sel) else (float("nan"), 0)


def classification_report_table(df: pd.DataFrame, suite: str = "overall") -> Table:
    """The report's classification report (sklearn layout) for one suite of one trial."""
    table = Table(title=f"{suite}: classification report (threshold 0.5)")
    for col in ("", "precision", "recall", "f1-score", "support"):
        table.add_column(col, justify="right" if col else "left")
    for label in ("generated", "real"):
        vals = [_value(df, suite, f"{label}_{s}") for s in ("precision", "recall", "f1")]
        table.add_row(label, *(f"{v:.2f}" for v, _ in vals), str(vals[0][1]))
    acc, n = _value(df, suite, "accuracy")
    table.add_row("accuracy", "", "", f"{acc:.2f}", str(n))
    for avg in ("macro", "weighted"):
        vals = [_value(df, suite, f"{avg}_{s}") for s in ("precision", "recall", "f1")]
        table.add_row(f"{avg} avg", *(f"{v:.2f}" for v, _ in vals), str(vals[0][1]))
    return table


def suite_table(df: pd.DataFrame) -> Table:
    """Each suite's headline metric, with the threshold-free numbers in the caption."""
    table = Table(title="headline per suite")
    for col, just in (("suite", "left"), ("generator", "left"), ("value", "right"),
                      ("support", "right"), ("meaning", "left")):  # fmt: skip
        table.add_column(col, justify=just)
    for suite in SUITES.values():
        for generator in sorted(df[df.suite == suite.name].generator_arch.unique()):
            v, n = _value(df, suite.name, suite.headline, generator)
            table.add_row(suite.name, generator, f"{v:.3f}", str(n), suite.meaning)
    auroc_seen, _ = _value(df, "own_fake", "auroc_test")
    auroc_unseen, _ = _value(df, "own_fake", "auroc_heldout")
    thr, _ = _value(df, "operating_point", "op_threshold")
    fake, _ = _value(df, "operating_point", "op_fake_recall")
    seen, _ = _value(df, "operating_point", "op_test_false_flag")
    unseen, _ = _value(df, "operating_point", "op_heldout_false_flag")
    table.caption = (
        f"AUROC of own fakes vs seen-class reals {auroc_seen:.3f}, vs unseen-class reals "
        f"{auroc_unseen:.3f}. At logit {thr:.2f} (5% of one half of seen-class reals flagged):"
        f" fakes caught {fake:.3f}, false flags on the other half {seen:.3f}, on unseen "
        f"classes {unseen:.3f}"
    )
    return table


def trial_tables(df: pd.DataFrame) -> Group:
    """The console summary of one trial's metric rows (its final checkpoint)."""
    final = final_checkpoint(df)
    return Group(classification_report_table(final, "overall"), suite_table(final))
