"""Exact answers on tiny designs, and coverage of both interval kinds by simulation
(the scenarios of tests/simulate_coverage.py, with fewer sweeps)."""

import functools
import itertools
from dataclasses import replace

import numpy as np
import pytest
import simulate_bounds as bounds_sim
import simulate_coverage as sim
from scipy import special
from scipy import stats as sps

from analysis import logitnormal, stats
from analysis.bounded import combined, interval, p_value
from analysis.class_gap import class_gap, class_gaps
from analysis.inference import (
    NEW_CLASS,
    SIGNED,
    THESE_CLASSES,
    UNIT,
    Intervals,
    as_triples,
    incidence,
    jackknife_means,
)
from analysis.jackknife import class_values
from analysis.stats import Estimate
from analysis.verdicts import greater_than, holm, percentile_of, single_trial_band, tost
from fakedet.protocol import BALANCED_TRIPLES

nan = np.nan
ALL = list(itertools.combinations(range(10), 3))
FOUR = list(itertools.combinations(range(4), 3))  # (0,1,2) (0,1,3) (0,2,3) (1,2,3)


# --- exact answers ------------------------------------------------------------------------
def test_triples_from_strings_or_tuples():
    assert as_triples(["0-6-9", (1, 2, 3)]).tolist() == [[0, 6, 9], [1, 2, 3]]
    for bad in (["0-1"], [(1, 1, 2)], ["a-b-c"], []):
        with pytest.raises(ValueError):
            as_triples(bad)


def test_class_jackknife_by_hand():
    # dropping class c leaves exactly the one triple without c: theta_{-c} = 6, 3, 2, 1
    x = np.array([[1.0], [2.0], [3.0], [6.0]])
    e = Intervals(FOUR, 1).mean(x, kind=NEW_CLASS)
    se = np.sqrt(3 / 4 * (3**2 + 0**2 + 1**2 + 2**2))  # deviations from their mean 3
    half = sps.t.ppf(0.975, 3) * se
    assert (e.value, e.n) == (3.0, 4)
    assert (e.low, e.high) == pytest.approx((3 - half, 3 + half))
    g = Intervals(FOUR, 1).statistic(stats.mean, x, kind=NEW_CLASS)
    assert (g.low, g.high) == pytest.approx((e.low, e.high))


def test_class_jackknife_counts_only_classes_with_data():
    # five classes, but no trial of a triple holding class 4: the classes are 0..3
    five = list(itertools.combinations(range(5), 3))
    x = np.full((10, 2), nan)
    x[[five.index(t) for t in FOUR]] = [[1.0, 1.0], [2.0, nan], [3.0, 3.0], [6.0, 6.0]]
    e = jackknife_means(x[None], five)[0]
    half = sps.t.ppf(0.975, 3) * np.sqrt(3 / 4 * (3**2 + 0**2 + 1**2 + 2**2))  # loo 6, 3, 2, 1
    assert e.value == pytest.approx(22 / 7) and e.n == 7
    assert (e.low, e.high) == pytest.approx((22 / 7 - half, 22 / 7 + half))
    # dropping class 0 (or 1) leaves no trial: the interval is undefined
    e = jackknife_means(np.array([[[1.0], [3.0]]]), [(0, 1, 2), (0, 1, 3)])[0]
    assert e.value == 2.0 and np.isnan(e.low) and np.isnan(e.high)


def test_seed_variance_by_hand():
    # one triple, seeds [0, 1]: the mean's variance is s^2 / 2 = 0.5 / 2, t with 1 df
    e = Intervals([(0, 1, 2)], 2).mean(np.array([[0.0, 1.0]]), kind=THESE_CLASSES)
    half = sps.t.ppf(0.975, 1) * 0.5
    assert (e.value, e.n, e.spread.df) == (0.5, 2, 1)
    assert (e.low, e.high) == pytest.approx((0.5 - half, 0.5 + half))


