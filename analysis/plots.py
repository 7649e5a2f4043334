"""PNG figures of the summary (needs the `plots` extra: matplotlib).

Every estimate is drawn with its interval for a new class at `--confidence`, which stays
inside its quantity's range (`analysis.inference`); a point without a bar has no interval
(too few classes behind it). Axes name their quantity and its unit; one panel per
quantity and architecture (small multiples) rather than overlapping bands.

Each figure is one function of (grid, checkpoints, plt) returning a matplotlib figure,
registered in `FIGURES` under its file name; `write_plots` draws and saves them all. A new
figure is one more function and one more entry.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
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
    Difference,
    Quantity,
)
from analysis.stats import Estimate
from analysis.tables import present
from fakedet.data import CLASSES
from fakedet.errors import UserError

BARS = [m for m in HEADLINE if isinstance(m, Quantity)]
"""The headline's quantities (its gaps aside): one panel each."""
COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red")
"""One colour per architecture, the same in every figure."""


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


def unit(measure) -> str:
    """The unit of a measure's values, for an axis label."""
    if isinstance(measure, Difference):
        return "difference, seen - unseen"
    return "AUROC (0.5: chance)" if measure.metric.startswith("auroc") else "fraction of images"


def axis_label(measure, width: int = 24) -> str:
    """A measure's name and unit, wrapped for a y axis."""
    return textwrap.fill(f"{measure.label} ({unit(measure)})", width)


def estimate(grid: MetricGrid, measure, arch: str, **kw) -> Estimate:
    """The mean of `measure` for `arch` with its interval for a new class."""
    values = measure(grid, arch, **kw)
    return grid.intervals.mean(values, kind=NEW_CLASS, bounds=measure.bounds)


def interval_text(e: Estimate) -> str:
    if np.isnan(e.value):
        return "-"
    if np.isnan(e.low) or np.isnan(e.high):
        return f"{e.value:.2f}\n(no CI)"
    return f"{e.value:.2f}\n[{e.low:.2f}, {e.high:.2f}]"


def _yerr(ests: list[Estimate]) -> np.ndarray:
    """(2, N) distances from each value down to its low and up to its high (0: none)."""
    lo = np.array([e.value - e.low for e in ests], dtype=float)
    hi = np.array([e.high - e.value for e in ests], dtype=float)
    return np.nan_to_num(np.vstack([lo, hi]), nan=0.0)


# --- the figures ----------------------------------------------------------------------------
def class_false_flags(grid: MetricGrid, checkpoints, plt):
    """Per class, the false-flag rate of its real images when held out and when seen,
    one panel per architecture: each trial a small dot, the mean a large one with its
    interval where there is one."""
    archs = grid.gans
    fig, axes = plt.subplots(
        len(archs), 1, figsize=(10, 1.0 + 2.8 * len(archs)), squeeze=False, sharey=True
    )
    x = np.arange(len(CLASSES))
    missing = False
    for ax, arch in zip(axes[:, 0], archs, strict=True):
        for shift, q, colour in ((-0.15, HELD_FALSE_FLAGS, "tab:red"),
                                 (0.15, SEEN_FALSE_FLAGS, "tab:blue")):  # fmt: skip
            ests = []
            for c in range(len(CLASSES)):
                ests.append(estimate(grid, q, arch, class_id=c))
                trials = q(grid, arch, class_id=c).ravel()
                trials = trials[~np.isnan(trials)]
                ax.plot(np.full(len(trials), c + shift + 0.07), trials, ".", ms=3,
                        color=colour, alpha=0.5)  # fmt: skip
            missing |= any(np.isnan(e.low) and not np.isnan(e.value) for e in ests)
            ax.errorbar(
                x + shift, [e.value for e in ests], yerr=_yerr(ests), fmt="o", color=colour,
                capsize=3, label=q.label.replace("false flags, ", "class "),
            )  # fmt: skip
        ax.set_xticks(x, CLASSES, rotation=30, ha="right")
        ax.set_ylim(0, 1)
        ax.set_ylabel("real images flagged\n(fraction)")
        ax.set_title(arch, loc="left")
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(loc="upper right", fontsize=8)
    fig.suptitle(
        f"False flags on real images, per class: mean (large dot) and "
        f"{ci_label(grid.confidence)}; small dots: single trials",
        fontsize=10,
    )
    if missing:
        fig.text(
            0.01, 0.005, "A large dot without a bar has no interval for a new class: it is "
            "one class, so there is no class-to-class spread (its trials are the small dots).",
            fontsize=8, style="italic",
        )  # fmt: skip
    return fig


