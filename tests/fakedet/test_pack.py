"""A pack's members equal their solo trials, up to floating-point summation order.

Both are the one trainer (`fakedet.train.train_members`): K members of a pack are compared
with K runs of K = 1 (`train`), the same step code and the same draws; only the batched
kernels (`fakedet.members.Members` for K > 1) differ.

Tolerance. The pack computes each member's sums in another order than the solo trial
(grouped convolutions, batched matrix products), and nothing else differs: every draw is
the same. Adam and RMSprop divide each gradient by sqrt(v) + eps, so for the gradient
elements near eps (1e-7 here) a change in the last bits of a sum moves the update by up
to the learning rate, and 20 steps compound it. The solo trial itself moves that much
when only its thread count changes (1 vs 2 threads, batch 8, 20 steps, max over weights:
hands_on 8.7e-3, brownlee 9.1e-4, tf_dcgan 3.3e-5; the pack vs solo: 7.3e-3, 9.3e-4,
1.5e-6). So each weight may differ by half of the most an update can move it in 20 steps
(lr per step for Adam, lr / sqrt(1 - rho) for RMSprop), and each epoch-mean loss or D
output by 0.01. A trial with other draws (another seed) differs by 0.14 or more, 4 times
(hands_on) to 140 times (tf_dcgan) the tolerance.
"""

from __future__ import annotations

import math
import os
import signal
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from conftest import assert_user_error, run_cli, start_cli
from fakedet.config import make_config
from fakedet.errors import UserError
from fakedet.gan_job import run_gan
from fakedet.models import ARCHS, get_arch
from fakedet.pack import train_pack
from fakedet.store import ResultsStore
from fakedet.train import train
from fakedet.trial import run_trial

STEPS = 20
N_IMAGES = 47
SEEDS = (0, 1, 5)
BATCH = {"hands_on": 4, "brownlee": 4, "tf_dcgan": 6}  # tf_dcgan: a last partial batch


def _images(k: int, n: int = N_IMAGES) -> list[np.ndarray]:
    rng = np.random.default_rng(123)
    return [rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) for _ in range(k)]


def _state(result) -> dict[str, torch.Tensor]:
    g, d = result.generator.state_dict(), result.discriminator.state_dict()
    return {
        **{f"G.{k}": v.float() for k, v in g.items()},
        **{f"D.{k}": v.float() for k, v in d.items()},
    }


def _history(result) -> torch.Tensor:
    cols = ("d_loss", "g_loss", "d_real", "d_fake")
    return torch.tensor([[row[c] for c in cols] for row in result.history])


def _max_diff(a: list[dict], b: list[dict]) -> dict[str, float]:
    return {
        name: max((x[name] - y[name]).abs().max().item() for x, y in zip(a, b, strict=True))
        for name in a[0]
    }


def weight_tolerance(recipe) -> float:
    """Half the most an update can move a weight in STEPS steps."""
    lr = max(recipe.lr_d, recipe.lr_g)
    per_step = lr / math.sqrt(1 - recipe.rho) if recipe.optimizer == "rmsprop" else lr
    return per_step * STEPS / 2


@pytest.mark.parametrize("name", list(ARCHS))
def test_pack_members_equal_solo_trials(name):
    arch = get_arch(name)
    recipe = arch.recipe.override(batch_size=BATCH[name], epochs=3)
    images = _images(len(SEEDS))
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        solo = [
            train(arch, recipe, x, s, max_steps=STEPS) for x, s in zip(images, SEEDS, strict=True)
        ]
        pack = train_pack(arch, recipe, images, SEEDS, max_steps=STEPS)
    finally:
        torch.set_num_threads(before)

    assert [p.steps for p in pack] == [s.steps for s in solo] == [STEPS] * len(SEEDS)
    epochs = math.ceil(STEPS / recipe.steps_per_epoch(N_IMAGES))
    assert [len(p.history) for p in pack] == [len(s.history) for s in solo] == [epochs] * 3
    diff = _max_diff([_state(s) for s in solo], [_state(p) for p in pack])
    tol = weight_tolerance(recipe)
    too_far = {k: v for k, v in diff.items() if v > tol}
    assert not too_far, f"{name}: weights beyond {tol:.2g}: {too_far}"
    losses = _max_diff(
        [{"history": _history(r)} for r in solo], [{"history": _history(r)} for r in pack]
    )
    assert losses["history"] <= 0.01, f"{name}: epoch means differ by {losses}"

    # the members are three different trials, not one trial three times
    first = _state(pack[0])["D.0.weight"]
    assert all((first - _state(p)["D.0.weight"]).abs().max() > tol for p in pack[1:])


