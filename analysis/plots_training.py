"""The figures along training: detection at each checkpoint, and detection against how
far the fakes are from real images (the Frechet distance of `fakedet.quality`)."""

from __future__ import annotations

import numpy as np

from analysis import training
from analysis.cells import present
from analysis.figure import COLOURS, axis_label, ci_label, yerr
from analysis.grid import MetricGrid
from analysis.inference import NEW_CLASS
from analysis.measures import AUROC_OWN_8BIT, FID, OWN_FAKES_8BIT, TRAINING, Difference


def along_training(grid: MetricGrid, checkpoints, plt):
    """Detection along training: one row per quantity, one column per architecture, each
    panel one line with its band. One x scale for every panel: epochs on a log axis,
    ticks at the stages found anywhere."""
    archs = grid.gans
    along = training.stages(grid, checkpoints or {})
    measures = [m for _, fakes, c in TRAINING for m in (fakes, c.seen, c.unseen) if m is not None]
    measures += [c.gap for _, _, c in TRAINING]
    fig, axes = plt.subplots(
        len(measures), max(len(archs), 1), figsize=(4.2 * max(len(archs), 1) + 1.6,
        1.75 * len(measures) + 0.8), squeeze=False, sharex="col", sharey="row",
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
        for ax in axes[:, col]:  # each column its own stages (final steps differ by arch)
            ax.set_xscale("log")
            if len(x):
                ax.set_xticks(x, [f"{v:.2g}" for v in x])  # the stages, not 10^k
                ax.minorticks_off()
    return fig


def detection_against_quality(grid: MetricGrid, checkpoints, plt):
    """Own 8-bit fakes flagged and their AUROC against seen-class reals, against the
    Frechet distance of the same fakes: a point per trial and checkpoint, one colour per
    architecture, and per checkpoint the mean with its interval in both directions,
    labelled with its epoch ("end": the final step). None when the results hold no
    quality figures."""
    stages = [*(checkpoints or {}).values(), grid]
    names = [f"{e:g}" for e in (checkpoints or {})] + ["end"]
    if not any(present(g, FID) for g in stages):
        return None
    from matplotlib.ticker import FixedLocator, NullFormatter, StrMethodFormatter

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, measure in zip(axes[0], (OWN_FAKES_8BIT, AUROC_OWN_8BIT.seen), strict=True):
        for i, arch in enumerate(grid.gans):
            colour = colours[i % len(colours)]
            xs, ys, means, shown = [], [], [], []
            for g, name in zip(stages, names, strict=True):
                fid, y = FID(g, arch), measure(g, arch)
                both = ~np.isnan(fid) & ~np.isnan(y)
                if not both.any():
                    continue
                shown.append(name)
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
                    xerr=yerr(fx), yerr=yerr(fy), color=colour, marker="o", capsize=3,
                    label=f"{arch}: mean per checkpoint, {ci_label(grid.confidence)}",
                )  # fmt: skip
                for name, ex, ey in zip(shown, fx, fy, strict=True):  # which checkpoint
                    ax.annotate(name, (ex.value, ey.value), xytext=(4, 4), fontsize=7,
                                textcoords="offset points", color=colour)  # fmt: skip
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]))
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(f"{FID.label} (classifier features; log scale)")
        ax.set_ylabel(measure.label)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7, loc="lower left")
    fig.suptitle("Detection of 8-bit fakes against how far the fakes are from real images")
    return fig
