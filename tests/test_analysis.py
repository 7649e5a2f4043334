import csv
import io
import json

import numpy as np
import pytest

from analysis.design import Grid, select
from analysis.load import load_results
from analysis.summarize import main as summarize_main
from analysis.synthetic import write_root
from conftest import assert_user_error, run_cli
from fakedet.protocol import ALL_TRIPLES

TRIPLES = ALL_TRIPLES[::12]  # 10 triples
SEEDS = (0, 1, 2)
ARCHS = ("hands_on", "brownlee")


def known_value(arch, suite, metric, gen, class_id, seed, triple):
    """Known answers: brownlee passes reals 0.1 more often than hands_on, exactly."""
    if metric == "false_flag_rate":
        return 0.1
    table = {
        ("overall", "accuracy"): {"hands_on": 0.63, "brownlee": 0.70},
        ("real_heldout", "real_recall"): {"hands_on": 0.40, "brownlee": 0.50},
        ("real_test", "real_recall"): {"hands_on": 0.45, "brownlee": 0.55},
        ("own_fake", "generated_recall"): {"hands_on": 0.80, "brownlee": 0.90},
        ("cross_fake", "generated_recall"): {"hands_on": 0.75, "brownlee": 0.95},
        ("overall", "real_recall"): {"hands_on": 0.42, "brownlee": 0.52},
    }
    return table.get((suite, metric), {}).get(arch, 0.5)


def class_effect_value(arch, suite, metric, gen, class_id, seed, triple):
    if metric == "false_flag_rate":  # held out: 0.4; trained on: 0.1
        return 0.4 if suite == "real_heldout" else 0.1
    return known_value(arch, suite, metric, gen, class_id, seed, triple)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    path = tmp_path_factory.mktemp("synthetic")
    write_root(str(path), ARCHS, SEEDS, TRIPLES, class_effect_value)
    return path


def table_json(root, *extra):
    return {t["name"]: t for t in json.loads(summary(root, "--format", "json", *extra))}


def summary(root, *args):
    buf = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(buf):
        summarize_main(["--results", str(root), "--resamples", "500", *args])
    return buf.getvalue()


def rows_by(table, *keys):
    return {tuple(r[: len(keys)]): r for r in table["rows"]}


def test_load_and_grid(root):
    results = load_results(str(root))
    assert results.invalid == []
    df, notes = select(results.metrics)
    grid = Grid(df, resamples=200)
    assert grid.shape == (10, 3) and grid.archs == ["brownlee", "hands_on"]
    assert np.all(grid.get("hands_on", "overall", "accuracy") == 0.63)
    assert grid.generators("hands_on") == ["brownlee"]


def test_every_table_has_the_known_answers(root):
    t = table_json(root)
    assert list(t) == [
        "headline",
        "report",
        "claims",
        "class_effect",
        "gap",
        "cross_matrix",
        "operating_point",
        "coverage",
    ]
    head = {(r[0], r[1]): r for r in t["headline"]["rows"]}
    acc = head[("hands_on", "overall")][4]
    assert [acc[k] for k in ("value", "low", "high")] == pytest.approx([0.63] * 3)
    assert acc["n"] == 30
    assert head[("brownlee", "real_heldout")][3]["value"] == pytest.approx(0.5)
    assert head[("hands_on", "own_fake")][3] is None  # no real recall on a suite of fakes

    report = {(r[0], r[1]): r for r in t["report"]["rows"]}
    row = report[("overall: accuracy", "1 (hands_on)")]
    assert row[2] == 0.63 and row[3]["value"] == pytest.approx(0.63) and row[5] == "yes"
    assert report[("overall: accuracy", "2 (brownlee)")][5] == "no"  # 0.70 vs report 0.76
    cross = report[("other GAN's fakes: recall", "1 (hands_on)")]
    assert cross[3]["value"] == pytest.approx(0.75)

    claims = t["claims"]["rows"]
    beats = [r for r in claims if r[0].startswith("1.") and "real_heldout" in r[1]][0]
    assert beats[2]["value"] == pytest.approx(0.1) and beats[2]["low"] == pytest.approx(0.1)
    assert beats[3]["value"] == 1.0 and beats[4] == "supported"
    seen_unseen = [r for r in claims if r[0].startswith("3.") and "hands_on" in r[1]][0]
    assert seen_unseen[2]["value"] == pytest.approx(-0.05)

    effect = {(r[0], r[1]): r for r in t["class_effect"]["rows"]}
    shirt = effect[("6 Shirt", "hands_on")]
    assert shirt[2]["value"] == pytest.approx(0.4) and shirt[3]["value"] == pytest.approx(0.1)
    assert shirt[4]["value"] == pytest.approx(0.3) and shirt[4]["low"] == pytest.approx(0.3)

    gap = {r[0]: r for r in t["gap"]["rows"]}
    assert gap["hands_on"][3]["value"] == pytest.approx(0.05)
    matrix = {r[0]: r for r in t["cross_matrix"]["rows"]}
    cols = t["cross_matrix"]["columns"]
    assert matrix["hands_on"][cols.index("brownlee")]["value"] == pytest.approx(0.75)
    assert matrix["hands_on"][cols.index("hands_on")]["value"] == pytest.approx(0.80)
    cov = {(r[0], r[1]): r for r in t["coverage"]["rows"]}
    assert cov[("hands_on", 0)][2] == 10 and cov[("hands_on", 0)][3].startswith("110")


