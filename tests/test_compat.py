"""Results written by release 0.1 (tests/data/legacy-0.1: two tiny trials and their
cross-evaluations, weights left out) still load, and count as complete."""

import shutil
from pathlib import Path

import numpy as np

from analysis.load import load_results
from fakedet import metrics
from fakedet.config import Budget, make_config
from fakedet.store import ResultsStore
from fakedet.trial import run_trial
from sweeps.spec import SweepSpec, cross_pairs, same_data_groups

LEGACY = Path(__file__).parent / "data" / "legacy-0.1"
BUDGET = dict(max_steps=2, eval_limit=40)


def test_old_trials_keep_their_keys_and_are_complete(tmp_path):
    root = shutil.copytree(LEGACY, tmp_path / "results")
    store = ResultsStore(root)
    spec = SweepSpec(
        archs=("hands_on", "brownlee"), seeds=(0,), triples=((0, 6, 9),), budget=Budget(**BUDGET)
    )
    trials = spec.trials()
    assert [t.key for t in trials] == ["hands_on_s0_h0-6-9_seed_774ba6f3",
                                       "brownlee_s0_h0-6-9_seed_acbcc210"]  # fmt: skip
    assert all(store.is_complete(t) for t in trials)
    done = {t.key for t in trials}
    assert all(
        store.exists(store.metrics_path(d, g.arch))
        for d, g in cross_pairs(same_data_groups(trials, done))
    )
    cfg = make_config("hands_on", 0, "0,6,9", **BUDGET)
    assert run_trial(cfg, data=None, store=store)["status"] == "skipped"


def test_old_rows_load_as_final_checkpoints_of_metric_version_1():
    results = load_results(str(LEGACY))
    df = results.metrics
    assert set(df.arch) == {"hands_on", "brownlee"} and not results.invalid
    assert df.metric_version.isna().all() and df.checkpoint_step.isna().all()
    assert set(df.suite) == {"own_fake", "real_heldout", "real_test", "overall",
                             "operating_point", "cross_fake"}  # fmt: skip
    assert results.checkpoints.empty


def test_old_scores_have_no_logit_but_give_logits():
    store = ResultsStore(LEGACY)
    cfg = make_config("brownlee", 0, "0,6,9", **BUDGET)
    table = store.read_table(store.scores_path(cfg))
    assert "logit" not in table.column_names
    logits = metrics.stored_logits(table)
    assert {len(v[0]) for v in logits.values()} == {80, 40}  # fakes; 40 reals per suite
    probability = 1 / (1 + np.exp(-logits["real_test"][0]))
    scores = table.filter(table["suite"].to_numpy() == "real_test")["score"].to_numpy()
    np.testing.assert_allclose(probability, scores, rtol=1e-5)
