"""The sweep on a local Ray (2 CPUs): smoke run, GPU packing, node loss, driver crash."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import assert_user_error, run_cli, start_cli

pytestmark = pytest.mark.slow  # local Ray clusters and real sweeps: minutes

SWEEP = "sweeps/all_triples.py"
TINY = ["--max-steps", "3", "--eval-limit", "100", "--cross-fakes", "100", "--num-cpus", "2"]


def metric_files(root: Path) -> list[Path]:
    return sorted((root / "metrics").rglob("*.parquet")) if (root / "metrics").exists() else []


def own_files(root: Path) -> list[Path]:
    """The GAN trials' own metrics files."""
    return [p for p in metric_files(root) if ".x-" not in p.name and "arch=detector" not in str(p)]


def detector_files(root: Path) -> list[Path]:
    return [p for p in metric_files(root) if "arch=detector" in str(p)]


def suites_of(path: Path) -> set[str]:
    return set(pq.read_table(path, columns=["suite"]).column("suite").to_pylist())


def temporaries(root: Path) -> list[Path]:
    return [p for p in root.rglob("_tmp-*")]


def test_smoke_sweep_with_logical_gpus(tmp_path, data_dir):
    root = tmp_path / "results"
    args = [
        SWEEP,
        "--archs",
        "hands_on,brownlee",
        "--seeds",
        "0",
        "--triples",
        "0,1,2;3,4,5",
        "--results",
        str(root),
        "--data-dir",
        data_dir,
        "--num-gpus",
        "2",
        *TINY,
    ]
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}  # the quality classifier's, fresh
    proc = run_cli(*args, env=cache)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0.25 GPU" in proc.stdout  # the cluster has (logical) GPUs: trials ask for a share
    assert "training the Fashion-MNIST classifier" in proc.stdout
    assert "Experiment state snapshotting" not in proc.stdout + proc.stderr  # by design
    assert len(list((tmp_path / "cache").rglob("classifier-*.pt"))) == 1
    own = own_files(root)
    assert len(own) == 4
    cross = sorted(p.name for p in metric_files(root) if ".x-" in p.name)
    assert len(cross) == 4
    assert {n.split(".x-")[1] for n in cross} == {"hands_on.parquet", "brownlee.parquet"}
    detectors = detector_files(root)  # one per (seed, triple) and architecture left out
    assert sorted(p.name.rsplit("_lo-", 1)[1] for p in detectors) == [
        "brownlee.parquet", "brownlee.parquet", "hands_on.parquet", "hands_on.parquet"
    ]  # fmt: skip
    suites = set(pq.read_table(detectors[0], columns=["suite"]).column("suite").to_pylist())
    assert {"train_fake", "cross_fake", "real_heldout", "real_test"} <= suites
    assert {"train_fake_8bit", "cross_fake_8bit"} <= suites  # fakes as 8-bit images too
    uploads = {"own_fake@jpeg90", "real_test@jpeg75", "real_heldout@half", "own_fake@blur"}
    for p in own:  # every trial: 8-bit fakes, upload transforms, the fakes' quality
        assert {"own_fake_8bit", "fake_quality", *uploads} <= suites_of(p)
    for p in metric_files(root):
        if ".x-" in p.name:
            assert suites_of(p) == {"cross_fake", "cross_fake_8bit", "fake_quality"}
    for p in own:
        key = p.name.removesuffix(".parquet")
        for name in ("generator.pt", "discriminator.pt", "samples.png", "trial.json"):
            assert (root / "trials" / key / name).is_file()
    assert (root / "_tune").is_dir() and not temporaries(root)

    mtimes = {p: p.stat().st_mtime_ns for p in metric_files(root)}
    again = run_cli(*args, env=cache)
    assert again.returncode == 0, again.stderr
    assert "training the Fashion-MNIST classifier" not in again.stdout  # nothing to run
    summary = run_cli("-m", "analysis.summarize", "--results", str(root),
                      "--tables", "quality,robustness", "--resamples", "200",
                      env={"COLUMNS": "200"})  # fmt: skip
    assert summary.returncode == 0, summary.stderr
    assert "Frechet distance" in summary.stdout and "JPEG q75" in summary.stdout
    assert {p: p.stat().st_mtime_ns for p in metric_files(root)} == mtimes


