import numpy as np
import pytest
from scipy import stats as sps

from analysis import stats
from analysis.stats import Bootstrap, Estimate

nan = np.nan


def test_mean_ignores_missing_trials():
    assert stats.mean(np.array([[1.0, 2.0], [3.0, nan]])) == pytest.approx(2.0)


def test_iqm_matches_scipy_when_n_divisible_by_4():
    x = np.arange(16, dtype=float).reshape(4, 4)
    assert stats.iqm(x) == pytest.approx(sps.trim_mean(x.ravel(), 0.25)) == 7.5
    x = np.array([[0.0, 1.0], [2.0, 100.0]])  # middle 50%: 1 and 2
    assert stats.iqm(x) == pytest.approx(1.5)


def test_probability_of_improvement_exact():
    x, y = np.array([[1.0, 2.0]]), np.array([[0.0, 3.0]])
    assert stats.probability_of_improvement(x, y) == 0.5  # wins: (1,0) and (2,0) of 4
    assert stats.probability_of_improvement(np.ones((2, 2)), np.ones((2, 2))) == 0.5  # ties
    x = np.array([[1.0, 1.0], [0.0, 0.0]])
    y = np.array([[0.0, 0.0], [1.0, 1.0]])
    assert stats.probability_of_improvement(x, y) == 0.5  # 1 in triple 0, 0 in triple 1


def test_bootstrap_counts_and_determinism():
    b = Bootstrap(4, 3, resamples=50, seed=7)
    assert b.counts.shape == (50, 12) and (b.counts.sum(axis=1) == 12).all()
    assert (b.triple_counts.sum(axis=1) == 4).all()
    x = np.random.default_rng(0).random((4, 3))
    assert Bootstrap(4, 3, 200, seed=1).mean(x) == Bootstrap(4, 3, 200, seed=1).mean(x)


def test_constant_scores_give_a_point_interval():
    e = Bootstrap(5, 2, 100).mean(np.full((5, 2), 0.25))
    assert (e.value, e.low, e.high, e.n) == (0.25, 0.25, 0.25, 10)


def test_count_path_equals_materialised_resamples():
    x = np.random.default_rng(1).random((6, 3))
    x[2, 1] = nan
    b = Bootstrap(6, 3, 300, seed=3)
    fast = b.mean(x)
    slow = b.statistic(stats.mean, x)
    assert fast.value == pytest.approx(slow.value)
    assert (fast.low, fast.high) == pytest.approx((slow.low, slow.high))
    iqm_fast, iqm_slow = b.iqm(x), b.statistic(stats.iqm, x)
    assert (iqm_fast.low, iqm_fast.high) == pytest.approx((iqm_slow.low, iqm_slow.high), abs=1e-6)


def test_paired_difference_and_improvement_signs():
    rng = np.random.default_rng(0)
    y = rng.random((30, 3))
    x = y + 0.1
    b = Bootstrap(30, 3, 500)
    d = b.difference(x, y)
    assert d.value == pytest.approx(0.1) and d.low == pytest.approx(0.1)
    assert b.probability_of_improvement(x + 1, y).value == 1.0


def test_unpaired_difference():
    x = np.full((4, 2), nan)
    y = np.full((4, 2), nan)
    x[:2], y[2:] = 0.5, 0.2  # disjoint triples, as a class held out vs trained on
    e = Bootstrap(4, 2, 300).unpaired_difference(x, Bootstrap(4, 2, 300, seed=1), y)
    assert e.value == pytest.approx(0.3) and e.n == 8


@pytest.mark.parametrize(
    "est,lower,upper,expected",
    [
        (Estimate(0.1, 0.05, 0.15), 0.0, None, "supported"),
        (Estimate(-0.1, -0.15, -0.05), 0.0, None, "not supported"),
        (Estimate(0.0, -0.05, 0.05), 0.0, None, "inconclusive"),
        (Estimate(0.0, -0.02, 0.03), -0.05, 0.05, "supported"),
        (Estimate(0.2, 0.1, 0.3), -0.05, 0.05, "not supported"),
        (Estimate(0.04, 0.0, 0.08), -0.05, 0.05, "inconclusive"),
    ],
)
def test_verdict(est, lower, upper, expected):
    assert stats.verdict(est, lower, upper) == expected


def test_nominal_95_interval_covers_the_true_mean():
    """400 synthetic sweeps (120 triples x 5 seeds, triple effects larger than seed noise)
    with known mean 0.5: the 95% interval must cover it in 93-97% of them."""
    reps, hits = 400, 0
    for r in range(reps):
        rng = np.random.default_rng(10_000 + r)
        scores = 0.5 + rng.normal(0, 0.1, (120, 1)) + rng.normal(0, 0.05, (120, 5))
        hits += Bootstrap(120, 5, resamples=1000, seed=r).mean(scores).contains(0.5)
    assert 0.93 <= hits / reps <= 0.97, hits / reps