def test_one_seed_triples_take_the_pooled_seed_variance():
    x = np.array([[0.0, 1.0, nan], [5.0, nan, nan], [2.0, 2.0, 2.0]])
    d = Intervals([(0, 1, 2), (0, 1, 3), (0, 2, 3)], 3)
    e = d.mean(x, kind=THESE_CLASSES)
    assert e.value == pytest.approx(12 / 6) and e.n == 6
    # pooled within-triple variance (0.5 + 0) / (1 + 2); each trial weighs 1/6
    own, borrowed = 2 * 0.5 / 36, (1 / 6) / 36
    assert e.spread.se == pytest.approx(np.sqrt(own + borrowed))
    assert e.spread.df == pytest.approx((own + borrowed) ** 2 / (own**2 + borrowed**2 / 3))
    alone = d.mean(
        np.array([[1.0, nan, nan], [5.0, nan, nan], [2.0, nan, nan]]), kind=THESE_CLASSES
    )
    assert alone.value == pytest.approx(8 / 3) and np.isnan(alone.low)  # no seed variance at all


def test_bootstrap_statistic_agrees_with_the_exact_variance():
    x = np.random.default_rng(1).random((4, 3))
    d = Intervals(FOUR, 3, resamples=4000, seed=2)
    exact, boot = d.mean(x, kind=THESE_CLASSES), d.statistic(stats.mean, x, kind=THESE_CLASSES)
    # the bootstrap: t with n - T = 8 df; the exact variance: Satterthwaite's df, at most that
    assert boot.value == exact.value and boot.spread.df == 8 and 1 < exact.spread.df <= 8
    assert boot.spread.se == pytest.approx(exact.spread.se, rel=0.05)
    many = d.means(np.stack([x, 2 * x, np.full((4, 3), nan)]), kind=THESE_CLASSES)
    assert (many[0].low, many[0].high) == pytest.approx((exact.low, exact.high))
    assert many[1].high == pytest.approx(2 * exact.high)
    assert many[2].n == 0 and np.isnan(many[2].value)
    x[0, 1:] = nan  # a one-seed triple: the bootstrap has no seed variance for it
    assert np.isnan(d.statistic(stats.mean, x, kind=THESE_CLASSES).low)


def test_constant_scores_give_a_point_interval():
    for kind, bounds in itertools.product((THESE_CLASSES, NEW_CLASS), (UNIT, (-np.inf, np.inf))):
        e = Intervals(FOUR, 2, 100).mean(np.full((4, 2), 0.25), kind=kind, bounds=bounds)
        assert (e.value, e.low, e.high, e.n) == pytest.approx((0.25, 0.25, 0.25, 8))


def test_every_value_at_an_end_rests_on_the_units():
    # all 8 trials of 4 classes at 1: Clopper-Pearson for 4 of 4 (the classes, not the trials)
    e = Intervals(FOUR, 2).mean(np.ones((4, 2)), kind=NEW_CLASS, bounds=UNIT)
    assert (e.value, e.high) == (1.0, 1.0) and e.low == pytest.approx(0.025 ** (1 / 4))
    e = Intervals(FOUR, 2).mean(np.zeros((4, 2)), kind=THESE_CLASSES, bounds=UNIT)
    assert (e.value, e.low) == (0.0, 0.0) and e.high == pytest.approx(1 - 0.025 ** (1 / 8))


@pytest.mark.parametrize("kind", [NEW_CLASS, THESE_CLASSES])
def test_bounded_intervals_stay_inside_their_range(kind):
    rng = np.random.default_rng(3)
    for centre in (0.002, 0.5, 0.998):
        x = np.clip(centre + rng.normal(0, 0.05, (4, 2)), 0, 1)
        e = Intervals(FOUR, 2).mean(x, kind=kind, bounds=UNIT)
        assert 0 <= e.low <= e.value <= e.high <= 1, (centre, e)
        wide = Intervals(FOUR, 2).mean(x, kind=kind)  # unbounded: may leave [0, 1]
        assert wide.spread.se == pytest.approx(e.spread.se)
        d = Intervals(FOUR, 2).mean(2 * x - 1, kind=kind, bounds=SIGNED)
        assert -1 <= d.low <= d.high <= 1


def test_p_values_agree_with_the_interval():
    rng = np.random.default_rng(8)
    d = Intervals(FOUR, 3)
    for kind, bounds in itertools.product((NEW_CLASS, THESE_CLASSES), (UNIT, (-np.inf, np.inf))):
        e = d.mean(0.7 + rng.normal(0, 0.1, (4, 3)), kind=kind, bounds=bounds)
        for bound in (e.low, e.high):
            side = "above" if bound == e.low else "below"
            assert p_value(e, bound, side) == pytest.approx(0.025, abs=1e-6), (kind, bounds)
        assert interval(e.value, e.spread, 0.95) == pytest.approx((e.low, e.high))
        assert p_value(e, e.value, "above") > 0.3


