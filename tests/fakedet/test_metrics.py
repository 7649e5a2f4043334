"""Metric rows from logits: exact answers on tiny hand-made inputs."""

import numpy as np
import pyarrow as pa
import pytest

from fakedet import metrics
from fakedet.schema import SCORES_SCHEMA, SUITES


def by_metric(rows, suite=None):
    return {
        r["metric"]: r
        for r in rows
        if (suite is None or r["suite"] == suite) and r["class_id"] is None
    }


def test_classification_exact_small_case():
    y = np.array([0, 0, 0, 1, 1])
    logits = np.array([-2.0, 0.4, -1.4, 2.2, -0.4])  # fakes: 2 of 3 flagged; reals: 1 of 2 pass
    rows = by_metric(metrics.classification_rows("x", y, logits))
    assert rows["generated_recall"]["value"] == pytest.approx(2 / 3)
    assert rows["generated_precision"]["value"] == pytest.approx(2 / 3)  # 2 of 3 flagged
    assert rows["generated_f1"]["value"] == pytest.approx(2 / 3)
    assert rows["real_recall"]["value"] == pytest.approx(1 / 2)
    assert rows["real_precision"]["value"] == pytest.approx(1 / 2)
    assert rows["macro_recall"]["value"] == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert rows["weighted_recall"]["value"] == pytest.approx((3 * 2 / 3 + 2 * 1 / 2) / 5)
    assert rows["accuracy"]["value"] == pytest.approx(3 / 5)
    assert [rows[k]["value"] for k in ("tn", "fp", "fn", "tp")] == [2, 1, 1, 1]
    assert rows["generated_recall"]["support"] == 3 and rows["real_recall"]["support"] == 2


def test_threshold_is_probability_one_half():
    y = np.array([0, 1])
    rows = by_metric(metrics.classification_rows("x", y, np.array([0.0, 0.0])))
    assert rows["generated_recall"]["value"] == 0.0  # logit 0 = probability 0.5: "real"
    assert rows["real_recall"]["value"] == 1.0


def test_ranking_against_each_kind_of_real_separately():
    fake = np.array([-3.0, 1.0])
    heldout = np.array([0.0, 2.0])  # fakes below held-out reals in 3 of 4 pairs
    test = np.array([5.0, 6.0])  # every fake below every seen-class real
    rows = by_metric(metrics.ranking_rows("own_fake", fake, heldout, test))
    assert rows["auroc_heldout"]["value"] == pytest.approx(0.75)
    assert rows["auroc_test"]["value"] == 1.0 and rows["ap_test"]["value"] == 1.0
    # AP vs held-out: ranked by fakeness: -3 (fake), 0 (real), 1 (fake), 2 (real)
    assert rows["ap_heldout"]["value"] == pytest.approx((1 / 1 + 2 / 3) / 2)


def test_logits_do_not_tie_where_float32_probabilities_do():
    fake, real = np.array([20.0, 30.0]), np.array([25.0, 35.0])
    p = lambda x: (1 / (1 + np.exp(-x))).astype(np.float32)  # noqa: E731
    assert len(np.unique(p(np.r_[fake, real]))) == 1  # all exactly 1.0
    assert metrics.ranking(fake, real)[0] == pytest.approx(0.75)


def test_per_class_false_flags():
    rows = metrics.per_class_rows("real_heldout", np.array([2, 2, 5, 5, 5]),
                                  np.array([-1.0, 1.0, -1.0, -0.5, 2.0]))  # fmt: skip
    assert [(r["class_id"], r["value"], r["support"]) for r in rows] == [
        (2, 0.5, 2),
        (5, pytest.approx(2 / 3), 3),
    ]


def test_operating_point_is_calibrated_on_one_half_and_measured_on_the_other():
    test = np.arange(200, dtype=float)  # even positions calibrate, odd ones evaluate
    rows = by_metric(metrics.operating_point_rows(np.array([1.0, 50.0]), np.array([3.0]), test))
    threshold = np.quantile(np.arange(0, 200, 2, dtype=float), 0.05)  # 9.9
    assert rows["op_threshold"]["value"] == pytest.approx(threshold)
    assert rows["op_fake_recall"]["value"] == 0.5
    assert rows["op_heldout_false_flag"]["value"] == 1.0
    assert rows["op_test_false_flag"]["value"] == pytest.approx(5 / 100)  # 1, 3, 5, 7, 9
    assert rows["op_test_false_flag"]["support"] == 100


def test_trial_rows_cover_every_suite_and_its_listed_metrics():
    rng = np.random.default_rng(0)
    rows = metrics.trial_rows(rng.normal(size=30), rng.normal(size=20), rng.integers(0, 3, 20),
                              rng.normal(size=10), rng.integers(3, 5, 10))  # fmt: skip
    for suite in ("own_fake", "real_heldout", "real_test", "overall", "operating_point"):
        assert set(by_metric(rows, suite)) == set(SUITES[suite].metrics), suite
    assert by_metric(rows, "overall")["accuracy"]["support"] == 60
    cross = metrics.cross_rows(rng.normal(size=5), rng.normal(size=20), rng.normal(size=10))
    assert set(by_metric(cross)) == set(SUITES["cross_fake"].metrics)


def test_stored_logits_of_old_files_come_from_their_probabilities():
    p = np.array([0.25, 0.5, 0.75], dtype=np.float32)
    old = pa.table({"suite": ["own_fake", "real_test", "real_test"], "class_id": [None, 1, 2],
                    "score": p})  # fmt: skip
    got = metrics.stored_logits(old)
    np.testing.assert_allclose(got["real_test"][0], [0.0, np.log(3)], atol=1e-6)
    assert list(got["real_test"][1]) == [1, 2] and list(got["own_fake"][1]) == [-1]


def test_stored_logits_pick_the_final_checkpoint():
    n = 4
    table = pa.table(
        {"trial_key": ["k"] * n, "arch": ["a"] * n, "protocol": ["seed"] * n,
         "suite": ["own_fake"] * n, "generator_arch": ["a"] * n, "class_id": [None] * n,
         "score": np.full(n, 0.5, np.float32), "logit": np.array([1, 2, 3, 4], np.float32),
         "checkpoint_step": [10, 10, 20, 20]},
        schema=SCORES_SCHEMA,
    )  # fmt: skip
    assert list(metrics.stored_logits(table)["own_fake"][0]) == [3.0, 4.0]
    assert list(metrics.stored_logits(table, step=10)["own_fake"][0]) == [1.0, 2.0]
