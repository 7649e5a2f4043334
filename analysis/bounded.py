"""Interval arithmetic on (estimate, standard error, degrees of freedom), bounded or not.

An estimate's interval is `value +- t_df SE` where its range is unbounded; where it is
bounded (rates, AUROC and AP in [0, 1], their differences in [-1, 1]) it is Korn and
Graubard's (the Clopper-Pearson interval at the effective sample size, with its floor at
the independent units), a new class's bounded mean also holding its classes' logit-normal
interval (`analysis.logitnormal`), and a bounded difference its parts' paired
logit-normal interval where both have one, else the MOVER of its parts. One
rule, `interval` (vectorised in `_intervals`), gives every interval and, through the level
at which it reaches a bound, every one-sided p-value (`p_value`). Why each rule and how
well it covers: docs/method.md, "Statistics".
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy as np
from scipy import stats as sps

from analysis import logitnormal
from analysis.ranges import (  # noqa: F401 (the ranges, named with their arithmetic)
    SIGNED,
    UNBOUNDED,
    UNIT,
    Bounds,
    difference_bounds,
)
from analysis.stats import NAN_ESTIMATE, Estimate, Spread

TOLERANCE = 1e-12
"""Relative to a range's width: an estimate this close to an end is at the end, and an SE
this small (squared, relative) is no variation. Rounding (weights that sum to 1 - 1e-16)
then never makes a point interval a hair inside the range."""


def check_ranges(bounds, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(M,) lower and upper ends from one range or a sequence of M ranges."""
    arr = np.asarray(bounds, dtype=np.float64).reshape(-1, 2)
    if len(arr) not in (1, m):
        raise ValueError(f"{len(arr)} ranges for {m} estimates")
    arr = np.broadcast_to(arr, (m, 2))
    if (arr[:, 0] >= arr[:, 1]).any():
        raise ValueError(f"a range must have low < high, got {arr.tolist()}")
    return arr[:, 0], arr[:, 1]


def effective_sizes(value, se, lo, hi, units, binary):
    """Effective sample sizes (M,) of bounded estimates from their SE (inf where they do
    not vary), and their caps (M,): the units where the cells are win/tie/loss or where
    every value sits at an end of the range, else inf."""
    finite = np.isfinite(lo) & np.isfinite(hi)
    width = np.where(finite, hi - lo, 1.0)
    p = np.clip((value - np.where(finite, lo, 0.0)) / width, 0.0, 1.0)
    var = (se / width) ** 2
    var = np.where(var <= TOLERANCE**2, 0.0, var)  # rounding, not variation
    with np.errstate(divide="ignore", invalid="ignore"):
        size = np.where(var > 0, p * (1 - p) / var, np.inf)
    at_end = (var == 0) & ((p <= 0) | (p >= 1))  # all at an end: the SE says nothing
    cap = np.where(at_end | binary, units, np.inf)
    return np.where(finite, size, np.inf), np.where(finite, cap, np.inf)


def _scaled(size, cap, df, confidence):
    """The size Clopper-Pearson uses: the SE's size with Korn and Graubard's df adjustment,
    n* (z / t_df)^2 at the interval's level, at most the cap (a binomial of that many
    units, its variance known, needs no adjustment)."""
    q = (1 + confidence) / 2
    with np.errstate(invalid="ignore"):
        ratio = (sps.norm.ppf(q) / sps.t.ppf(q, np.maximum(df, 1e-9))) ** 2
        return np.minimum(size * ratio, cap)


def interval(value, spread: Spread, confidence: float) -> tuple[float, float]:
    """The two-sided `confidence` interval of an estimate with `spread`."""
    if spread.pair is not None:  # a paired difference: its own and the pair's pivotal one
        own = interval(value, replace(spread, pair=None), confidence)
        lo, hi = spread.bounds
        scale = (hi - lo) / 2  # x and y on a range of this width, mapped onto [0, 1]
        gl, gh = logitnormal.pair_interval_of(spread.pair, confidence)
        return max(min(own[0], scale * gl), lo), min(max(own[1], scale * gh), hi)
    if spread.parts is not None:  # a difference: its own interval, at least its parts'
        own = interval(value, replace(spread, parts=None, correlation=None), confidence)
        (x, sx), (y, sy) = spread.parts
        whole = spread.correlation is not None
        (xl, xh), (yl, yh) = (_rooms(v, s, confidence, whole) for v, s in ((x, sx), (y, sy)))
        r = spread.correlation or 0.0
        lo, hi = spread.bounds
        below = math.sqrt(max(xl**2 + yh**2 - 2 * r * xl * yh, 0.0))
        above = math.sqrt(max(xh**2 + yl**2 - 2 * r * xh * yl, 0.0))
        low = max(min(own[0], value - below), lo)
        return low, min(max(own[1], value + above), hi)
    low, high = _intervals(
        np.array([value], float),
        np.array([spread.se], float),
        np.array([spread.df], float),
        np.array([spread.bounds[0]]),
        np.array([spread.bounds[1]]),
        np.array([spread.size], float),
        np.array([spread.cap], float),
        confidence,
    )
    low, high = float(low[0]), float(high[0])
    if spread.logit is not None and not math.isnan(low):
        lo, hi = spread.bounds
        gl, gh = logitnormal.interval_of(spread.logit, confidence)
        if not math.isnan(gl):
            low, high = min(low, lo + (hi - lo) * gl), max(high, lo + (hi - lo) * gh)
    return low, high