def test_holm():
    assert holm([0.01, 0.04, 0.03, nan], 0.05) == [True, False, False, False]
    assert holm([0.01, 0.02, 0.03], 0.05) == [True, True, True]  # 0.01 <= .05/3, .02 <= .025
    assert holm([], 0.05) == []


def test_paired_difference_uses_pairs_present_in_both():
    x = np.array([[1.0, 2.0], [1.0, nan], [1.0, 1.0], [0.0, 0.0]])
    y = np.array([[0.0, 1.0], [0.0, 0.0], [nan, 0.0], [-1.0, -1.0]])
    for kind in (THESE_CLASSES, NEW_CLASS):
        d = Intervals(FOUR, 2, 200).difference(x, y, kind=kind)
        assert d.value == 1.0 and d.n == 6


def test_probability_of_improvement_exact():
    x = np.array([[1.0, 2.0], [3.0, nan], [1.0, 1.0], [0.0, 5.0]])
    y = np.array([[0.0, 2.0], [4.0, 1.0], [1.0, 0.0], [1.0, 4.0]])
    # matched cells: 1>0, 2=2, 3<4, 1=1, 1>0, 0<1, 5>4 -> (1 + .5 + 0 + .5 + 1 + 0 + 1) / 7
    for kind in (THESE_CLASSES, NEW_CLASS):
        p = Intervals(FOUR, 2, 200).probability_of_improvement(x, y, kind=kind)
        assert p.value == pytest.approx(4 / 7) and p.n == 7 and 0 <= p.low <= p.high <= 1
    # every cell agrees: Clopper-Pearson for all wins over the independent cells, not [1, 1];
    # for a new class each cell rests on 3 classes, so 10 classes give 10 / 3 of them: the
    # pilot's 8 of 8 wins cannot name a winner (issue 23: 9% of sweeps at P = 0.5 did)
    pilot = Intervals(sim.PILOT, 1).probability_of_improvement(
        np.ones((8, 1)), np.zeros((8, 1)), kind=NEW_CLASS
    )
    assert (pilot.value, pilot.high) == (1, 1) and pilot.low == pytest.approx(0.025 ** (3 / 10))
    assert pilot.low < 0.5
    these = Intervals(sim.PILOT, 2).probability_of_improvement(
        np.ones((8, 2)), np.zeros((8, 2)), kind=THESE_CLASSES
    )
    assert these.low == pytest.approx(0.025 ** (1 / 16))  # these classes: the 16 cells
    # 4 classes: 4 / 3 units, though there are 7 cells
    p = Intervals(FOUR, 2, 50).probability_of_improvement(x + 9, y, kind=NEW_CLASS)
    assert p.value == 1 and p.low == pytest.approx(0.025 ** (3 / 4))


def test_shape_and_kind_errors():
    d = Intervals(FOUR, 2, 50)
    with pytest.raises(ValueError, match="design"):
        d.mean(np.zeros((4, 3)), kind=THESE_CLASSES)
    with pytest.raises(ValueError, match="shape"):
        d.difference(np.zeros((4, 2)), np.zeros((4, 1)), kind=NEW_CLASS)
    with pytest.raises(ValueError, match="valid"):
        d.mean(np.zeros((4, 2)), kind="these triples")
    with pytest.raises(ValueError, match="no triple"):
        class_gap(d, np.zeros((4, 2)), np.zeros((4, 2)), 7, kind=NEW_CLASS)
    with pytest.raises(ValueError):
        jackknife_means(np.zeros((1, 3, 2)), FOUR)


def test_single_trial_band_and_its_exact_coverage():
    # j = floor((n + 1) * 0.025): 101 trials -> the 2nd smallest and largest, 98 / 102
    b = single_trial_band(np.append(np.arange(101.0), nan))
    assert (b.value, b.low, b.high, b.n) == (50.0, 1.0, 99.0, 101)
    assert b.coverage == pytest.approx(98 / 102)
    for n, j in ((8, 1), (38, 1), (39, 1), (79, 2), (600, 15)):
        b = single_trial_band(np.arange(float(n)))
        assert (b.low, b.high) == (j - 1, n - j) and b.coverage == pytest.approx(
            (n + 1 - 2 * j) / (n + 1)
        )
    assert (
        single_trial_band(np.arange(38.0)).coverage
        < 0.95
        <= single_trial_band(np.arange(39.0)).coverage
    )
    assert single_trial_band(np.arange(8.0), confidence=0.5).coverage == pytest.approx(5 / 9)
    assert np.isnan(single_trial_band(np.full(3, nan)).coverage)
    ties = np.array([[1.0, 2.0], [2.0, 3.0], [nan, nan]])
    assert [percentile_of(a, ties) for a in (0, 1, 2, 2.5, 3, 4)] == [0, 12.5, 50, 75, 87.5, 100]
    assert np.isnan(percentile_of(1.0, np.full(3, nan)))


