import numpy as np
import pytest
from scipy import stats as sps

from analysis import stats
from analysis.stats import Estimate

nan = np.nan


def test_mean_ignores_missing_trials():
    assert stats.mean(np.array([[1.0, 2.0], [3.0, nan]])) == pytest.approx(2.0)


def test_iqm_matches_scipy_when_n_divisible_by_4():
    x = np.arange(16, dtype=float).reshape(4, 4)
    assert stats.iqm(x) == pytest.approx(sps.trim_mean(x.ravel(), 0.25)) == 7.5
    x = np.array([[0.0, 1.0], [2.0, 100.0]])  # middle 50%: 1 and 2
    assert stats.iqm(x) == pytest.approx(1.5)


def test_iqm_of_nothing_is_nan():
    assert np.isnan(stats.iqm(np.full((2, 3), nan)))
    assert np.isnan(stats.iqm(np.zeros((0, 3))))  # a class jackknife can leave no triple


def test_weighted_iqm_under_counts():
    values = np.array([0.0, 1.0, 2.0, 100.0])
    weights = np.array([[1, 1, 1, 1], [0, 2, 2, 0], [4, 0, 0, 0]])
    assert stats.weighted_iqm(values, weights) == pytest.approx([1.5, 1.5, 0.0])


def test_estimate_contains():
    assert Estimate(0.5, 0.4, 0.6).contains(0.6) and not Estimate(0.5, 0.4, 0.6).contains(0.7)
