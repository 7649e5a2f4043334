"""The crossed class/triple/seed model of a sweep: a truth, its simulation, and the
half-widths the summary's intervals show on simulated sweeps of a design.

The trial of held-out triple t = {c1, c2, c3} and seed s is

    y_ts = mean + a_c1 + a_c2 + a_c3 + b_t + e_ts,   clipped into the quantity's bounds,
    a_c ~ N(0, class_sd^2), b_t ~ N(0, triple_sd^2), e_ts ~ N(0, seed_sd^2)

(`analysis.components` fits it). This one simulation serves the components' parametric
bootstrap, the planner's predictions (`analysis.plan_model`) and the coverage simulations
(`tests/simulate_coverage.py`): `draw` takes the standard normal draws of R sweeps of a
design, `sweeps` scales them by a truth (or by one truth per sweep). `predict`, `realized`
and `predicted_ranges` put simulated sweeps of a design (the first N balanced triples x S
seeds) through the summary's own interval code (`analysis.inference.Intervals.means`),
so a predicted half-width is the one the summary would print, by construction.

    noise = draw(BALANCED_TRIPLES[:10], 2, 100, np.random.default_rng(0))
    y = sweeps(Truth(class_sd=0.1, seed_sd=0.03, mean=0.6, bounds=UNIT), noise)  # (100, 10, 2)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from analysis.inference import KINDS, NEW_CLASS, THESE_CLASSES, UNBOUNDED, Bounds, Intervals
from analysis.render import half_width
from fakedet.protocol import BALANCED_TRIPLES

PARTS = ("class", "triple", "seed")
"""The model's random parts, in the order they are drawn."""
REPLICATES = 40  # simulated sweeps per design: the mean half-width to a few percent
PREDICTIVE = 0.90  # level of a predicted half-width's range (its 5% and 95% points)
DRAWS = 100  # plausible truths per range, one simulated sweep each
RESAMPLES = 1000  # of the Intervals object (its intervals of means draw none)
NO_RANGE = (math.nan, math.nan)
ROUNDING = 1e-12  # a half-width below this is float rounding of 0 (no seed variance)


@dataclass(frozen=True)
class Truth:
    """One truth of the crossed model. One trial varies by 3 class_sd^2 + triple_sd^2 +
    seed_sd^2."""

    class_sd: float = 0.0
    """SD of one class's effect (each trial holds 3)."""
    triple_sd: float = 0.0
    """SD of the triple beyond its classes."""
    seed_sd: float = 0.0
    """SD of the seed (the residual)."""
    mean: float = 0.0
    """The population mean the sweeps centre on."""
    bounds: Bounds = UNBOUNDED
    """The quantity's range: simulated trials are clipped into it, as real ones lie in it."""

    def sd(self, part: str) -> float:
        """The SD of a part of `PARTS`."""
        return getattr(self, f"{part}_sd")

    @property
    def varies(self) -> bool:
        """Whether any part varies (else every sweep is the mean)."""
        return any(self.sd(p) for p in PARTS)

    def only_classes(self) -> Truth:
        """The class effects alone: what infinitely many seeds would leave."""
        return replace(self, triple_sd=0.0, seed_sd=0.0)

    def as_seed_noise(self) -> Truth:
        """The same variation of one trial, all of it seed noise."""
        return replace(
            self,
            class_sd=0.0,
            triple_sd=0.0,
            seed_sd=math.hypot(math.sqrt(3) * self.class_sd, self.triple_sd, self.seed_sd),
        )

    def as_triple_noise(self) -> Truth:
        """The same variation of one trial's triple (its classes and the triple beyond
        them), all of it the triple's own: no effect shared between triples."""
        return replace(
            self, class_sd=0.0, triple_sd=math.hypot(math.sqrt(3) * self.class_sd, self.triple_sd)
        )