@pytest.mark.parametrize(
    "low,high,expected",
    [
        (-0.02, 0.03, "equivalent"),
        (0.01, 0.08, "inconclusive"),
        (-0.08, 0.08, "inconclusive"),
        (0.05, 0.09, "not equivalent"),  # touching the margin is outside (-m, m)
        (-0.2, -0.06, "not equivalent"),
        (nan, nan, "inconclusive"),
    ],
)
def test_tost(low, high, expected):
    assert tost(Estimate(0.0, low, high), margin=0.05) == expected


def test_greater_than():
    assert greater_than(Estimate(0.1, 0.01, 0.2)) == "greater"
    assert greater_than(Estimate(0.0, -0.01, 0.2)) == "inconclusive"
    assert greater_than(Estimate(-0.1, -0.2, 0.0)) == "not greater"
    assert greater_than(Estimate(0.6, 0.55, 0.7), bound=0.5) == "greater"
    with pytest.raises(ValueError):
        tost(Estimate(0, 0, 0), margin=0)


def test_class_gap_by_brute_force():
    rng = np.random.default_rng(4)
    rates = rng.random((120, 3))
    has0 = (np.array(ALL) == 0).any(axis=1)
    g = class_gap(Intervals(ALL, 3, 200), rates, rates, 0, kind=NEW_CLASS)  # roles masked inside
    assert g.held.value == pytest.approx(rates[has0].mean())
    assert g.seen.value == pytest.approx(rates[~has0].mean())
    assert g.difference.n == 360
    loo = []
    for p in range(1, 10):
        keep = ~(np.array(ALL) == p).any(axis=1)
        loo.append(rates[keep & has0].mean() - rates[keep & ~has0].mean())
    se = np.sqrt(8 / 9 * ((np.array(loo) - np.mean(loo)) ** 2).sum())
    half = sps.t.ppf(0.975, 8) * se
    assert (g.difference.low, g.difference.high) == pytest.approx(
        (g.difference.value - half, g.difference.value + half)
    )


def test_a_difference_of_two_rates_at_one_keeps_their_floor():
    """Issue 23's reproduction: two all-ones arrays on 10 x 1 gave 0.0 [0.0, 0.0] and TOST
    "equivalent"; the difference keeps the rates' floor, Clopper-Pearson over the units."""
    design, ones = Intervals(BALANCED_TRIPLES[:10], 1), np.ones((10, 1))
    rate = design.mean(ones, kind=NEW_CLASS, bounds=UNIT)
    assert (rate.value, rate.high) == (1.0, 1.0) and rate.low == pytest.approx(0.025 ** (1 / 10))
    d = design.difference(ones, ones, kind=NEW_CLASS, bounds=SIGNED)
    assert d.value == 0 and (d.low, d.high) == pytest.approx((rate.low - 1, 1 - rate.low))
    assert tost(d, 0.05) == "inconclusive"
    assert p_value(d, d.low, "above") == pytest.approx(0.025)  # p-values follow the interval
    # these classes: seeds that agree within every triple, both rates at 1
    two = Intervals(BALANCED_TRIPLES[:10], 2)
    d = two.difference(np.ones((10, 2)), np.ones((10, 2)), kind=THESE_CLASSES, bounds=SIGNED)
    assert d.low < -0.1 and d.high > 0.1 and tost(d, 0.05) == "inconclusive"
    # the tables' path (several metrics at once) and the per-class gap do the same
    many = two.differences(np.ones((2, 10, 2)), np.ones((2, 10, 2)), kind=NEW_CLASS)
    assert all(e.low < -0.2 and e.high > 0.2 for e in many)
    gap = class_gap(two, np.ones((10, 2)), np.ones((10, 2)), 0, kind=NEW_CLASS, bounds=UNIT)
    assert gap.difference.low < 0 < gap.difference.high
    # away from the ends the difference's interval is close to its own (not equal: the
    # logit-normal side of x on [0, 1] and of x - 0.1 on [-1, 1] are not shifts of each
    # other), and no wider than x's own interval
    x = np.random.default_rng(0).uniform(0.4, 0.6, (10, 2))
    alone = two.mean(x - 0.1, kind=NEW_CLASS, bounds=SIGNED)
    paired = two.difference(x, np.full((10, 2), 0.1), kind=NEW_CLASS, bounds=SIGNED)
    assert (paired.low, paired.high) == pytest.approx((alone.low, alone.high), abs=0.04)
    rate = two.mean(x, kind=NEW_CLASS, bounds=UNIT)
    assert paired.high - paired.low == pytest.approx(rate.high - rate.low)