def _at_floor(value: float, spread: Spread) -> bool:
    """Whether a bounded estimate's interval is its floor: no variation, every value at an
    end of the range."""
    lo, hi = spread.bounds
    flat = spread.se <= TOLERANCE * (hi - lo) and math.isfinite(spread.cap)
    return bool(flat and value in (lo, hi))


def _rooms(value: float, spread: Spread, confidence: float, whole: bool) -> tuple[float, float]:
    """A bounded estimate's room below and above it in its interval: always (`whole`), or
    only where that interval is its floor (every value at an end of the range, no
    variation: the units' Clopper-Pearson interval); (0, 0) otherwise."""
    if not (whole or _at_floor(value, spread)):
        return 0.0, 0.0
    low, high = interval(value, spread, confidence)
    return value - low, high - value


def _intervals(value, se, df, lo, hi, size, cap, confidence):
    """Vectorised `interval`: (M,) arrays in, (low, high) out; NaN where se or df is."""
    alpha = (1 - confidence) / 2
    bad = np.isnan(se) | np.isnan(df) | (df <= 0) | np.isnan(value)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        t = sps.t.ppf(1 - alpha, np.where(bad, 1.0, df))
        low, high = value - t * se, value + t * se  # unbounded
        finite = np.isfinite(lo) & np.isfinite(hi)
        width = np.where(finite, hi - lo, 1.0)
        p = np.clip((value - np.where(finite, lo, 0.0)) / width, 0.0, 1.0)
        n = _scaled(size, cap, df, confidence)
        x = p * n
        point = ~np.isfinite(n)
        n_, x_ = np.where(point, 1.0, n), np.where(point, 0.5, x)
        # past a million the Beta quantiles lose precision (and time); Wilson's score
        # interval is Clopper-Pearson's limit there, and inside [0, 1] as well
        big = np.isfinite(n) & (n > 1e6)
        b_low, b_high = np.zeros_like(x_), np.ones_like(x_)
        lo_ = (x_ > 0) & ~big & ~point  # the Beta quantiles only where they are used
        hi_ = (x_ < n_) & ~big & ~point
        b_low[lo_] = sps.beta.ppf(alpha, x_[lo_], n_[lo_] - x_[lo_] + 1)
        b_high[hi_] = sps.beta.ppf(1 - alpha, x_[hi_] + 1, n_[hi_] - x_[hi_])
        z = sps.norm.ppf(1 - alpha)
        nb = np.where(big, n, 1.0)
        centre = (p + z**2 / (2 * nb)) / (1 + z**2 / nb)
        half = z * np.sqrt(p * (1 - p) / nb + z**2 / (4 * nb**2)) / (1 + z**2 / nb)
        b_low = np.where(big, np.maximum(centre - half, 0.0), b_low)
        b_high = np.where(big, np.minimum(centre + half, 1.0), b_high)
        b_low, b_high = np.where(point, p, b_low), np.where(point, p, b_high)
        low = np.where(finite, lo + width * b_low, low)
        high = np.where(finite, lo + width * b_high, high)
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def p_value(estimate: Estimate, bound: float, side: str, confidence: float = 0.95) -> float:
    """One-sided p-value of the estimate lying above `bound` (side "above": the null is
    value <= bound) or below it ("below"): (1 - c) / 2 for the level c whose interval
    (`interval`) has its lower (above) or upper (below) end at `bound`, so p < (1 -
    confidence) / 2 exactly when the `confidence` interval excludes `bound` on that side.
    NaN without a spread (no interval). `confidence` is unused (kept for callers)."""
    s = estimate.spread
    if side not in ("above", "below"):
        raise ValueError(f"side must be 'above' or 'below', got {side!r}")
    if s is None or np.isnan(s.se) or np.isnan(estimate.value) or not s.df > 0:
        return np.nan
    return _p_by_level(estimate.value, s, bound, side == "above")