def test_noisy_paired_difference_has_the_known_sign(tmp_path):
    rng = np.random.default_rng(0)
    noise = {(s, tr): rng.normal(0, 0.05) for s in SEEDS for tr in TRIPLES}

    def value(arch, suite, metric, gen, class_id, seed, triple):
        base = 0.6 + noise[(seed, triple)]  # shared per trial: a paired design
        return base + (0.03 if arch == "brownlee" else 0.0) + rng.normal(0, 0.005)

    write_root(str(tmp_path), ARCHS, SEEDS, TRIPLES, value, cross=False)
    t = table_json(tmp_path)
    beats = [r for r in t["claims"]["rows"] if "real_test" in r[1]][0]
    assert 0 < beats[2]["low"] < beats[2]["value"] < beats[2]["high"]
    assert beats[4] == "supported"


def test_partial_and_invalid_results(tmp_path):
    write_root(str(tmp_path), ARCHS, (0,), TRIPLES[:4], known_value)
    bad = tmp_path / "metrics" / "arch=hands_on" / "protocol=seed" / "broken.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    import pyarrow as pa
    import pyarrow.parquet as pq

    wrong = tmp_path / "metrics" / "arch=brownlee" / "protocol=seed" / "wrong.parquet"
    pq.write_table(pa.table({"trial_key": ["x"], "value": ["not a float"]}), wrong)
    (
        tmp_path / "metrics" / "arch=brownlee" / "protocol=seed" / "_tmp-inflight.parquet"
    ).write_bytes(b"x")
    results = load_results(str(tmp_path))
    names = {p.rsplit("/", 1)[-1]: reason for p, reason in results.invalid}
    assert set(names) == {"broken.parquet", "wrong.parquet"}
    assert results.metrics.trial_key.nunique() == 8
    out = summary(tmp_path, "--format", "markdown")
    assert "broken.parquet" in out and "wrong.parquet" in out
    assert "116 (" in out  # 4 of 120 triples present


def test_exports_parse(root):
    data = json.loads(summary(root, "--format", "json"))
    assert len(data) == 8 and all({"name", "title", "columns", "rows"} <= set(t) for t in data)
    rows = list(csv.DictReader(io.StringIO(summary(root, "--format", "csv"))))
    assert {r["table"] for r in rows} >= {"headline", "claims", "cross_matrix"}
    head = [
        r
        for r in rows
        if r["table"] == "headline"
        and r["column"] == "accuracy"
        and r["row"] == "hands_on / overall"
    ]
    assert float(head[0]["value"]) == pytest.approx(0.63)
    md = summary(root, "--format", "markdown")
    assert md.count("### ") == 8 and "| arch | suite |" in md
    table = summary(root)
    assert "Headline" in table and "Coverage" in table


def test_plots(root, tmp_path):
    summary(root, "--plots", str(tmp_path / "plots"))
    pngs = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert pngs == [
        "class_false_flags.png",
        "cross_generator.png",
        "headline.png",
        "unseen_recall_by_triple.png",
    ]
    assert all((tmp_path / "plots" / p).read_bytes()[:4] == b"\x89PNG" for p in pngs)


def test_bad_input(tmp_path, root):
    assert_user_error(
        run_cli("-m", "analysis.summarize", "--results", str(tmp_path / "none")), "no results at"
    )
    (tmp_path / "empty" / "metrics").mkdir(parents=True)
    assert_user_error(
        run_cli("-m", "analysis.summarize", "--results", str(tmp_path / "empty")),
        "no complete results",
    )
    assert_user_error(
        run_cli("-m", "analysis.summarize", "--results", str(root), "--confidence", "1.5"),
        "--confidence",
    )
    assert_user_error(
        run_cli("-m", "analysis.summarize", "--results", str(root), "--archs", "resnet"),
        "no results for arch resnet",
    )
    assert_user_error(run_cli("-m", "analysis.summarize", "--format", "xml"), "invalid choice")