def test_two_scorings_of_the_same_images_get_a_difference_about_as_wide_as_they_differ():
    """Two scorings of the same images differ by under 0.001 in every trial, yet the MOVER
    of their lopsided new-class intervals keeps their lopsidedness; where every class's rate
    is measured (none within the noise of an end), the paired logit-normal interval (the
    classes' (x, y) logits as a bivariate normal sample) is about as wide as the per-trial
    differences, and its p-values follow it. Where classes sit within the noise of an end
    (censored in a part's fit) their logits are noise: the MOVER stays."""
    rng = np.random.default_rng(7)
    tri = np.array(BALANCED_TRIPLES[:10])
    rates = special.expit(-0.5 + 1.2 * sps.norm.ppf((np.arange(10) + 0.5) / 10))  # 0.13-0.83
    x = rates[tri].mean(axis=1)[:, None] + rng.normal(0, 0.01, (10, 2))
    y = x + rng.uniform(-0.0009, 0.0009, x.shape)
    design = Intervals(tri, 2)
    d = design.difference(x, y, kind=NEW_CLASS, bounds=SIGNED)
    assert d.spread.pair is not None and d.spread.parts is None
    assert d.low < d.value < d.high and d.high - d.low < 0.01
    assert tost(d, 0.05) == "equivalent"
    assert p_value(d, d.low, "above") == pytest.approx(0.025, abs=1e-6)
    assert p_value(d, d.high, "below") == pytest.approx(0.025, abs=1e-6)
    # the rule it replaced: the MOVER of the two means' intervals, even at correlation 1
    ex, ey = design.means(np.stack([x, y]), kind=NEW_CLASS, bounds=UNIT)
    mover = combined(ex, ey, replace(d, spread=replace(d.spread, pair=None)), 0.95, 1.0)
    assert mover.high - mover.low > 0.05 > 5 * (d.high - d.low)
    assert tost(mover, 0.02) == "inconclusive" and tost(d, 0.02) == "equivalent"
    # classes within the noise of 0: censored, so the MOVER of the parts' intervals
    near = special.expit(-7 + 2 * sps.norm.ppf((np.arange(10) + 0.5) / 10))[tri].mean(axis=1)
    x0 = np.clip(near[:, None] + rng.normal(0, 0.002, (10, 2)), 0, 1)
    d0 = design.difference(x0, x0 + 1e-4, kind=NEW_CLASS, bounds=SIGNED)
    assert d0.spread.pair is None and d0.spread.parts is not None
    # a part at its floor has no logit-normal fit: the MOVER of the floors stays
    floor = design.difference(np.ones((10, 2)), y, kind=NEW_CLASS, bounds=SIGNED)
    assert floor.spread.pair is None and floor.spread.parts is not None


def test_a_point_interval_never_shows_equivalence():
    assert tost(Estimate(0.0, 0.0, 0.0), 0.05) == "inconclusive"
    assert tost(Estimate(0.2, 0.2, 0.2), 0.05) == "not equivalent"


@pytest.mark.parametrize("n,s", [(20, 5), (40, 2), (40, 3), (40, 5), (60, 2), (120, 2)])
def test_rounding_never_gives_a_point_interval_at_an_end(n, s):
    """Weights summing to 1 - 1e-16 put the mean of ones a hair below 1: it is at 1."""
    design = Intervals(BALANCED_TRIPLES[:n], s)
    e = design.mean(np.ones((n, s)), kind=THESE_CLASSES, bounds=UNIT)
    assert e.value == e.high == 1.0 and e.low == pytest.approx(0.025 ** (1 / (n * s)))
    held, seen = np.zeros((n, s)), np.ones((n, s))  # class 0's gap at -1
    g = class_gap(design, held, seen, 0, kind=THESE_CLASSES, bounds=UNIT).difference
    assert g.value == g.low == -1.0 and g.high > -1.0


