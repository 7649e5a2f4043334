"""What every figure of the summary shares: pyplot on demand, labels with units, and an
estimate with its interval for a new class (`analysis.plots` holds the figures)."""

from __future__ import annotations

import textwrap

import numpy as np

from analysis.grid import MetricGrid
from analysis.inference import NEW_CLASS
from analysis.measures import Difference
from analysis.render import digits_for, fmt_estimate, number
from analysis.stats import Estimate
from fakedet.errors import UserError

COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red")
"""One colour per architecture, the same in every figure."""


def pyplot():
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


def value_text(x: float) -> str:
    """One value at the tables' digits (">0.99", not a rounded "1.00")."""
    return number(x, digits_for((x,)))


def interval_text(e: Estimate) -> str:
    """The value over its interval, at the tables' digits: 0.997 [0.945, >0.999], never
    a rounded `1.00 [0.95, 1.00]` the data do not claim."""
    if np.isnan(e.value):
        return "-"
    if np.isnan(e.low) or np.isnan(e.high):
        return f"{value_text(e.value)}\n(no CI)"
    return fmt_estimate(e, sep=", ").replace(" [", "\n[", 1)


def yerr(ests: list[Estimate]) -> np.ndarray:
    """(2, N) distances from each value down to its low and up to its high (0: none)."""
    lo = np.array([e.value - e.low for e in ests], dtype=float)
    hi = np.array([e.high - e.value for e in ests], dtype=float)
    return np.nan_to_num(np.vstack([lo, hi]), nan=0.0)