@dataclass(frozen=True)
class Noise:
    """Standard normal draws of R simulated sweeps of one design, before any truth scales
    them."""

    classes: np.ndarray
    """(R, T, 1) the sum of each triple's 3 class draws (10 per sweep, shared by triples)."""
    triple: np.ndarray
    """(R, T, 1) one draw per triple."""
    seed: np.ndarray
    """(R, T, S) one draw per trial."""


def draw(triples: Sequence, seeds: int, replicates: int, rng: np.random.Generator) -> Noise:
    """The draws of `replicates` sweeps of `triples` x `seeds`: the 10 class effects, then
    the triples, then the seeds (this order, so that a seeded generator gives the same
    sweeps everywhere).

    Args:
        triples: T triples of class ids 0-9, (T, 3).
        seeds: S seeds per triple.
        replicates: R sweeps.
    """
    tri = np.asarray(triples)
    t = len(tri)
    classes = rng.standard_normal((replicates, 10))[:, tri].sum(axis=2)[..., None]
    return Noise(
        classes,
        rng.standard_normal((replicates, t, 1)),
        rng.standard_normal((replicates, t, seeds)),
    )


def _column(truths: Truth | Sequence[Truth], value) -> float | np.ndarray:
    """A truth's value, or (R, 1, 1) of one truth per sweep."""
    if isinstance(truths, Truth):
        return value(truths)
    return np.array([value(t) for t in truths], dtype=np.float64)[:, None, None]


def fixed(truths: Truth | Sequence[Truth], noise: Noise) -> np.ndarray:
    """(R, T, 1) each triple's value without seed noise: the mean its triple would give
    over infinitely many seeds (unclipped).

    Args:
        truths: one truth for every sweep, or R truths, one per sweep.
        noise: `draw` of R sweeps.
    """
    return (
        _column(truths, lambda t: t.mean)
        + _column(truths, lambda t: t.class_sd) * noise.classes
        + _column(truths, lambda t: t.triple_sd) * noise.triple
    )


def sweeps(truths: Truth | Sequence[Truth], noise: Noise) -> np.ndarray:
    """(R, T, S) simulated trials of the design `noise` was drawn for, clipped into each
    truth's bounds.

    Args:
        truths: one truth for every sweep, or R truths, one per sweep.
        noise: `draw` of R sweeps.
    """
    y = fixed(truths, noise) + _column(truths, lambda t: t.seed_sd) * noise.seed
    low = _column(truths, lambda t: t.bounds[0])
    high = _column(truths, lambda t: t.bounds[1])
    return np.clip(y, low, high)


def simulate(
    truth: Truth, triples: Sequence, mask: np.ndarray, replicates: int, rng: np.random.Generator
) -> np.ndarray:
    """(R, T, S) sweeps of one truth on a design with missing trials: NaN where `mask`
    (T, S) is False."""
    noise = draw(triples, mask.shape[1], replicates, rng)
    return np.where(mask, sweeps(truth, noise), np.nan)