# --- coverage by simulation: 10 classes, all 120 triples, 5 seeds -------------------------
SWEEPS, RESAMPLES = 4000, 2000
TRIPLES = np.array(ALL)
SCENARIOS = {  # (class sd, triple sd, seed sd)
    "class-dominated": (0.10, 0.01, 0.03),
    "seed-dominated": (0.005, 0.01, 0.03),
}
MU_X, MU_Y = 0.60, 0.55


def _arch(rng, effects, triple_sd, seed, mu):
    """(SWEEPS, 120, 5) values of one architecture, and each sweep's mean conditional on
    its class and triple effects (the THESE_CLASSES target)."""
    fixed = mu + effects[:, TRIPLES].sum(axis=2) + rng.normal(0, triple_sd, (SWEEPS, 120))
    return fixed[:, :, None] + seed, fixed.mean(axis=1)


@functools.cache
def _simulate(name: str):
    """Two architectures per sweep, sharing class effects in part (correlation 0.8) and a
    seed's shared half of the noise; the population means are MU_X and MU_Y."""
    class_sd, triple_sd, seed_sd = SCENARIOS[name]
    rng = np.random.default_rng(list(SCENARIOS).index(name))
    a, b = rng.normal(0, class_sd, (2, SWEEPS, 10))
    shared, own_x, own_y = rng.normal(0, seed_sd / np.sqrt(2), (3, SWEEPS, 120, 5))
    x, cx = _arch(rng, a, triple_sd, shared + own_x, MU_X)
    y, cy = _arch(rng, 0.8 * a + 0.6 * b, triple_sd, shared + own_y, MU_Y)
    x[:, 7, 2] = y[:, 30, 4] = nan  # a missing trial on each side
    return name, x, y, cx, cy


@pytest.fixture(params=list(SCENARIOS))
def sweeps(request):
    return _simulate(request.param)


@pytest.fixture(scope="module")
def design():
    return Intervals(ALL, 5, resamples=RESAMPLES, seed=0)


def _coverage(estimates, target) -> float:
    """Share of the intervals that contain their target (a scalar or one per estimate)."""
    low, high = np.array([(e.low, e.high) for e in estimates]).T
    return float(np.mean((low <= target) & (target <= high)))


def test_new_class_interval_covers_the_population_mean(sweeps, design):
    name, x, y, _, _ = sweeps
    mean = _coverage(design.means(x, kind=NEW_CLASS, bounds=UNIT), MU_X)
    diff = _coverage(design.means(x - y, kind=NEW_CLASS, bounds=SIGNED), MU_X - MU_Y)
    print(f"{name}: NEW_CLASS mean {mean:.1%}, difference {diff:.1%}")
    assert mean >= 0.93 and diff >= 0.93, (name, mean, diff)


def test_these_classes_interval_covers_the_conditional_mean(sweeps, design):
    name, x, y, cx, cy = sweeps
    mean = _coverage(design.means(x, kind=THESE_CLASSES, bounds=UNIT), cx)
    diff = _coverage(design.means(x - y, kind=THESE_CLASSES, bounds=SIGNED), cx - cy)
    print(f"{name}: THESE_CLASSES mean {mean:.1%}, difference {diff:.1%}")
    assert 0.93 <= mean <= 0.97 and 0.93 <= diff <= 0.97, (name, mean, diff)


def _triple_bootstrap_means(stack, resamples=RESAMPLES, seed=0, confidence=0.95):
    """Release 0.2's interval: triples drawn with replacement, then seeds within each
    drawn triple, as if the triples were independent. (M, T, S) -> [(low, high)]."""
    _, T, S = stack.shape
    rng = np.random.default_rng(seed)
    cell = rng.integers(0, T, (resamples, T))[:, :, None] * S + rng.integers(
        0, S, (resamples, T, S)
    )
    counts = np.zeros((resamples, T * S))
    np.add.at(counts, (np.arange(resamples)[:, None], cell.reshape(resamples, -1)), 1)
    values = stack.reshape(len(stack), -1)
    present = ~np.isnan(values)
    boot = (counts @ np.where(present, values, 0.0).T) / (counts @ present.T)
    alpha = (1 - confidence) / 2
    low, high = np.nanquantile(boot, [alpha, 1 - alpha], axis=0)
    return [Estimate(np.nan, lo, hi) for lo, hi in zip(low, high, strict=True)]


