"""Detection along training: each architecture's detector at every checkpoint epoch.

A trial evaluates its discriminator at checkpoints (by default a ladder of epochs inside
its budget) and at its final step. Earlier checkpoints are grouped by epoch; the final
one is its own stage, "final", because under `--max-steps` its epoch may differ between
trials. Means are paired across stages only through the shared design: a stage holds the
trials that reached it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.design import Grid
from analysis.inference import CAPTIONS, NEW_CLASS
from analysis.render import PLUS_MINUS, TableData
from analysis.stats import Estimate
from analysis.tables import AUROC_OWN, OWN_FAKES, REAL_RECALL, estimates

QUANTITIES = {
    "own fakes flagged": OWN_FAKES,
    "seen reals passed": REAL_RECALL.seen,
    "unseen reals passed": REAL_RECALL.unseen,
    "recall gap": REAL_RECALL.gap,
    "AUROC vs seen": AUROC_OWN.seen,
    "AUROC vs unseen": AUROC_OWN.unseen,
    "AUROC gap": AUROC_OWN.gap,
}


@dataclass
class Stage:
    """One checkpoint epoch (or the final step) of one architecture."""

    label: str
    """The epoch as text, or 'final'."""
    epoch: float
    """The checkpoint's epoch; for 'final' the mean over trials of their final epoch."""
    values: dict[str, Estimate]
    """QUANTITIES' means with their intervals."""


def _final_epoch(grid: Grid, arch: str) -> float:
    rows = grid.df[grid.df.arch == arch].drop_duplicates("trial_key")
    epoch = rows.checkpoint_epoch.fillna(rows.epochs) if "checkpoint_epoch" in rows else rows.epochs
    return float(epoch.mean()) if len(epoch) else np.nan


def stages(grid: Grid, checkpoints: dict[float, Grid], kind: str = NEW_CLASS):
    """{arch: [Stage] in training order} of every GAN architecture.

    Args:
        grid: the final checkpoints.
        checkpoints: {epoch: grid} of the earlier ones (`analysis.design.checkpoint_grids`).
    """
    grids = [(f"{e:g}", e, g) for e, g in checkpoints.items()]
    out = {}
    for arch in grid.gans:
        found = []
        for label, epoch, g in [*grids, ("final", _final_epoch(grid, arch), grid)]:
            if not g.has(arch, "own_fake", "generated_recall"):
                continue
            est = estimates(g, [f(g, arch) for f in QUANTITIES.values()], kind)
            found.append(Stage(label, epoch, dict(zip(QUANTITIES, est, strict=True))))
        out[arch] = found
    return out


def along_training(grid: Grid, checkpoints: dict[float, Grid]) -> TableData:
    """Own fakes flagged, reals passed (seen, unseen), AUROC and the gap, per epoch."""
    kind = NEW_CLASS
    t = TableData(
        "training",
        "Detection along training",
        ["arch", "epoch", "measure", "fakes", "seen", "unseen", "seen - unseen"],
        interval=kind,
        keys=3,
    )
    finals = []
    for arch, found in stages(grid, checkpoints, kind).items():
        for s in found:
            v = s.values
            t.rows.append(
                [
                    arch,
                    s.label,
                    "recall",
                    v["own fakes flagged"],
                    v["seen reals passed"],
                    v["unseen reals passed"],
                    v["recall gap"],
                ]
            )
            t.rows.append(
                [
                    arch,
                    s.label,
                    "AUROC",
                    None,
                    v["AUROC vs seen"],
                    v["AUROC vs unseen"],
                    v["AUROC gap"],
                ]
            )
            if s.label == "final":
                finals.append(f"{arch} {s.epoch:.3g}")
    t.caption = "\n".join(
        [
            "recall: fakes flagged / reals passed at probability 0.5; AUROC: own fakes "
            f"against seen or unseen reals; mean and CI ({PLUS_MINUS}); " + CAPTIONS[kind],
            "final: each trial's last step (mean epoch: " + (", ".join(finals) or "-") + ")",
        ]
    )
    return t