def _p_by_level(value: float, spread: Spread, bound: float, above: bool) -> float:
    """One-sided p-value as the level at which the interval's end reaches `bound`:
    (1 - c) / 2 for the c whose lower (above) or upper (below) end equals it."""

    def end(c):
        low, high = interval(value, spread, c)
        return low if above else high

    excluded = (lambda v: v > bound) if above else (lambda v: v < bound)
    if not excluded(end(1e-9)):
        return 0.5 if end(1e-9) == bound else 1.0 - 0.5 * (1 - 1e-9)
    lo, hi = 1e-9, 1 - 1e-12  # the end excludes the bound at lo; find where it stops
    if excluded(end(hi)):
        return (1 - hi) / 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if excluded(end(mid)) else (lo, mid)
    return (1 - hi) / 2


def _snap(value, lo, hi):
    """`value` (M,) moved onto an end of [lo, hi] it is within TOLERANCE of."""
    finite = np.isfinite(lo) & np.isfinite(hi)
    width = np.where(finite, hi - lo, 1.0)
    value = np.where(finite & (np.abs(value - lo) <= TOLERANCE * width), lo, value)
    return np.where(finite & (np.abs(hi - value) <= TOLERANCE * width), hi, value)


def estimates(
    value, se, df, n, bounds, units, confidence, binary=False, logit=None
) -> list[Estimate]:
    """Estimates (M,) with their spreads and intervals; NaN where there is no trial.
    `logit`: M fits (`analysis.logitnormal.fit`, None where there is none), the classes'
    logit-normal fit of a new class's bounded mean, whose interval (on the range mapped
    onto [0, 1]) the interval also holds."""
    m = len(value)
    lo, hi = check_ranges(bounds, m)
    value = _snap(np.asarray(value, np.float64), lo, hi)
    units = np.broadcast_to(np.asarray(units, np.float64), (m,))
    size, cap = effective_sizes(value, se, lo, hi, units, binary)
    low, high = _intervals(value, se, df, lo, hi, size, cap, confidence)
    # the logit-normal side only where the values vary (else the fit is rounding)
    fits = [None] * m if logit is None else list(logit)
    for i, f in enumerate(fits):
        if f is None or not np.isfinite(size[i]) or np.isnan(low[i]):
            fits[i] = None
            continue
        gl, gh = logitnormal.interval_of(f, confidence)
        low[i] = min(low[i], lo[i] + (hi[i] - lo[i]) * gl)
        high[i] = max(high[i], lo[i] + (hi[i] - lo[i]) * gh)
    out = []
    for i in range(m):
        if n[i] == 0:
            out.append(NAN_ESTIMATE)
            continue
        spread = (
            None
            if np.isnan(low[i])
            else Spread(
                float(se[i]),
                float(df[i]),
                (float(lo[i]), float(hi[i])),
                float(size[i]),
                float(cap[i]),
                logit=fits[i],
            )
        )
        out.append(Estimate(float(value[i]), float(low[i]), float(high[i]), int(n[i]), spread))
    return out


def combined(
    ex: Estimate,
    ey: Estimate,
    ed: Estimate,
    confidence: float,
    correlation: float | None = None,
    pair: tuple | None = None,
) -> Estimate:
    """The estimate `ed` of x - y, its interval widened (`interval`) to what x's and y's
    say of it: where both have a logit-normal fit that censors no class and `pair` (their
    classes' bivariate fit, `analysis.logitnormal.pair_fit`) is given, to the pair's
    pivotal interval of the difference; else to the MOVER of x's and y's whole intervals
    with the estimates' `correlation`, or, where that is None, to the floors of x and y
    where they sit at an end of their range. `ed` as it is where x or y has no interval,
    or where there is nothing to widen to."""
    if ex.spread is None or ey.spread is None or ed.spread is None:
        return ed
    # the pair takes each class's logit for its rate: only where no class is censored
    fits = (ex.spread.logit, ey.spread.logit)
    if pair is not None and all(f is not None and not f.censored for f in fits):
        spread = replace(ed.spread, pair=pair)
    elif correlation is None and not any(_at_floor(e.value, e.spread) for e in (ex, ey)):
        return ed
    else:
        spread = replace(
            ed.spread,
            parts=((ex.value, ex.spread), (ey.value, ey.spread)),
            correlation=correlation,
        )
    value = float(_snap(np.array([ex.value - ey.value]), *np.array([spread.bounds]).T)[0])
    low, high = interval(value, spread, confidence)
    return Estimate(value, low, high, ed.n, spread)