def headline(grid: MetricGrid, checkpoints, plt):
    """The headline's quantities, one panel each: every architecture's mean and interval."""
    archs = grid.gans
    cols = 3
    rows = -(-len(BARS) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(11, 0.6 + 2.9 * rows), squeeze=False)
    for ax, measure in zip(axes.ravel(), BARS, strict=False):
        ests = [estimate(grid, measure, a) for a in archs]
        for i, e in enumerate(ests):
            ax.errorbar([i], [e.value], yerr=_yerr([e]), fmt="o", capsize=4,
                        color=COLOURS[i % len(COLOURS)])  # fmt: skip
            ax.annotate(interval_text(e).replace("\n", " "), (i, e.value), xytext=(8, 0),
                        textcoords="offset points", va="center", fontsize=8)  # fmt: skip
        ax.set_xticks(range(len(archs)), archs)
        ax.set_xlim(-0.5, len(archs) - 0.1)
        ax.set_ylim(0, 1)
        ax.set_title(measure.label, fontsize=10)
        ax.set_ylabel(unit(measure), fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes.ravel()[len(BARS) :]:
        ax.axis("off")
    fig.suptitle(f"Headline: mean and {ci_label(grid.confidence)}", fontsize=11)
    return fig


def cross_generator(grid: MetricGrid, checkpoints, plt):
    """Each discriminator (row) on each generator's fakes (column): fakes flagged, with the
    interval in the cell; dark text on light cells, light text on dark ones."""
    archs = grid.gans
    ests = [
        [estimate(grid, OWN_FAKES if g == d else OTHER_FAKES.named(g), d) for g in archs]
        for d in archs
    ]
    m = np.array([[e.value for e in row] for row in ests], dtype=float)
    cmap = plt.get_cmap("viridis")
    fig, ax = plt.subplots(figsize=(2.5 + 1.9 * len(archs), 1.5 + 1.2 * len(archs)))
    im = ax.imshow(m, cmap=cmap, vmin=0, vmax=1)
    for (i, j), v in np.ndenumerate(m):
        r, g, b, _ = cmap(0.0 if np.isnan(v) else v)
        dark_cell = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
        ax.text(j, i, interval_text(ests[i][j]), ha="center", va="center", fontsize=9,
                color="white" if dark_cell else "black")  # fmt: skip
    ax.set_xticks(range(len(archs)), archs)
    ax.set_yticks(range(len(archs)), archs)
    ax.set_xlabel("generator of the fakes")
    ax.set_ylabel("discriminator used as detector")
    fig.colorbar(im, ax=ax, label="fakes flagged (fraction)")
    ax.set_title(f"Fakes flagged: mean and\n{ci_label(grid.confidence)}", fontsize=10)
    return fig


def unseen_recall_by_triple(grid: MetricGrid, checkpoints, plt):
    """The spread over held-out triples of unseen-class reals passed (each triple's mean
    over seeds), one panel per architecture, with the mean and its interval."""
    from matplotlib.ticker import MaxNLocator

    archs = grid.gans
    fig, axes = plt.subplots(
        1, len(archs), figsize=(4 * len(archs), 3.4), squeeze=False, sharex=True, sharey=True
    )
    for i, (ax, arch) in enumerate(zip(axes[0], archs, strict=True)):
        values = UNSEEN_PASSED(grid, arch)
        present = ~np.isnan(values)
        counts = present.sum(axis=1)
        per_triple = np.where(present, values, 0.0).sum(axis=1)[counts > 0] / counts[counts > 0]
        ax.hist(per_triple, bins=20, range=(0, 1), color=COLOURS[i % len(COLOURS)], zorder=2)
        e = estimate(grid, UNSEEN_PASSED, arch)
        if not np.isnan(e.low):
            ax.axvspan(e.low, e.high, color="grey", alpha=0.2, zorder=1,
                       label=ci_label(grid.confidence))  # fmt: skip
        ax.axvline(e.value, color="black", lw=1.2, label=f"mean {e.value:.2f}")
        ax.set_title(arch)
        ax.set_xlabel(f"{UNSEEN_PASSED.label}\n(fraction; per triple, mean over seeds)")
        ax.legend(fontsize=7, loc="upper left")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0, 0].set_ylabel("held-out triples")
    return fig


