"""Intervals that say which population they speak of: these 10 classes, or a new class.

Scores come as float arrays of shape (T, S) -- one row per held-out triple (a sorted
3-tuple of class ids), one column per seed, NaN where a trial is missing -- or (M, T, S)
for M metrics at once. The triples are not independent units: in the full design each
of the 10 classes sits in 36 of the 120 triples, so resampling triples as if independent
(`analysis.stats.Bootstrap`) ignores the class effects they share and under-covers. Every
interval here is one of two named kinds:

    THESE_CLASSES -- the 10 classes (and so the 120 triples) fixed; the uncertainty is
    training randomness only. The stratified bootstrap of rliable (Agarwal et al., 2021,
    "Deep RL at the edge of the statistical precipice"): each resample redraws, within
    every triple, its S_t present seeds with replacement; triples are kept. Each triple's
    resampled deviations are scaled by sqrt(S_t / (S_t - 1)), undoing the (S_t - 1) / S_t
    bias of the bootstrap's seed variance; with S seeds in every triple this is exactly the
    percentile interval rescaled about the point estimate by sqrt(S / (S - 1)). A triple
    with one seed carries no estimate of seed variance and contributes none; with one seed
    in every triple there is no interval (NaN bounds), not a zero-width one.

    NEW_CLASS -- the classes are a sample from a population of classes. The delete-a-group
    jackknife with classes as groups (Efron & Stein, 1981; Efron & Tibshirani, 1993, ch.
    11): for each class c the data hold, drop every triple containing c and recompute the
    statistic; SE = sqrt((n - 1) / n * sum_c (theta_{-c} - mean theta_{-c})^2) and the
    interval is theta_hat +- t_{n-1, (1 + conf) / 2} * SE, n the number of classes. A
    bootstrap over classes must weight a triple by the product of its classes' weights
    (Owen, 2007, "The pigeonhole bootstrap"); that product-weight bootstrap was measured
    elsewhere to cover only 87.5% with class sd 0.10, so verdicts use the jackknife. For
    triple or seed noise alone the jackknife SE is about twice the true one (each trial
    falls in 3 of the 10 class groups; the jackknife assumes one; 99.8% coverage with no
    class effect at all), so where class effects are small the interval is conservative.

Means, paired differences and P(X > Y) on matched (seed, triple) cells are linear in the
trials, so the bootstrap resamples them as one matrix product with a cached (B, T*S)
count matrix, drawn from `numpy.random.default_rng(seed)` and shared by every statistic
of a `Design` (common random numbers; designs with missing trials reuse the same uniform
draws). 60 metrics x 120 triples x 20 seeds x 10,000 resamples take about 1.2 s on 2 idle
cores (0.25 s once the count matrix is cached). Coverage of the nominal 95% intervals, by
`tests/test_inference.py` (crossed design: value = mu + the triple's 3 class effects +
triple noise + seed noise; 10 classes, 120 triples, 5 seeds; 4,000 sweeps, 2,000
resamples; one missing trial per architecture):

    scenario (class, triple, seed sd)   NEW_CLASS mean / diff   THESE_CLASSES mean / diff
    class-dominated (0.10, 0.01, 0.03)  94.9% / 94.7%           94.2% / 94.5%
    seed-dominated (0.005, 0.01, 0.03)  97.3% / 98.5%           95.0% / 95.1%
    old triple bootstrap (analysis.stats), class-dominated: 21.6% of the population mean

Per-class held out minus seen (`Design.class_gap`, class 0, partner effects sd 0.05 /
0.005, triple 0.01, seed 0.03): NEW_CLASS (partner jackknife) 95.5% / 99.3%,
THESE_CLASSES 95.3% / 95.3%.

    design = Design(triples, n_seeds=5)
    design.means(stack, kind=NEW_CLASS)                  # [Estimate] per metric
    design.difference(x, y, kind=THESE_CLASSES, confidence=0.90)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from analysis.stats import Estimate

THESE_CLASSES = "these classes"
NEW_CLASS = "a new class"
KINDS = (THESE_CLASSES, NEW_CLASS)
CAPTIONS = {
    THESE_CLASSES: "CI for these 10 classes: seeds resampled within each triple (stratified "
    "bootstrap), widened by sqrt(S/(S-1)); covers the mean these classes would give with "
    "new seeds",
    NEW_CLASS: "CI for a new class: leave-one-class-out jackknife, t with n_classes - 1 df; "
    "covers the mean over a population of classes the 10 were drawn from",
}
CLASS_GAP_CAPTION = (
    "held out minus seen, per class c: mean over trials whose triple contains c minus mean "
    "over trials whose triple does not; CI: jackknife over c's partner classes (drop partner "
    "p from both sides), t with n_partners - 1 df; covers the gap class c would show with "
    "other classes drawn from their population and new seeds"
)
_CHUNK = 1000  # resamples drawn per block; fixed so that draws do not depend on memory
_CACHE = 8  # count matrices kept per design, one per pattern of missing trials


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


# --- the class jackknife (NEW_CLASS) -----------------------------------------------------
def _jackknife(value, loo, present, confidence):
    """Interval bounds (M,) from leave-one-group-out statistics `loo` (G, M); `present`
    (G, M) marks the groups the data hold. NaN bounds when fewer than 2 groups or when a
    leave-out is undefined (nothing left)."""
    n = present.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.where(present, loo, 0.0).sum(axis=0) / n
        ss = np.where(present, (loo - centre) ** 2, 0.0).sum(axis=0)
        half = sps.t.ppf((1 + confidence) / 2, np.maximum(n - 1, 1)) * np.sqrt((n - 1) / n * ss)
    half = np.where((n < 2) | (present & np.isnan(loo)).any(axis=0), np.nan, half)
    return value - half, value + half


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
    stack: np.ndarray, triples: Sequence, confidence: float = 0.95
) -> list[Estimate]:
    """NEW_CLASS mean over trials of each metric, by the leave-one-class-out jackknife.

    Args:
        stack: (M, T, S) scores, NaN where missing.
        triples: the T triples, rows of `stack`.
        confidence: two-sided level of the t interval.

    Returns:
        M Estimates; n counts trials.
    """
    tri = as_triples(triples)
    if stack.ndim != 3 or stack.shape[1] != len(tri):
        raise ValueError(f"stack of shape {stack.shape} for {len(tri)} triples")
    sums, counts = _sums(stack)
    value, loo, present = _group_means(sums, counts, incidence(tri)[1])
    low, high = _jackknife(value, loo, present, confidence)
    return _estimates(value, low, high, counts.sum(axis=1))


def jackknife_statistic(
    fn: Callable, scores: np.ndarray, triples: Sequence, confidence: float = 0.95
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
    low, high = _jackknife(np.array([value]), loo[:, None], present[:, None], confidence)
    return Estimate(value, float(low[0]), float(high[0]), int((~np.isnan(scores)).sum()))


def _estimates(value, low, high, n) -> list[Estimate]:
    return [
        Estimate(float(v), float(lo), float(hi), int(k))
        if k > 0
        else Estimate(np.nan, np.nan, np.nan, 0)
        for v, lo, hi, k in zip(value, low, high, n, strict=True)
    ]


# --- the design and its seed bootstrap (THESE_CLASSES) ----------------------------------
class Design:
    """The triples and seeds of a sweep, with the resamples every statistic of it shares.

    Args:
        triples: the T held-out triples (tuples of class ids or strings like "0-6-9"),
            in the row order of every score array.
        n_seeds: S, the columns of every score array.
        resamples: B, bootstrap resamples for THESE_CLASSES intervals.
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
        self._counts: dict[bytes, np.ndarray] = {}

    # --- resamples ---
    def _draws(self, mask: np.ndarray) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
        """Blocks of resamples: (rows, seed index (b, T, S), valid (b, T, S)). Draw j < S_t
        of triple t is one of its S_t present seeds; the uniforms do not depend on `mask`."""
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
            yield slice(b0, b0 + b), seed_index, np.broadcast_to(valid, (b, self.T, self.S))

    def counts(self, mask: np.ndarray | None = None) -> np.ndarray:
        """(B, T*S) how often each resample drew each trial, for the trials `mask` (T, S)
        marks present (default: all). Row sums per triple are its S_t. Cached per mask."""
        mask = np.ones((self.T, self.S), bool) if mask is None else mask
        key = mask.tobytes()
        if key not in self._counts:
            size = self.T * self.S
            out = np.zeros((self.B, size), np.uint8 if self.S < 256 else np.uint16)
            cell = np.arange(self.T)[None, :, None] * self.S
            for rows, seed_index, valid in self._draws(mask):
                b = rows.stop - rows.start
                flat = (np.arange(b)[:, None, None] * size + cell + seed_index)[valid]
                out[rows] = np.bincount(flat, minlength=b * size).reshape(b, size)
            if len(self._counts) >= _CACHE:
                self._counts.pop(next(iter(self._counts)))
            self._counts[key] = out
        return self._counts[key]

    def _linear(self, values: np.ndarray, weights: np.ndarray, confidence: float):
        """THESE_CLASSES interval of linear statistics sum_ts weights * values.

        Args:
            values: (M, T, S), NaN where missing.
            weights: (M, T, S) or broadcastable; ignored where `values` is NaN.

        Returns:
            value, low, high: three (M,).
        """
        mask = ~np.isnan(values)
        term = np.where(mask, values * np.where(mask, weights, 0.0), 0.0)
        value = term.sum(axis=(1, 2))
        low, high = np.full(len(values), np.nan), np.full(len(values), np.nan)
        alpha = (1 - confidence) / 2
        keys = [m.tobytes() for m in mask]
        for key in dict.fromkeys(keys):
            idx = np.array([i for i, k in enumerate(keys) if k == key])
            m, n_present = mask[idx[0]], mask[idx[0]].sum(axis=1)
            scale = np.sqrt(n_present / np.maximum(n_present - 1, 1))
            centred = (
                term[idx] - term[idx].sum(axis=2, keepdims=True) / np.maximum(n_present, 1)[:, None]
            )
            centred = np.where(m, centred * scale[:, None], 0.0).reshape(len(idx), -1).T
            counts = self.counts(m)
            dev = np.concatenate(
                [
                    counts[b : b + _CHUNK].astype(np.float64) @ centred
                    for b in range(0, self.B, _CHUNK)
                ]
            )  # (B, len(idx)): resampled statistic minus its point value
            q = np.quantile(dev, [alpha, 1 - alpha], axis=0)
            if (n_present > 1).any():  # else no triple estimates seed variance: no interval
                low[idx], high[idx] = value[idx] + q[0], value[idx] + q[1]
        return value, low, high

    def _check(self, stack: np.ndarray) -> np.ndarray:
        stack = np.asarray(stack, dtype=np.float64)
        if stack.ndim != 3 or stack.shape[1:] != (self.T, self.S):
            raise ValueError(f"scores of shape {stack.shape[1:]} on a ({self.T}, {self.S}) design")
        return stack

    # --- statistics ---
    def means(
        self, stack: np.ndarray, *, kind: str, confidence: float | None = None
    ) -> list[Estimate]:
        """Mean over trials of each of M metrics, with an interval of the given kind.

        Args:
            stack: (M, T, S) scores, NaN where missing.
            kind: THESE_CLASSES or NEW_CLASS.
            confidence: two-sided level; default the design's.

        Returns:
            M Estimates; n counts trials.
        """
        stack, level = self._check(stack), _level(confidence, self.confidence)
        if _kind(kind) == NEW_CLASS:
            return jackknife_means(stack, self.triples, level)
        n = (~np.isnan(stack)).sum(axis=(1, 2))
        return _estimates(*self._linear(stack, 1.0 / np.maximum(n, 1)[:, None, None], level), n)

    def mean(self, scores: np.ndarray, *, kind: str, confidence: float | None = None) -> Estimate:
        """Mean over trials of (T, S) `scores` with its interval."""
        return self.means(np.asarray(scores)[None], kind=kind, confidence=confidence)[0]

    def difference(self, x, y, *, kind: str, confidence: float | None = None) -> Estimate:
        """Paired mean difference x - y over the trials present in both. `x, y`: (T, S)."""
        if np.shape(x) != np.shape(y):
            raise ValueError(f"x {np.shape(x)} and y {np.shape(y)} differ in shape")
        return self.mean(np.asarray(x) - np.asarray(y), kind=kind, confidence=confidence)

    def probability_of_improvement(self, x, y, *, kind: str, confidence=None) -> Estimate:
        """P(X > Y) paired on (seed, triple): the mean over cells present in both of
        [x > y] + 0.5 [x == y] (unlike rliable's all-pairs version, which compares every
        seed pair within a triple). Matched cells are resampled together. `x, y`: (T, S)."""
        e = self.mean(
            paired_improvement(np.asarray(x), np.asarray(y)), kind=kind, confidence=confidence
        )
        return Estimate(e.value, max(e.low, 0.0), min(e.high, 1.0), e.n) if e.n else e

    def statistic(self, fn: Callable, scores, *, kind: str, confidence=None) -> Estimate:
        """Any statistic of a (T, S) grid, e.g. `analysis.stats.iqm`.

        For THESE_CLASSES `fn` must map (b, T, S) -> (b,) and treat seeds as exchangeable:
        a resampled triple holds its S_t draws in its first S_t columns, NaN after. The
        percentile interval is rescaled about the point value by sqrt(n / (n - T')), n the
        trials in the T' triples with two or more seeds (= sqrt(S / (S - 1)) when all have
        S). The resamples are materialised in blocks of (1000, T, S). For NEW_CLASS `fn`
        maps (T', S) -> scalar on the triples left after dropping a class.
        """
        scores = self._check(np.asarray(scores)[None])[0]
        level = _level(confidence, self.confidence)
        if _kind(kind) == NEW_CLASS:
            return jackknife_statistic(fn, scores, self.triples, level)
        mask = ~np.isnan(scores)
        if not mask.any():
            return Estimate(np.nan, np.nan, np.nan, 0)
        with np.errstate(all="ignore"):
            value = float(fn(scores))
            boot = np.concatenate(
                [
                    fn(
                        np.where(
                            valid, scores[np.arange(self.T)[None, :, None], seed_index], np.nan
                        )
                    )
                    for _, seed_index, valid in self._draws(mask)
                ]
            )
        n_present = mask.sum(axis=1)
        if not (n_present > 1).any():  # no triple estimates seed variance: no interval
            return Estimate(value, np.nan, np.nan, int(mask.sum()))
        trials = n_present[n_present > 1].sum()
        scale = np.sqrt(trials / max(trials - (n_present > 1).sum(), 1))
        alpha = (1 - level) / 2
        low, high = value + scale * (np.nanquantile(boot, [alpha, 1 - alpha]) - value)
        return Estimate(value, float(low), float(high), int(mask.sum()))

    def class_gaps(self, held, seen, c: int, *, kind: str, confidence=None) -> list[ClassGap]:
        """Class c's rate when held out, when seen, and held out minus seen, per metric.

        NEW_CLASS: the partner jackknife -- for each other class p, drop every triple
        holding p from both sides and recompute; t interval with n_partners - 1 df. It
        covers the gap c would show with partner classes drawn anew from their population
        (and new seeds); see CLASS_GAP_CAPTION. THESE_CLASSES: seeds resampled within
        triples; covers the gap with these partners, given new seeds. Either way the two
        sides also differ in how many other classes are held out (2 vs 3); the gap
        includes that.

        Args:
            held: (M, T, S) rates; only the triples holding c count (others ignored).
            seen: (M, T, S) rates; only the triples not holding c count.
            c: the class id.
            kind: THESE_CLASSES or NEW_CLASS.
            confidence: two-sided level; default the design's.
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
            parts = [_estimates(v, *_jackknife(v, lo, p, level), n) for v, lo, p, n in rows]
        else:
            both = np.where(has_c, held, seen)
            w_held = 1.0 / np.maximum(n_held, 1)[:, None, None]
            w_seen = 1.0 / np.maximum(n_seen, 1)[:, None, None]
            parts = [
                _estimates(*self._linear(held, w_held, level), n_held),
                _estimates(*self._linear(seen, w_seen, level), n_seen),
                _estimates(
                    *self._linear(both, np.where(has_c, w_held, -w_seen), level), n_held + n_seen
                ),
            ]
        gaps = [ClassGap(*p) for p in zip(*parts, strict=True)]
        return [
            g
            if g.held.n and g.seen.n
            else ClassGap(g.held, g.seen, Estimate(np.nan, np.nan, np.nan, 0))
            for g in gaps
        ]

    def class_gap(self, held, seen, c: int, *, kind: str, confidence=None) -> ClassGap:
        """`class_gaps` for one metric: `held, seen` (T, S)."""
        return self.class_gaps(
            np.asarray(held)[None], np.asarray(seen)[None], c, kind=kind, confidence=confidence
        )[0]


def _level(confidence: float | None, default: float) -> float:
    return default if confidence is None else confidence


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown interval kind {kind!r}; valid: {', '.join(KINDS)}")
    return kind


# --- single trials and verdicts --------------------------------------------------------
def prediction_interval(values: np.ndarray, conf: float = 0.95) -> Estimate:
    """Where one new trial falls: the central `conf` share of single-trial values.

    Args:
        values: scores of any shape, e.g. (T, S); NaN ignored.

    Returns:
        Estimate(median, (1 - conf) / 2 and (1 + conf) / 2 percentiles, trials).
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return Estimate(np.nan, np.nan, np.nan, 0)
    low, mid, high = np.quantile(v, [(1 - conf) / 2, 0.5, (1 + conf) / 2])
    return Estimate(float(mid), float(low), float(high), int(v.size))