def test_gpu_packing_with_logical_gpus(tmp_path):
    """At 0.25 GPU per trial on 2 (logical) GPUs, at most 8 trials run at once."""
    import ray
    from ray import tune

    from sweeps.cluster import trial_resources

    def sleepy(config):
        start = time.time()
        time.sleep(3)
        Path(config["out"], f"{config['i']}.txt").write_text(f"{start} {time.time()}")
        tune.report({"ok": 1})

    ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False)
    try:
        resources = trial_resources(0.1, 0.25)
        assert resources == {"cpu": 0.1, "gpu": 0.25}
        tune.Tuner(
            tune.with_resources(sleepy, resources),
            param_space={"i": tune.grid_search(list(range(12))), "out": str(tmp_path)},
            run_config=tune.RunConfig(storage_path=str(tmp_path / "tune"), verbose=0),
        ).fit()
    finally:
        ray.shutdown()
    spans = [tuple(map(float, p.read_text().split())) for p in tmp_path.glob("*.txt")]
    assert len(spans) == 12
    peak = max(sum(s <= t < e for s, e in spans) for t, _ in spans)
    assert 2 < peak <= 8, peak

    ray.init(num_cpus=2, num_gpus=0, include_dashboard=False, log_to_driver=False)
    try:
        assert trial_resources(1, 0.25) == {"cpu": 1, "gpu": 0}  # no GPUs: ask for none
    finally:
        ray.shutdown()


def _start_sweep(args: list[str]) -> subprocess.Popen:
    return start_cli(*args)


def _wait_for(predicate, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"sweep ended early:\n{proc.stdout.read()}")
        time.sleep(0.2)
    raise AssertionError("timed out")


def four_trials(root: Path, data_dir: str, steps: int, *extra: str) -> list[str]:
    """A sweep of 4 hands_on trials of `steps` steps each."""
    budget = (
        f"--archs hands_on --no-detector --seeds 0 --triples 4 --max-steps {steps} --eval-limit 100"
    )
    return [SWEEP, *budget.split(), "--results", str(root), "--data-dir", data_dir, *extra]


def test_driver_crash_then_rerun_finishes_only_what_is_missing(tmp_path, data_dir):
    root = tmp_path / "results"
    args = four_trials(root, data_dir, 30, "--num-cpus", "1")
    proc = _start_sweep(args)
    try:
        _wait_for(lambda: len(own_files(root)) >= 1, 240, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and the local Ray it started
        proc.wait()
    first = {p: p.stat().st_mtime_ns for p in own_files(root)}
    assert 1 <= len(first) < 4

    rerun = run_cli(*args)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "resuming the Tune experiment" in rerun.stdout  # Tuner.restore applied
    after = own_files(root)
    assert len(after) == 4 and not temporaries(root)
    assert all(p.stat().st_mtime_ns == first[p] for p in first)  # not recomputed


def test_node_loss(tmp_path, data_dir):
    """A head that runs no trials and two workers; one worker dies mid-sweep."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    workers = [cluster.add_node(num_cpus=1) for _ in range(2)]
    cluster.wait_for_nodes()
    root = tmp_path / "results"
    args = four_trials(root, data_dir, 40, "--address", cluster.address, "--gpu-wait", "0")
    proc = _start_sweep(args)
    try:
        _wait_for(lambda: (root / "_tune").exists() and len(own_files(root)) >= 1, 240, proc)
        cluster.remove_node(workers[0])
        out, _ = proc.communicate(timeout=400)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        cluster.shutdown()
    assert proc.returncode == 0, out
    files = own_files(root)
    assert len(files) == 4 and len({p.name for p in files}) == 4
    assert not temporaries(root)


@pytest.mark.parametrize(
    "extra,fragment",
    [
        (["--archs", "hands_on,resnet"], "unknown arch 'resnet'"),
        (["--triples", "0,1"], "held-out triple"),
        (["--seeds", "a-b"], "--seeds"),
        (["--address", "127.0.0.1:1"], "cannot reach a Ray cluster at 127.0.0.1:1"),
        (["--results", "nosuchscheme://bucket/x"], "invalid results location"),
        (["--archs", "hands_on"], "the detector phase trains on the generators of the other"),
        (["--eval-at", "0,1"], "epochs must be positive"),
    ],
)
def test_bad_input(tmp_path, extra, fragment):
    root = tmp_path / "results"
    proc = run_cli(SWEEP, "--results", str(root), "--smoke", *extra)
    assert_user_error(proc, fragment)
    assert not root.exists()


def test_dry_run_prints_the_plan_and_runs_nothing(tmp_path):
    root = tmp_path / "results"
    proc = run_cli(SWEEP, "--dry-run", "--results", str(root), "--num-cpus", "2")
    assert proc.returncode == 0, proc.stderr
    assert "1200 = 2 archs x 5 seeds x 120 triples" in proc.stdout
    assert "to run" in proc.stdout and "2 CPU, 0 GPU" in proc.stdout
    assert not own_files(root) and not (root / "_tune").exists()
