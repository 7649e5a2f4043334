"""Device-hour estimates of a planned sweep, from benchmark records."""

import json

import pytest

from fakedet.config import make_config
from fakedet.protocol import SEED_TRAIN_IMAGES
from sweeps import estimate


def test_training_hours_from_recorded_speed():
    record = {"results": {"hands_on": {"fast_ms_per_step": 10.0}}}
    trials = [make_config("hands_on", s, "0,1,2") for s in range(3)]
    steps = 50 * (SEED_TRAIN_IMAGES // 32)  # the recipe's full budget
    hours = estimate.training_hours(trials, record)
    assert hours["hands_on"] == pytest.approx(3 * steps * 10.0 / 3.6e6)
    capped = estimate.training_hours([make_config("hands_on", 0, "0,1,2", max_steps=360)], record)
    assert capped["hands_on"] == pytest.approx(360 * 10.0 / 3.6e6)


def test_packing_gain_takes_the_best_count():
    record = {"results": {"1": {"aggregate_images_per_s": 100.0},
                          "2": {"aggregate_images_per_s": 180.0},
                          "4": {"aggregate_images_per_s": 250.0},
                          "8": {"aggregate_images_per_s": 240.0}}}  # fmt: skip
    assert estimate.packing_gain(record) == (2.5, 4)
    assert estimate.packing_gain(None) == (1.0, 1)


def test_describe_says_when_gpu_figures_are_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(estimate, "RESULTS", tmp_path)
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
    assert estimate.packing_problem(_packing({1: 100.0, 2: 190.0})) is None
    assert estimate.packing_problem(None) is None
    problem = estimate.packing_problem(_packing({1: 129.4, 2: 398.5}))  # the 2026-12-01 record
    assert problem and "3.08x one trial" in problem and "more than 2" in problem
    assert "single-trial" in estimate.packing_problem(_packing({2: 190.0}))


def test_a_packing_record_far_from_its_throughput_sibling_is_rejected():
    throughput = {"results": {"hands_on": {"fast_images_per_s": 160.0}}}
    assert estimate.packing_problem(_packing({1: 100.0, 2: 190.0}), throughput) is None
    problem = estimate.packing_problem(_packing({1: 1000.0, 2: 1900.0}), throughput)
    assert problem and "3x off" in problem
    other_arch = estimate.packing_problem(_packing({1: 1000.0, 2: 1900.0}, "brownlee"), throughput)
    assert other_arch is None  # no sibling to compare with


def test_describe_falls_back_to_no_packing_gain_with_a_note(tmp_path, monkeypatch):
    speed = {"fast_ms_per_step": 10.0, "fast_images_per_s": 3200.0}
    throughput = {"machine": "m", "results": {"hands_on": speed}}
    (tmp_path / "throughput-cpu.json").write_text(json.dumps(throughput))
    (tmp_path / "packing-cpu.json").write_text(json.dumps(_packing({1: 3000.0, 2: 9000.0})))
    monkeypatch.setattr(estimate, "RESULTS", tmp_path)
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
