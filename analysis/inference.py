"""Intervals that say which population they speak of: these 10 classes, or a new class.

Scores come as float arrays of shape (T, S) -- one row per held-out triple (a sorted
3-tuple of class ids), one column per seed, NaN where a trial is missing -- or (M, T, S)
for M metrics at once. The triples are not independent units: in the full design each
of the 10 classes sits in 36 of the 120 triples, so resampling triples as if independent
ignores the class effects they share and under-covers (21.6% of the population mean in
the class-dominated simulation below). Every interval here is one of two named kinds,
each a standard error with its degrees of freedom:

    THESE_CLASSES -- the 10 classes (and so the triples) fixed; the uncertainty is
    training randomness only: seeds vary within each triple. For a statistic linear in
    the trials (means, paired differences, P(X > Y) on matched cells) the variance is
    sum_t s_t^2 sum_s w_ts^2, s_t^2 triple t's seed variance (denominator S_t - 1): the
    variance of the stratified bootstrap of rliable (Agarwal et al., 2021), seeds redrawn
    within every triple, widened by S_t / (S_t - 1), computed exactly instead of by
    resampling. A triple with one present seed has no seed variance of its own; it takes
    the pooled within-triple variance of the others (never zero). Degrees of freedom:
    Welch-Satterthwaite over the triples' contributions (the pooled part with its
    sum_t (S_t - 1)), and a t quantile: the small-sample correction. With one seed in
    every triple there is no interval (NaN bounds). Other statistics (`statistic`, e.g.
    the IQM) use the bootstrap itself, seeds redrawn within triples, its standard
    deviation scaled by sqrt(n / (n - T)), t with n - T df; they need two seeds in every
    triple, else no interval.

    NEW_CLASS -- the classes are a sample from a population of classes. The delete-a-group
    jackknife with classes as groups (Efron & Stein, 1981; Efron & Tibshirani, 1993, ch.
    11): for each class c the data hold, drop every triple containing c and recompute the
    statistic; SE = sqrt((n - 1) / n * sum_c (theta_{-c} - mean theta_{-c})^2), t with
    n - 1 df, n the number of classes. A bootstrap over classes must weight a triple by
    the product of its classes' weights (Owen, 2007, "The pigeonhole bootstrap"); that
    product-weight bootstrap covered only 87.5% with class sd 0.10, so verdicts use the
    jackknife. For triple or seed noise alone its SE is about twice the true one (each
    trial falls in 3 of the 10 class groups), so where class effects are small the
    interval is conservative.

The interval from (estimate, SE, df) respects the quantity's range (`bounds`). Unbounded:
estimate +- t_df SE. Bounded (rates, AUROC and AP in [0, 1], their differences in
[-1, 1]), mapped affinely onto [0, 1]: the Korn-Graubard interval (Korn & Graubard, 1998,
"Confidence intervals for proportions with small expected number of positive counts
estimated from survey data"): a Clopper-Pearson interval at the effective sample size
n* = p (1 - p) / SE^2, scaled by (z / t_df)^2 for the SE's degrees of freedom. Its
bounds are Beta quantiles, inside the range by construction, and close to the t interval
away from the ends. Where nothing varies and the estimate sits on a bound (every trial
at 0, say), n* is the number of independent units: the classes (NEW_CLASS; at most the
trials) or the trials (THESE_CLASSES); an estimate within TOLERANCE of an end is at it,
so rounding never makes that floor a point. P(X > Y), a mean of win/tie/loss cells,
always has n* capped there: for a new class at classes / 3 (each cell holds 3 classes,
so at most that many cells are independent), for these classes at the cells. Its
interval never collapses when all cells agree (8 of 8 wins over 8 trials of 10 classes:
[0.33, 1]), and on 10 classes it cannot name a winner at 95%.

A bounded difference x - y (`Intervals.differences`, `difference`, `class_gaps`) keeps
the floors of its parts: its own interval, widened on each side to sqrt(a^2 + b^2) with
a, b the rooms below x and above y (or above x and below y) of a part whose every value
sits at an end of its range (MOVER, Newcombe 1998; Zou and Donner 2008, without a
correlation). Two all-ones rates on 10 x 1: 0 [-0.31, 0.31]. `tost` never says
"equivalent" from a point interval.

Near 0 and 1 with classes that differ a lot (per-class logit sd 1.2-2.0) the interval
for a new class is too narrow below: `tests/simulate_bounds.py` (docs/method.md has its
table) measures 72-94% at mean rates 0.97-0.995; not solved.

Coverage of the nominal 95% intervals by simulation, 4,000 simulated sweeps per row
(`python tests/simulate_coverage.py`; `tests/test_inference.py` runs the same scenarios
with fewer sweeps). Crossed design, 10 classes: value = mu + the triple's 3 class effects
+ triple noise + seed noise (on the logit scale for the rates near 1; a win when that
sum is > 0 for P(X > Y)). Designs are triples x seeds: the pilot's 8 triples, the first
10 or 40 of the class-balanced order, or all 120. Targets: for a new class the
population mean; for these classes the mean the design's triples would give with new
seeds. Every interval stayed inside its range.

    design               quantity (class, triple, seed sd)         kind     covers  width
    120 x 5              mean in [0, 1] (0.10, 0.01, 0.03)         new      97.8%   0.437
    120 x 5              paired difference, same                   new      95.5%   0.272
    120 x 5              mean in [0, 1] (0.005, 0.01, 0.03)        new      96.8%   0.025
    120 x 5              paired difference, same                   new      98.5%   0.020
    120 x 5              mean (0.10, 0.01, 0.03)                   these    94.5%   0.005
    120 x 5              paired difference, same                   these    94.6%   0.005
    120 x 5              mean (0.005, 0.01, 0.03)                  these    95.0%   0.005
    120 x 5              paired difference, same                   these    95.0%   0.005
    8 x 2                mean, seed sd uneven across triples       these    97.4%   0.072
    10 x 2               same                                      these    97.4%   0.057
    120 x 5              same                                      these    94.7%   0.006
    10 x 2, 3 one-seed   same, 3 triples with one seed (pooled)    these    95.0%   0.054
    8 x 1                rate near 1 (logit: 0.3, 0.2, 0.3), 0.982 new      95.9%   0.048
    10 x 1               same                                      new      97.1%   0.036
    120 x 5              same                                      new      95.0%   0.024
    8 x 1                rate near 1 (logit: 0.5, 0.2, 0.3), 0.978 new      92.9%   0.094
    10 x 1               same                                      new      94.7%   0.071
    120 x 5              same                                      new      93.0%   0.052
    8 cells (8 x 1)      P(X>Y) = 0.9 (0.5, 0.3, 1)                new     100.0%   0.822
    10 cells (10 x 1)    same                                      new     100.0%   0.828
    40 cells (40 x 1)    same                                      new     100.0%   0.747
    8 cells (8 x 1)      P(X>Y) = 0.99, same                       new     100.0%   0.694
    10 cells (10 x 1)    same                                      new     100.0%   0.690
    40 cells (40 x 1)    same                                      new     100.0%   0.678
    8 cells (8 x 1)      P(X>Y) = 0.5 (1, 0.2, 0.2)                new     100.0%   0.952
    10 cells (10 x 1)    same                                      new     100.0%   0.959
    8 / 40 / 600 trials  one-run band: a new trial inside          band     78.0 / 95.0 / 95.0%
                         (printed, exactly (n + 1 - 2j) / (n + 1): 7/9 = 77.8%,
                         39/41 = 95.1%, 571/601 = 95.0%)

Before these rules (t intervals, percentile bootstrap without a t correction): the rate
near 1 (class sd 0.5) covered 86-87% with intervals past 1; these classes 90.3% at
8 x 2; the empirical 2.5-97.5% band held a new trial 75% of the time with 8 trials; the
old triple bootstrap covered 21.6% of the population mean (class-dominated). P(X > Y) is
conservative by design: for a new class it rests on at most 10 / 3 independent cells
(with the classes as the cap, 8 x 1 at P = 0.5 and class sd 1 covered 88.9%).

Per-class held out minus seen (`Intervals.class_gap`, class 0, partner effects sd 0.05 /
0.005, triple 0.01, seed 0.03; 4,000 sweeps, in [-1, 1]): NEW_CLASS (partner jackknife)
95.5% / 99.3%, THESE_CLASSES 95.5% / 95.5%.

    intervals = Intervals(triples, n_seeds=5)
    intervals.means(stack, kind=NEW_CLASS, bounds=UNIT)          # [Estimate] per metric
    intervals.difference(x, y, kind=THESE_CLASSES, bounds=SIGNED, confidence=0.90)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats as sps

from analysis import logitnormal
from analysis.stats import Band, Estimate, Spread

THESE_CLASSES = "these classes"
NEW_CLASS = "a new class"
KINDS = (THESE_CLASSES, NEW_CLASS)
CAPTIONS = {
    THESE_CLASSES: "CI for these 10 classes: where the mean of these same classes would fall "
    "with new training seeds (seed variance within each triple)",
    NEW_CLASS: "CI for a new class: where the mean over classes the detector never saw would "
    "fall, classes drawn like these 10 (leave-one-class-out jackknife over the classes)",
}
BOUNDED_CAPTION = (
    "rates, AUROC and AP keep their CI inside [0, 1], differences inside [-1, 1]; a "
    "difference of two rates is never narrower than a rate at 0 or 1 allows (estimators: "
    "docs/method.md)"
)
CLASS_GAP_CAPTION = (
    "held - seen, per class c: mean over trials whose triple holds c minus mean over the "
    "others; CI: where that gap would fall with other partner classes and new seeds "
    "(jackknife over c's partner classes)"
)
NO_SEED_INTERVAL = "n/a: one seed: no interval for these classes (their only variance is seeds')"
_CHUNK = 1000  # resamples drawn per block; fixed so that draws do not depend on memory

Bounds = tuple[float, float]
UNBOUNDED: Bounds = (-math.inf, math.inf)
UNIT: Bounds = (0.0, 1.0)
SIGNED: Bounds = (-1.0, 1.0)


def difference_bounds(x: Bounds, y: Bounds) -> Bounds:
    """The range of x - y for x in `x` and y in `y`."""
    return (x[0] - y[1], x[1] - y[0])


@dataclass(frozen=True)
class ClassGap:
    """One class's rate when held out, when seen, and held out minus seen."""

    held: Estimate
    seen: Estimate
    difference: Estimate


