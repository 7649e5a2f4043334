"""The interval for a new class (NEW_CLASS): the delete-a-class jackknife.

Drop each class and every triple holding it, recompute; SE = sqrt((n - 1) / n x sum of
squared deviations), t with n - 1 df, n the classes the data hold (Efron and Stein,
1981). Arrays: (M, T, S) scores, NaN where missing; `groups` (C, T) bool, which triples
hold each class (`analysis.inference.incidence`). Why and how well: docs/method.md.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np

from analysis import logitnormal
from analysis.bounded import UNBOUNDED, Bounds, check_ranges, difference_bounds, estimates
from analysis.stats import Estimate


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


def sums(stack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per metric and triple, the sum and count of present trials: two (M, T)."""
    present = ~np.isnan(stack)
    return np.where(present, stack, 0.0).sum(axis=2), present.sum(axis=2).astype(np.float64)


def group_means(sums, counts, groups):
    """Means (M,), leave-one-group-out means (G, M) and which groups hold data (G, M), from
    `sums` (M, T) by `groups` (G, T) bool."""
    keep = (~groups).astype(np.float64).T  # (T, G)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = sums.sum(axis=1) / counts.sum(axis=1)
        loo = ((sums @ keep) / (counts @ keep)).T
    return value, loo, (counts @ groups.T.astype(np.float64) > 0).T