def test_pack_checkpoints_give_each_member_its_networks():
    arch = get_arch("hands_on")
    recipe = arch.recipe.override(batch_size=8, epochs=2)
    seen = []
    results = train_pack(
        arch, recipe, _images(2), [0, 1], max_steps=4, checkpoint_steps={2},
        on_checkpoint=lambda k, step, G, D: seen.append((k, step, G.training, D.training)),
    )  # fmt: skip
    assert seen == [(0, 2, False, False), (1, 2, False, False)]
    assert [r.steps for r in results] == [4, 4]


def test_pack_rejects_bf16_and_mismatched_members():
    arch = get_arch("brownlee")
    with pytest.raises(UserError, match="fp32"):
        train_pack(arch, arch.recipe.override(precision="bf16"), _images(2), [0, 1])
    with pytest.raises(ValueError, match="same number"):
        train_pack(arch, arch.recipe, [_images(1)[0], _images(1, n=30)[0]], [0, 1])


def _written(store) -> dict:
    """What a results root holds: relative file paths, and each table's columns."""
    files = sorted(
        str(p.relative_to(store.root)) for p in Path(store.root).rglob("*") if p.is_file()
    )
    tables = {
        f: pq.read_schema(Path(store.root) / f).names for f in files if f.endswith(".parquet")
    }
    return dict(files=files, columns=tables)


def test_a_pack_writes_what_its_solo_trials_write(fashion_mnist, tmp_path):
    budget = dict(max_steps=3, eval_limit=60, eval_at=(0.001,))
    cfgs = [
        make_config("hands_on", 0, "0,6,9", **budget),
        make_config("hands_on", 4, "1,2,3", **budget),
    ]
    solo_store, pack_store = ResultsStore(tmp_path / "solo"), ResultsStore(tmp_path / "pack")
    for cfg in cfgs:
        run_trial(cfg, fashion_mnist, solo_store, device="cpu")
    summaries = run_gan(cfgs, fashion_mnist, pack_store, device="cpu")
    assert [s["status"] for s in summaries] == ["done", "done"]
    assert [s["key"] for s in summaries] == [c.key for c in cfgs]
    assert _written(pack_store) == _written(solo_store)
    for cfg in cfgs:
        solo = solo_store.read_table(solo_store.metrics_path(cfg)).to_pandas()
        pack = pack_store.read_table(pack_store.metrics_path(cfg)).to_pandas()
        assert set(pack.suite) == set(solo.suite) and len(pack) == len(solo)
        assert sorted(set(pack.checkpoint_step)) == sorted(set(solo.checkpoint_step)) == [1, 3]
        assert (pack.trial_key == cfg.key).all()

    again = run_gan(cfgs, fashion_mnist, pack_store, device="cpu")
    assert [s["status"] for s in again] == ["skipped", "skipped"]
    with pytest.raises(ValueError, match="share"):
        run_gan([cfgs[0], make_config("brownlee", 0, "0,6,9", **budget)], fashion_mnist, pack_store)


# --- the sweep with packs --------------------------------------------------------------------
SWEEP = "sweeps/all_triples.py"


def _own_metrics(root: Path) -> list[Path]:
    return [p for p in (root / "metrics").rglob("*.parquet") if ".x-" not in p.name]


