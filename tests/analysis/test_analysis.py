import contextlib
import csv
import io
import json

import numpy as np
import pytest
from rich.console import Console

from analysis.grid import MetricGrid, select
from analysis.load import load_results
from analysis.render import fmt, rich_table
from analysis.stats import Estimate
from analysis.summarize import DEFAULT_TABLES, TABLES, parse, summarize
from analysis.summarize import main as summarize_main
from bench.synthetic import write_root
from conftest import assert_user_error, run_cli
from fakedet.protocol import ALL_TRIPLES

TRIPLES = ALL_TRIPLES[::12]  # 10 triples
SEEDS = (0, 1, 2)
ARCHS = ("hands_on", "brownlee")
CHECKPOINTS = (0.25, 0.5)


def known_value(arch, suite, metric, gen, class_id, seed, triple, epoch=None):
    """Known answers: brownlee passes reals 0.1 more often than hands_on, exactly."""
    if metric == "false_flag_rate":
        return 0.1
    table = {
        ("overall", "accuracy"): {"hands_on": 0.63, "brownlee": 0.70},
        ("real_heldout", "real_recall"): {"hands_on": 0.40, "brownlee": 0.50},
        ("real_test", "real_recall"): {"hands_on": 0.47, "brownlee": 0.55},
        ("own_fake", "generated_recall"): {"hands_on": 0.80, "brownlee": 0.90},
        ("cross_fake", "generated_recall"): {"hands_on": 0.75, "brownlee": 0.95},
        ("overall", "real_recall"): {"hands_on": 0.42, "brownlee": 0.52},
        ("own_fake", "auroc_test"): {"hands_on": 0.90, "brownlee": 0.95},
        ("own_fake", "auroc_heldout"): {"hands_on": 0.86, "brownlee": 0.93},
    }
    return table.get((suite, metric), {}).get(arch, 0.5)


def class_effect_value(arch, suite, metric, gen, class_id, seed, triple, epoch=None):
    if metric == "false_flag_rate":  # held out: 0.4; trained on: 0.1
        return 0.4 if suite == "real_heldout" else 0.1
    if arch.startswith("detector-lo-"):  # the dedicated detectors
        return {
            ("cross_fake", "generated_recall"): 0.9,
            ("real_heldout", "real_recall"): 0.6,
            ("cross_fake", "auroc_test"): 0.97,
        }.get((suite, metric), 0.5)
    if epoch is not None and (suite, metric) == ("own_fake", "generated_recall"):
        return 0.2 + epoch  # along training: 0.45 at epoch 0.25, 0.7 at 0.5
    return known_value(arch, suite, metric, gen, class_id, seed, triple)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    path = tmp_path_factory.mktemp("synthetic")
    write_root(
        str(path),
        ARCHS,
        SEEDS,
        TRIPLES,
        class_effect_value,
        checkpoints=CHECKPOINTS,
        detectors=True,
    )
    return path


def summary(root, *args):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        summarize_main(["--results", str(root), "--resamples", "500", *args])
    return buf.getvalue()


def table_json(root, *extra):
    return {t["name"]: t for t in json.loads(summary(root, "--format", "json", *extra))}


def rows_by(table, keys=1):
    return {r[0] if keys == 1 else tuple(r[:keys]): r for r in table["rows"]}


def cell(table, row, column, keys=1):
    return rows_by(table, keys)[row][table["columns"].index(column)]


def point(c, value, n=None):
    """An estimate whose interval is a point at `value` (constant data)."""
    assert [c[k] for k in ("value", "low", "high")] == pytest.approx([value] * 3), c
    assert n is None or c["n"] == n


