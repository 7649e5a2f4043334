"""The vocabulary (analysis/measures.py): names that cover what they name, and differences
read on one architecture, across two, or across two checkpoints, on tiny hand-made grids."""

import numpy as np
import pandas as pd

from analysis.cells import Paired, cell
from analysis.grid import MetricGrid
from analysis.measures import (
    OWN_FAKES,
    QUANTITIES,
    REAL_RECALL,
    REPORT,
    SINGLE_TRIALS,
    THRESHOLD,
    Difference,
)
from fakedet.schema import SUITES
from fakedet.study import PUBLISHED

TRIPLES = ("0-1-2", "3-4-5")


def grid_of(values: dict, like: MetricGrid | None = None) -> MetricGrid:
    """A grid of 2 triples x 1 seed from {(arch, suite, metric): [value per triple]}."""
    rows = [
        dict(arch=a, suite=s, generator_arch=a, metric=m, class_id=np.nan, heldout=t, seed=0,
             value=v)
        for (a, s, m), vs in values.items()
        for t, v in zip(TRIPLES, vs, strict=True)
    ]  # fmt: skip
    df = pd.DataFrame(rows)
    return like.like(df) if like is not None else MetricGrid(df, resamples=50)


FINAL = {
    ("hands_on", "own_fake", "generated_recall"): [0.8, 0.6],
    ("brownlee", "own_fake", "generated_recall"): [0.5, 0.5],
    ("hands_on", "real_test", "real_recall"): [0.7, 0.9],
    ("hands_on", "real_heldout", "real_recall"): [0.4, 0.8],
    ("hands_on", "operating_point", "op_threshold"): [2.0, -1.0],
    ("brownlee", "operating_point", "op_threshold"): [0.5, 0.5],
}
EARLY = {
    ("hands_on", "own_fake", "generated_recall"): [0.3, 0.2],
    ("hands_on", "real_test", "real_recall"): [0.6, 0.6],
    ("hands_on", "real_heldout", "real_recall"): [0.6, 0.5],
}


def test_every_published_number_names_a_measure_of_its_suite():
    assert [p.measure for p in PUBLISHED] == list(REPORT)
    for q in REPORT.values():
        assert q.metric in SUITES[q.suite].metrics, q
    for name in set(QUANTITIES) & set(REPORT):  # one name, one measure
        assert QUANTITIES[name] is REPORT[name], name
    assert list(QUANTITIES.values()) == SINGLE_TRIALS


def test_a_difference_of_one_architecture():
    grid = grid_of(FINAL)
    np.testing.assert_allclose(REAL_RECALL.gap(grid, "hands_on")[:, 0], [0.3, 0.1])


def test_a_difference_across_architectures_reads_y_of_the_other():
    grid = grid_of(FINAL)
    d = Difference("own fakes: hands_on - brownlee", OWN_FAKES, OWN_FAKES)
    x, y = d.sides(grid, "hands_on", y_arch="brownlee")
    np.testing.assert_allclose(x[:, 0], [0.8, 0.6])
    np.testing.assert_allclose(y[:, 0], [0.5, 0.5])
    np.testing.assert_allclose(d(grid, "hands_on", y_arch="brownlee")[:, 0], [0.3, 0.1])
    c = cell(grid, d, "hands_on", y_arch="brownlee")  # two rates: kept apart
    assert isinstance(c, Paired) and c.bounds == (0.0, 1.0)
    np.testing.assert_allclose(c.x - c.y, x - y)


def test_a_difference_across_checkpoints_reads_y_of_the_earlier_grid():
    final = grid_of(FINAL)
    early = grid_of(EARLY, like=final)
    gap = REAL_RECALL.gap
    change = Difference("gap: final - early", gap, gap)
    np.testing.assert_allclose(change(final, "hands_on", y_grid=early)[:, 0], [0.3, 0.0])
    values, bounds = cell(final, change, "hands_on", y_grid=early)  # of two gaps: plain
    np.testing.assert_allclose(values[:, 0], [0.3, 0.0])
    assert bounds == (-2.0, 2.0)
    fakes = Difference("own fakes: final - early", OWN_FAKES, OWN_FAKES)
    c = cell(final, fakes, "hands_on", y_grid=early)
    assert isinstance(c, Paired)
    np.testing.assert_allclose(c.x[:, 0] - c.y[:, 0], [0.5, 0.4])


def test_a_difference_of_unbounded_quantities_is_one_plain_cell():
    grid = grid_of(FINAL)
    d = Difference("threshold: hands_on - brownlee", THRESHOLD, THRESHOLD)
    values, bounds = cell(grid, d, "hands_on", y_arch="brownlee")
    np.testing.assert_allclose(values[:, 0], [1.5, -1.5])
    assert bounds == (-np.inf, np.inf)
    assert d.bounds == bounds


def test_a_side_the_grid_lacks_is_nan():
    grid = grid_of(EARLY)  # holds no brownlee
    d = Difference("own fakes: hands_on - brownlee", OWN_FAKES, OWN_FAKES)
    x, y = d.sides(grid, "hands_on", y_arch="brownlee")
    assert not np.isnan(x).any() and np.isnan(y).all()
