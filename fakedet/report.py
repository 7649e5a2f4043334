"""Rich tables of one trial's metric rows (the console summary of `python -m fakedet.trial`)."""

from __future__ import annotations

import pandas as pd
from rich.table import Table

SUITE_RECALL = {
    "own_fake": ("generated_recall", "fakes of its own generator flagged"),
    "cross_fake": ("generated_recall", "fakes of another generator flagged"),
    "real_heldout": ("real_recall", "real images of held-out classes passed"),
    "real_test": ("real_recall", "unseen real images of training classes passed"),
    "overall": ("accuracy", "all of the above"),
}


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


def suite_recall_table(df: pd.DataFrame) -> Table:
    """Recall of each suite (accuracy for `overall`), with AUROC and the operating point."""
    table = Table(title="recall per suite")
    for col, just in (
        ("suite", "left"),
        ("generator", "left"),
        ("recall", "right"),
        ("support", "right"),
        ("meaning", "left"),
    ):
        table.add_column(col, justify=just)
    for suite, (metric, meaning) in SUITE_RECALL.items():
        for generator in sorted(df[df.suite == suite].generator_arch.unique()):
            v, n = _value(df, suite, metric, generator)
            table.add_row(suite, generator, f"{v:.3f}", str(n), meaning)
    auroc, _ = _value(df, "overall", "auroc")
    thr, _ = _value(df, "operating_point", "op_threshold")
    fake, _ = _value(df, "operating_point", "op_fake_recall")
    held, _ = _value(df, "operating_point", "op_heldout_false_flag")
    table.caption = (
        f"AUROC {auroc:.3f}. At threshold {thr:.3f} (5% of seen-class reals flagged): "
        f"fake recall {fake:.3f}, unseen-class false flags {held:.3f}"
    )
    return table