def test_load_and_grid(root):
    results = load_results(str(root))
    assert results.invalid == []
    assert set(results.checkpoints.checkpoint_epoch) == set(CHECKPOINTS)
    df, notes = select(results.metrics)
    grid = MetricGrid(df, resamples=200)
    assert grid.shape == (10, 3)
    assert grid.gans == ["brownlee", "hands_on"]
    assert grid.detectors == {
        "detector-lo-brownlee": "brownlee",
        "detector-lo-hands_on": "hands_on",
    }
    assert np.all(grid.get("hands_on", "overall", "accuracy") == 0.63)
    assert grid.generators("hands_on") == ["brownlee"]
    assert grid.generators("detector-lo-hands_on") == ["hands_on"]
    assert np.all(grid.get("detector-lo-hands_on", "real_heldout", "real_recall") == 0.6)


def test_every_table_has_the_known_answers(root):
    t = table_json(root)
    assert list(t) == list(TABLES)
    assert all(t[name]["caption"] for name in t)
    head = t["headline"]
    point(cell(head, "accuracy (report's table)", "hands_on"), 0.63, n=30)
    point(cell(head, "unseen-class reals passed", "brownlee"), 0.5)
    point(cell(head, "real recall gap", "hands_on"), 0.07)
    point(cell(head, "AUROC own fakes gap", "brownlee"), 0.02)
    point(cell(head, "brownlee fakes flagged", "hands_on"), 0.75)
    assert cell(head, "brownlee fakes flagged", "brownlee") is None  # own: not "other"
    assert head["interval"] == "a new class" and "CI for a new class" in head["caption"]

    report = rows_by(t["report"], keys=2)
    row = report[("overall: accuracy", 1)]  # hands_on: every trial 0.63 = the report
    assert row[2] == 0.63 and row[4]["low"] == row[4]["high"] == pytest.approx(0.63)
    assert row[5] == pytest.approx(100 * 29 / 31)  # 30 trials: [min, max] holds 29 / 31
    assert row[6] == 50.0 and row[7] == "yes"
    row = report[("overall: accuracy", 2)]  # brownlee: 0.70 in every trial, report 0.76
    assert row[6] == 100.0 and row[7] == "no"
    assert report[("other GAN's fakes: recall", 1)][3] == pytest.approx(0.75)

    claims = t["claims"]["rows"]
    beats = [r for r in claims if r[0] == "1" and "unseen-class reals" in r[1]][0]
    point(beats[2], 0.1)
    assert beats[4] == beats[5] == "supported"  # per claim and after Holm
    # brownlee wins all 30 cells, of 9 classes: P(X>Y) rests on 9 / 3 cells, not [1, 1]
    assert beats[3]["value"] == beats[3]["high"] == 1.0
    assert beats[3]["low"] == pytest.approx(0.025 ** (3 / 9))  # each cell rests on 3 classes
    seen_unseen = [r for r in claims if r[0] == "3" and "hands_on: real recall unseen" in r[1]][0]
    point(seen_unseen[2], -0.07)
    assert seen_unseen[4] == "not supported"
    assert t["claims"]["columns"][-1] == "Holm" and "Holm" in t["claims"]["caption"]

    effect = rows_by(t["class_effect"], keys=2)
    shirt = effect[("6 Shirt", "hands_on")]
    assert shirt[2]["value"] == pytest.approx(0.4) and shirt[3]["value"] == pytest.approx(0.1)
    assert shirt[4]["value"] == pytest.approx(0.3)
    assert "5 Sandal" not in {k[0] for k in effect}  # never held out in these triples

    gap = rows_by(t["gap"], keys=2)
    for col in (4, 5):  # both kinds of interval
        point(gap[("hands_on", "real recall")][col], 0.07)
        point(gap[("hands_on", "AUROC own fakes")][col], 0.04)
    matrix = t["cross_matrix"]
    point(cell(matrix, "hands_on", "brownlee"), 0.75)
    point(cell(matrix, "hands_on", "hands_on"), 0.80)
    cov = rows_by(t["coverage"], keys=2)
    assert cov[("hands_on", 0)][2] == 10 and cov[("hands_on", 0)][3].startswith("110")
    assert cov[("detector-lo-brownlee", 2)][2] == 10
    assert "120 earlier checkpoints" in t["coverage"]["caption"]


