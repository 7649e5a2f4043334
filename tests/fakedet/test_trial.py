import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import assert_user_error, run_cli
from fakedet.config import make_config
from fakedet.schema import UPLOAD_TRANSFORMS
from fakedet.store import ResultsStore
from fakedet.trial import run_trial

TINY = ["--max-steps", "3", "--eval-limit", "150"]


def test_same_seed_same_metrics(fashion_mnist, tmp_path):
    cfg = make_config("hands_on", 1, "1,2,3", max_steps=4, eval_limit=100)
    tables = []
    for name in ("a", "b"):
        store = ResultsStore(tmp_path / name)
        run_trial(cfg, fashion_mnist, store, device="cpu")
        t = store.read_table(store.metrics_path(cfg))
        tables.append(
            t.drop_columns(["wall_seconds"]).sort_by(
                [("suite", "ascending"), ("metric", "ascending")]
            )
        )
    assert tables[0].equals(tables[1])
    other = make_config("hands_on", 2, "1,2,3", max_steps=4, eval_limit=100)
    assert other.key != cfg.key


def test_key_is_deterministic_and_budget_sensitive():
    a = make_config("brownlee", 0, "9,6,0")
    assert a.key == make_config("brownlee", 0, [0, 6, 9]).key
    assert a.key.startswith("brownlee_s0_h0-6-9_seed_")
    assert make_config("brownlee", 0, "0,6,9", max_steps=5).key != a.key
    assert make_config("brownlee", 0, "0,6,9", overrides={"lr_d": "1e-3"}).key != a.key


def test_trial_cli_end_to_end(tmp_path, data_dir):
    results = tmp_path / "results"
    args = [
        "-m",
        "fakedet.trial",
        "--arch",
        "hands_on",
        "--held-out",
        "9,6,0",
        "--seed",
        "0",
        "--results",
        str(results),
        "--data-dir",
        data_dir,
        *TINY,
    ]
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert "classification report" in proc.stdout and "headline per suite" in proc.stdout
    key = make_config("hands_on", 0, "0,6,9", max_steps=3, eval_limit=150).key
    trial_dir = results / "trials" / key
    for name in ("generator.pt", "discriminator.pt", "samples.png", "trial.json", "history.json"):
        assert (trial_dir / name).is_file(), name
    assert (trial_dir / "samples.png").read_bytes()[:4] == b"\x89PNG"
    metrics = pq.read_table(results / "metrics/arch=hands_on/protocol=seed" / f"{key}.parquet")
    df = metrics.to_pandas()
    base = {"own_fake", "real_heldout", "real_test", "overall", "operating_point"}
    assert base <= set(df.suite) and "own_fake_8bit" in set(df.suite)  # and uploads, quality
    accuracy = df[(df.metric == "accuracy") & df.suite.isin(base)]
    support = accuracy.set_index("suite").support.to_dict()
    assert support == {"own_fake": 300, "real_heldout": 150, "real_test": 150, "overall": 600}
    assert (df.steps == 3).all() and (df.torch_version != "").all()
    scores = pq.read_table(results / "scores/arch=hands_on/protocol=seed" / f"{key}.parquet")
    base_scores = scores.filter(pc.is_in(scores["suite"], pa.array(sorted(base))))
    assert base_scores.num_rows == 600 and str(scores.schema.field("score").type) == "float"
    assert scores["logit"].null_count == 0  # metric version 2 keeps D's logit
    assert json.loads((trial_dir / "trial.json").read_text())["key"] == key
    assert not [p for p in results.rglob("*") if p.name.startswith("_")]

    metrics_file = results / "metrics/arch=hands_on/protocol=seed" / f"{key}.parquet"
    mtime = metrics_file.stat().st_mtime
    again = run_cli(*args)
    assert again.returncode == 0 and "skipped" in again.stdout
    assert metrics_file.stat().st_mtime == mtime


