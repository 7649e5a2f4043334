import numpy as np
import pytest
from sklearn.metrics import classification_report

from fakedet import evaluate


def by_metric(rows, suite=None):
    return {
        r["metric"]: r
        for r in rows
        if (suite is None or r["suite"] == suite) and r["class_id"] is None
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classification_rows_equal_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 500)
    scores = np.clip(rng.normal(0.35 + 0.3 * y, 0.25), 0, 1).astype(np.float32)
    rows = by_metric(evaluate.classification_rows("overall", y, scores))
    ref = classification_report(
        y,
        (scores >= 0.5).astype(int),
        labels=[0, 1],
        target_names=["generated", "real"],
        output_dict=True,
    )
    for label, name in (
        ("generated", "generated"),
        ("real", "real"),
        ("macro avg", "macro"),
        ("weighted avg", "weighted"),
    ):
        for stat, short in (("precision", "precision"), ("recall", "recall"), ("f1-score", "f1")):
            assert rows[f"{name}_{short}"]["value"] == pytest.approx(ref[label][stat], abs=1e-12)
        assert rows[f"{name}_precision"]["support"] == ref[label]["support"]
    assert rows["accuracy"]["value"] == pytest.approx(ref["accuracy"])
    pred = scores >= 0.5
    assert rows["tp"]["value"] == np.sum(pred & (y == 1))
    assert rows["tn"]["value"] == np.sum(~pred & (y == 0))


def test_exact_small_case():
    y = np.array([0, 0, 0, 1, 1])
    s = np.array([0.1, 0.6, 0.2, 0.9, 0.4])  # fakes: 2 of 3 flagged; reals: 1 of 2 passed
    rows = by_metric(evaluate.classification_rows("x", y, s))
    assert rows["generated_recall"]["value"] == pytest.approx(2 / 3)
    assert rows["real_recall"]["value"] == pytest.approx(1 / 2)
    assert rows["generated_precision"]["value"] == pytest.approx(2 / 3)
    assert rows["accuracy"]["value"] == pytest.approx(3 / 5)
    assert [rows[k]["value"] for k in ("tn", "fp", "fn", "tp")] == [2, 1, 1, 1]


def test_auroc_and_per_class():
    y = np.array([0, 0, 1, 1])
    s = np.array([0.1, 0.8, 0.7, 0.9])  # fakes ranked below reals in 3 of 4 pairs
    rows = by_metric(evaluate.ranking_rows("overall", y, s))
    assert rows["auroc"]["value"] == pytest.approx(0.75)
    per_class = evaluate.per_class_rows(
        "real_heldout", np.array([2, 2, 5, 5, 5]), np.array([0.1, 0.9, 0.2, 0.3, 0.8])
    )
    assert [(r["class_id"], r["value"], r["support"]) for r in per_class] == [
        (2, 0.5, 2),
        (5, pytest.approx(2 / 3), 3),
    ]


def test_operating_point():
    test_scores = np.linspace(0.0, 1.0, 101)  # 5% quantile = 0.05
    t = evaluate.operating_threshold(test_scores)
    assert t == pytest.approx(0.05)
    rows = by_metric(
        evaluate.operating_point_rows(
            "operating_point",
            t,
            np.array([0.01, 0.02, 0.5, 0.9]),
            np.array([0.0, 0.3]),
            test_scores,
        )
    )
    assert rows["op_fake_recall"]["value"] == 0.5
    assert rows["op_heldout_false_flag"]["value"] == 0.5
    assert rows["op_test_false_flag"]["value"] == pytest.approx(5 / 101)  # 0.00..0.04


def test_suite_rows_cover_every_suite():
    rng = np.random.default_rng(0)
    rows = evaluate.suite_rows(
        rng.random(30),
        rng.random(20),
        rng.integers(0, 3, 20),
        rng.random(10),
        rng.integers(3, 5, 10),
    )
    suites = {r["suite"] for r in rows}
    assert suites == {"own_fake", "real_heldout", "real_test", "overall", "operating_point"}
    overall = by_metric(rows, "overall")
    assert overall["accuracy"]["support"] == 60 and "auroc" in overall