def test_detection_along_training(root):
    rows = rows_by(table_json(root, "--tables", "training")["training"], keys=3)
    assert [k[1] for k in rows if k[0] == "hands_on"] == ["0.25", "0.25", "0.5", "0.5"] + [
        "final"
    ] * 2 + ["final - 0.25"] * 2
    point(rows[("hands_on", "0.25", "recall")][3], 0.45, n=30)
    point(rows[("hands_on", "0.5", "recall")][3], 0.7)
    point(rows[("hands_on", "final", "recall")][3], 0.8)
    point(rows[("hands_on", "final", "recall")][6], 0.07)  # seen - unseen real recall
    point(rows[("brownlee", "final", "AUROC")][6], 0.02)
    assert rows[("brownlee", "0.5", "AUROC")][3] is None
    trend = rows[("hands_on", "final - 0.25", "recall")]
    point(trend[3], 0.8 - 0.45)  # own fakes flagged, paired: final minus epoch 0.25
    point(trend[6], 0.0)  # the gap did not change


def test_dedicated_detector_against_the_discriminators(root):
    t = table_json(root, "--tables", "detector,claims")
    rows = rows_by(t["detector"], keys=3)
    flagged = rows[("brownlee", "hands_on", "brownlee fakes flagged")]
    point(flagged[3], 0.9), point(flagged[4], 0.75), point(flagged[5], 0.15)
    reals = rows[("hands_on", "brownlee", "unseen-class reals passed")]
    point(reals[3], 0.6), point(reals[4], 0.5), point(reals[5], 0.1)
    claims = t["claims"]["rows"]
    five = {r[1].split(":")[0]: r for r in claims if r[0] == "5"}
    assert len(five) == 4
    point(five["brownlee fakes flagged"][2], 0.15)  # 0.9 vs hands_on's 0.75
    point(five["hands_on fakes flagged"][2], -0.05)  # 0.9 vs brownlee's 0.95
    assert five["brownlee fakes flagged"][4] == "supported"
    assert five["hands_on fakes flagged"][4] == "not supported"
    assert five["hands_on fakes flagged"][3]["value"] == 0.0  # P(detector > brownlee)
    assert five["AUROC hands_on fakes vs seen"][4] == "supported"  # 0.97 vs 0.5
    six = [r for r in claims if r[0] == "6"]
    assert [r[2]["value"] for r in six] == pytest.approx([0.2, 0.1])  # vs hands_on, brownlee


def test_margins_are_flags(root):
    claims = table_json(root, "--tables", "claims", "--margin-seen-unseen", "0.08")["claims"]
    row = [r for r in claims["rows"] if r[0] == "3" and "hands_on: real recall unseen" in r[1]][0]
    # -0.07 in every trial: inside ±0.08, but a point interval states no error, so the
    # margin moves the verdict from "not supported" (±0.05) to "inconclusive", never to
    # "supported"
    assert row[4] == "inconclusive" and "in ±0.08" in row[1]
    assert "--margin-seen-unseen 0.08" in claims["caption"]


def test_noisy_paired_difference_has_the_known_sign(tmp_path):
    rng = np.random.default_rng(0)
    noise = {(s, tr): rng.normal(0, 0.05) for s in SEEDS for tr in TRIPLES}

    def value(arch, suite, metric, gen, class_id, seed, triple):
        base = 0.6 + noise[(seed, triple)]  # shared per trial: a paired design
        return base + (0.03 if arch == "brownlee" else 0.0) + rng.normal(0, 0.005)

    write_root(str(tmp_path), ARCHS, SEEDS, TRIPLES, value, cross=False)
    t = table_json(tmp_path, "--tables", "claims")
    beats = [r for r in t["claims"]["rows"] if "seen-class reals passed" in r[1]][0]
    assert 0 < beats[2]["low"] < beats[2]["value"] < beats[2]["high"]
    assert beats[4] == "supported" and 0.9 < beats[3]["value"] <= 1


