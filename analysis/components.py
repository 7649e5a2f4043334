"""Variance components of the crossed class design: where trial-to-trial variation comes from.

Per architecture and quantity (`QUANTITIES`), the trial of held-out triple t = {c1, c2, c3}
and seed s is modelled as

    y_ts = mu + a_c1 + a_c2 + a_c3 + b_t + e_ts,
    a_c ~ N(0, class_sd^2)   one effect per class, shared by every triple holding it
    b_t ~ N(0, triple_sd^2)  the triple beyond its classes
    e_ts ~ N(0, seed_sd^2)   the seed (the residual)

the model of `analysis.inference`'s coverage simulations. One trial varies by
3 class_sd^2 + triple_sd^2 + seed_sd^2.

Fit: method of moments (Henderson's method III), three sums of squares equated to their
expectations, unbiased for the variances (a negative estimate is reported as 0):

    seed:   the pooled within-triple variance, sum_ts (y_ts - ybar_t)^2 / sum_t (S_t - 1);
    triple: the residual sum of squares of the triple means regressed on [1, X] (X the
            (T, C) class incidence), E = sum_t Q_tt (triple_sd^2 + seed_sd^2 / S_t), Q the
            residual projection, with T - rank([1, X]) degrees of freedom;
    class:  the sum of squares of the triple means about their mean,
            E = class_sd^2 tr(X' M X) + (1 - 1/T) sum_t (triple_sd^2 + seed_sd^2 / S_t).

What a design cannot separate (then `separable` and `note` say so; the table shows -):
with one seed per triple, triple and seed: only their sum is estimated, reported as seed
(the residual), and the triple is n/a; with no more triples than rank([1, X]) (e.g. 10
balanced triples of 10 classes) the class effects fit the triple means exactly, so the
triple is n/a and the class component includes it.

Intervals: a parametric bootstrap from the fitted model (`BOOTSTRAP` data sets of the same
design, triples, seeds and missing trials, refitted). For a positive variance v the
interval pivots on the ratio v*/v of refitted to fitted variance (a basic bootstrap on the
log scale, the bootstrap analogue of the chi-square interval): [v / q_hi, v / q_lo]; an
upper bound is NaN (unbounded by this design) when the lower ratio quantile is 0. For a
variance fitted as 0 the interval is [0, the (1 + conf) / 2 quantile of v*]. SDs are
square roots of these bounds. Coverage of the 95% intervals, 200 simulated sweeps per
setting (`python -m tests.test_components`):

    (class, triple, seed sd), design    class   triple  seed
    (0.10, 0.01, 0.03), 120 x 3         92.5%   86.0%   94.5%
    (0.10, 0.01, 0.03), 40 x 2          92.0%   79.5%   93.5%
    (0.005, 0.01, 0.03), 40 x 2         85.5%   79.5%   93.5%
    (0.05, 0.03, 0.03), 40 x 2          94.5%   94.5%   93.5%

A part whose SD is small beside the noise of its estimate (the triple beside the seed,
the class in the seed-dominated setting) is under-covered: its lower bound is too high.

A balanced design's mean carries 3 times the mean of the 10 class effects, so no number
of triples or seeds takes an interval for a new class below t_9 * 3 class_sd / sqrt(10)
(`analysis.plan` simulates that floor).

    comps = fit(scores, triples)          # scores (T, S), NaN where missing
    comps.class_sd, comps.estimate("class")   # an SD, and it with its interval
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from analysis.grid import MetricGrid
from analysis.inference import as_triples, incidence
from analysis.measures import QUANTITIES
from analysis.render import Percent, TableData
from analysis.stats import Estimate

PARTS = ("class", "triple", "seed")
BOOTSTRAP = 200  # parametric bootstrap data sets per fit: 200 fits of one design take ms
ROUNDING = 1e-12  # variances below this (times max(1, mean^2)) are rounding error, i.e. 0
DEFAULT_QUANTITY = "recall_gap"


class TooFewTrials(ValueError):
    """The data cannot be fitted (fewer than 2 triples, or no class varies)."""


@dataclass(frozen=True)
class Components:
    """Fitted variance components of one quantity, with their intervals.

    Variances are the unbiased moment estimates (may be negative); SDs truncate at 0.
    """

    mean: float
    variances: dict[str, float]
    """{part: variance estimate}, NaN where the design cannot separate it."""
    separable: dict[str, bool]
    """{part: whether the design separates it}; see the module docstring."""
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    """{part: (low, high)} of its SD; NaN where there is none."""
    trials: int = 0
    confidence: float = 0.95
    note: str = ""
    """What the design could not separate, in one line; '' when nothing."""
    boot: dict[str, np.ndarray] = field(default_factory=dict)
    """{part: (R,) variances refitted on the parametric bootstrap's data sets}; empty
    without a bootstrap. `plausible` turns them into plausible true SDs."""

    def sd(self, part: str) -> float:
        v = self.variances[part]
        return float(np.sqrt(max(v, 0.0))) if np.isfinite(v) else np.nan

    @property
    def class_sd(self) -> float:
        return self.sd("class")

    @property
    def triple_sd(self) -> float:
        return self.sd("triple")

    @property
    def seed_sd(self) -> float:
        return self.sd("seed")

    def planned(self) -> dict[str, float]:
        """{part: SD} to simulate: a part the design could not separate counts as 0 (its
        variance is inside the class or seed component, see the module docstring)."""
        return {p: (self.sd(p) if self.separable[p] else 0.0) for p in PARTS}

    def estimate(self, part: str) -> Estimate:
        low, high = self.intervals.get(part, (np.nan, np.nan))
        return Estimate(self.sd(part), low, high, self.trials)

    def plausible(self) -> list[dict[str, float]]:
        """Plausible true SDs, one {part: SD} per bootstrap data set, by the ratio pivot of
        the intervals: a fitted variance v with refit v* gives v^2 / v* (v* at least v /
        100); a variance fitted as 0 gives v*. Parts the design cannot separate are 0, as
        in `planned`. [] without a bootstrap."""
        if not self.boot:
            return []
        out = {}
        for p in PARTS:
            v = max(self.variances[p], 0.0) if self.separable[p] else 0.0
            star = np.maximum(np.nan_to_num(self.boot[p]), 0.0)
            out[p] = np.sqrt(v * v / np.maximum(star, v / 100) if v > 0 else star)
            if not self.separable[p]:
                out[p] = np.zeros_like(star)
        return [{p: float(out[p][i]) for p in PARTS} for i in range(len(out["class"]))]

    def shares(self) -> dict[str, float]:
        """{part: share of one trial's variance}: 3 class_sd^2, triple_sd^2, seed_sd^2."""
        parts = self.planned()
        var = {"class": 3 * parts["class"] ** 2, **{p: parts[p] ** 2 for p in PARTS[1:]}}
        total = sum(var.values())
        return {p: (v / total if total > 0 else np.nan) for p, v in var.items()}


# --- the moment equations on (R, T, S) stacks ------------------------------------------
def _moments(y: np.ndarray, mask: np.ndarray, x: np.ndarray):
    """Moment estimates of the three variances for R data sets of one design.

    Args:
        y: (R, T, S) values (ignored where `mask` is False).
        mask: (T, S) present trials; every triple has at least one.
        x: (T, C) float class incidence.

    Returns:
        ({part: (R,) variances}, {part: separable}).
    """
    t = len(mask)
    n = mask.sum(axis=1).astype(np.float64)
    ybar = np.where(mask, y, 0.0).sum(axis=2) / n
    df_seed = float((n - 1).sum())
    z = np.column_stack([np.ones(t), x])
    q = np.eye(t) - z @ np.linalg.pinv(z)
    df_triple = t - np.linalg.matrix_rank(z)
    m = np.eye(t) - 1.0 / t
    k = float(np.trace(x.T @ m @ x))
    if k <= 1e-12:
        raise TooFewTrials("no class varies between the triples")
    sep = {"class": True, "seed": bool(df_seed > 0), "triple": bool(df_triple > 0 < df_seed)}
    nan = np.full(len(y), np.nan)
    seed, triple = nan, nan
    rss = np.einsum("rt,tu,ru->r", ybar, q, ybar)
    if df_seed > 0:
        seed = (np.where(mask, y - ybar[..., None], 0.0) ** 2).sum(axis=(1, 2)) / df_seed
        if df_triple > 0:
            triple = (rss - seed * (np.diag(q) / n).sum()) / np.trace(q)
        v_sum = (0.0 if df_triple <= 0 else triple * t) + seed * (1 / n).sum()
    elif df_triple > 0:  # one seed: the residual is triple + seed
        seed = rss / np.trace(q)
        v_sum = seed * t
        sep["seed"] = True
    else:
        v_sum = np.zeros(len(y))
    ss = ((ybar - ybar.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    cls = (ss - (1 - 1 / t) * v_sum) / k
    return {"class": cls, "triple": triple, "seed": seed}, sep


def _interval(v: float, boot: np.ndarray, confidence: float) -> tuple[float, float]:
    """SD bounds from the fitted variance `v` and refitted variances `boot` (R,)."""
    alpha = (1 - confidence) / 2
    boot = np.maximum(boot[np.isfinite(boot)], 0.0)
    if not np.isfinite(v) or boot.size == 0:
        return np.nan, np.nan
    if v <= 0:
        return 0.0, float(np.sqrt(np.quantile(boot, 1 - alpha)))
    q_lo, q_hi = np.quantile(boot / v, [alpha, 1 - alpha])
    high = np.sqrt(v / q_lo) if q_lo > 0 else np.nan
    return float(np.sqrt(v / q_hi)) if q_hi > 0 else 0.0, float(high)


def simulate(
    sds: dict[str, float],
    triples: np.ndarray,
    mask: np.ndarray,
    replicates: int,
    rng: np.random.Generator,
    mean: float = 0.0,
) -> np.ndarray:
    """(R, T, S) values drawn from the crossed model (NaN where `mask` (T, S) is False).

    Args:
        sds: {part: SD} for "class", "triple", "seed".
        triples: (T, 3) class ids (0-9).
    """
    t, s = mask.shape
    a = rng.standard_normal((replicates, 10)) * sds["class"]
    y = (
        mean
        + a[:, triples].sum(axis=2)[..., None]
        + rng.standard_normal((replicates, t, 1)) * sds["triple"]
        + rng.standard_normal((replicates, t, s)) * sds["seed"]
    )
    return np.where(mask, y, np.nan)


def fit(
    scores: np.ndarray,
    triples: Sequence,
    confidence: float = 0.95,
    bootstrap: int = BOOTSTRAP,
    seed: int = 0,
) -> Components:
    """Variance components of a (T, S) grid, with parametric-bootstrap intervals.

    Args:
        scores: (T, S) values, one row per triple, one column per seed, NaN where missing.
        triples: the T triples (tuples of class ids or strings like "0-6-9").
        confidence: two-sided level of the intervals.
        bootstrap: data sets of the parametric bootstrap (0: no intervals).
        seed: seeds `numpy.random.default_rng` of the bootstrap.

    Raises:
        TooFewTrials: fewer than 2 triples with data, or no class varies between them.
    """
    tri = as_triples(triples)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape[0] != len(tri):
        raise ValueError(f"scores of shape {scores.shape} for {len(tri)} triples")
    keep = ~np.isnan(scores).all(axis=1)
    if keep.sum() < 2:
        raise TooFewTrials(f"{int(keep.sum())} triple(s) with data; the fit needs at least 2")
    tri, scores = tri[keep], scores[keep]
    mask = ~np.isnan(scores)
    x = incidence(tri)[1].T.astype(np.float64)
    est, sep = _moments(scores[None], mask, x)
    mean = float(np.nanmean(scores))
    rounding = ROUNDING * max(1.0, mean**2)  # a variance this small is float rounding: 0
    variances = {
        p: (0.0 if abs(est[p][0]) < rounding else float(est[p][0])) if sep[p] else np.nan
        for p in PARTS
    }
    note = _not_separated(sep, bool((mask.sum(axis=1) == 1).all()))
    comps = Components(mean, variances, sep, {}, int(mask.sum()), confidence, note)
    if bootstrap <= 0:
        return comps
    sims = simulate(comps.planned(), tri, mask, bootstrap, np.random.default_rng(seed), mean)
    boot, _ = _moments(np.nan_to_num(sims), mask, x)
    intervals = {
        p: _interval(max(variances[p], 0.0), boot[p], confidence) if sep[p] else (np.nan, np.nan)
        for p in PARTS
    }
    return Components(mean, variances, sep, intervals, int(mask.sum()), confidence, note, boot)


def fit_grid(grid: MetricGrid, arch: str, quantity: str, **kw) -> Components:
    """`fit` of one quantity (a `QUANTITIES` name) of one architecture of a grid."""
    return fit(QUANTITIES[quantity](grid, arch), grid.triples, **kw)


# --- the summary's table ------------------------------------------------------------------
def table(grid: MetricGrid) -> TableData:
    """The `components` table: per architecture and headline quantity, the SD of each part
    with its interval, and the class effects' share of one trial's variance."""
    t = TableData(
        "components",
        "Variance components: held-out classes, triple, seed",
        ["arch", "quantity", "class sd", "triple sd", "seed sd", "class %"],
        interval="parametric bootstrap of the fitted crossed model",
        keys=2,
    )
    notes: set[str] = set()
    for arch in grid.gans:
        for name in QUANTITIES:
            scores = QUANTITIES[name](grid, arch)
            if np.isnan(scores).all():
                continue
            try:
                c = fit(scores, grid.triples, confidence=grid.confidence, seed=grid.seed)
            except TooFewTrials as e:
                notes.add(f"not fitted: {e}")
                continue
            if c.note:
                notes.add(c.note)
            share = Percent(100 * c.shares()["class"])
            t.rows.append([arch, name, *(c.estimate(p) for p in PARTS), share])
    t.caption = "\n".join(
        [
            "SD of each part of one trial's value: y = mu + its 3 held-out classes' effects "
            "+ the triple's + the seed's; method of moments (Henderson III); CI: parametric "
            "bootstrap of the fitted model, ratio pivot (analysis/components.py)",
            "class %: share of one trial's variance from its classes (3 class_sd^2 over the total)",
            *sorted(notes),
        ]
    )
    return t


def _not_separated(separable: dict[str, bool], one_seed: bool) -> str:
    """What a design could not separate, in one line ('' when it separates every part)."""
    if not separable["seed"]:
        return (
            "one seed and no more triples than class effects: triple and seed n/a, the "
            "class sd holds all the variation"
        )
    if not separable["triple"]:
        if one_seed:
            return "one seed per triple: triple n/a, the seed sd is triple and seed together"
        return "no more triples than class effects: triple n/a, inside the class sd"
    return ""
