"""Variance components of the crossed class design: where trial-to-trial variation comes from.

Per architecture and quantity (`QUANTITIES`), the trial of held-out triple t = {c1, c2, c3}
and seed s is modelled as (`analysis.crossed`, which simulates it)

    y_ts = mu + a_c1 + a_c2 + a_c3 + b_t + e_ts,
    a_c ~ N(0, class_sd^2), b_t ~ N(0, triple_sd^2), e_ts ~ N(0, seed_sd^2).

Fit: method of moments (Henderson's method III; unbiased, a negative estimate reported
as 0). A design with one seed per triple cannot tell the triple from the seed, one with no
more triples than rank([1, X]) (e.g. 10 balanced triples) the triple from the class
effects: then `separable` and `note` say so, the table shows -, and `Components.splits`
gives the other ways to place that variation. Intervals: a parametric bootstrap of the
fitted model, ratio pivot. The equations, the intervals' coverage and what no design can
beat: docs/method.md, "Variance components and the planner".

    comps = fit(scores, triples)          # scores (T, S), NaN where missing
    comps.sd("class"), comps.estimate("class")   # an SD, and it with its interval
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from analysis.crossed import PARTS, Truth, simulate
from analysis.grid import MetricGrid
from analysis.inference import UNBOUNDED, Bounds, as_triples, incidence
from analysis.measures import QUANTITIES
from analysis.render import Percent, TableData
from analysis.stats import Estimate

BOOTSTRAP = 200  # parametric bootstrap data sets per fit: 200 fits of one design take ms
ROUNDING = 1e-12  # variances below this (times max(1, mean^2)) are rounding error, i.e. 0
Key = tuple[str, str]
"""(quantity, arch): a `QUANTITIES` name and an architecture."""


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
    one_seed: bool = False
    """Whether every triple has one trial (then the seed part holds the triple's)."""
    boot: dict[str, np.ndarray] = field(default_factory=dict)
    """{part: (R,) variances refitted on the parametric bootstrap's data sets}; empty
    without a bootstrap. `plausible` turns them into plausible true SDs."""

    def sd(self, part: str) -> float:
        v = self.variances[part]
        return float(np.sqrt(max(v, 0.0))) if np.isfinite(v) else np.nan

    def planned(self, bounds: Bounds = UNBOUNDED) -> Truth:
        """The fitted model as a truth to simulate (in `bounds`): a part the design could
        not separate counts as 0 (its variance is inside the class or seed component, see
        the module docstring; `splits` gives the other ways to place it)."""
        sds = [self.sd(p) if self.separable[p] else 0.0 for p in PARTS]
        return Truth(*sds, mean=self.mean, bounds=bounds)

    def estimate(self, part: str) -> Estimate:
        low, high = self.intervals.get(part, (np.nan, np.nan))
        return Estimate(self.sd(part), low, high, self.trials)

    def plausible(self, bounds: Bounds = UNBOUNDED) -> list[Truth]:
        """Plausible truths, one per bootstrap data set, by the ratio pivot of the
        intervals: a fitted variance v with refit v* gives v^2 / v* (v* at least v / 100);
        a variance fitted as 0 gives v*. Parts the design cannot separate are 0, as in
        `planned`. [] without a bootstrap."""
        if not self.boot:
            return []
        out = {}
        for p in PARTS:
            v = max(self.variances[p], 0.0) if self.separable[p] else 0.0
            star = np.maximum(np.nan_to_num(self.boot[p]), 0.0)
            out[p] = np.sqrt(v * v / np.maximum(star, v / 100) if v > 0 else star)
            if not self.separable[p]:
                out[p] = np.zeros_like(star)
        return [
            Truth(*(float(out[p][i]) for p in PARTS), mean=self.mean, bounds=bounds)
            for i in range(len(out["class"]))
        ]

    def splits(self, truth: Truth) -> tuple[Truth, ...]:
        """`truth` (a `planned` or `plausible` one) and the other splits of its variation
        that this design's data cannot tell from it: with nothing separated, all of a
        trial's variation as seed noise; with the triple inside the class part (no more
        triples than class effects), all of the class part as the triples' own; with
        the triple inside the seed part (one seed per triple), all of it as the triple's."""
        if not self.separable["seed"]:
            return truth, truth.as_seed_noise()
        if self.separable["triple"]:
            return (truth,)
        if self.one_seed:
            return truth, replace(truth, triple_sd=truth.seed_sd, seed_sd=0.0)
        return truth, truth.as_triple_noise()

    def shares(self) -> dict[str, float]:
        """{part: share of one trial's variance}: 3 class_sd^2, triple_sd^2, seed_sd^2."""
        parts = self.planned()
        var = {"class": 3 * parts.class_sd**2, **{p: parts.sd(p) ** 2 for p in PARTS[1:]}}
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
    one_seed = bool((mask.sum(axis=1) == 1).all())
    comps = Components(
        mean,
        variances,
        sep,
        {},
        int(mask.sum()),
        confidence,
        _not_separated(sep, one_seed),
        one_seed,
    )
    if bootstrap <= 0:
        return comps
    sims = simulate(comps.planned(), tri, mask, bootstrap, np.random.default_rng(seed))
    boot, _ = _moments(np.nan_to_num(sims), mask, x)
    intervals = {
        p: _interval(max(variances[p], 0.0), boot[p], confidence) if sep[p] else (np.nan, np.nan)
        for p in PARTS
    }
    return replace(comps, intervals=intervals, boot=boot)


def fit_each(grid: MetricGrid, archs: Sequence[str]) -> tuple[dict[Key, Components], dict]:
    """Components of every headline quantity (`QUANTITIES`) of each of `archs` that has
    it, in quantity order, at the grid's confidence and seed.

    Returns:
        ({(quantity, arch): Components}, {(quantity, arch): why it could not be fitted}).
    """
    fitted, failed = {}, {}
    for name, measure in QUANTITIES.items():
        for arch in archs:
            scores = measure(grid, arch)
            if np.isnan(scores).all():
                continue
            try:
                fitted[(name, arch)] = fit(scores, grid.triples, grid.confidence, seed=grid.seed)
            except TooFewTrials as e:
                failed[(name, arch)] = str(e)
    return fitted, failed


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
    fitted, failed = fit_each(grid, grid.gans)
    notes = {f"not fitted: {why}" for why in failed.values()}
    for arch in grid.gans:
        for name in QUANTITIES:
            if c := fitted.get((name, arch)):
                notes |= {c.note} - {""}
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