# --- what the summary's intervals show on simulated sweeps of a design ----------------
def predict(
    truths: dict,
    n_triples: int,
    n_seeds: int,
    replicates: int = REPLICATES,
    resamples: int = RESAMPLES,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict:
    """Mean half-width of both interval kinds for a design, by simulating each truth.

    Args:
        truths: {key, e.g. (quantity, arch): the Truth to simulate}.
        n_triples, n_seeds: the design, `BALANCED_TRIPLES[:n_triples]` x `n_seeds`.
        replicates: R simulated sweeps (the same draws, scaled, for every key).

    Returns:
        {key: {kind: mean half-width}}; NaN for "these classes" with one seed;
        0 where nothing varies (not simulated).
    """
    out = {
        k: {THESE_CLASSES: 0.0 if n_seeds > 1 else math.nan, NEW_CLASS: 0.0}
        for k, t in truths.items()
        if not t.varies
    }
    keys = [k for k in truths if k not in out]
    if not keys:
        return out
    tri = np.array(BALANCED_TRIPLES[:n_triples])
    noise = draw(tri, n_seeds, replicates, np.random.default_rng(seed))
    stack = np.concatenate([sweeps(truths[k], noise) for k in keys])
    bounds = [truths[k].bounds for k in keys for _ in range(replicates)]
    intervals = Intervals(tri, n_seeds, resamples=resamples, seed=seed, confidence=confidence)
    out.update({k: {} for k in keys})
    for kind in KINDS:
        if kind == THESE_CLASSES and n_seeds < 2:
            width = np.full((len(keys), replicates), np.nan)
        else:
            width = _half_widths(intervals.means(stack, kind=kind, bounds=bounds))
        for k, w in zip(keys, width.reshape(len(keys), replicates), strict=True):
            out[k][kind] = float(np.mean(w))
    return out


def realized(
    truths: list[Truth],
    n_triples: int,
    n_seeds: int,
    kind: str,
    seed: int = 0,
    confidence: float = 0.95,
) -> np.ndarray:
    """The half-width of `kind`'s interval on one simulated sweep per truth.

    Args:
        truths: B truths, each the truth of one independent sweep.
        n_triples, n_seeds: the design, `BALANCED_TRIPLES[:n_triples]` x `n_seeds`.

    Returns:
        (B,) half-widths the summary would print; NaN for "these classes" with one seed.
    """
    if kind == THESE_CLASSES and n_seeds < 2:
        return np.full(len(truths), np.nan)
    tri = np.array(BALANCED_TRIPLES[:n_triples])
    # a stream of its own: the components' bootstrap draws from default_rng(seed), and
    # sharing its draws would tie each plausible truth to its own sweep's luck
    stack = sweeps(truths, draw(tri, n_seeds, len(truths), np.random.default_rng([seed, 1])))
    intervals = Intervals(tri, n_seeds, resamples=RESAMPLES, seed=seed, confidence=confidence)
    bounds = [t.bounds for t in truths]
    return _half_widths(intervals.means(stack, kind=kind, bounds=bounds))


def _half_widths(estimates) -> np.ndarray:
    """(n,) half-widths the summary prints of n estimates, rounding error taken as 0."""
    w = np.array([half_width(e) for e in estimates])
    return np.where(w < ROUNDING, 0.0, w)


def predicted_range(
    truths: list[Truth], n_triples: int, n_seeds: int, kind: str, **kw
) -> tuple[float, float]:
    """The PREDICTIVE interval of the half-width one sweep of the design will show: the
    (1 -/+ PREDICTIVE) / 2 points of `realized` over plausible truths, so it carries both
    the fitted components' uncertainty and one sweep's luck."""
    return predicted_ranges({None: truths}, n_triples, n_seeds, kind, **kw)[None]


def predicted_ranges(
    truths: dict, n_triples: int, n_seeds: int, kind: str, seed: int = 0, confidence: float = 0.95
) -> dict:
    """`predicted_range` of every key at once (one simulation of all their truths)."""
    keys = [k for k in truths if truths[k]]
    rows = [t for k in keys for t in truths[k][:DRAWS]]
    out = dict.fromkeys(truths, NO_RANGE)
    if not rows:
        return out
    w = realized(rows, n_triples, n_seeds, kind, seed=seed, confidence=confidence)
    a, start = (1 - PREDICTIVE) / 2, 0
    for k in keys:
        part = w[start : start + len(truths[k][:DRAWS])]
        start += len(part)
        if not np.isnan(part).all():
            low, high = np.nanquantile(part, [a, 1 - a])
            out[k] = (float(low), float(high))
    return out


def floor(truths: dict, **kw) -> dict:
    """The half-width of an interval for a new class with the class effects alone on every
    triple: what infinitely many seeds (and every one of the 120 triples) would leave."""
    only = {k: t.only_classes() for k, t in truths.items()}
    return {k: v[NEW_CLASS] for k, v in predict(only, len(BALANCED_TRIPLES), 1, **kw).items()}
