"""Detection along training: each architecture's detector at every checkpoint epoch.

A trial evaluates its discriminator at checkpoints (by default a ladder of epochs inside
its budget) and at its final step. Earlier checkpoints are grouped by epoch; the final
one is its own stage, "final", because under `--max-steps` its epoch may differ between
trials. Means are paired across stages only through the shared design: a stage holds the
trials that reached it.

A trend is a claim like the others: the last row of each architecture is the paired
difference, final minus the first checkpoint, over the trials present at both, with its
interval for a new class. Whether a gap grows along training is read there, not from the
stages' separate intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.cells import cell, estimates, present
from analysis.grid import MetricGrid
from analysis.inference import NEW_CLASS
from analysis.measures import TRAINING, TRAINING_8BIT, Difference, Measure
from analysis.render import BOUNDED_CAPTION, CAPTIONS, TableData, interval_note
from analysis.stats import Estimate

MEASURES: list[Measure] = [
    m
    for _, fakes, c in [*TRAINING, *TRAINING_8BIT]
    for m in (fakes, c.seen, c.unseen, c.gap)
    if m is not None
]
"""Every measure a stage holds."""


@dataclass
class Stage:
    """One checkpoint epoch (or the final step) of one architecture."""

    label: str
    """The epoch as text, or 'final'."""
    epoch: float
    """The checkpoint's epoch; for 'final' the mean over trials of their final epoch."""
    values: dict[Measure, Estimate]
    """MEASURES' means with their intervals."""
    grid: MetricGrid
    """The stage's trials, on the shared design."""


def _final_epoch(grid: MetricGrid, arch: str) -> float:
    rows = grid.df[grid.df.arch == arch].drop_duplicates("trial_key")
    epoch = rows.checkpoint_epoch.fillna(rows.epochs) if "checkpoint_epoch" in rows else rows.epochs
    return float(epoch.mean()) if len(epoch) else np.nan


def stages(grid: MetricGrid, checkpoints: dict[float, MetricGrid], kind: str = NEW_CLASS):
    """{arch: [Stage] in training order} of every GAN architecture.

    Args:
        grid: the final checkpoints.
        checkpoints: {epoch: grid} of the earlier ones (`analysis.grid.checkpoint_grids`).
    """
    grids = [(f"{e:g}", e, g) for e, g in checkpoints.items()]
    out = {}
    for arch in grid.gans:
        found = []
        for label, epoch, g in [*grids, ("final", _final_epoch(grid, arch), grid)]:
            first = MEASURES[0]
            if not (~np.isnan(first(g, arch))).any():
                continue
            est = estimates(g, [cell(g, m, arch) for m in MEASURES], kind)
            found.append(Stage(label, epoch, dict(zip(MEASURES, est, strict=True)), g))
        out[arch] = found
    return out


def trend(first: Stage, last: Stage, arch: str, kind: str = NEW_CLASS) -> dict[Measure, Estimate]:
    """Per measure, last minus first stage, paired on (seed, triple), with its interval."""
    changes = [Difference(f"{m.label}: {last.label} - {first.label}", m, m) for m in MEASURES]
    cells = [cell(last.grid, d, arch, y_grid=first.grid) for d in changes]
    return dict(zip(MEASURES, estimates(last.grid, cells, kind), strict=True))


def along_training(grid: MetricGrid, checkpoints: dict[float, MetricGrid]) -> TableData:
    """Own fakes flagged, reals passed (seen, unseen), AUROC and the gap, per epoch; and
    the change from the first checkpoint to the final step."""
    kind = NEW_CLASS
    t = TableData(
        "training",
        "Detection along training",
        ["arch", "epoch", "measure", "fakes", "seen", "unseen", "seen - unseen"],
        interval=kind,
        keys=3,
    )
    finals = []

    shown = [*TRAINING, *(r for r in TRAINING_8BIT if present(grid, r[1]))]

    def rows(arch, label, values):
        for name, fakes, c in shown:
            t.rows.append(
                [
                    arch,
                    label,
                    name,
                    None if fakes is None else values[fakes],
                    values[c.seen],
                    values[c.unseen],
                    values[c.gap],
                ]
            )

    for arch, found in stages(grid, checkpoints, kind).items():
        for s in found:
            rows(arch, s.label, s.values)
            if s.label == "final":
                finals.append(f"{arch} {s.epoch:.3g}")
        if len(found) > 1:
            rows(arch, f"final - {found[0].label}", trend(found[0], found[-1], arch, kind))
    t.caption = "\n".join(
        [
            "recall: fakes flagged / reals passed at probability 0.5; AUROC: own fakes "
            "against seen or unseen reals; 8-bit: own fakes as 8-bit images, flagged, and "
            "their AUROC; means over trials",
            interval_note(grid.confidence),
            CAPTIONS[kind],
            BOUNDED_CAPTION,
            "final: each trial's last step (mean epoch: " + (", ".join(finals) or "-") + "); "
            "final - e: the paired change from the first checkpoint e to the final step, "
            "over the trials present at both (a gap grows only where its CI lies above 0); "
            "each such row is one comparison at the CI's level, outside the claims table's Holm "
            "family: among several rows one may exclude 0 by chance",
        ]
    )
    return t