@pytest.mark.parametrize(
    "extra,fragment",
    [
        (["--arch", "resnet"], "valid: hands_on, brownlee, tf_dcgan"),
        (["--held-out", "0,6"], "held-out triple"),
        (["--held-out", "0,6,6"], "held-out triple"),
        (["--seed", "-1"], "--seed -1: must be an integer in 0.."),
        (["--seed", "99999999999999999999"], "--seed 99999999999999999999: must be an integer"),
        (["--device", "nosuchdevice"], "--device nosuchdevice: not usable here"),
        (["--eval-at", "1,x"], "--eval-at '1,x': expected epochs"),
        (["--eval-at", "5"], "beyond the budget"),
        (["--seed", "x"], "invalid int value"),
        (["--set", "optimizer=sgd"], "optimizer"),
        (["--max-steps", "0"], "--max-steps 0: must be >= 1"),
        (["--checkpoint-minutes", "nan"], "--checkpoint-minutes: 'nan' is not a finite number"),
        (["--set", "batch_size=40000"], "--set batch_size=40000: an epoch of 37,800"),
        (["--set", "lr_d=inf"], "--set: recipe lr_d='inf' is not a valid float"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, extra, fragment):
    results = tmp_path / "results"
    proc = run_cli("-m", "fakedet.trial", "--results", str(results), *TINY, *extra)
    assert_user_error(proc, fragment)
    assert not results.exists()


def test_bad_locations_and_data(tmp_path):
    as_file = tmp_path / "file"
    as_file.write_text("keep me")
    proc = run_cli("-m", "fakedet.trial", "--results", str(as_file), *TINY)
    assert_user_error(proc, "is a file")
    assert as_file.read_text() == "keep me"
    proc = run_cli("-m", "fakedet.trial", "--results", str(as_file / "sub"), *TINY)
    assert_user_error(proc, "not writable")
    proc = run_cli("-m", "fakedet.trial", "--results", "nosuchscheme://b/x", *TINY)
    assert_user_error(proc, "invalid results location")

    bad_data = tmp_path / "data"
    bad_data.mkdir()
    for name in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ):
        (bad_data / name).write_bytes(b"\x00\x00\x08\x01" + (1).to_bytes(4, "big") + b"\x00")
    results = tmp_path / "results"
    proc = run_cli(
        "-m", "fakedet.trial", "--results", str(results), "--data-dir", str(bad_data), *TINY
    )
    assert_user_error(proc, "train-images-idx3-ubyte is corrupt")
    assert not (results / "metrics").exists()
    proc = run_cli(
        "-m",
        "fakedet.trial",
        "--results",
        str(results),
        "--data-dir",
        str(tmp_path / "nowhere"),
        *TINY,
    )
    assert_user_error(proc, "does not hold the four Fashion-MNIST IDX files")


def test_checkpoints_add_rows_and_leave_the_final_ones_unchanged(fashion_mnist, tmp_path):
    per_epoch = 37_800 // 32  # hands_on's steps per epoch under protocol seed
    ladder = (2 / per_epoch, 4 / per_epoch)  # after steps 2 and 4 of 6
    tables = {}
    for name, eval_at in (("plain", ()), ("ladder", ladder)):
        cfg = make_config("hands_on", 3, "2,5,8", max_steps=6, eval_limit=60, eval_at=eval_at)
        store = ResultsStore(tmp_path / name)
        summary = run_trial(cfg, fashion_mnist, store, device="cpu")
        assert summary["checkpoints"] == 1 + len(eval_at)
        tables[name] = store.read_table(store.metrics_path(cfg)).to_pandas()
        scores = store.read_table(store.scores_path(cfg)).to_pandas()
        assert sorted(scores.checkpoint_step.unique()) == [2, 4, 6][-1 - len(eval_at) :]
    ladder_rows = tables["ladder"]
    assert sorted(ladder_rows.checkpoint_step.unique()) == [2, 4, 6]
    every = ladder_rows[~ladder_rows.suite.str.contains("@")]  # uploads: final one only
    assert every.groupby("checkpoint_step").size().nunique() == 1  # same rows each
    uploaded = ladder_rows[ladder_rows.suite.str.contains("@")]
    assert set(uploaded.checkpoint_step) == {6}
    assert {s.split("@")[1] for s in uploaded.suite} == set(UPLOAD_TRANSFORMS)
    assert set(every.suite) >= {"own_fake", "own_fake_8bit", "real_test", "real_heldout"}
    epochs = ladder_rows.drop_duplicates("checkpoint_step").checkpoint_epoch.tolist()
    assert epochs == pytest.approx([*ladder, 6 / per_epoch])
    keys = ["suite", "metric", "class_id"]
    final = ladder_rows[ladder_rows.checkpoint_step == 6].sort_values(keys)
    plain = tables["plain"].sort_values(keys)
    cols = ["suite", "generator_arch", "class_id", "metric", "value", "support", "steps"]
    pd.testing.assert_frame_equal(
        final[cols].reset_index(drop=True), plain[cols].reset_index(drop=True)
    )
    early = ladder_rows[ladder_rows.checkpoint_step == 2].sort_values(keys)
    final_every = final[~final.suite.str.contains("@")]  # the rows every checkpoint has
    assert list(early.suite) == list(final_every.suite)
    assert not np.allclose(early.value.to_numpy(), final_every.value.to_numpy(), equal_nan=True)


@pytest.mark.parametrize("given,expected", [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_openmp_threads_wait_passively_unless_told(given, expected):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env |= {"OMP_WAIT_POLICY": given} if given else {}
    code = "import os, fakedet.trial; print(os.environ['OMP_WAIT_POLICY'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == expected, out.stderr
