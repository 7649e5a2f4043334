"""A trial killed mid-training resumes from its checkpoint and ends bit-identical.

Each run is a separate process on 1 thread (`tests/checkpoint_run.py`), killed with
SIGKILL at a chosen checkpoint save (deterministic, unlike a timer): right after a save,
or in the middle of one (a temporary file half-written, the previous checkpoint intact).
Run again, the trial resumes from its last complete save, not from step 0 (its trial.json
says from which step), and writes weights, samples, history, scores and metric rows equal
to those of the same trial run without interruption. Wall time, the commit and the resume
step are the only differences allowed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from results_compare import assert_same, record

from conftest import run_cli
from fakedet.checkpoint import CHECKPOINT_DIR, decode

HELPER = "tests/checkpoint_run.py"
ONE_THREAD = {"OMP_NUM_THREADS": "1"}


def _run(root: Path, data_dir: str, seeds: str, *kill: str):
    proc = run_cli(HELPER, str(root), data_dir, seeds, *kill, env=ONE_THREAD)
    return proc


def _resumed_from(root: Path) -> list[int]:
    return [json.loads(p.read_text()).get("resumed_from_step") for p in root.rglob("trial.json")]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, data_dir):
    """uninterrupted(seeds): the results root of the run never interrupted (run once)."""
    roots = {}

    def root_of(seeds: str) -> Path:
        if seeds not in roots:
            root = tmp_path_factory.mktemp("uninterrupted")
            proc = _run(root, data_dir, seeds)
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert _resumed_from(root) == [None] * len(seeds.split(","))
            roots[seeds] = root
        return roots[seeds]

    return root_of


@pytest.mark.parametrize(
    "seeds,kill,resumed",
    [
        ("0", ["--die-after-save", "2"], 12),  # a solo trial, after its save at step 12
        pytest.param("0,4", ["--die-after-save", "1"], 2, marks=pytest.mark.slow),  # a pack
        ("0", ["--die-in-save", "3"], 12),  # during the save of step 24: step 12's is used
    ],
    ids=["solo", "pack", "kill-during-save"],
)
def test_a_killed_trial_resumes_bit_identical(tmp_path, data_dir, uninterrupted, seeds, kill,
                                              resumed):  # fmt: skip
    root = tmp_path / "results"
    killed = _run(root, data_dir, seeds, *kill)
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert not (root / "metrics").exists() or not list((root / "metrics").rglob("*.parquet"))
    saved = list((root / CHECKPOINT_DIR).iterdir())
    assert len([p for p in saved if p.name.endswith(".pt") and not p.name.startswith("_")]) == 1
    if "--die-in-save" in kill:
        assert any(p.name.startswith("_tmp-") for p in saved)  # the half-written save
    state = decode(next(p for p in saved if not p.name.startswith("_")).read_bytes())
    assert state["train"]["steps"] == resumed

    again = _run(root, data_dir, seeds)
    assert again.returncode == 0, again.stdout + again.stderr
    assert _resumed_from(root) == [resumed] * len(seeds.split(","))
    assert not (root / CHECKPOINT_DIR).exists()  # dropped once the records are complete
    assert_same(record(root), record(uninterrupted(seeds)))


@pytest.mark.slow
def test_the_command_line_resumes_its_own_checkpoint(tmp_path, data_dir, uninterrupted):
    """Killed in a run of the helper, the trial is finished by `python -m fakedet`."""
    root = tmp_path / "results"
    assert _run(root, data_dir, "0", "--die-after-save", "1").returncode == -9
    budget = ["--max-steps", "40", "--eval-limit", "60", "--eval-at", "0.002,0.01,0.02"]
    args = ["-m", "fakedet", "--arch", "hands_on", "--held-out", "0,6,9", "--seed", "0",
            "--results", str(root), "--data-dir", data_dir, "--device", "cpu", "--no-quality",
            *budget]  # the helper's runs measure no quality either  # fmt: skip
    proc = run_cli(*args, env=ONE_THREAD)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _resumed_from(root) == [2]
    assert_same(record(root), record(uninterrupted("0")))
    assert not (root / CHECKPOINT_DIR).exists()
