"""`python -m analysis.rescore`: old results gain the current metrics from their scores."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from analysis.load import load_results
from analysis.rescore import main as rescore_main
from analysis.rescoring import rescore
from conftest import assert_user_error, run_cli
from fakedet.schema import METRIC_VERSION, METRICS_SCHEMA, SCORES_SCHEMA, to_table
from fakedet.store import ResultsStore, TrialId

LEGACY = Path(__file__).parents[1] / "data" / "legacy-0.1"
ROW = ["suite", "generator_arch", "class_id", "metric", "checkpoint_step"]


def rows(store: ResultsStore, trial, garch=None) -> pd.DataFrame:
    df = store.read_table(store.metrics_path(trial, garch)).to_pandas()
    by = [c for c in ROW if c in df]
    return df.sort_values(by, na_position="first").reset_index(drop=True)


def value(df, suite, metric, step=None):
    sel = (df.suite == suite) & (df.metric == metric) & df.class_id.isna()
    sel &= df.checkpoint_step.isna() if step is None else df.checkpoint_step == step
    (v,) = df[sel].value
    return v


def test_legacy_results_gain_the_current_metrics(tmp_path):
    root = shutil.copytree(LEGACY, tmp_path / "results")
    store = ResultsStore(root)
    trial = TrialId("brownlee_s0_h0-6-9_seed_acbcc210", "brownlee", "seed")
    before, cross_before = rows(store, trial), rows(store, trial, "hands_on")
    report = rescore(str(root))
    assert (len(report.rescored), len(report.current), report.failed) == (4, 0, [])
    after, cross_after = rows(store, trial), rows(store, trial, "hands_on")
    assert (after.metric_version == METRIC_VERSION).all()
    for col in ("trial_key", "seed", "heldout", "git_commit", "wall_seconds", "steps", "recipe"):
        assert after[col].nunique() == 1 and after[col][0] == before[col][0], col
    assert cross_after.device[0] == cross_before.device[0]
    # the report's numbers at probability 0.5 come back the same from the recovered logits
    same = before.merge(after, on=["suite", "metric", "class_id"], suffixes=("", "_new"))
    kept = same[~same.metric.str.startswith("op_")]
    assert len(kept) == 80 and np.allclose(kept.value, kept.value_new)
    assert {"auroc_heldout", "auroc_test", "ap_heldout", "ap_test"} <= set(
        after[after.suite == "own_fake"].metric
    )
    assert "auroc_test" in set(cross_after.metric) and "op_threshold" not in set(cross_after.metric)
    assert rescore(str(root)).current and not rescore(str(root)).rescored  # idempotent
    assert not load_results(str(root)).metrics.metric_version.isna().any()


# --- a synthetic root with known logits ---------------------------------------------------
FAKE, HELD, TEST = [-3.0, -1.0], [-2.0, 1.0], [1.0, 2.0, 3.0, 4.0]
# AUROC of the fakes against HELD: 3 of 4 pairs ranked right; against TEST: all 4 x 2


def _scores(key, arch, suites: dict, step=None, logit=True) -> pa.Table:
    cols = {k: [] for k in SCORES_SCHEMA.names}
    for (suite, generator), (logits, classes) in suites.items():
        n = len(logits)
        cols["trial_key"] += [key] * n
        cols["arch"] += [arch] * n
        cols["protocol"] += ["seed"] * n
        cols["suite"] += [suite] * n
        cols["generator_arch"] += [generator] * n
        cols["class_id"] += classes or [None] * n
        cols["score"] += list(1 / (1 + np.exp(-np.array(logits))))
        cols["logit"] += logits if logit else [None] * n
        cols["checkpoint_step"] += [step] * n
    return pa.table(cols, schema=SCORES_SCHEMA)


def _old_rows(key, arch, suites, generator, steps, step=None, **extra) -> list[dict]:
    """Placeholder rows of metric version 1: one per suite, value -1."""
    base = dict(
        trial_key=key,
        arch=arch,
        seed=0,
        heldout="0-6-9",
        protocol="seed",
        generator_arch=generator,
        class_id=None,
        metric="accuracy",
        value=-1.0,
        support=1,
        git_commit="abc",
        steps=steps,
        wall_seconds=7.0,
        metric_version=1,
        checkpoint_step=step,
        **extra,
    )
    return [dict(base, suite=s, generator_arch=extra.pop("g_" + s, generator)) for s in suites]


OWN_SUITES = ("own_fake", "real_heldout", "real_test", "overall", "operating_point")


def write_synthetic(root) -> ResultsStore:
    store = ResultsStore(root)
    reals = {("real_heldout", "gan"): (HELD, [0, 6]), ("real_test", "gan"): (TEST, [1, 2, 3, 4])}
    # a GAN trial with a checkpoint at step 5 (its fakes pass there) and its final step 10
    gan = TrialId("gan_s0_h0-6-9_seed_x", "gan", "seed")
    early = _scores(gan.key, "gan", {("own_fake", "gan"): ([1.0, 2.0], None), **reals}, 5)
    final = _scores(gan.key, "gan", {("own_fake", "gan"): (FAKE, None), **reals}, 10)
    store.write_scores(pa.concat_tables([early, final]), gan)
    old = _old_rows(gan.key, "gan", OWN_SUITES, "gan", 10, 5, checkpoint_epoch=0.5)
    old += _old_rows(gan.key, "gan", OWN_SUITES, "gan", 10, 10, checkpoint_epoch=1.0)
    store.write_metrics(to_table(old, METRICS_SCHEMA), gan)
    # its cross-evaluation on another generator's fakes (scores without logits: version 1)
    store.write_scores(
        _scores(gan.key, "gan", {("cross_fake", "other"): ([-5.0, 0.5], None)}, logit=False),
        gan,
        "other",
    )
    cross = _old_rows(gan.key, "gan", ("cross_fake",), "other", 10)
    store.write_metrics(to_table(cross, METRICS_SCHEMA), gan, "other")
    # a dedicated detector: train_fake and the left-out generator's cross_fake in one file
    det = TrialId("detector_s0_h0-6-9_seed_lo-other", "detector", "seed")
    suites = {
        ("train_fake", "gan"): (FAKE, None),
        ("cross_fake", "other"): ([-1.0, 3.0], None),
        **{(s, "detector"): v for (s, _), v in reals.items()},
    }
    store.write_scores(_scores(det.key, "detector", suites, 20), det)
    old = _old_rows(
        det.key,
        "detector",
        ("train_fake", "cross_fake", *OWN_SUITES[1:]),
        "detector",
        20,
        20,
        left_out="other",
        g_train_fake="gan",
        g_cross_fake="other",
    )
    store.write_metrics(to_table(old, METRICS_SCHEMA), det)
    # a trial whose scores are missing, and one whose scores are not parquet
    for name in ("lost", "broken"):
        t = TrialId(f"gan_s1_h0-6-9_seed_{name}", "gan", "seed")
        store.write_metrics(
            to_table(_old_rows(t.key, "gan", OWN_SUITES, "gan", 10), METRICS_SCHEMA), t
        )
    store.write_bytes(store.scores_path(TrialId("gan_s1_h0-6-9_seed_broken", "gan", "seed")), b"x")
    return store


def test_a_synthetic_root_gets_the_known_answers(tmp_path):
    store = write_synthetic(tmp_path)
    assert rescore_main(["--results", str(tmp_path)]) == 1  # two trials failed
    report = rescore(str(tmp_path))
    assert len(report.current) == 3 and not report.rescored
    reasons = dict((Path(p).name, r) for p, r in report.failed)
    assert "no scores file" in reasons["gan_s1_h0-6-9_seed_lost.parquet"]
    assert "cannot read scores" in reasons["gan_s1_h0-6-9_seed_broken.parquet"]

    gan = rows(store, TrialId("gan_s0_h0-6-9_seed_x", "gan", "seed"))
    assert set(gan.checkpoint_step) == {5, 10} and set(gan.checkpoint_epoch) == {0.5, 1.0}
    assert value(gan, "own_fake", "generated_recall", 10) == 1.0
    assert value(gan, "own_fake", "generated_recall", 5) == 0.0  # fakes passed at step 5
    assert value(gan, "own_fake", "auroc_heldout", 10) == 0.75
    assert value(gan, "own_fake", "auroc_test", 10) == 1.0
    assert value(gan, "real_heldout", "real_recall", 10) == 0.5
    assert value(gan, "real_test", "real_recall", 10) == 1.0
    # operating point: threshold = 5% quantile of TEST's even positions (1, 3) = 1.1
    assert value(gan, "operating_point", "op_threshold", 10) == pytest.approx(1.1)
    assert value(gan, "operating_point", "op_test_false_flag", 10) == 0.0  # odd: 2, 4
    assert value(gan, "operating_point", "op_heldout_false_flag", 10) == 1.0
    assert (gan.git_commit == "abc").all() and (gan.wall_seconds == 7.0).all()

    cross = rows(store, TrialId("gan_s0_h0-6-9_seed_x", "gan", "seed"), "other")
    assert set(cross.generator_arch) == {"other"}
    assert value(cross, "cross_fake", "generated_recall") == 0.5  # -5 flagged, 0.5 passed
    assert value(cross, "cross_fake", "op_fake_recall") == 1.0  # both below 1.1
    assert value(cross, "cross_fake", "auroc_test") == pytest.approx(1.0, abs=1e-6)

    det = rows(store, TrialId("detector_s0_h0-6-9_seed_lo-other", "detector", "seed"))
    gens = dict(det.drop_duplicates("suite")[["suite", "generator_arch"]].to_numpy())
    assert gens["train_fake"] == "gan" and gens["cross_fake"] == "other"
    assert gens["real_test"] == "detector" and (det.left_out == "other").all()
    assert value(det, "train_fake", "auroc_heldout", 20) == 0.75
    assert value(det, "cross_fake", "generated_recall", 20) == 0.5
    assert "auroc_test" in set(det[det.suite == "cross_fake"].metric)


def test_bad_input_is_one_line(tmp_path):
    assert_user_error(
        run_cli("-m", "analysis.rescore", "--results", str(tmp_path / "none")), "no results at"
    )


def test_rescoring_a_trials_own_files_reproduces_them(fashion_mnist, tmp_path):
    from fakedet.config import make_config
    from fakedet.cross import cross_evaluate
    from fakedet.trial import run_trial

    store = ResultsStore(tmp_path)
    one = make_config("hands_on", 0, "0,6,9", max_steps=2, eval_limit=40, eval_at=(0.001,))
    run_trial(one, fashion_mnist, store, device="cpu")
    # the real cross-evaluation code path; its own generator stands in for another's (the
    # sweep pairs different architectures, which would cost a second trial here)
    cross_evaluate(store, one, one, n_fakes=30, device="cpu")
    before = {g: rows(store, one, g) for g in (None, "hands_on")}
    assert set(before[None].checkpoint_step) == {1, 2}
    assert len(rescore(str(tmp_path)).current) == 2  # written at the current version
    assert len(rescore(str(tmp_path), force=True).rescored) == 2
    for g, df in before.items():
        pd.testing.assert_frame_equal(rows(store, one, g), df)