def test_no_interval_leaves_its_range(tmp_path):
    """Rates near 0 and 1, noisy: every exported interval of a bounded quantity stays in
    its range (JSON gives each cell's range), and each range is the measure's."""
    rng = np.random.default_rng(2)

    def value(arch, suite, metric, gen, class_id, seed, triple, epoch=None):
        if metric == "op_threshold":
            return rng.normal(0, 3)  # a logit: unbounded
        near = 0.002 if (metric == "false_flag_rate" or "heldout" in metric) else 0.997
        return float(np.clip(near + rng.normal(0, 0.004), 0, 1))

    write_root(str(tmp_path), ARCHS, (0, 1), TRIPLES, value, checkpoints=(0.5,), detectors=True)
    ranges = {}
    for t in table_json(tmp_path, "--tables", "all").values():
        for row in t["rows"]:
            for c in row:
                if isinstance(c, dict) and "range" in c:
                    lo, hi = (-np.inf if c["range"][0] is None else c["range"][0],
                              np.inf if c["range"][1] is None else c["range"][1])  # fmt: skip
                    assert lo <= c["low"] <= c["value"] <= c["high"] <= hi, (t["name"], row)
                    ranges.setdefault((lo, hi), set()).add(t["name"])
    assert set(ranges) == {(0, 1), (-1, 1), (-2, 2), (-np.inf, np.inf)}  # (-2, 2): a gap's trend
    assert ranges[(-np.inf, np.inf)] == {"operating_point"}  # the threshold only


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
    assert "Coverage" in summary(tmp_path)  # one seed: intervals undefined, tables still print


def test_exports_parse(root):
    data = json.loads(summary(root, "--format", "json"))
    assert len(data) == len(TABLES) and all({"name", "columns", "rows"} <= set(t) for t in data)
    rows = list(csv.DictReader(io.StringIO(summary(root, "--format", "csv"))))
    assert {r["table"] for r in rows} == {t["name"] for t in data if t["rows"]}
    assert {t["name"] for t in data if not t["rows"]} == {"quality", "robustness"}  # not held
    head = [
        r
        for r in rows
        if r["table"] == "headline"
        and r["column"] == "hands_on"
        and r["row"] == "own fakes flagged"
    ]
    assert float(head[0]["value"]) == pytest.approx(0.80) and head[0]["low"] != ""
    gap = [r for r in rows if r["table"] == "gap" and r["row"] == "hands_on / real recall"]
    assert {r["column"] for r in gap} == {"seen", "unseen", "gap (new)", "gap (these)"}
    md = summary(root, "--format", "markdown")
    assert md.count("### ") == len(TABLES) and "| quantity | brownlee | hands_on |" in md
    assert "0.8000 [0.8000, 0.8000]" in md  # both bounds, 4 decimals
    assert summary(root, "--format", "markdown", "--tables", "gap").count("### ") == 1


def test_single_trials_means_are_the_headline_means(root):
    """A gap's mean in the single-trials table is the headline's (both through
    `differences`), not a plain mean of per-trial gaps with its own interval."""
    t = table_json(root)
    head = rows_by(t["headline"])
    shared = 0
    for r in t["single_trials"]["rows"]:
        arch, label, mean = r[0], r[1], r[2]
        if label in head and arch in t["headline"]["columns"]:
            assert mean == cell(t["headline"], label, arch), (arch, label)
            shared += 1
    assert shared >= 2 * 5  # two architectures, the headline's rows with a gap among them


def test_terminal_defaults_and_table_choice(root):
    out = summary(root)
    assert "Headline" in out and "Generalization gap" in out and "Claims" in out
    assert "Coverage" in out and "Cross-generator" not in out
    assert "Cross-generator" in summary(root, "--tables", "cross_matrix")


