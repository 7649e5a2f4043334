"""Intervals that say which population they speak of: these 10 classes, or a new class.

Scores come as float arrays of shape (T, S) -- one row per held-out triple (a sorted
3-tuple of class ids), one column per seed, NaN where a trial is missing -- or (M, T, S)
for M metrics at once. `Intervals` holds a design (its triples, their classes) and gives
each statistic an interval of one of two kinds: THESE_CLASSES (seed variance within
triples, `analysis.seeds`) or NEW_CLASS (the delete-a-class jackknife,
`analysis.jackknife`); `analysis.bounded` turns (estimate, SE, df) into an interval
inside the quantity's range. What each kind means, why these estimators, and their
measured coverage (`tests/simulate_coverage.py`, `tests/simulate_bounds.py`):
docs/method.md, "Statistics".

    intervals = Intervals(triples, n_seeds=5)
    intervals.means(stack, kind=NEW_CLASS, bounds=UNIT)          # [Estimate] per metric
    intervals.difference(x, y, kind=THESE_CLASSES, bounds=SIGNED, confidence=0.90)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from analysis.bounded import (
    SIGNED,
    UNBOUNDED,
    UNIT,
    Bounds,
    check_ranges,
    combined,
    difference_bounds,
    estimates,
)
from analysis.jackknife import (
    class_correlation,
    class_means,
    class_statistic,
    unit_class_values,
)
from analysis.logitnormal import pair_fit
from analysis.seeds import seed_bootstrap, seed_variance
from analysis.stats import Estimate

__all__ = [  # names callers import from here, though they live beside it
    "SIGNED",
    "UNBOUNDED",
    "UNIT",
    "Bounds",
    "difference_bounds",
]

THESE_CLASSES = "these classes"
NEW_CLASS = "a new class"
KINDS = (THESE_CLASSES, NEW_CLASS)


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


def jackknife_means(
    stack: np.ndarray,
    triples: Sequence,
    confidence: float = 0.95,
    bounds: Bounds | Sequence[Bounds] = UNBOUNDED,
    binary: bool = False,
    parametric: bool = True,
) -> list[Estimate]:
    """NEW_CLASS means of (M, T, S) `stack` on `triples` (`analysis.jackknife.class_means`)."""
    tri = as_triples(triples)
    if stack.ndim != 3 or stack.shape[1] != len(tri):
        raise ValueError(f"stack of shape {stack.shape} for {len(tri)} triples")
    return class_means(stack, incidence(tri)[1], confidence, bounds, binary, parametric)


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

    def check(self, stack: np.ndarray) -> np.ndarray:
        """`stack` as float64 (M, T, S) on this design; ValueError otherwise."""
        stack = np.asarray(stack, dtype=np.float64)
        if stack.ndim != 3 or stack.shape[1:] != (self.T, self.S):
            raise ValueError(f"scores of shape {stack.shape[1:]} on a ({self.T}, {self.S}) design")
        return stack

    def linear(self, values, weights, level, bounds, binary=False) -> list[Estimate]:
        """THESE_CLASSES estimates of sum_ts w_ts x_ts per metric (seed variance)."""
        value, se, df, n = seed_variance(values, weights)
        return estimates(value, se, df, n, bounds, n, level, binary)

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
        stack, level = self.check(stack), level_of(confidence, self.confidence)
        if kind_of(kind) == NEW_CLASS:
            return class_means(stack, self.incidence, level, bounds, binary)
        n = (~np.isnan(stack)).sum(axis=(1, 2))
        return self.linear(stack, 1.0 / np.maximum(n, 1)[:, None, None], level, bounds, binary)

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

        The interval holds the difference's own and the one built from the two means'
        (`analysis.bounded.combined`): for a new class, where both means have a
        logit-normal side that censors no class, the pivotal interval of the difference
        of the classes' paired (x, y) logit-normal means (`analysis.logitnormal.pair_fit`),
        else the MOVER of their whole intervals with the jackknife correlation of the
        two estimates; for these classes their floors only, where all of a part's values
        sit at an end. Two rates at 1 in every trial give +- the distance from 1 to their
        lower bounds, not [0, 0]; two scorings of the same images that differ by a hair,
        with every class measured, an interval about a hair wide.

        Args:
            x, y: (M, T, S) values, NaN where missing.
            kind: THESE_CLASSES or NEW_CLASS.
            confidence: two-sided level; default the design's.
            bounds: the range of x and of y (the same for both), one for all metrics or
                one per metric; x - y lives in `difference_bounds` of it.

        Returns:
            M Estimates of x - y; n counts the paired trials.
        """
        x, y = self.check(x), self.check(y)
        if x.shape != y.shape:
            raise ValueError(f"x {x.shape} and y {y.shape} differ in shape")
        both = ~(np.isnan(x) | np.isnan(y))
        x, y = np.where(both, x, np.nan), np.where(both, y, np.nan)
        m, level = len(x), level_of(confidence, self.confidence)
        lo, hi = check_ranges(bounds, m)
        ranges = [(float(a), float(b)) for a, b in zip(lo, hi, strict=True)]
        signed = [difference_bounds(r, r) for r in ranges]
        if kind_of(kind) == NEW_CLASS:  # the parts' logit-normal sides, paired
            est = class_means(np.concatenate([x, y]), self.incidence, level, ranges + ranges)
            est += class_means(x - y, self.incidence, level, signed, parametric=False)
            r = [float(c) for c in class_correlation(x, y, self.incidence)]
            (vx, px, _), (vy, py, _) = (
                unit_class_values(v, self.incidence, ranges) for v in (x, y)
            )
            pairs = pair_fit(vx, vy, px & py)
        else:
            est = self.means(
                np.concatenate([x, y, x - y]), kind=kind, confidence=level,
                bounds=ranges + ranges + signed,
            )  # fmt: skip
            r, pairs = [None] * m, [None] * m
        parts = zip(est[:m], est[m : 2 * m], est[2 * m :], r, pairs, strict=True)
        return [combined(ex, ey, ed, level, c, f) for ex, ey, ed, c, f in parts]

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
        """Any statistic of a (T, S) grid, e.g. `analysis.stats.iqm`. For THESE_CLASSES
        `fn` maps (b, T, S) -> (b,), seeds exchangeable (`analysis.seeds.seed_bootstrap`:
        a resampled triple holds its S_t draws in its first S_t columns, NaN after); for
        NEW_CLASS, (T', S) -> scalar on the triples left after dropping a class."""
        scores = self.check(np.asarray(scores)[None])[0]
        level = level_of(confidence, self.confidence)
        if kind_of(kind) == NEW_CLASS:
            return class_statistic(fn, scores, self.incidence, level, bounds)
        value, se, df, trials = seed_bootstrap(fn, scores, self.B, self.seed)
        if np.isnan(se):
            return Estimate(value, np.nan, np.nan, trials)
        return estimates(
            np.array([value]), np.array([se]), np.array([df]), [trials], bounds, trials, level
        )[0]


def level_of(confidence: float | None, default: float) -> float:
    return default if confidence is None else confidence


def kind_of(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown interval kind {kind!r}; valid: {', '.join(KINDS)}")
    return kind