def test_old_triple_bootstrap_under_covers_the_population_mean():
    name, x, _, _, _ = _simulate("class-dominated")
    old = _coverage(_triple_bootstrap_means(x[:500]), MU_X)
    print(f"{name}: old triple bootstrap {old:.1%}")
    assert old < 0.60, old


@pytest.mark.parametrize("partner_sd", [0.05, 0.005])
def test_class_gap_coverage(design, partner_sd):
    """Class 0's rate = 0.1 + DELTA when held out + the effects of the other held-out classes
    + triple and seed noise: NEW_CLASS covers DELTA (partner effects centred in their
    population), THESE_CLASSES the gap given these partner effects."""
    delta, n = 0.02, SWEEPS
    rng = np.random.default_rng(11)
    b = rng.normal(0, partner_sd, (n, 10))
    b[:, 0] = 0.0  # class 0 is no partner of itself
    has0 = (TRIPLES == 0).any(axis=1)
    fixed = 0.1 + delta * has0 + b[:, TRIPLES].sum(axis=2) + rng.normal(0, 0.01, (n, 120))
    rates = fixed[:, :, None] + rng.normal(0, 0.03, (n, 120, 5))
    given = fixed[:, has0].mean(axis=1) - fixed[:, ~has0].mean(axis=1)
    new = _coverage(
        [g.difference for g in class_gaps(design, rates, rates, 0, kind=NEW_CLASS, bounds=UNIT)],
        delta,
    )
    these = _coverage(
        [
            g.difference
            for g in class_gaps(design, rates, rates, 0, kind=THESE_CLASSES, bounds=UNIT)
        ],
        given,
    )
    print(f"partner sd {partner_sd}: class gap NEW_CLASS {new:.1%}, THESE_CLASSES {these:.1%}")
    assert new >= 0.93 and 0.93 <= these <= 0.97, (partner_sd, new, these)


# --- small designs, bounded quantities, P(X > Y), the band (tests/simulate_coverage.py) -----
def _assert_rows(rows, at_least=0.93):
    for r in rows:
        print(r)
        assert r.inside, r
        assert r.coverage >= at_least, r


def test_these_classes_small_designs_cover():
    _assert_rows(sim.these_classes(1000))


def test_bounded_rates_near_one_stay_inside_and_cover():
    _assert_rows(sim.bounded_rates(1000, designs=("8 x 1", "10 x 1"), class_sd=0.3))


def test_probability_of_improvement_covers_and_never_collapses():
    rows = sim.improvement(300)
    _assert_rows(rows, at_least=0.95)
    assert all(r.width > 0.2 for r in rows)  # the classes bound what all-agreeing cells say


def test_probability_of_improvement_names_no_winner_under_no_difference():
    """P = 0.5, class-dominated effects, the pilot's 8 x 1 and 10 x 1: at least 93%."""
    _assert_rows(sim.no_difference(1000))


def test_new_class_simulation_near_one_meets_the_target():
    """The fast version of tests/simulate_bounds.py (per-class logit-normal rates, binomial
    trials): in the cells run here, at the mid range and near 1 with large class
    differences, the mean and the gap meet the target (>= 93%, each side <= 4%) and stay
    inside their ranges. The full table, and the cells that still miss, are in
    docs/method.md ("Near 0 and 1")."""
    for design, rate, sd in (
        ("10 x 1", 0.70, 1.2),
        ("20 x 2", 0.70, 1.2),
        ("10 x 1", 0.97, 1.2),
        ("40 x 2", 0.97, 2.0),
        ("20 x 2", 0.995, 1.2),
    ):
        for row in bounds_sim.cell(design, rate, sd, 300):
            print(row)
            assert row.passes, row


def test_a_heavy_tailed_population_near_one_keeps_the_target():
    """The fast version of `tests/simulate_bounds.py --model beta`: Beta class rates (not
    logit-normal) of mean 0.995 and the logit-normal cell's sd, on 20 x 2 and 40 x 2. The
    paired gap missed above in about 8% of such sweeps (docs/method.md); the MOVER that
    replaces it where classes are censored, and the censored mean, meet the target."""
    for design in ("20 x 2", "40 x 2"):
        for row in bounds_sim.cell(design, 0.995, 2.0, 300, model="beta"):
            print(row)
            assert row.passes, row


