"""Estimators over trials, as pure functions of score arrays, and the old triple bootstrap.

Scores come as float arrays of shape (T, S): one row per held-out triple, one column per
seed, NaN where a trial is missing. `Estimate` is a point estimate with an interval; the
intervals the summary shows come from `analysis.inference`.

`Bootstrap` is the hierarchical bootstrap of release 0.2 (triples drawn with replacement,
then seeds within each drawn triple), kept only as the regression reference of
`tests/test_inference.py`: it treats the 120 triples as independent, but each class is in
36 of them, so with class effects its interval covers the population mean in about 22% of
simulated sweeps, not 95%. No table uses it.
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


# --- the old hierarchical bootstrap (regression reference only) -------------------------------
class Bootstrap:
    """Triples with replacement, then seeds within each drawn triple: B resamples of one
    (T, S) design. Under-covers the crossed class design; see the module docstring."""

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