def percentile_of(value: float, values: np.ndarray) -> float:
    """Mid-rank percentile (0-100) of `value` among single-trial `values` (any shape, NaN
    ignored): 100 * (#below + 0.5 * #equal) / n. NaN when there is no trial."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size == 0 or np.isnan(value):
        return np.nan
    return float(100 * ((v < value).sum() + 0.5 * (v == value).sum()) / v.size)


def tost(estimate_90: Estimate, margin: float) -> str:
    """Equivalence by two one-sided tests at level 0.05 each.

    Args:
        estimate_90: a difference with its 90% interval (confidence=0.90).
        margin: the equivalence margin, > 0.

    Returns:
        "equivalent" when the interval lies inside (-margin, margin); "not equivalent"
        when it lies wholly outside it; else (or NaN) "inconclusive".
    """
    if margin <= 0:
        raise ValueError(f"margin must be positive, got {margin}")
    low, high = estimate_90.low, estimate_90.high
    if np.isnan(low) or np.isnan(high):
        return "inconclusive"
    if -margin < low and high < margin:
        return "equivalent"
    return "not equivalent" if low >= margin or high <= -margin else "inconclusive"


def greater_than(estimate_95: Estimate, bound: float = 0.0) -> str:
    """A "greater than `bound`" claim from a 95% interval (confidence=0.95): "greater" when
    the interval lies above `bound`, "not greater" when it lies wholly at or below it,
    else (or NaN) "inconclusive"."""
    low, high = estimate_95.low, estimate_95.high
    if np.isnan(low) or np.isnan(high):
        return "inconclusive"
    if low > bound:
        return "greater"
    return "not greater" if high <= bound else "inconclusive"
