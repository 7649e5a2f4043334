"""Live curves: a sweep's trials report every checkpoint's figures to Tune as they save it.

Tune's own TensorBoard files then hold a curve per trial, MLflow (`--mlflow URI`, offline
with a SQLite store) every trial with its parameters and curves, and the live status a
running trial's step and figures. A finished trial leaves no training state behind.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from conftest import run_cli
from sweeps.progress import LiveStatus

SWEEP = "sweeps/all_triples.py"
# hands_on: 1,181 steps per epoch; evaluations at steps 6 and 12 of 20, and the final step
BUDGET = ["--archs", "hands_on", "--no-detector", "--seeds", "0", "--triples", "2",
          "--max-steps", "20", "--eval-limit", "100", "--eval-at", "0.005,0.01",
          "--num-cpus", "2"]  # fmt: skip


def tensorboard_points(path: Path) -> dict[str, list[tuple[int, float]]]:
    """{tag: [(step, value)]} of a TensorBoard event file (TFRecord framing, Event protos)."""
    from tensorboardX.proto import event_pb2

    points: dict[str, list] = {}
    data, at = path.read_bytes(), 0
    while at < len(data):
        (n,) = struct.unpack("<Q", data[at : at + 8])
        event = event_pb2.Event.FromString(data[at + 12 : at + 12 + n])
        at += 12 + n + 4
        for v in event.summary.value:
            points.setdefault(v.tag, []).append((event.step, v.simple_value))
    return points


@pytest.mark.slow
def test_a_sweep_reports_curves_to_tensorboard_and_mlflow(tmp_path, data_dir):
    pytest.importorskip("mlflow")
    import mlflow

    root, db = tmp_path / "results", tmp_path / "mlflow.db"
    proc = run_cli(SWEEP, "--results", str(root), "--data-dir", data_dir, *BUDGET,
                   "--mlflow", f"sqlite:///{db}", timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr

    events = sorted((root / "_tune").rglob("events.out.tfevents.*"))
    assert len(events) == 2  # one per trial
    for path in events:
        curves = tensorboard_points(path)
        own = curves["ray/tune/own_fakes_flagged"]
        assert len(own) == 2 and all(0 <= v <= 1 for _, v in own)  # steps 6 and 12
        assert [v for _, v in curves["ray/tune/step"]] == [6.0, 12.0]
        assert len(curves["ray/tune/d_loss"]) == 2
    # no training state is left behind: Tune kept the final marker, not the state
    assert not list(root.rglob("state.pt")) and not (root / "_checkpoints").exists()
    assert len(list((root / "_tune").rglob("done.json"))) == 2

    client = mlflow.MlflowClient(f"sqlite:///{db}")
    (experiment,) = [e for e in client.search_experiments() if e.name.startswith("sweep-")]
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 2
    assert len({r.data.params["heldout"] for r in runs}) == 2  # the two trials
    for run in runs:
        assert run.data.params["arch"] == "hands_on" and run.data.params["seed"] == "0"
        history = client.get_metric_history(run.info.run_id, "own_fakes_flagged")
        assert len(history) == 2 and all(0 <= m.value <= 1 for m in history)


def test_the_live_status_shows_a_running_trials_step_and_figures():
    class Trial:
        trial_id = "t1"
        config = {"arch": "hands_on", "seed": 0, "heldout": [0, 6, 9], "budget": {}}

    status = LiveStatus(total=1, already_done=0)
    status.on_trial_start(0, [], Trial())
    figures = {"step": 120, "d_loss": 0.61, "own_fakes_flagged": 0.875, "real_recall_test": 0.5}
    status.on_trial_result(0, [], Trial(), figures)
    table = status.running_table()
    cells = [str(c) for column in table.columns for c in column._cells]
    assert cells[0].startswith("hands_on_s0_h0-6-9_seed_")
    assert cells[1:5] == ["120", "0.61", "-", "0.875"]
    status.on_trial_complete(0, [], Trial())
    assert table.row_count == 1 and status.running_table().row_count == 0
