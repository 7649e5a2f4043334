"""PNG figures of the summary (needs the `plots` extra: matplotlib).

Every band and bar is an interval for a new class at `--confidence`, and stays inside
its quantity's range (`analysis.inference`); the training panels share one x scale,
epochs on a log axis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from analysis import training
from analysis.grid import MetricGrid
from analysis.inference import NEW_CLASS
from analysis.measures import (
    AUROC_OWN_8BIT,
    FID,
    HEADLINE,
    HELD_FALSE_FLAGS,
    OTHER_FAKES,
    OWN_FAKES,
    OWN_FAKES_8BIT,
    SEEN_FALSE_FLAGS,
    TRAINING,
    UNSEEN_PASSED,
    Quantity,
)
from analysis.tables import present
from fakedet.data import CLASSES
from fakedet.errors import UserError

BARS = [m for m in HEADLINE if isinstance(m, Quantity)]
"""The headline's quantities (its gaps aside): one group of bars each."""


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserError("--plots needs matplotlib: pip install 'fakedet[plots]'") from None
    return plt


def ci_label(confidence: float) -> str:
    return f"{confidence:.0%} CI for a new class"


def write_plots(grid: MetricGrid, directory: str | Path, checkpoints=None) -> list[Path]:
    """Five PNGs: class false-flag heatmap, headline quantities, cross matrix, unseen
    recall by triple, detection along training; a sixth, detection against the fakes'
    quality, where the results hold quality figures. Intervals: for a new class.

    Args:
        grid: the final checkpoints.
        directory: where to write (created).
        checkpoints: {epoch: grid} of earlier checkpoints (`analysis.grid.checkpoint_grids`).
    """
    plt = _pyplot()
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create plot directory {out}: {e.strerror}") from None
    archs, written = grid.gans, []

    def mean(measure, arch, **kw):
        return grid.intervals.mean(measure(grid, arch, **kw), kind=NEW_CLASS, bounds=measure.bounds)

    def save(fig, name):
        path = out / name
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)

    # 1. per-class false-flag rate, held out vs trained, one row per (arch, condition)
    rows, labels = [], []
    for arch in archs:
        for q in (HELD_FALSE_FLAGS, SEEN_FALSE_FLAGS):
            rows.append([mean(q, arch, class_id=c).value for c in range(len(CLASSES))])
            labels.append(f"{arch}: {q.label}")
    fig, ax = plt.subplots(figsize=(10, 1 + 0.5 * len(rows)))
    im = ax.imshow(np.array(rows, dtype=float), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(CLASSES)), CLASSES, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    fig.colorbar(im, ax=ax, label="false-flag rate")
    ax.set_title("False-flag rate of real images per class")
    save(fig, "class_false_flags.png")

    # 2. the headline quantities with interval bars
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / max(len(archs), 1)
    for i, arch in enumerate(archs):
        ests = [mean(m, arch) for m in BARS]
        x = np.arange(len(BARS)) + i * width
        vals = np.array([e.value for e in ests])
        err = np.array([[e.value - e.low for e in ests], [e.high - e.value for e in ests]])
        ax.bar(x, vals, width, yerr=err, capsize=3, label=arch)
    ax.set_xticks(
        np.arange(len(BARS)) + width * (len(archs) - 1) / 2,
        [m.label.replace(" vs ", "\nvs ") for m in BARS],
        fontsize=8,
    )
    ax.set_ylim(0, 1)
    ax.set_title(f"Headline: mean and {ci_label(grid.confidence)}")
    ax.legend()
    save(fig, "headline.png")

    # 3. cross-generator heatmap
    m = np.array(
        [
            [mean(OWN_FAKES if g == d else OTHER_FAKES.named(g), d).value for g in archs]
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
    fig.colorbar(im, ax=ax, label="fakes flagged")
    save(fig, "cross_generator.png")

    # 4. distribution over triples of real recall on unseen classes
    fig, ax = plt.subplots(figsize=(7, 4))
    for arch in archs:
        values = UNSEEN_PASSED(grid, arch)
        present = ~np.isnan(values)
        counts = present.sum(axis=1)
        per_triple = np.where(present, values, 0.0).sum(axis=1)[counts > 0] / counts[counts > 0]
        ax.hist(per_triple, bins=20, range=(0, 1), alpha=0.6, label=arch)
    ax.set_xlabel(f"{UNSEEN_PASSED.label} (mean over seeds)")
    ax.set_ylabel("triples")
    ax.legend()
    save(fig, "unseen_recall_by_triple.png")

    # 5. detection along training, one column per architecture; the gaps below. One x
    # scale for every panel: epochs on a log axis, ticks at the stages found anywhere.
    along = training.stages(grid, checkpoints or {})
    panels = (
        [m for _, fakes, c in TRAINING for m in (fakes, c.seen, c.unseen) if m is not None],
        [c.gap for _, _, c in TRAINING],
    )
    ticks = sorted({s.epoch for found in along.values() for s in found if s.epoch > 0})
    fig, axes = plt.subplots(
        2, max(len(archs), 1), figsize=(4.5 * max(len(archs), 1), 7), squeeze=False, sharex=True
    )
    for col, arch in enumerate(archs):
        found = [s for s in along.get(arch, []) if s.epoch > 0]
        x = np.array([s.epoch for s in found], dtype=float)
        for row, measures in enumerate(panels):
            ax = axes[row, col]
            for measure in measures:
                est = [s.values[measure] for s in found]
                y = np.array([e.value for e in est], dtype=float)
                lo = np.array([e.low for e in est], dtype=float)
                hi = np.array([e.high for e in est], dtype=float)
                ax.plot(x, y, marker="o", label=measure.label)
                ax.fill_between(x, lo, hi, alpha=0.2)
            if row == 0:
                ax.set_title(arch)
                ax.set_ylim(0, 1)
            else:
                ax.axhline(0, color="grey", lw=0.8)
                ax.set_xlabel("epochs trained, log scale (last point: final step)")
    for ax in axes.ravel():
        ax.set_xscale("log")
        if ticks:
            ax.set_xticks(ticks, [f"{v:.2g}" for v in ticks])  # the stages, not 10^k
            ax.minorticks_off()
    axes[0, 0].legend(fontsize=7)
    axes[1, 0].legend(fontsize=7)
    axes[0, 0].set_ylabel(f"mean, {ci_label(grid.confidence)}")
    axes[1, 0].set_ylabel("seen - unseen")
    save(fig, "training.png")

    # 6. detection against the fakes' quality (where the results hold quality figures)
    if (fig := detection_against_quality(plt, grid, checkpoints or {})) is not None:
        save(fig, "detection_vs_quality.png")
    return written


def detection_against_quality(plt, grid: MetricGrid, checkpoints: dict):
    """Own 8-bit fakes flagged and their AUROC against seen-class reals, against the
    Frechet distance of the same fakes: a point per trial and checkpoint, one colour per
    architecture, and per checkpoint the mean with its interval in both directions. None
    when the results hold no quality figures."""
    stages = [*checkpoints.values(), grid]
    if not any(present(g, FID) for g in stages):
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, measure in zip(axes[0], (OWN_FAKES_8BIT, AUROC_OWN_8BIT.seen), strict=True):
        for i, arch in enumerate(grid.gans):
            colour = colours[i % len(colours)]
            xs, ys, means = [], [], []
            for g in stages:
                fid, y = FID(g, arch), measure(g, arch)
                both = ~np.isnan(fid) & ~np.isnan(y)
                if not both.any():
                    continue
                xs += fid[both].tolist()
                ys += y[both].tolist()
                means.append(
                    tuple(
                        g.intervals.mean(np.where(both, v, np.nan), kind=NEW_CLASS, bounds=m.bounds)
                        for v, m in ((fid, FID), (y, measure))
                    )
                )
            ax.scatter(xs, ys, s=12, alpha=0.35, color=colour)
            if means:
                fx, fy = zip(*means, strict=True)
                ax.errorbar(
                    [e.value for e in fx], [e.value for e in fy],
                    xerr=_err(fx), yerr=_err(fy), color=colour, marker="o", capsize=3,
                    label=f"{arch}: mean per checkpoint, {ci_label(grid.confidence)}",
                )  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel(f"{FID.label} (classifier features; log scale)")
        ax.set_ylabel(measure.label)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7, loc="lower left")
    fig.suptitle("Detection of 8-bit fakes against how far the fakes are from real images")
    return fig


def _err(estimates) -> np.ndarray:
    """(2, n) distances from each estimate to its interval's bounds (for errorbar)."""
    return np.array(
        [
            [max(e.value - e.low, 0) for e in estimates],
            [max(e.high - e.value, 0) for e in estimates],
        ]
    )