def _results(root: Path) -> dict:
    """Relative paths of the results (Tune's state aside) and each metrics file's columns."""
    files = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and not str(p.relative_to(root)).startswith("_tune")
    )
    columns = {f: pq.read_schema(root / f).names for f in files if f.startswith("metrics")}
    return dict(files=files, columns=columns)


@pytest.mark.parametrize("pack", ["0", "-2", "two"])
def test_sweep_rejects_a_bad_pack_size(tmp_path, pack):
    proc = run_cli(SWEEP, "--results", str(tmp_path / "r"), "--smoke", "--pack", pack)
    assert_user_error(proc, f"--pack {pack}")
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_sweep_in_packs_writes_what_the_sweep_writes(tmp_path, data_dir):
    common = ["--smoke", "--no-detector", "--data-dir", data_dir, "--num-cpus", "2"]
    solo, packed = tmp_path / "solo", tmp_path / "packed"
    for root, extra in ((solo, []), (packed, ["--pack", "3"])):
        proc = run_cli(SWEEP, "--results", str(root), *common, *extra, timeout=900)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "packs: up to hands_on 3, brownlee 3 trials per Tune trial" in proc.stdout
    assert _results(packed) == _results(solo)
    assert len(_own_metrics(packed)) == 6  # 2 archs x 3 triples, each its own trial

    mtimes = {p: p.stat().st_mtime_ns for p in (packed / "metrics").rglob("*.parquet")}
    again = run_cli(SWEEP, "--results", str(packed), *common, "--pack", "3", timeout=900)
    assert again.returncode == 0, again.stdout + again.stderr
    assert {p: p.stat().st_mtime_ns for p in (packed / "metrics").rglob("*.parquet")} == mtimes


@pytest.mark.slow
def test_killed_driver_with_packs_reruns_only_unfinished_members(tmp_path, data_dir):
    """Packs of 2 of 4 trials; the driver dies once the first pack has written; the rerun
    finishes the rest and leaves the written members alone."""
    root = tmp_path / "results"
    args = [SWEEP, "--archs", "hands_on", "--no-detector", "--seeds", "0", "--triples", "4",
            "--max-steps", "30", "--eval-limit", "100", "--results", str(root),
            "--data-dir", data_dir, "--num-cpus", "1", "--pack", "2"]  # fmt: skip
    proc = start_cli(*args)
    try:
        deadline = time.time() + 300
        while len(_own_metrics(root)) < 1 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and the local Ray it started
        proc.wait()
    first = {p: p.stat().st_mtime_ns for p in _own_metrics(root)}
    assert 1 <= len(first) < 4

    rerun = run_cli(*args, timeout=900)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert len(_own_metrics(root)) == 4
    assert all(p.stat().st_mtime_ns == first[p] for p in first)  # not recomputed


def test_pack_auto_reads_the_record_of_this_gpu_else_one(tmp_path, monkeypatch):
    import json

    from fakedet import cost
    from sweeps import estimate

    monkeypatch.setattr(cost, "RECORDS", tmp_path)
    archs = ("hands_on", "brownlee")
    assert estimate.auto_pack("H100", archs)[0] == {"hands_on": 1, "brownlee": 1}  # no record
    rows = {"1": {"member_steps_per_s": 300.0}, "8": {"member_steps_per_s": 1900.0},
            "16": {"member_steps_per_s": None}}  # fmt: skip
    record = dict(device_name="H100", date="d", results={"hands_on": rows})
    (tmp_path / "pack-cuda.json").write_text(json.dumps(record))
    assert estimate.auto_pack("H100", archs)[0] == {"hands_on": 8, "brownlee": 1}
    assert estimate.auto_pack("A100", archs)[0] == {"hands_on": 1, "brownlee": 1}
    assert estimate.auto_pack(None, archs)[0] == {"hands_on": 1, "brownlee": 1}
