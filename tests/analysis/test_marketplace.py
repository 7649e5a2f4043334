"""What the detector detects, end to end: 8-bit fakes, upload transforms and the fakes'
quality written by real trials and cross-evaluations, then summarised, exported, plotted
and rescored."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis import marketplace
from analysis.rescoring import rescore
from analysis.summarize import main as summarize_main
from fakedet import quality
from fakedet.config import make_config
from fakedet.cross import cross_evaluate
from fakedet.schema import QUALITY, UPLOAD_TRANSFORMS
from fakedet.store import ResultsStore
from fakedet.trial import run_trial

ARCHS = ("hands_on", "brownlee")
TRIPLES = ("0,6,9", "1,2,3")


@pytest.fixture(scope="module")
def tiny_classifier(fashion_mnist):
    """A classifier trained for a few steps: weak, but the same code path as the real one."""
    return quality.train_classifier(fashion_mnist, quality.ClassifierRecipe(max_steps=15))


@pytest.fixture(scope="module")
def root(fashion_mnist, tiny_classifier, tmp_path_factory):
    """2 architectures x 2 triples, 4 steps, a checkpoint after step 2, cross-evaluated."""
    path = tmp_path_factory.mktemp("marketplace")
    store = ResultsStore(path)
    cfgs = {}
    for triple in TRIPLES:
        for arch in ARCHS:
            per_epoch = {"hands_on": 37_800 // 32, "brownlee": 37_800 // 128}[arch]
            cfg = make_config(
                arch, 0, triple, max_steps=4, eval_limit=200, eval_at=(2 / per_epoch,)
            )
            run_trial(cfg, fashion_mnist, store, device="cpu", classifier=tiny_classifier)
            cfgs[arch, triple] = cfg
        for det, gen in (ARCHS, ARCHS[::-1]):
            cross_evaluate(
                store, cfgs[det, triple], cfgs[gen, triple], 150,
                data=fashion_mnist, classifier=tiny_classifier,
            )  # fmt: skip
    return path, store, cfgs


def test_trials_write_8bit_fakes_every_checkpoint_and_uploads_at_the_final_one(root):
    _, store, cfgs = root
    df = store.read_table(store.metrics_path(cfgs["hands_on", TRIPLES[0]])).to_pandas()
    suites = df.groupby("checkpoint_step").suite.agg(set)
    assert sorted(suites.index) == [2, 4]
    for step in (2, 4):
        assert {"own_fake_8bit", QUALITY} <= suites[step]
    uploaded = {f"{s}@{t}" for t in UPLOAD_TRANSFORMS for s in ("own_fake", "real_heldout",
                                                                   "real_test")}  # fmt: skip
    assert uploaded <= suites[4] and not uploaded & suites[2]
    q = df[df.suite == QUALITY]
    shares = q[q.metric == "class_share"].groupby("checkpoint_step").value.sum()
    np.testing.assert_allclose(shares, 1.0)  # the class histogram sums to 1
    fid = q[q.metric == "fid"].value
    floor = q[q.metric == "fid_floor"].value
    assert (fid > 0).all() and (floor >= 0).all()
    background = q[q.metric == "background_real"].value
    assert ((background > 0.3) & (background < 0.7)).all()  # about half of Fashion-MNIST
    scores = store.read_table(store.scores_path(cfgs["hands_on", TRIPLES[0]])).to_pandas()
    derived = {QUALITY, "overall", "operating_point"}  # from the stored suites, or images
    assert set(df.suite) - derived == set(scores.suite)  # every scored suite is stored


def test_cross_evaluation_scores_8bit_fakes_and_their_quality(root):
    _, store, cfgs = root
    x = store.read_table(store.metrics_path(cfgs["hands_on", TRIPLES[0]], "brownlee"))
    x = x.to_pandas()
    assert set(x.suite) == {"cross_fake", "cross_fake_8bit", QUALITY}
    assert set(x.generator_arch) == {"brownlee"}


def test_quality_and_robustness_tables_and_claim_7(root, capsys):
    path, _, _ = root
    summarize_main(["--results", str(path), "--tables", "quality,robustness,claims",
                    "--format", "json", "--resamples", "200"])  # fmt: skip
    tables = {t["name"]: t for t in json.loads(capsys.readouterr().out)}
    quality_rows = tables["quality"]["rows"]
    labels = {r[1] for r in quality_rows}  # arch, quantity, one cell per checkpoint
    assert "Frechet distance to seen-class reals" in labels
    assert any(label.startswith("brownlee fakes (cross)") for label in labels)
    robust = tables["robustness"]["rows"]
    assert {r[1] for r in robust} >= {"8-bit, untransformed", "JPEG q75", "mild blur"}
    claims7 = [r for r in tables["claims"]["rows"] if r[0] == "7"]
    assert len(claims7) == 3 * len(ARCHS)


def test_terminal_and_markdown_show_the_new_tables(root, capsys):
    path, _, _ = root
    summarize_main(["--results", str(path), "--tables", "quality,robustness",
                    "--resamples", "200"])  # fmt: skip
    out = capsys.readouterr().out
    assert "Quality of the fakes" in out and "Detection of uploads" in out
    summarize_main(["--results", str(path), "--format", "markdown", "--resamples", "200"])
    md = capsys.readouterr().out
    assert "Quality of the fakes" in md and "JPEG q90" in md


def test_plot_of_detection_against_quality(root, tmp_path):
    pytest.importorskip("matplotlib")
    path, _, _ = root
    summarize_main(["--results", str(path), "--tables", "headline", "--plots", str(tmp_path),
                    "--resamples", "200"])  # fmt: skip
    assert (tmp_path / "detection_vs_quality.png").stat().st_size > 10_000


def test_rescore_keeps_quality_rows_and_recomputes_upload_rows(root, tmp_path):
    import shutil

    path, _, cfgs = root
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    store = ResultsStore(copy)
    key = cfgs["brownlee", TRIPLES[1]]
    before = store.read_table(store.metrics_path(key)).to_pandas()
    report = rescore(str(copy), force=True)
    assert not report.failed
    after = store.read_table(store.metrics_path(key)).to_pandas()
    cols = ["suite", "metric", "class_id", "checkpoint_step", "value"]

    def ordered(df):
        return df[cols].sort_values(cols[:4]).reset_index(drop=True)

    np.testing.assert_allclose(ordered(after).value, ordered(before).value, equal_nan=True)
    assert len(after) == len(before)
    cross = store.read_table(store.metrics_path(key, "hands_on")).to_pandas()
    assert QUALITY in set(cross.suite)


def test_older_results_say_the_measures_are_absent(root):
    path, store, cfgs = root
    from analysis.grid import MetricGrid
    from analysis.load import load_results

    results = load_results(str(path))
    df = results.metrics
    old = df[~df.suite.str.contains("8bit|@|quality")]
    grid = MetricGrid(old, resamples=200)
    q = marketplace.quality(grid, {})
    r = marketplace.robustness(grid)
    assert q.rows == [] and "hold no quality figures" in q.caption
    assert r.rows == [] and "hold no 8-bit or upload figures" in r.caption