# --- the design: which classes each triple holds ---------------------------------------
def as_triples(triples: Sequence) -> np.ndarray:
    """(T, 3) int class ids from tuples of ids or strings such as "0-6-9"."""
    rows = [t.split("-") if isinstance(t, str) else t for t in triples]
    try:
        arr = np.array([[int(c) for c in r] for r in rows], dtype=np.int64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"triples must be 3 class ids each: {e}") from None
    if arr.ndim != 2 or arr.shape[1] != 3 or len(arr) == 0:
        raise ValueError(f"triples must be a non-empty list of 3 class ids, got shape {arr.shape}")
    if (np.diff(np.sort(arr, axis=1), axis=1) == 0).any():
        raise ValueError("a triple repeats a class")
    return arr


def incidence(triples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The classes (C,) in `triples` (T, 3) and which triples hold each, (C, T) bool."""
    classes = np.unique(triples)
    return classes, (triples[None, :, :] == classes[:, None, None]).any(axis=2)


def paired_improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per matched cell, [x > y] + 0.5 [x == y]; NaN where either is missing. Same shape."""
    if x.shape != y.shape:
        raise ValueError(f"x {x.shape} and y {y.shape} differ in shape")
    cell = (x > y) + 0.5 * (x == y)
    return np.where(np.isnan(x) | np.isnan(y), np.nan, cell)


# --- from (estimate, SE, df) to an interval inside the range ------------------------------
def _bounds(bounds, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(M,) lower and upper ends from one range or a sequence of M ranges."""
    arr = np.asarray(bounds, dtype=np.float64).reshape(-1, 2)
    if len(arr) not in (1, m):
        raise ValueError(f"{len(arr)} ranges for {m} estimates")
    arr = np.broadcast_to(arr, (m, 2))
    if (arr[:, 0] >= arr[:, 1]).any():
        raise ValueError(f"a range must have low < high, got {arr.tolist()}")
    return arr[:, 0], arr[:, 1]


def _sizes(value, se, lo, hi, units, binary):
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
        gl, gh = logitnormal.interval_of(*spread.logit, confidence)
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


TOLERANCE = 1e-12
"""Relative to a range's width: an estimate this close to an end is at the end, and an SE
this small (squared, relative) is no variation. Rounding (weights that sum to 1 - 1e-16)
then never makes a point interval a hair inside the range."""


def _snap(value, lo, hi):
    """`value` (M,) moved onto an end of [lo, hi] it is within TOLERANCE of."""
    finite = np.isfinite(lo) & np.isfinite(hi)
    width = np.where(finite, hi - lo, 1.0)
    value = np.where(finite & (np.abs(value - lo) <= TOLERANCE * width), lo, value)
    return np.where(finite & (np.abs(hi - value) <= TOLERANCE * width), hi, value)


def _estimates(
    value, se, df, n, bounds, units, confidence, binary=False, logit=None
) -> list[Estimate]:
    """Estimates (M,) with their spreads and intervals; NaN where there is no trial.
    `logit`: (m, s, n) (M,) each, the classes' logit-normal fit of a new class's bounded
    mean, whose interval (on the range mapped onto [0, 1]) the interval also holds."""
    m = len(value)
    lo, hi = _bounds(bounds, m)
    value = _snap(np.asarray(value, np.float64), lo, hi)
    units = np.broadcast_to(np.asarray(units, np.float64), (m,))
    size, cap = _sizes(value, se, lo, hi, units, binary)
    low, high = _intervals(value, se, df, lo, hi, size, cap, confidence)
    if logit is not None:
        gl, gh = logitnormal.interval(*logit, confidence)
        fit = ~np.isnan(gl) & ~np.isnan(low)
        low = np.where(fit, np.minimum(low, lo + (hi - lo) * gl), low)
        high = np.where(fit, np.maximum(high, lo + (hi - lo) * gh), high)
    out = []
    for i in range(m):
        if n[i] == 0:
            out.append(Estimate(np.nan, np.nan, np.nan, 0))
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
                logit=None
                if logit is None or np.isnan(logit[0][i])
                else (float(logit[0][i]), float(logit[1][i]), float(logit[2][i])),
            )
        )
        out.append(Estimate(float(value[i]), float(low[i]), float(high[i]), int(n[i]), spread))
    return out


def _combined(
    ex: Estimate, ey: Estimate, ed: Estimate, confidence: float, correlation: float | None = None
) -> Estimate:
    """The estimate `ed` of x - y, its interval widened (`interval`) to the MOVER of x's and
    y's whole intervals with the estimates' `correlation`, or, where that is None, to the
    floors of x and y where they sit at an end of their range; `ed` as it is where x or y
    has no interval, or where there is nothing to widen to."""
    if ex.spread is None or ey.spread is None or ed.spread is None:
        return ed
    if correlation is None and not any(_at_floor(e.value, e.spread) for e in (ex, ey)):
        return ed
    spread = replace(
        ed.spread, parts=((ex.value, ex.spread), (ey.value, ey.spread)), correlation=correlation
    )
    value = float(_snap(np.array([ex.value - ey.value]), *np.array([spread.bounds]).T)[0])
    low, high = interval(value, spread, confidence)
    return Estimate(value, low, high, ed.n, spread)


# --- the class jackknife (NEW_CLASS) -----------------------------------------------------
def _jackknife(loo, present):
    """SE and df (M,) from leave-one-group-out statistics `loo` (G, M); `present` (G, M)
    marks the groups the data hold. NaN when fewer than 2 groups or when a leave-out is
    undefined (nothing left)."""
    n = present.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.where(present, loo, 0.0).sum(axis=0) / n
        ss = np.where(present, (loo - centre) ** 2, 0.0).sum(axis=0)
        se = np.sqrt((n - 1) / n * ss)
    bad = (n < 2) | (present & np.isnan(loo)).any(axis=0)
    return np.where(bad, np.nan, se), (n - 1).astype(np.float64), n


def _sums(stack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per metric and triple, the sum and count of present trials: two (M, T)."""
    present = ~np.isnan(stack)
    return np.where(present, stack, 0.0).sum(axis=2), present.sum(axis=2).astype(np.float64)


def _group_means(sums, counts, groups):
    """Means (M,), leave-one-group-out means (G, M) and which groups hold data (G, M)."""
    keep = (~groups).astype(np.float64).T  # (T, G)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = sums.sum(axis=1) / counts.sum(axis=1)
        loo = ((sums @ keep) / (counts @ keep)).T
    return value, loo, (counts @ groups.T.astype(np.float64) > 0).T


def jackknife_means(
    stack: np.ndarray,
    triples: Sequence,
    confidence: float = 0.95,
    bounds: Bounds | Sequence[Bounds] = UNBOUNDED,
    binary: bool = False,
    parametric: bool = True,
) -> list[Estimate]:
    """NEW_CLASS mean over trials of each metric, by the leave-one-class-out jackknife; a
    bounded mean's interval also holds the logit-normal one of its classes' pseudo-values
    (`analysis.logitnormal`), unless `binary` or not `parametric`.

    Args:
        stack: (M, T, S) scores, NaN where missing.
        triples: the T triples, rows of `stack`.
        confidence: two-sided level.
        bounds: the range of the values, one for all or one per metric.
        binary: the cells are win/tie/loss (P(X > Y)): the effective sample size is
            capped at the independent units.
        parametric: whether a bounded mean's interval holds the logit-normal one.

    Returns:
        M Estimates; n counts trials.
    """
    tri = as_triples(triples)
    if stack.ndim != 3 or stack.shape[1] != len(tri):
        raise ValueError(f"stack of shape {stack.shape} for {len(tri)} triples")
    sums, counts = _sums(stack)
    value, loo, present = _group_means(sums, counts, incidence(tri)[1])
    se, df, groups = _jackknife(loo, present)
    trials = counts.sum(axis=1)
    # win/tie/loss cells each rest on 3 classes: at most classes / 3 of them are independent
    # (disjoint triples), so an all-agreeing design of 10 classes counts 10 / 3 units
    units = np.minimum(groups / 3 if binary else groups, trials)
    lo, hi = _bounds(bounds, len(value))
    logit = None
    if parametric and not binary and np.isfinite(lo).all() and np.isfinite(hi).all():
        with np.errstate(invalid="ignore"):
            pseudo = groups * value - (groups - 1) * loo  # (G, M): each class's own value
        logit = logitnormal.fit((pseudo - lo) / (hi - lo), present)
    return _estimates(value, se, df, trials, bounds, units, confidence, binary, logit)


def jackknife_correlation(x: np.ndarray, y: np.ndarray, triples: Sequence) -> np.ndarray:
    """(M,) correlation of the NEW_CLASS means of x and y (M, T, S), from the covariance of
    their leave-one-class-out means; 0 where it is undefined."""
    groups = incidence(as_triples(triples))[1]
    (_, lx, px), (_, ly, py) = (_group_means(*_sums(v), groups) for v in (x, y))
    both = px & py
    with np.errstate(invalid="ignore", divide="ignore"):
        n = both.sum(axis=0)
        dx = np.where(both, lx - np.where(both, lx, 0).sum(axis=0) / n, 0.0)
        dy = np.where(both, ly - np.where(both, ly, 0).sum(axis=0) / n, 0.0)
        r = (dx * dy).sum(axis=0) / np.sqrt((dx**2).sum(axis=0) * (dy**2).sum(axis=0))
    return np.clip(np.nan_to_num(r, nan=0.0), -1.0, 1.0)


def jackknife_statistic(
    fn: Callable,
    scores: np.ndarray,
    triples: Sequence,
    confidence: float = 0.95,
    bounds: Bounds = UNBOUNDED,
) -> Estimate:
    """NEW_CLASS interval for any statistic `fn`: (T', S) -> scalar of a (T, S) grid."""
    tri = as_triples(triples)
    if scores.shape[0] != len(tri):
        raise ValueError(f"scores of shape {scores.shape} for {len(tri)} triples")
    groups = incidence(tri)[1]
    present = (groups & ~np.isnan(scores).all(axis=1)).any(axis=1)  # (C,) classes with data
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an empty leave-out is NaN: expected
        value = float(fn(scores))
        loo = np.array(
            [fn(scores[~g]) if p else np.nan for g, p in zip(groups, present, strict=True)]
        )
    se, df, n = _jackknife(loo[:, None], present[:, None])
    trials = int((~np.isnan(scores)).sum())
    return _estimates(np.array([value]), se, df, [trials], bounds, min(n[0], trials), confidence)[0]


# --- seed variance within triples (THESE_CLASSES) ----------------------------------------
def seed_variance(values: np.ndarray, weights) -> tuple[np.ndarray, ...]:
    """THESE_CLASSES value, SE and df of linear statistics sum_ts weights * values.

    Args:
        values: (M, T, S), NaN where missing.
        weights: (M, T, S) or broadcastable; ignored where `values` is NaN.

    Returns:
        value, se, df, trials: four (M,). se is NaN when no triple has two seeds.
    """
    mask = ~np.isnan(values)
    w = np.where(mask, weights, 0.0)
    x = np.where(mask, values, 0.0)
    value = (w * x).sum(axis=(1, 2))
    seeds = mask.sum(axis=2)  # (M, T)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = x.sum(axis=2) / np.maximum(seeds, 1)
        ss = np.where(mask, (values - centre[:, :, None]) ** 2, 0.0).sum(axis=2)
        multi, single = seeds >= 2, seeds == 1
        pooled_df = np.where(multi, seeds - 1, 0).sum(axis=1).astype(np.float64)
        pooled = np.where(multi, ss, 0.0).sum(axis=1) / pooled_df
        w2 = (w**2).sum(axis=2)  # (M, T)
        own = np.where(multi, w2 * ss / np.maximum(seeds - 1, 1), 0.0)  # (M, T)
        borrowed = np.where(single, w2, 0.0).sum(axis=1) * pooled  # one-seed triples
        var = own.sum(axis=1) + borrowed
        spread = (own**2 / np.maximum(seeds - 1, 1)).sum(axis=1) + borrowed**2 / pooled_df
        df = np.where(spread > 0, var**2 / spread, pooled_df)
    se = np.where(pooled_df > 0, np.sqrt(var), np.nan)
    return value, se, df, mask.sum(axis=(1, 2))


# --- the design and its intervals --------------------------------------------------------
class Intervals:
    """Intervals of both kinds on one design: the triples and seeds of a sweep.

    Args:
        triples: the T held-out triples (tuples of class ids or strings like "0-6-9"),
            in the row order of every score array.
        n_seeds: S, the columns of every score array.
        resamples: B, bootstrap resamples for THESE_CLASSES intervals of `statistic`.
        seed: seeds `numpy.random.default_rng`; the intervals are deterministic given it.
        confidence: default two-sided level; every method takes `confidence` to override.
    """

    def __init__(
        self,
        triples: Sequence,
        n_seeds: int,
        resamples: int = 10_000,
        seed: int = 0,
        confidence: float = 0.95,
    ):
        self.triples = as_triples(triples)
        self.classes, self.incidence = incidence(self.triples)
        self.T, self.S, self.B = len(self.triples), int(n_seeds), int(resamples)
        self.seed, self.confidence = seed, confidence

    def _draws(self, mask: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Blocks of resamples: (seed index (b, T, S), valid (b, T, S)). Draw j < S_t of
        triple t is one of its S_t present seeds."""
        n_present = mask.sum(axis=1)  # (T,)
        first = np.argsort(~mask, axis=1, kind="stable")  # present seeds first, in order
        top = np.maximum(n_present - 1, 0)[None, :, None]
        valid = np.arange(self.S)[None, None, :] < n_present[None, :, None]
        rng = np.random.default_rng(self.seed)
        for b0 in range(0, self.B, _CHUNK):
            b = min(_CHUNK, self.B - b0)
            u = rng.random((b, self.T, self.S))
            rank = np.minimum((u * n_present[None, :, None]).astype(np.int64), top)
            seed_index = first[np.arange(self.T)[None, :, None], rank]
            yield seed_index, np.broadcast_to(valid, (b, self.T, self.S))

    def _check(self, stack: np.ndarray) -> np.ndarray:
        stack = np.asarray(stack, dtype=np.float64)
        if stack.ndim != 3 or stack.shape[1:] != (self.T, self.S):
            raise ValueError(f"scores of shape {stack.shape[1:]} on a ({self.T}, {self.S}) design")
        return stack

    def _linear(self, values, weights, level, bounds, binary=False) -> list[Estimate]:
        value, se, df, n = seed_variance(values, weights)
        return _estimates(value, se, df, n, bounds, n, level, binary)

    # --- statistics ---
    def means(
        self,
        stack: np.ndarray,
        *,
        kind: str,
        confidence: float | None = None,
        bounds: Bounds | Sequence[Bounds] = UNBOUNDED,
        binary: bool = False,
    ) -> list[Estimate]:
        """Mean over trials of each of M metrics, with an interval of the given kind.

        Args:
            stack: (M, T, S) scores, NaN where missing.
            kind: THESE_CLASSES or NEW_CLASS.
            confidence: two-sided level; default the design's.
            bounds: the values' range, one for all metrics or one per metric; the
                interval stays inside it.
            binary: cells are win/tie/loss (see `probability_of_improvement`).

        Returns:
            M Estimates; n counts trials.
        """
        stack, level = self._check(stack), _level(confidence, self.confidence)
        if _kind(kind) == NEW_CLASS:
            return jackknife_means(stack, self.triples, level, bounds, binary)
        n = (~np.isnan(stack)).sum(axis=(1, 2))
        return self._linear(stack, 1.0 / np.maximum(n, 1)[:, None, None], level, bounds, binary)

    def mean(
        self, scores: np.ndarray, *, kind: str, confidence=None, bounds: Bounds = UNBOUNDED
    ) -> Estimate:
        """Mean over trials of (T, S) `scores` with its interval."""
        return self.means(
            np.asarray(scores)[None], kind=kind, confidence=confidence, bounds=bounds
        )[0]

    def difference(
        self,
        x,
        y,
        *,
        kind: str,
        confidence=None,
        bounds: Bounds = UNBOUNDED,
        parts: Bounds | None = None,
    ) -> Estimate:
        """Paired mean difference x - y over the trials present in both. `x, y`: (T, S);
        `bounds`: the range of x - y (`difference_bounds`). A bounded difference is one of
        two bounded quantities, each in `parts` (default: [0, 1] when `bounds` is [-1, 1],
        every bounded quantity here being in [0, 1]): its interval is `differences`'s,
        which keeps the uncertainty of an x or y at an end of its range."""
        if np.shape(x) != np.shape(y):
            raise ValueError(f"x {np.shape(x)} and y {np.shape(y)} differ in shape")
        if parts is None and tuple(bounds) == SIGNED:
            parts = UNIT
        if parts is not None:
            if tuple(difference_bounds(parts, parts)) != tuple(bounds):
                raise ValueError(
                    f"parts in {parts} give x - y in {difference_bounds(parts, parts)}"
                )
            return self.differences(
                np.asarray(x)[None], np.asarray(y)[None], kind=kind, confidence=confidence,
                bounds=parts,
            )[0]  # fmt: skip
        return self.mean(
            np.asarray(x) - np.asarray(y), kind=kind, confidence=confidence, bounds=bounds
        )

    def differences(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        kind: str,
        confidence: float | None = None,
        bounds: Bounds | Sequence[Bounds] = UNIT,
    ) -> list[Estimate]:
        """Paired mean differences x - y of bounded quantities, per metric, over the trials
        present in both, with intervals that never claim more than x's and y's do.

        The interval combines the intervals of the two means (each inside its range, at
        its own floor where all its values sit at an end) with the correlation of the two
        estimates under the same kind of variance (MOVER, `mover`). Away from the ends it
        is the difference's own interval; where x and y are both at 1 in every trial it is
        +- the distance from 1 to their lower bounds, not [0, 0].

        Args:
            x, y: (M, T, S) values, NaN where missing.
            kind: THESE_CLASSES or NEW_CLASS.
            confidence: two-sided level; default the design's.
            bounds: the range of x and of y (the same for both), one for all metrics or
                one per metric; x - y lives in `difference_bounds` of it.

        Returns:
            M Estimates of x - y; n counts the paired trials.
        """
        x, y = self._check(x), self._check(y)
        if x.shape != y.shape:
            raise ValueError(f"x {x.shape} and y {y.shape} differ in shape")
        both = ~(np.isnan(x) | np.isnan(y))
        x, y = np.where(both, x, np.nan), np.where(both, y, np.nan)
        m, level = len(x), _level(confidence, self.confidence)
        lo, hi = _bounds(bounds, m)
        ranges = [(float(a), float(b)) for a, b in zip(lo, hi, strict=True)]
        signed = [difference_bounds(r, r) for r in ranges]
        if _kind(kind) == NEW_CLASS:  # the parts' logit-normal side, the MOVER of them
            est = jackknife_means(np.concatenate([x, y]), self.triples, level, ranges + ranges)
            est += jackknife_means(x - y, self.triples, level, signed, parametric=False)
            r = jackknife_correlation(x, y, self.triples)
        else:
            est = self.means(
                np.concatenate([x, y, x - y]), kind=kind, confidence=level,
                bounds=ranges + ranges + signed,
            )  # fmt: skip
            r = [None] * m
        parts = zip(est[:m], est[m : 2 * m], est[2 * m :], r, strict=True)
        return [
            _combined(ex, ey, ed, level, None if c is None else float(c)) for ex, ey, ed, c in parts
        ]

    def probability_of_improvement(self, x, y, *, kind: str, confidence=None) -> Estimate:
        """P(X > Y) paired on (seed, triple): the mean over cells present in both of
        [x > y] + 0.5 [x == y] (unlike rliable's all-pairs version, which compares every
        seed pair within a triple). In [0, 1]; its effective sample size is capped at the
        independent units (the classes for NEW_CLASS, at most the cells; the cells for
        THESE_CLASSES), so it never collapses when every cell agrees. `x, y`: (T, S)."""
        cells = paired_improvement(np.asarray(x, float), np.asarray(y, float))
        return self.means(cells[None], kind=kind, confidence=confidence, bounds=UNIT, binary=True)[
            0
        ]

    def statistic(
        self, fn: Callable, scores, *, kind: str, confidence=None, bounds: Bounds = UNBOUNDED
    ) -> Estimate:
        """Any statistic of a (T, S) grid, e.g. `analysis.stats.iqm`.

        For THESE_CLASSES `fn` must map (b, T, S) -> (b,) and treat seeds as exchangeable:
        a resampled triple holds its S_t draws in its first S_t columns, NaN after. The
        SE is the resamples' standard deviation scaled by sqrt(n / (n - T)) (= sqrt(S /
        (S - 1)) when all have S), t with n - T df; every triple with a trial needs two or
        more (else no interval). The resamples are materialised in blocks of (1000, T, S).
        For NEW_CLASS `fn` maps (T', S) -> scalar on the triples left after dropping a
        class.
        """
        scores = self._check(np.asarray(scores)[None])[0]
        level = _level(confidence, self.confidence)
        if _kind(kind) == NEW_CLASS:
            return jackknife_statistic(fn, scores, self.triples, level, bounds)
        mask = ~np.isnan(scores)
        n_present = mask.sum(axis=1)
        trials = int(mask.sum())
        if not trials:
            return Estimate(np.nan, np.nan, np.nan, 0)
        with np.errstate(all="ignore"):
            value = float(fn(scores))
        triples = int((n_present > 0).sum())
        if (n_present == 1).any():  # a one-seed triple: its seed variance is unknown
            return Estimate(value, np.nan, np.nan, trials)
        with np.errstate(all="ignore"):
            boot = np.concatenate(
                [
                    fn(np.where(valid, scores[np.arange(self.T)[None, :, None], index], np.nan))
                    for index, valid in self._draws(mask)
                ]
            )
        se = np.nanstd(boot, ddof=1) * np.sqrt(trials / (trials - triples))
        return _estimates(
            np.array([value]),
            np.array([se]),
            np.array([float(trials - triples)]),
            [trials],
            bounds,
            trials,
            level,
        )[0]

    def class_gaps(
        self, held, seen, c: int, *, kind: str, confidence=None, bounds: Bounds = UNBOUNDED
    ) -> list[ClassGap]:
        """Class c's rate when held out, when seen, and held out minus seen, per metric.

        NEW_CLASS: the partner jackknife -- for each other class p, drop every triple
        holding p from both sides and recompute; t interval with n_partners - 1 df. It
        covers the gap c would show with partner classes drawn anew from their population
        (and new seeds); see CLASS_GAP_CAPTION. THESE_CLASSES: seed variance within
        triples; covers the gap with these partners, given new seeds. Either way the two
        sides also differ in how many other classes are held out (2 vs 3); the gap
        includes that.

        Args:
            held: (M, T, S) rates; only the triples holding c count (others ignored).
            seen: (M, T, S) rates; only the triples not holding c count.
            c: the class id.
            kind: THESE_CLASSES or NEW_CLASS.
            confidence: two-sided level; default the design's.
            bounds: the range of a rate; the difference's follows.
        """
        held, seen, level = (
            self._check(held),
            self._check(seen),
            _level(confidence, self.confidence),
        )
        if c not in self.classes:
            raise ValueError(f"class {c} is in no triple; classes: {self.classes.tolist()}")
        has_c = (self.triples == c).any(axis=1)[None, :, None]
        held, seen = np.where(has_c, held, np.nan), np.where(has_c, np.nan, seen)
        n_held, n_seen = (~np.isnan(held)).sum(axis=(1, 2)), (~np.isnan(seen)).sum(axis=(1, 2))
        ranges = [bounds, bounds, difference_bounds(bounds, bounds)]
        finite = bool(np.isfinite(bounds).all())  # a difference of bounded rates: MOVER
        if _kind(kind) == NEW_CLASS:
            partners = self.incidence[self.classes != c]
            (sh, ch), (ss, cs) = _sums(held), _sums(seen)
            vh, lh, ph = _group_means(sh, ch, partners)
            vs, ls, ps = _group_means(ss, cs, partners)
            rows = [
                (vh, lh, ph, n_held),
                (vs, ls, ps, n_seen),
                (vh - vs, lh - ls, ph | ps, n_held + n_seen),
            ]
            parts = []
            for (v, lo, p, n), r in zip(rows, ranges, strict=True):
                se, df, groups = _jackknife(lo, p)
                parts.append(_estimates(v, se, df, n, r, np.minimum(groups, n), level))
        else:
            both = np.where(has_c, held, seen)
            w_held = 1.0 / np.maximum(n_held, 1)[:, None, None]
            w_seen = 1.0 / np.maximum(n_seen, 1)[:, None, None]
            parts = [
                self._linear(held, w_held, level, ranges[0]),
                self._linear(seen, w_seen, level, ranges[1]),
                self._linear(both, np.where(has_c, w_held, -w_seen), level, ranges[2]),
            ]
        gaps = [
            ClassGap(h, s, _combined(h, s, d, level) if finite else d)
            for h, s, d in zip(*parts, strict=True)
        ]
        return [
            g
            if g.held.n and g.seen.n
            else ClassGap(g.held, g.seen, Estimate(np.nan, np.nan, np.nan, 0))
            for g in gaps
        ]

    def class_gap(
        self, held, seen, c: int, *, kind: str, confidence=None, bounds: Bounds = UNBOUNDED
    ) -> ClassGap:
        """`class_gaps` for one metric: `held, seen` (T, S)."""
        return self.class_gaps(
            np.asarray(held)[None],
            np.asarray(seen)[None],
            c,
            kind=kind,
            confidence=confidence,
            bounds=bounds,
        )[0]


def _level(confidence: float | None, default: float) -> float:
    return default if confidence is None else confidence


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown interval kind {kind!r}; valid: {', '.join(KINDS)}")
    return kind


# --- single trials ----------------------------------------------------------------------
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


# --- verdicts -----------------------------------------------------------------------------
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
