"""The committed 1-epoch study (docs/study-1epoch/results) stays loadable and complete: its
metrics summarise with every table and the planner fits them, as the schema evolves."""

import json
from pathlib import Path

import pytest

from analysis import plan
from analysis.load import load_results
from analysis.summarize import parse, summarize
from fakedet.protocol import BALANCED_TRIPLES, triple_str

STUDY = Path(__file__).resolve().parents[1] / "docs" / "study-1epoch"
ROOT = STUDY / "results"
ARCHS = ("brownlee", "hands_on")


@pytest.fixture(scope="module")
def results():
    return load_results(str(ROOT))


def test_every_trial_of_the_design_is_complete(results):
    m = results.metrics
    assert results.invalid == []
    gans = m[m.arch.isin(ARCHS)]
    cells = set(zip(gans.arch, gans.seed, gans.heldout, strict=True))
    design = {(a, 0, triple_str(t)) for a in ARCHS for t in BALANCED_TRIPLES[:10]}
    assert cells == design  # 10 class-balanced triples x 2 architectures, seed 0
    assert set(gans.epochs.round(6)) == {1.0}  # one epoch each
    cross = gans[gans.suite == "cross_fake"]
    assert set(zip(cross.arch, cross.heldout, strict=True)) == {(a, h) for a, _, h in design}
    detectors = m[m.arch == "detector"]
    assert set(zip(detectors.left_out, detectors.heldout, strict=True)) == {
        (a, h) for a, _, h in design
    }
    epochs = set(results.checkpoints.checkpoint_epoch.round(6))
    assert epochs == {0.05, 0.1, 0.25, 0.5}


def test_the_study_summarises_with_every_table(tmp_path):
    args = parse(
        ["--results", str(ROOT), "--tables", "all", "--format", "json", "--resamples", "200"]
    )
    tables, _ = summarize(args)
    names = {t.name for t in tables}
    assert {"headline", "claims", "training", "detector", "components"} <= names
    headline = next(t for t in tables if t.name == "headline")
    assert len(headline.rows) >= 8


def test_the_planner_fits_the_study(capsys):
    plan.main(["--results", str(ROOT), "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert out["not_separated"]  # 10 triples x 1 seed separate no part
    assert out["decision"]["a new class"]["verdict"] == "undecided"  # the ranges span both
    assert set(out["floor"]["recall_gap"]) == set(ARCHS)
