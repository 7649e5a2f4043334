"""PNG figures of the summary (needs the `plots` extra: matplotlib).

Every estimate is drawn with its interval for a new class at `--confidence`, which stays
inside its quantity's range (`analysis.inference`); a point without a bar has no interval
(too few classes behind it). Axes name their quantity and its unit; one panel per
quantity and architecture (small multiples) rather than overlapping bands.

Each figure is one function of (grid, checkpoints, plt) returning a matplotlib figure,
registered in `FIGURES` under its file name; `write_plots` draws and saves them all. A new
figure is one more function and one more entry. The figures along training are in
`analysis.plots_training`, what every figure shares in `analysis.figure`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from analysis.figure import (
    COLOURS,
    ci_label,
    estimate,
    interval_text,
    pyplot,
    unit,
    value_text,
    yerr,
)
from analysis.grid import MetricGrid
from analysis.measures import (
    HEADLINE,
    HELD_FALSE_FLAGS,
    OTHER_FAKES,
    OWN_FAKES,
    SEEN_FALSE_FLAGS,
    UNSEEN_PASSED,
    Quantity,
)
from analysis.plots_training import along_training, detection_against_quality
from fakedet.data import CLASSES
from fakedet.errors import UserError

BARS = [m for m in HEADLINE if isinstance(m, Quantity)]
"""The headline's quantities (its gaps aside): one panel each."""


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
                x + shift, [e.value for e in ests], yerr=yerr(ests), fmt="o", color=colour,
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
            ax.errorbar([i], [e.value], yerr=yerr([e]), fmt="o", capsize=4,
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
        ax.axvline(e.value, color="black", lw=1.2, label=f"mean {value_text(e.value)}")
        ax.set_title(arch)
        ax.set_xlabel(f"{UNSEEN_PASSED.label}\n(fraction; per triple, mean over seeds)")
        ax.legend(fontsize=7, loc="upper left")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0, 0].set_ylabel("held-out triples")
    return fig


FIGURES: dict[str, Callable] = {
    "class_false_flags.png": class_false_flags,
    "headline.png": headline,
    "cross_generator.png": cross_generator,
    "unseen_recall_by_triple.png": unseen_recall_by_triple,
    "training.png": along_training,
    "detection_vs_quality.png": detection_against_quality,
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
    plt = pyplot()
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
