"""The committed 1-epoch study (docs/study-1epoch/results) stays loadable and complete: its
metrics (10 balanced triples x seeds 0 and 1) summarise with every table and the planner
fits them, as the schema evolves."""

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
SEEDS = (0, 1)


@pytest.fixture(scope="module")
def results():
    return load_results(str(ROOT))


def test_every_trial_of_the_design_is_complete(results):
    m = results.metrics
    assert results.invalid == []
    gans = m[m.arch.isin(ARCHS)]
    cells = set(zip(gans.arch, gans.seed, gans.heldout, strict=True))
    design = {(a, s, triple_str(t)) for a in ARCHS for s in SEEDS for t in BALANCED_TRIPLES[:10]}
    assert cells == design  # 10 class-balanced triples x 2 architectures x 2 seeds
    assert set(gans.epochs.round(6)) == {1.0}  # one epoch each
    cross = gans[gans.suite == "cross_fake"]
    assert set(zip(cross.arch, cross.seed, cross.heldout, strict=True)) == design
    detectors = m[m.arch == "detector"]
    found = set(zip(detectors.left_out, detectors.seed, detectors.heldout, strict=True))
    assert found == design  # one detector per (left-out generator, seed, triple): 40
    epochs = set(results.checkpoints.checkpoint_epoch.round(6))
    assert epochs == {0.05, 0.1, 0.25, 0.5}


def test_seed_1_holds_the_measures_of_what_the_detector_detects(results):
    """Seed 1 ran after the 8-bit, robustness and quality suites existed; seed 0 before."""
    m = results.metrics
    gans = m[m.arch.isin(ARCHS)]
    suites = {s: set(gans[gans.seed == s].suite) for s in SEEDS}
    assert {"own_fake_8bit", "fake_quality", "own_fake@jpeg75", "real_test@blur"} <= suites[1]
    assert not suites[0] & {"own_fake_8bit", "fake_quality"}
    per_trial = gans[(gans.seed == 1) & (gans.suite == "fake_quality")]
    assert per_trial.groupby(["arch", "heldout"]).size().shape[0] == 20
    assert {"fid", "precision", "recall"} <= set(per_trial.metric)


def test_the_study_summarises_with_every_table(tmp_path):
    args = parse(
        ["--results", str(ROOT), "--tables", "all", "--format", "json", "--resamples", "200"]
    )
    tables, _ = summarize(args)
    names = {t.name for t in tables}
    assert {"headline", "claims", "training", "detector", "components"} <= names
    assert {"quality", "robustness"} <= names  # seed 1's measures
    headline = next(t for t in tables if t.name == "headline")
    assert len(headline.rows) >= 8


def test_the_planner_fits_the_study(capsys):
    plan.main(["--results", str(ROOT), "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    # two seeds separate seed noise; 10 triples still cannot tell triples from classes
    assert "triples' own effects" in out["not_separated"]
    assert set(out["floor"]["recall_gap"]) == set(ARCHS)
    for arch in ARCHS:  # class effects and seed noise both fitted
        parts = out["components"]["recall_gap"][arch]
        assert parts["separable"]["class"] and parts["separable"]["seed"], parts
        assert parts["sd"]["seed"] is not None


def test_the_preset_runs_the_committed_design(results):
    """`--preset study-1epoch` (what `make study` runs) is the design committed here."""
    from sweeps import options as sweep

    spec = sweep.parse(["--preset", "study-1epoch"]).spec
    planned = {(c.arch, c.seed, triple_str(c.heldout)) for c in spec.trials()}
    m = results.metrics
    gans = m[m.arch.isin(ARCHS)]
    assert planned == set(zip(gans.arch, gans.seed, gans.heldout, strict=True))