def along_training(grid: MetricGrid, checkpoints, plt):
    """Detection along training: one row per quantity, one column per architecture, each
    panel one line with its band. One x scale for every panel: epochs on a log axis,
    ticks at the stages found anywhere."""
    archs = grid.gans
    along = training.stages(grid, checkpoints or {})
    measures = [m for _, fakes, c in TRAINING for m in (fakes, c.seen, c.unseen) if m is not None]
    measures += [c.gap for _, _, c in TRAINING]
    ticks = sorted({s.epoch for found in along.values() for s in found if s.epoch > 0})
    fig, axes = plt.subplots(
        len(measures), max(len(archs), 1), figsize=(4.2 * max(len(archs), 1) + 1.6,
        1.75 * len(measures) + 0.8), squeeze=False, sharex=True, sharey="row",
    )  # fmt: skip
    for col, arch in enumerate(archs):
        found = [s for s in along.get(arch, []) if s.epoch > 0]
        x = np.array([s.epoch for s in found], dtype=float)
        colour = COLOURS[col % len(COLOURS)]
        for row, measure in enumerate(measures):
            ax = axes[row, col]
            est = [s.values[measure] for s in found]
            ax.plot(x, [e.value for e in est], marker="o", ms=4, color=colour)
            ax.fill_between(x, [e.low for e in est], [e.high for e in est], color=colour,
                            alpha=0.25, lw=0)  # fmt: skip
            if isinstance(measure, Difference):
                ax.axhline(0, color="grey", lw=0.8)
            else:
                ax.set_ylim(0, 1)
            ax.grid(alpha=0.3)
            if col == 0:
                ax.set_ylabel(axis_label(measure), fontsize=8)
        axes[0, col].set_title(f"{arch}: mean and {ci_label(grid.confidence)}", fontsize=10)
        axes[-1, col].set_xlabel("epochs trained, log scale\n(last point: final step)")
    for ax in axes.ravel():
        ax.set_xscale("log")
        if ticks:
            ax.set_xticks(ticks, [f"{v:.2g}" for v in ticks])  # the stages, not 10^k
            ax.minorticks_off()
    return fig


FIGURES: dict[str, Callable] = {
    "class_false_flags.png": class_false_flags,
    "headline.png": headline,
    "cross_generator.png": cross_generator,
    "unseen_recall_by_triple.png": unseen_recall_by_triple,
    "training.png": along_training,
    "detection_vs_quality.png": lambda grid, checkpoints, plt: detection_against_quality(
        plt, grid, checkpoints or {}
    ),
}
"""Every figure, by file name: a function (grid, checkpoints, plt) -> figure, or None
when the results hold nothing to draw."""


def write_plots(grid: MetricGrid, directory: str | Path, checkpoints=None) -> list[Path]:
    """Every figure of `FIGURES` as a PNG; a figure whose function returns None (such as
    detection against the fakes' quality, where the results hold no quality figures) is
    not written. Intervals: for a new class.

    Args:
        grid: the final checkpoints.
        directory: where to write (created).
        checkpoints: {epoch: grid} of earlier checkpoints (`analysis.grid.checkpoint_grids`).

    Returns:
        The paths written, in `FIGURES` order.
    """
    plt = _pyplot()
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create plot directory {out}: {e.strerror}") from None
    written = []
    for name, figure in FIGURES.items():
        fig = figure(grid, checkpoints, plt)
        if fig is None:
            continue
        fig.tight_layout()
        fig.savefig(out / name, dpi=120)
        plt.close(fig)
        written.append(out / name)
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
