"""PNG figures of the summary (needs the `plots` extra: matplotlib)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from analysis import training
from analysis.design import Grid
from analysis.inference import NEW_CLASS
from fakedet.data import CLASSES
from fakedet.errors import UserError
from fakedet.schema import SUITES

HEADLINE = [
    ("fake recall", "generated_recall"),
    ("real recall", "real_recall"),
    ("accuracy", "accuracy"),
    ("AUROC", "auroc"),
]


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserError("--plots needs matplotlib: pip install 'fakedet[plots]'") from None
    return plt


def write_plots(grid: Grid, directory: str | Path, checkpoints=None) -> list[Path]:
    """Five PNGs: class false-flag heatmap, headline metrics, cross matrix, unseen recall,
    detection along training. Intervals: for a new class (`analysis.inference`).

    Args:
        grid: the final checkpoints.
        directory: where to write (created).
        checkpoints: {epoch: grid} of earlier checkpoints (`analysis.design.checkpoint_grids`).
    """
    plt = _pyplot()
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create plot directory {out}: {e.strerror}") from None
    archs, written = grid.gans, []

    def mean(values):
        return grid.design.mean(values, kind=NEW_CLASS)

    def save(fig, name):
        path = out / name
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)

    # 1. per-class false-flag rate, held out vs trained, one row per (arch, condition)
    rows, labels = [], []
    for arch in archs:
        for suite, cond in (("real_heldout", "held out"), ("real_test", "trained")):
            rows.append(
                [
                    mean(grid.get(arch, suite, "false_flag_rate", class_id=c)).value
                    for c in range(len(CLASSES))
                ]
            )
            labels.append(f"{arch}: {cond}")
    fig, ax = plt.subplots(figsize=(10, 1 + 0.5 * len(rows)))
    im = ax.imshow(np.array(rows, dtype=float), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(CLASSES)), CLASSES, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    fig.colorbar(im, ax=ax, label="false-flag rate")
    ax.set_title("False-flag rate of real images per class")
    save(fig, "class_false_flags.png")

    # 2. headline metrics with interval bars
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / max(len(archs), 1)
    for i, arch in enumerate(archs):
        ests = [mean(grid.get(arch, "overall", m)) for _, m in HEADLINE]
        x = np.arange(len(HEADLINE)) + i * width
        vals = np.array([e.value for e in ests])
        err = np.clip([[e.value - e.low for e in ests], [e.high - e.value for e in ests]], 0, None)
        ax.bar(x, vals, width, yerr=err, capsize=3, label=arch)
    ax.set_xticks(np.arange(len(HEADLINE)) + width * (len(archs) - 1) / 2, [h for h, _ in HEADLINE])
    ax.set_ylim(0, 1)
    ax.set_title("Overall suite: mean and 95% CI for a new class")
    ax.legend()
    save(fig, "headline.png")

    # 3. cross-generator heatmap
    m = np.array(
        [
            [
                mean(
                    grid.get(d, "own_fake" if g == d else "cross_fake", "generated_recall", g)
                ).value
                for g in archs
            ]
            for d in archs
        ],
        dtype=float,
    )
    fig, ax = plt.subplots(figsize=(1.5 + 1.2 * len(archs), 1 + 1.0 * len(archs)))
    im = ax.imshow(m, cmap="magma", vmin=0, vmax=1)
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, "-" if np.isnan(v) else f"{v:.2f}", ha="center", va="center", color="w")
    ax.set_xticks(range(len(archs)), archs)
    ax.set_yticks(range(len(archs)), archs)
    ax.set_xlabel("generator")
    ax.set_ylabel("detector")
    fig.colorbar(im, ax=ax, label="fake recall")
    save(fig, "cross_generator.png")

    # 4. distribution over triples of real recall on unseen classes
    fig, ax = plt.subplots(figsize=(7, 4))
    for arch in archs:
        per_triple = np.nanmean(
            grid.get(arch, "real_heldout", SUITES["real_heldout"].headline), axis=1
        )
        ax.hist(per_triple[np.isfinite(per_triple)], bins=20, range=(0, 1), alpha=0.6, label=arch)
    ax.set_xlabel("real recall on held-out classes (mean over seeds)")
    ax.set_ylabel("triples")
    ax.legend()
    save(fig, "unseen_recall_by_triple.png")

    # 5. detection along training, one column per architecture; the gaps below
    along = training.stages(grid, checkpoints or {})
    fig, axes = plt.subplots(
        2, max(len(archs), 1), figsize=(4.5 * max(len(archs), 1), 7), squeeze=False, sharex="col"
    )
    panels = (
        [
            "own fakes flagged",
            "seen reals passed",
            "unseen reals passed",
            "AUROC vs seen",
            "AUROC vs unseen",
        ],
        ["recall gap", "AUROC gap"],
    )
    for col, arch in enumerate(archs):
        found = along.get(arch, [])
        x = np.array([s.epoch for s in found], dtype=float)
        for row, names in enumerate(panels):
            ax = axes[row, col]
            for name in names:
                est = [s.values[name] for s in found]
                y = np.array([e.value for e in est], dtype=float)
                lo = np.array([e.low for e in est], dtype=float)
                hi = np.array([e.high for e in est], dtype=float)
                ax.plot(x, y, marker="o", label=name)
                ax.fill_between(x, lo, hi, alpha=0.2)
            if row == 0:
                ax.set_title(arch)
                ax.set_ylim(0, 1)
            else:
                ax.axhline(0, color="grey", lw=0.8)
                ax.set_xlabel("epochs trained (last point: final step)")
            if len(x) and np.all(x > 0) and x.max() / x.min() > 20:
                ax.set_xscale("log")
                ax.set_xticks(x, [f"{v:.2g}" for v in x])  # the checkpoints, not 10^k
                ax.minorticks_off()
    axes[0, 0].legend(fontsize=7)
    axes[1, 0].legend(fontsize=7)
    axes[0, 0].set_ylabel("mean, 95% CI for a new class")
    axes[1, 0].set_ylabel("seen - unseen")
    save(fig, "training.png")
    return written
