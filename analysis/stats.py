"""Statistics over trials, as pure functions of score arrays.

Scores come as float arrays of shape (T, S): one row per held-out triple, one column per
seed, NaN where a trial is missing. The sweep's design is nested (seeds within triples),
and so is the bootstrap behind every interval:

    Hierarchical (two-stage) percentile bootstrap. Each of B resamples draws T triples
    with replacement and then, within each drawn triple, S seeds with replacement; the
    statistic is recomputed on the resampled trials. The interval is the
    ((1 - c) / 2, (1 + c) / 2) percentiles of the B resampled statistics.

For means (and paired mean differences) a resample is a count of how often it drew each
trial, so all metrics of one design are resampled at once as a matrix product. Every
statistic of a design uses the same resamples (common random numbers), drawn from
`numpy.random.default_rng(seed)`: results are deterministic given the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval."""

    value: float
    low: float
    high: float
    n: int = 0
    """Number of trials (non-NaN cells) behind the estimate."""

    def contains(self, x: float) -> bool:
        return bool(self.low <= x <= self.high)


NAN_ESTIMATE = Estimate(np.nan, np.nan, np.nan, 0)


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
    dtype = np.float32 if len(weights) > 1 else np.float64  # counts are exact in float32
    w = weights[:, order].astype(dtype)
    cum = np.cumsum(w, axis=1)
    lo, hi = 0.25 * cum[:, -1:], 0.75 * cum[:, -1:]
    # the part of each value's weight that falls inside [lo, hi] of the cumulative mass
    inside = np.clip(np.minimum(cum, hi) - np.maximum(cum - w, lo), 0.0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (inside @ x.astype(dtype)).astype(np.float64) / (hi - lo)[:, 0]


def per_triple_improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per triple, the share of seed pairs (i, j) with x_i > y_j, ties counting half.

    Args:
        x, y: (T, S) scores of two architectures on the same triples.

    Returns:
        (T,) probabilities; NaN for a triple with no pair.
    """
    xi, yj = x[:, :, None], y[:, None, :]
    valid = ~(np.isnan(xi) | np.isnan(yj))
    wins = np.where(valid, (xi > yj) + 0.5 * (xi == yj), 0.0).sum(axis=(1, 2))
    pairs = valid.sum(axis=(1, 2))
    return np.where(pairs > 0, wins / np.maximum(pairs, 1), np.nan)


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y) as rliable defines it: the per-triple probability averaged over triples."""
    return float(np.nanmean(per_triple_improvement(x, y)))


# --- the hierarchical bootstrap ------------------------------------------------------------
class Bootstrap:
    """The resamples of one (T, S) design, shared by every statistic computed on it."""

    def __init__(
        self,
        n_triples: int,
        n_seeds: int,
        resamples: int = 10_000,
        seed: int = 0,
        confidence: float = 0.95,
    ):
        self.T, self.S, self.B = n_triples, n_seeds, resamples
        self.seed, self.confidence = seed, confidence
        rng = np.random.default_rng(seed)
        self.triples = rng.integers(0, n_triples, size=(resamples, n_triples))
        self.seeds = rng.integers(0, n_seeds, size=(resamples, n_triples, n_seeds))

    @cached_property
    def counts(self) -> np.ndarray:
        """(B, T*S) how often each resample drew each trial."""
        cell = (self.triples[:, :, None] * self.S + self.seeds).reshape(self.B, -1)
        offset = np.arange(self.B)[:, None] * self.T * self.S
        flat = np.bincount((cell + offset).ravel(), minlength=self.B * self.T * self.S)
        return flat.reshape(self.B, self.T * self.S).astype(np.float64)

    @cached_property
    def triple_counts(self) -> np.ndarray:
        """(B, T) how often each resample drew each triple (seeds kept as they are)."""
        offset = np.arange(self.B)[:, None] * self.T
        flat = np.bincount((self.triples + offset).ravel(), minlength=self.B * self.T)
        return flat.reshape(self.B, self.T).astype(np.float64)

    def _interval(self, value: float, boot: np.ndarray, n: int) -> Estimate:
        if n == 0 or np.isnan(value):
            return NAN_ESTIMATE
        alpha = (1 - self.confidence) / 2
        low, high = np.nanquantile(boot, [alpha, 1 - alpha])
        return Estimate(float(value), float(low), float(high), n)

    def _check(self, scores: np.ndarray) -> None:
        if scores.shape[-2:] != (self.T, self.S):
            raise ValueError(f"scores of shape {scores.shape} on a ({self.T}, {self.S}) design")

    def means(self, stack: np.ndarray) -> list[Estimate]:
        """Mean with interval of each of M metrics on this design.

        Args:
            stack: (M, T, S) scores, NaN where missing.
        """
        self._check(stack)
        boot = self._mean_samples(stack)
        return [
            self._interval(float(mean(s)), boot[:, m], int((~np.isnan(s)).sum()))
            for m, s in enumerate(stack)
        ]

    def mean(self, scores: np.ndarray) -> Estimate:
        """Mean over trials with its interval. `scores`: (T, S)."""
        return self.means(scores[None])[0]

    def difference(self, x: np.ndarray, y: np.ndarray) -> Estimate:
        """Paired mean difference x - y over trials present in both. `x, y`: (T, S)."""
        return self.mean(x - y)

    def probability_of_improvement(self, x: np.ndarray, y: np.ndarray) -> Estimate:
        """rliable's P(X > Y), resampling triples (a resampled seed would otherwise meet
        its own pair in the all-pairs comparison)."""
        self._check(x)
        p = per_triple_improvement(x, y)
        present = ~np.isnan(p)
        with np.errstate(invalid="ignore", divide="ignore"):
            boot = (self.triple_counts @ np.where(present, p, 0.0)) / (self.triple_counts @ present)
        return self._interval(
            float(np.nanmean(p)) if present.any() else np.nan, boot, int(present.sum())
        )

    def iqm(self, scores: np.ndarray) -> Estimate:
        """IQM over trials with its interval. `scores`: (T, S)."""
        self._check(scores)
        values = scores.reshape(-1)
        boot = weighted_iqm(values, self.counts)
        return self._interval(float(iqm(scores)), boot, int((~np.isnan(values)).sum()))

    def statistic(self, fn, scores: np.ndarray) -> Estimate:
        """Any statistic (T, S) -> scalar that vectorises over a leading axis, e.g. `iqm`.

        The resamples are materialised: (B, T, S) values.
        """
        self._check(scores)
        with np.errstate(all="ignore"), _quiet_nan_warnings():
            boot = fn(scores[self.triples[:, :, None], self.seeds])
        return self._interval(float(fn(scores)), boot, int((~np.isnan(scores)).sum()))

    def unpaired_difference(self, x: np.ndarray, other: Bootstrap, y: np.ndarray) -> Estimate:
        """mean(x) - mean(y) where x is on this design and y on `other`, which share no
        trials (a class held out vs. trained on); each side is resampled on its own."""
        bx, by = self._mean_samples(x[None])[:, 0], other._mean_samples(y[None])[:, 0]
        n = int((~np.isnan(x)).sum() + (~np.isnan(y)).sum())
        if not (~np.isnan(x)).any() or not (~np.isnan(y)).any():
            return NAN_ESTIMATE
        return self._interval(float(mean(x) - mean(y)), bx - by, n)

    def _mean_samples(self, stack: np.ndarray) -> np.ndarray:
        """(B, M) resampled means of (M, T, S) scores: one matrix product per side."""
        values = stack.reshape(len(stack), -1)
        present = ~np.isnan(values)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.counts @ np.where(present, values, 0.0).T) / (self.counts @ present.T)


class _quiet_nan_warnings:
    """Resamples of sparse designs can draw all-NaN rows; their NaNs are expected."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def verdict(estimate: Estimate, lower: float = 0.0, upper: float | None = None) -> str:
    """'supported' when the interval lies above `lower` (or, given `upper`, inside
    [lower, upper]: an equivalence claim); 'not supported' when it lies entirely on the
    wrong side; else 'inconclusive'."""
    if np.isnan(estimate.low):
        return "inconclusive"
    if upper is None:
        if estimate.low > lower:
            return "supported"
        return "not supported" if estimate.high < lower else "inconclusive"
    if lower <= estimate.low and estimate.high <= upper:
        return "supported"
    if estimate.high < lower or estimate.low > upper:
        return "not supported"
    return "inconclusive"
