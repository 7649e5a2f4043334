"""Device-hour estimates of a planned sweep, from benchmark records."""

import pytest

from fakedet.protocol import SEED_TRAIN_IMAGES
from fakedet.trial import make_config
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