def test_the_logit_normal_side_halves_the_miss_below_near_one():
    """At a mean rate of 0.995 and class sd 2.0 the class jackknife alone misses below in
    about a quarter of sweeps; with the logit-normal side, in about 3% (docs/method.md)."""
    (mean, gap), (old_mean, old_gap) = (
        bounds_sim.cell("10 x 1", 0.995, 2.0, 300, method)[:2]
        for method in ("summary", "jackknife")
    )
    print(mean, gap, old_mean, old_gap, sep="\n")
    assert old_mean.below > 0.15 and mean.below < old_mean.below / 2, (mean, old_mean)
    assert gap.above <= 0.04 < old_gap.above, (gap, old_gap)


def test_the_logit_normal_side_moves_a_bound_near_one_down():
    """Ten classes whose logits spread evenly (sd about 2) around 0.996: the logit-normal
    side reaches below the jackknife's interval (a poorer class than these ten is likely),
    and holds the jackknife's upper end."""
    design = Intervals(BALANCED_TRIPLES[:10], 1)
    rates = special.expit(5.5 + 2 * sps.norm.ppf((np.arange(10) + 0.5) / 10))
    x = rates[np.array(BALANCED_TRIPLES[:10])].mean(axis=1)[:, None]
    union = design.mean(x, kind=NEW_CLASS, bounds=UNIT)
    (alone,) = jackknife_means(x[None], BALANCED_TRIPLES[:10], bounds=UNIT, parametric=False)
    assert union.value == alone.value and union.spread.logit is not None
    assert union.low < alone.low < union.value and union.high >= alone.high
    # the interval and the p-values agree at any level (one rule)
    assert p_value(union, union.low, "above") == pytest.approx(0.025, abs=1e-6)
    assert p_value(union, union.high, "below") == pytest.approx(0.025, abs=1e-6)
    low90, _ = interval(union.value, union.spread, 0.90)
    assert union.low < low90 < union.value


def test_band_coverage_is_the_order_statistic_value():
    for r in sim.band(2000, sizes=(8, 40)):
        print(r)
        assert abs(r.coverage - r.true) < 0.02, r


def test_class_values_carry_the_standard_error_their_seeds_imply():
    """The class values' SEs from the seeds within triples match the spread of the values
    over repeated designs with known trial noise (a model the SE does not fit: uneven
    noise per triple, one missing trial)."""
    rng = np.random.default_rng(3)
    tri = np.array(BALANCED_TRIPLES[:10])
    groups = incidence(tri)[1]
    fixed = 0.6 + rng.normal(0, 0.05, 10)[tri].sum(axis=1)[:, None]
    noise = rng.uniform(0.005, 0.03, (10, 1))  # each triple its own seed sd
    stack = fixed[None] + noise[None] * rng.standard_normal((4000, 10, 3))
    stack[:, 4, 2] = np.nan
    values, se = class_values(stack, groups)
    assert values.shape == se.shape == (10, 4000)
    ratio = np.sqrt(np.mean(se**2, axis=1)) / values.std(axis=1)
    assert np.all(np.abs(ratio - 1) < 0.08), ratio
    # one seed: no replication, no SE; and the values are those of the additive fit
    one = class_values(stack[:5, :, :1], groups)
    assert np.isnan(one[1]).all() and np.isfinite(one[0]).all()


def test_classes_the_noise_cannot_tell_from_the_end_are_censored():
    """Near 1, values past 1 show how far the noise reaches: classes no farther inside
    count only as "near 1" (k < n), and the fit mirrors at 0."""
    v = np.array([0.80, 0.93, 0.97, 0.995, 0.999, 1.002, 0.9995, 1.0, 0.998, 0.9999])
    present = np.ones((10, 1), bool)
    ((near_one, _, _, n, k),) = logitnormal.fit(v[:, None], present)
    assert near_one and n == 10 and k == 4  # resolved: deficits beyond the excursion, 0.002
    low, high = logitnormal.interval_of(logitnormal.fit(v[:, None], present)[0], 0.95)
    (mirror,) = logitnormal.fit(1 - v[:, None], present)
    assert not mirror[0] and mirror[3:] == (10, 4)
    assert logitnormal.interval_of(mirror, 0.95) == pytest.approx((1 - high, 1 - low))
    assert low < v.mean() < high
    # an SE that reaches farther censors more, never fewer than KEEP classes stay
    se = np.full((10, 1), 0.05)
    assert logitnormal.fit(v[:, None], present, se)[0][4] == logitnormal.KEEP
