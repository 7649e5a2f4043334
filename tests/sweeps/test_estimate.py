"""The cost model of a trial on a device (`fakedet.cost`) and the sweep's device-hour
estimate built on it (`sweeps.estimate`), from benchmark records."""

import json
import math

import pytest

from fakedet import cost
from fakedet.config import make_config
from fakedet.protocol import SEED_TRAIN_IMAGES
from sweeps import estimate


def _device(ms: dict[str, float]) -> cost.DeviceCost:
    return cost.DeviceCost("cpu", "m", "2026-12-01", ms, "throughput-cpu.json")


def test_training_hours_from_recorded_speed():
    trials = [make_config("hands_on", s, "0,1,2") for s in range(3)]
    steps = 50 * (SEED_TRAIN_IMAGES // 32)  # the recipe's full budget
    assert cost.trial_steps(trials[0]) == steps
    hours = estimate.training_hours(trials, _device({"hands_on": 10.0}))
    assert hours["hands_on"] == pytest.approx(3 * steps * 10.0 / 3.6e6)
    capped = make_config("hands_on", 0, "0,1,2", max_steps=360)
    hours = estimate.training_hours([capped], _device({"hands_on": 10.0}))
    assert hours["hands_on"] == pytest.approx(360 * 10.0 / 3.6e6)
    assert math.isnan(estimate.training_hours([capped], _device({}))["hands_on"])


def test_a_device_cost_reads_its_record(tmp_path):
    assert cost.device_cost("cpu", tmp_path) is None and cost.preferred_cost(tmp_path) is None
    speed = {"hands_on": {"fast_ms_per_step": 10.0}, "brownlee": {"naive_ms_per_step": 5.0}}
    record = {"machine": "m", "date": "2026-12-01T09:00:00", "results": speed}
    (tmp_path / "throughput-cpu.json").write_text(json.dumps(record))
    cpu = cost.device_cost("cpu", tmp_path)
    assert cpu.ms_per_step == {"hands_on": 10.0}  # brownlee has no fast-path speed
    assert (cpu.machine, cpu.date, cpu.source) == ("m", record["date"], "throughput-cpu.json")
    assert cpu.seconds("hands_on", 360) == pytest.approx(3.6) and cpu.unit == "CPU-hours"
    assert cpu.hours("hands_on", 360) == pytest.approx(0.001)
    assert cost.preferred_cost(tmp_path) == cpu  # no GPU record: the CPU's
    (tmp_path / "throughput-cuda.json").write_text(json.dumps({**record, "machine": "g"}))
    gpu = cost.preferred_cost(tmp_path)
    assert gpu.unit == "GPU-hours" and gpu.machine == "g"


def test_packing_gain_takes_the_best_count():
    record = {"results": {"1": {"aggregate_images_per_s": 100.0},
                          "2": {"aggregate_images_per_s": 180.0},
                          "4": {"aggregate_images_per_s": 250.0},
                          "8": {"aggregate_images_per_s": 240.0}}}  # fmt: skip
    assert cost.packing_gain(record) == (2.5, 4)
    assert cost.packing_gain(None) == (1.0, 1)


def test_describe_says_when_gpu_figures_are_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(cost, "RECORDS", tmp_path)
    lines = estimate.describe([make_config("brownlee", 0, "0,1,2")])
    assert lines == [
        "GPU-hours: not measured yet (no bench/results/throughput-cuda.json; run "
        "bench/gpu.sh on a GPU machine)"
    ]


def _packing(rates: dict[int, float], arch: str = "hands_on") -> dict:
    return {
        "arch": arch,
        "results": {str(k): {"aggregate_images_per_s": r} for k, r in rates.items()},
    }


def test_a_packing_record_faster_than_its_processes_is_rejected():
    assert cost.packing_problem(_packing({1: 100.0, 2: 190.0})) is None
    assert cost.packing_problem(None) is None
    problem = cost.packing_problem(_packing({1: 129.4, 2: 398.5}))  # the 2026-12-01 record
    assert problem and "3.08x one trial" in problem and "more than 2" in problem
    assert "single-trial" in cost.packing_problem(_packing({2: 190.0}))


def test_a_packing_record_far_from_its_throughput_sibling_is_rejected():
    throughput = {"results": {"hands_on": {"fast_images_per_s": 160.0}}}
    assert cost.packing_problem(_packing({1: 100.0, 2: 190.0}), throughput) is None
    problem = cost.packing_problem(_packing({1: 1000.0, 2: 1900.0}), throughput)
    assert problem and "3x off" in problem
    other_arch = cost.packing_problem(_packing({1: 1000.0, 2: 1900.0}, "brownlee"), throughput)
    assert other_arch is None  # no sibling to compare with


def test_describe_falls_back_to_no_packing_gain_with_a_note(tmp_path, monkeypatch):
    speed = {"fast_ms_per_step": 10.0, "fast_images_per_s": 3200.0}
    throughput = {"machine": "m", "results": {"hands_on": speed}}
    (tmp_path / "throughput-cpu.json").write_text(json.dumps(throughput))
    (tmp_path / "packing-cpu.json").write_text(json.dumps(_packing({1: 3000.0, 2: 9000.0})))
    monkeypatch.setattr(cost, "RECORDS", tmp_path)
    trials = [make_config("hands_on", 0, "0,1,2", max_steps=360)]
    lines = estimate.describe(trials)
    hours = 360 * 10.0 / 3.6e6
    assert lines[1] == (
        f"CPU-hours on m: {hours:,.1f} (hands_on {hours:,.1f} one at a time; "
        "/ 1.00 for 1 per device)"
    )
    assert lines[2].startswith(
        "CPU-hours: no packing gain assumed: the packing record's 2 trials are 3.00x"
    )
    (tmp_path / "packing-cpu.json").write_text(json.dumps(_packing({1: 3000.0, 2: 5400.0})))
    assert estimate.describe(trials)[1].endswith("/ 1.80 for 2 per device)")
    assert len(estimate.describe(trials)) == 2
