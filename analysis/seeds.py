"""The interval for these classes (THESE_CLASSES): seed variance within triples.

For a statistic linear in the trials, the exact variance of rliable's stratified
bootstrap (seeds redrawn within every triple) widened by S/(S-1), with Welch-Satterthwaite
degrees of freedom; a one-seed triple takes the pooled seed variance of the others.
Arrays: (M, T, S) values, NaN where missing. Why and how well: docs/method.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np


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


_CHUNK = 1000  # resamples drawn per block; fixed so that draws do not depend on memory


def _draws(mask: np.ndarray, resamples: int, seed: int) -> Iterator[tuple[np.ndarray, ...]]:
    """Blocks of resamples of a (T, S) `mask` of present trials: (seed index (b, T, S),
    valid (b, T, S)). Draw j < S_t of triple t is one of its S_t present seeds."""
    t, s = mask.shape
    n_present = mask.sum(axis=1)  # (T,)
    first = np.argsort(~mask, axis=1, kind="stable")  # present seeds first, in order
    top = np.maximum(n_present - 1, 0)[None, :, None]
    valid = np.arange(s)[None, None, :] < n_present[None, :, None]
    rng = np.random.default_rng(seed)
    for b0 in range(0, resamples, _CHUNK):
        b = min(_CHUNK, resamples - b0)
        u = rng.random((b, t, s))
        rank = np.minimum((u * n_present[None, :, None]).astype(np.int64), top)
        yield first[np.arange(t)[None, :, None], rank], np.broadcast_to(valid, (b, t, s))


def seed_bootstrap(fn: Callable, scores: np.ndarray, resamples: int, seed: int) -> tuple:
    """THESE_CLASSES value, SE, df and trials of any statistic `fn` (b, T, S) -> (b,) of a
    (T, S) grid, seeds exchangeable: the stratified bootstrap's standard deviation scaled by
    sqrt(n / (n - T)), n - T df. SE NaN with a one-seed triple; value NaN with no trial."""
    mask = ~np.isnan(scores)
    n_present, trials = mask.sum(axis=1), int(mask.sum())
    if not trials:
        return np.nan, np.nan, np.nan, 0
    with np.errstate(all="ignore"):
        value = float(fn(scores))
    if (n_present == 1).any():  # a one-seed triple: its seed variance is unknown
        return value, np.nan, np.nan, trials
    rows = np.arange(len(scores))[None, :, None]
    with np.errstate(all="ignore"):
        boot = np.concatenate(
            [
                fn(np.where(valid, scores[rows, index], np.nan))
                for index, valid in _draws(mask, resamples, seed)
            ]
        )
    triples = int((n_present > 0).sum())
    se = np.nanstd(boot, ddof=1) * np.sqrt(trials / (trials - triples))
    return value, se, float(trials - triples), trials