def test_plots(root, tmp_path):
    summary(root, "--plots", str(tmp_path / "plots"))
    pngs = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert pngs == [
        "class_false_flags.png",
        "cross_generator.png",
        "headline.png",
        "training.png",
        "unseen_recall_by_triple.png",
    ]
    assert all((tmp_path / "plots" / p).read_bytes()[:4] == b"\x89PNG" for p in pngs)


def _rendered(data, width=80) -> list[str]:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(rich_table(data))
    return console.export_text().splitlines()


@pytest.mark.parametrize("kind", ["full", "one seed"])
def test_every_table_fits_80_columns_without_wrapping_a_number(root, tmp_path, kind):
    if kind == "one seed":  # intervals undefined: the widest numbers ("-0.05 ±n/a")
        write_root(str(tmp_path), ARCHS, (0,), TRIPLES[:3], known_value, detectors=True)
        root = tmp_path
    args = parse(["--results", str(root), "--resamples", "200", "--tables", "all"])
    tables, _ = summarize(args)
    for data in tables:
        lines = _rendered(data)
        assert max(len(line) for line in lines) <= 80, data.name
        for row in data.rows:
            for c in row:
                if isinstance(c, Estimate | float | int) and not isinstance(c, bool):
                    # one line, or (a wide table) the value above its interval
                    shown = fmt(c).split(" [", 1)
                    assert all(any(part in line for line in lines) for part in shown), (
                        data.name,
                        fmt(c),
                    )


def test_bad_input(tmp_path, root):
    assert_user_error(
        run_cli("-m", "analysis.summarize", "--results", str(tmp_path / "none")), "no results at"
    )
    (tmp_path / "empty" / "metrics").mkdir(parents=True)
    for args, fragment in (
        (("--results", str(tmp_path / "empty")), "no complete results"),
        (("--confidence", "1.5"), "--confidence"),
        (("--archs", "resnet"), "no results for arch resnet"),
        (("--seeds", "7"), "no results for seed 7; found: 0, 1, 2"),
        (("--seeds", "one"), "--seeds"),
        (("--seeds", "0-999999999999"), "--seeds"),  # refused before the range is expanded
        (("--tables", "headline,nope"), "valid: all, headline, gap"),
        (("--margin-transfer", "0"), "--margin-transfer"),
        (("--format", "xml"), "invalid choice"),
    ):
        with pytest.raises(SystemExit) as e, contextlib.redirect_stderr(io.StringIO()) as err:
            summarize_main(["--results", str(root), *args])
        assert e.value.code == 2 and fragment in err.getvalue(), (args, err.getvalue())
        assert len(err.getvalue().strip().splitlines()) == 1


def test_seeds_select_the_trials_of_those_seeds(root):
    """`--seeds 1` summarises seed 1's trials alone (as if the others had never run)."""
    t = table_json(root, "--seeds", "1", "--tables", "coverage,headline")
    assert {r[1] for r in t["coverage"]["rows"]} == {1}
    point(cell(t["headline"], "accuracy (report's table)", "hands_on"), 0.63, n=10)
    both = table_json(root, "--seeds", "0-1", "--tables", "coverage")
    assert {r[1] for r in both["coverage"]["rows"]} == {0, 1}


def test_default_tables_are_registered():
    assert set(DEFAULT_TABLES) <= set(TABLES)


def test_the_smoke_layout_shows_intervals_for_a_new_class(tmp_path):
    """`make demo`'s 3 triples (the first of the balanced order) hold out 9 classes, so a
    newcomer's first summary already carries intervals for a new class."""
    from sweeps.spec import parse_triples

    triples = parse_triples("3")
    assert len({c for t in triples for c in t}) == 9
    rng = np.random.default_rng(1)
    write_root(str(tmp_path), ARCHS, [0], triples, lambda *a, **k: 0.6 + rng.normal(0, 0.05))
    rows = table_json(tmp_path, "--tables", "headline")["headline"]["rows"]
    cells = [c for r in rows for c in r[1:] if isinstance(c, dict)]
    assert cells and all(c["low"] < c["value"] < c["high"] for c in cells)
