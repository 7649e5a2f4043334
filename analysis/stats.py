"""Estimators over trials, as pure functions of score arrays, and what they return.

Scores come as float arrays of shape (T, S): one row per held-out triple, one column per
seed, NaN where a trial is missing. `Estimate` is a point estimate with an interval (and
the `Spread` it was built from); `Band` is where single trials fall. The intervals the
summary shows come from `analysis.inference`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Spread:
    """How an estimate varies, from which its interval and one-sided p-values follow
    (`analysis.inference.interval`, `p_value`)."""

    se: float
    """Standard error (NaN: the design gives none)."""
    df: float
    """Degrees of freedom of the standard error."""
    bounds: tuple[float, float] = (-math.inf, math.inf)
    """The range the quantity lives in."""
    size: float = math.inf
    """For a bounded quantity, its effective sample size (Korn & Graubard): the number of
    independent 0/1 draws that would vary as much; inf where it does not vary."""
    cap: float = math.inf
    """The most independent units behind a bounded estimate, where they bound its size:
    win/tie/loss cells, or every value at an end of the range."""
    parts: tuple | None = None
    """For a difference x - y of bounded quantities: ((x, Spread of x), (y, Spread of y)),
    whose floors its interval keeps (`analysis.inference.interval`); None otherwise."""
    correlation: float | None = None
    """For such a difference, the correlation of the x and y estimates: its interval is
    then the MOVER of the parts' whole intervals; None: only their floors."""
    logit: tuple | None = None
    """For a new class's bounded mean, the censored logit-normal fit of its classes' values
    (`analysis.logitnormal.fit`): its interval also holds their pivotal interval; None
    otherwise."""
    pair: tuple | None = None
    """For a new class's difference x - y of two bounded means on the same classes, the
    bivariate logit-normal fit of the classes' (x, y) values (`analysis.logitnormal.pair_fit`):
    its interval also holds their pivotal interval of the difference, in place of the MOVER
    of the parts; None otherwise (and where a part's fit censors a class)."""


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval."""

    value: float
    low: float
    high: float
    n: int = 0
    """Number of trials (non-NaN cells) behind the estimate."""
    spread: Spread | None = None
    """What the interval was built from (None: a point or no interval)."""

    def contains(self, x: float) -> bool:
        return bool(self.low <= x <= self.high)


@dataclass(frozen=True)
class Band(Estimate):
    """Where one new trial falls: value = the median of the single trials, [low, high] an
    order-statistic band of them. Not an interval for a mean: it does not shrink with
    more trials."""

    coverage: float = math.nan
    """The chance that one new exchangeable trial falls inside, exactly."""


NAN_ESTIMATE = Estimate(np.nan, np.nan, np.nan, 0)
"""No estimate: no trial behind it."""


# --- estimators: arrays (..., T, S) -> (...) -------------------------------------------------
def mean(scores: np.ndarray) -> np.ndarray:
    """Mean over trials (the non-NaN cells); NaN where there is none."""
    with _quiet_nan_warnings():
        return np.nanmean(scores.reshape(*scores.shape[:-2], -1), axis=-1)


def iqm(scores: np.ndarray) -> np.ndarray:
    """Interquartile mean over trials: the mean of the middle 50% (rliable's IQM).

    Equals `scipy.stats.trim_mean(x, 0.25)` when the number of trials is a multiple of 4;
    otherwise the boundary trials count in part (the continuous trimmed mean).
    """
    flat = scores.reshape(*scores.shape[:-2], -1)
    return np.apply_along_axis(lambda v: weighted_iqm(v, np.ones((1, v.size)))[0], -1, flat)


def weighted_iqm(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """IQM of `values` (N,) under each row of `weights` (B, N) (e.g. bootstrap counts):
    the weighted mean of the values between the 25% and 75% points of the weight mass.
    NaN values carry no weight."""
    order = np.argsort(values, kind="stable")  # NaNs sort last
    present = ~np.isnan(values[order])
    order, x = order[present], values[order][present]
    if x.size == 0:
        return np.full(len(weights), np.nan)
    dtype = np.float32 if len(weights) > 1 else np.float64  # counts are exact in float32
    w = weights[:, order].astype(dtype)
    cum = np.cumsum(w, axis=1)
    lo, hi = 0.25 * cum[:, -1:], 0.75 * cum[:, -1:]
    # the part of each value's weight that falls inside [lo, hi] of the cumulative mass
    inside = np.clip(np.minimum(cum, hi) - np.maximum(cum - w, lo), 0.0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (inside @ x.astype(dtype)).astype(np.float64) / (hi - lo)[:, 0]


class _quiet_nan_warnings:
    """Resamples of sparse designs can draw all-NaN rows; their NaNs are expected."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)
