"""Verdicts read off intervals, and where one new trial falls.

Each verdict is a one-sided test at (1 - confidence) / 2 read off the interval
(docs/method.md, "Claims and verdicts"); Holm's step-down over a family of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from analysis.stats import Band, Estimate


def single_trial_band(values: np.ndarray, confidence: float = 0.95) -> Band:
    """Where one new trial falls: an order-statistic band of the single trials.

    With n trials sorted, [x_(j), x_(n+1-j)] holds one new exchangeable trial with
    chance exactly (n + 1 - 2j) / (n + 1) (for continuous values; at least that with
    ties). j is the largest with that chance >= `confidence`; with fewer trials than
    2 / (1 - confidence) - 1 (39 for 95%) no band reaches it, and the band is [min, max]
    with the smaller chance it has: `coverage` says which.

    Args:
        values: scores of any shape, e.g. (T, S); NaN ignored.

    Returns:
        Band(median, low, high, trials, coverage).
    """
    v = np.sort(np.asarray(values, dtype=np.float64).ravel())
    v = v[~np.isnan(v)]
    n = v.size
    if n == 0:
        return Band(np.nan, np.nan, np.nan, 0, coverage=np.nan)
    j = max(int(math.floor((n + 1) * (1 - confidence) / 2 + 1e-9)), 1)
    return Band(
        float(np.median(v)), float(v[j - 1]), float(v[n - j]), n, coverage=(n + 1 - 2 * j) / (n + 1)
    )


def percentile_of(value: float, values: np.ndarray) -> float:
    """Mid-rank percentile (0-100) of `value` among single-trial `values` (any shape, NaN
    ignored): 100 * (#below + 0.5 * #equal) / n. NaN when there is no trial."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size == 0 or np.isnan(value):
        return np.nan
    return float(100 * ((v < value).sum() + 0.5 * (v == value).sum()) / v.size)


def tost(estimate: Estimate, margin: float) -> str:
    """Equivalence: "equivalent" when the interval lies inside (-margin, margin) (two
    one-sided tests, each at (1 - confidence) / 2 of the interval); "not equivalent" when
    it lies wholly outside; else (or NaN) "inconclusive". A point interval (zero width)
    states no error, so it never shows equivalence: "inconclusive" inside the margins."""
    if margin <= 0:
        raise ValueError(f"margin must be positive, got {margin}")
    low, high = estimate.low, estimate.high
    if np.isnan(low) or np.isnan(high):
        return "inconclusive"
    if -margin < low and high < margin:
        return "equivalent" if high > low else "inconclusive"
    return "not equivalent" if low >= margin or high <= -margin else "inconclusive"


def greater_than(estimate: Estimate, bound: float = 0.0) -> str:
    """A "greater than `bound`" claim: "greater" when the interval lies above `bound`,
    "not greater" when it lies wholly at or below it, else (or NaN) "inconclusive"."""
    low, high = estimate.low, estimate.high
    if np.isnan(low) or np.isnan(high):
        return "inconclusive"
    if low > bound:
        return "greater"
    return "not greater" if high <= bound else "inconclusive"


def holm(p_values: Sequence[float], alpha: float) -> list[bool]:
    """Holm's step-down: which of the hypotheses are rejected at family-wise level
    `alpha` (NaN p-values count as 1)."""
    p = np.nan_to_num(np.asarray(p_values, dtype=np.float64), nan=1.0)
    rejected = np.zeros(len(p), bool)
    for rank, i in enumerate(np.argsort(p, kind="stable")):
        if p[i] > alpha / (len(p) - rank):
            break
        rejected[i] = True
    return rejected.tolist()