def class_values(stack: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each class's own value (C, M) and its standard error (C, M): the mean plus 3 times
    its centred effect in the additive fit (least squares over the triples with data)
    triple mean = a + the sum of its 3 classes' effects. For a mean over a trial's
    held-out classes it is the class's rate, in any design whose classes the triples tell
    apart; NaN where they do not. A value is linear in the triple means, v = B y (B = 1 w'
    + 3 (I - 11'/C) pinv(X_c) (I - 11'/T), w the triples' shares of the trials), so its SE
    is sqrt(sum_t B_ct^2 s_t^2 / n_t) with s_t^2 the variance of triple t's seeds (pooled
    over the triples where one has a single trial); NaN where no triple holds two trials.

    Args:
        stack: (M, T, S) scores, NaN where missing.
        groups: (C, T) bool, which triples hold each class.
    """
    total, counts = sums(stack)
    out = np.full((len(groups), len(total)), np.nan)
    se = out.copy()
    var = _seed_variances(stack, counts)
    has = counts > 0
    for pattern in np.unique(has, axis=0):
        if pattern.sum() < len(groups):
            continue  # fewer triples than classes: they cannot tell the classes apart
        rows = (has == pattern).all(axis=1)  # the metrics with these triples present
        x = groups[:, pattern].T.astype(np.float64)  # (T', C)
        x = x - x.mean(axis=0)  # centred: the intercept apart
        if np.linalg.matrix_rank(x) < len(groups) - 1:
            continue  # the triples do not tell the classes apart
        c, t = x.shape[1], x.shape[0]
        effects = (np.eye(c) - 1 / c) @ np.linalg.pinv(x) @ (np.eye(t) - 1 / t)  # (C, T')
        n = counts[rows][:, pattern]  # (M', T')
        y = total[rows][:, pattern] / n
        w = n / n.sum(axis=1, keepdims=True)
        b = w[:, None, :] + 3 * effects[None]  # (M', C, T')
        out[:, rows] = np.einsum("mct,mt->cm", b, y)
        with np.errstate(invalid="ignore"):
            se[:, rows] = np.sqrt(np.einsum("mct,mt->cm", b**2, var[rows][:, pattern] / n))
    return out, se


def _seed_variances(stack: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(M, T) variance of each triple's trials (ddof 1); where a triple has one trial, the
    variance pooled over the triples with more; NaN where none has more."""
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        own = np.nanvar(stack, axis=2, ddof=1)
    dof = np.maximum(counts - 1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = np.where(dof > 0, own, 0.0).sum(axis=1) / dof.sum(axis=1)  # NaN: none
    return np.where(dof > 0, own, pooled[:, None])


def class_means(
    stack: np.ndarray,
    groups: np.ndarray,
    confidence: float = 0.95,
    bounds: Bounds | Sequence[Bounds] = UNBOUNDED,
    binary: bool = False,
    parametric: bool = True,
) -> list[Estimate]:
    """NEW_CLASS mean over trials of each metric; a bounded mean's interval also holds the
    logit-normal one of its classes' own values (`class_values`, `analysis.logitnormal`), unless
    `binary` or not `parametric`.

    Args:
        stack: (M, T, S) scores, NaN where missing.
        groups: (C, T) bool, which triples hold each class.
        confidence: two-sided level.
        bounds: the range of the values, one for all or one per metric.
        binary: the cells are win/tie/loss (P(X > Y)): the effective sample size is
            capped at the independent units.
        parametric: whether a bounded mean's interval holds the logit-normal one.

    Returns:
        M Estimates; n counts trials.
    """
    total, counts = sums(stack)
    value, loo, present = group_means(total, counts, groups)
    se, df, n = _jackknife(loo, present)
    trials = counts.sum(axis=1)
    # win/tie/loss cells each rest on 3 classes: at most classes / 3 of them are independent
    # (disjoint triples), so an all-agreeing design of 10 classes counts 10 / 3 units
    units = np.minimum(n / 3 if binary else n, trials)
    lo, hi = check_ranges(bounds, len(value))
    logit = None
    if parametric and not binary and np.isfinite(lo).all() and np.isfinite(hi).all():
        logit = logitnormal.fit(*unit_class_values(stack, groups, bounds))
    return estimates(value, se, df, trials, bounds, units, confidence, binary, logit)


def unit_class_values(stack, groups, bounds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each class's own value (`class_values`) of each metric of (M, T, S) `stack`, its
    range (finite) mapped onto [0, 1], which are defined, and their SEs on that scale:
    three (C, M)."""
    own, se = class_values(stack, groups)
    _, counts = sums(stack)
    present = (counts @ groups.T.astype(np.float64) > 0).T
    lo, hi = check_ranges(bounds, len(stack))
    return (own - lo) / (hi - lo), present & ~np.isnan(own), se / (hi - lo)


def class_correlation(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """(M,) correlation of the NEW_CLASS means of x and y (M, T, S), from the covariance of
    their leave-one-class-out means; 0 where it is undefined."""
    (_, lx, px), (_, ly, py) = (group_means(*sums(v), groups) for v in (x, y))
    both = px & py
    with np.errstate(invalid="ignore", divide="ignore"):
        n = both.sum(axis=0)
        dx = np.where(both, lx - np.where(both, lx, 0).sum(axis=0) / n, 0.0)
        dy = np.where(both, ly - np.where(both, ly, 0).sum(axis=0) / n, 0.0)
        r = (dx * dy).sum(axis=0) / np.sqrt((dx**2).sum(axis=0) * (dy**2).sum(axis=0))
    return np.clip(np.nan_to_num(r, nan=0.0), -1.0, 1.0)


def class_statistic(
    fn: Callable,
    scores: np.ndarray,
    groups: np.ndarray,
    confidence: float = 0.95,
    bounds: Bounds = UNBOUNDED,
) -> Estimate:
    """NEW_CLASS interval for any statistic `fn`: (T', S) -> scalar of a (T, S) grid."""
    present = (groups & ~np.isnan(scores).all(axis=1)).any(axis=1)  # (C,) classes with data
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an empty leave-out is NaN: expected
        value = float(fn(scores))
        loo = np.array(
            [fn(scores[~g]) if p else np.nan for g, p in zip(groups, present, strict=True)]
        )
    se, df, n = _jackknife(loo[:, None], present[:, None])
    trials = int((~np.isnan(scores)).sum())
    return estimates(np.array([value]), se, df, [trials], bounds, min(n[0], trials), confidence)[0]


def partner_gaps(held, seen, partners, confidence, bounds: Bounds) -> list[list[Estimate]]:
    """A class's held, seen and held - seen (three lists of M Estimates) by the partner
    jackknife: for each other class p (`partners` (P, T) bool), drop every triple holding
    p from both sides and recompute; t with n_partners - 1 df. `held, seen`: (M, T, S),
    NaN outside their side; `bounds`: a rate's range."""
    n_held, n_seen = (~np.isnan(held)).sum(axis=(1, 2)), (~np.isnan(seen)).sum(axis=(1, 2))
    vh, lh, ph = group_means(*sums(held), partners)
    vs, ls, ps = group_means(*sums(seen), partners)
    parts = []
    for v, lo, p, n, r in (
        (vh, lh, ph, n_held, bounds),
        (vs, ls, ps, n_seen, bounds),
        (vh - vs, lh - ls, ph | ps, n_held + n_seen, difference_bounds(bounds, bounds)),
    ):
        se, df, groups = _jackknife(lo, p)
        parts.append(estimates(v, se, df, n, r, np.minimum(groups, n), confidence))
    return parts
