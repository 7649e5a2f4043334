"""Images as a marketplace receives them: the 8-bit round trip, upload transforms, their rows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from analysis.measures import TRANSFORM_LABELS
from fakedet import metrics, uploads
from fakedet.schema import EIGHT_BIT_SUITES, SUITES, UPLOAD_TRANSFORMS
from fakedet.train import to_unit_range


def test_8bit_round_trip_of_known_values():
    x = np.array([-1.0, -0.999, 1.0, 1.2, -3.0, 0.0, 2 / 127.5 - 1, 0.5 / 127.5 - 1])
    got = uploads.to_8bit(np.resize(x, (1, 1, 28, 28)))[0].ravel()[: len(x)]
    # (x + 1) * 127.5 rounded half to even, clipped: 0, 0.1275 -> 0, 255, 280.5 -> 255, ...
    assert got.tolist() == [0, 0, 255, 255, 0, 128, 2, 0]
    assert got.dtype == np.uint8


def test_a_real_image_survives_the_round_trip_unchanged():
    every_value = np.arange(256 * 4, dtype=np.int64).reshape(-1) % 256
    reals = every_value[: 28 * 28].reshape(1, 28, 28).astype(np.uint8)
    reals = np.concatenate([reals, 255 - reals])
    scaled = to_unit_range(torch.from_numpy(reals)).numpy()  # as the model sees reals
    np.testing.assert_array_equal(uploads.to_8bit(scaled), reals)


def test_background_share_counts_exact_background_only():
    u8 = np.zeros((2, 28, 28), np.uint8)
    u8[0, :14] = 1  # half of one image, a quarter of the pixels
    assert uploads.background_share(u8) == 0.75
    floats = np.full((1, 1, 28, 28), -1.0, np.float32)
    floats[..., :7] = -0.9999  # tanh near, not at, -1: not background
    assert uploads.background_share(floats) == 0.75
    assert np.isnan(uploads.background_share(np.zeros((0, 28, 28), np.uint8)))


@pytest.mark.parametrize("name", UPLOAD_TRANSFORMS)
def test_transforms_keep_shape_and_type_and_change_images(name, fashion_mnist):
    images = fashion_mnist.test_images[:50]
    out = uploads.TRANSFORMS[name](images)
    assert out.shape == images.shape and out.dtype == np.uint8
    assert not np.array_equal(out, images)
    assert np.abs(out.astype(int) - images).mean() < 40  # a degraded garment, not noise


def test_transform_names_are_the_schemas():
    assert tuple(uploads.TRANSFORMS) == UPLOAD_TRANSFORMS
    assert set(TRANSFORM_LABELS) == set(UPLOAD_TRANSFORMS)


def test_jpeg_quality_outside_1_to_100_is_refused():
    with pytest.raises(ValueError, match="1..100"):
        uploads.jpeg(np.zeros((1, 28, 28), np.uint8), 0)
    flat = np.full((1, 28, 28), 77, np.uint8)
    np.testing.assert_array_equal(uploads.jpeg(flat, 100), flat)  # a flat image survives


def test_upload_rows_score_8bit_fakes_against_untransformed_reals():
    held, test = np.array([1.0, 2.0, -1.0]), np.array([3.0, 1.0, 2.0, 0.5])
    fake8 = np.array([-2.0, -1.0, 0.5])
    logits = {
        "real_heldout": (held, np.array([0, 6, 9])),
        "real_test": (test, np.array([1, 2, 3, 4])),
        "own_fake_8bit": (fake8, np.full(3, -1)),
    }
    rows = {(r["suite"], r["metric"]): r["value"] for r in metrics.upload_rows(logits)}
    assert rows[("own_fake_8bit", "generated_recall")] == pytest.approx(2 / 3)
    # 8-bit fakes -2, -1, 0.5 against seen reals 3, 1, 2, 0.5: fakes below in 11 of 12
    # pairs, one tie (0.5) counts a half
    assert rows[("own_fake_8bit", "auroc_test")] == pytest.approx(11.5 / 12)
    assert {s for s, _ in rows} == {"own_fake_8bit"}
    assert set(m for _, m in rows) == set(SUITES["own_fake_8bit"].metrics)


def test_upload_rows_score_each_transform_against_its_own_reals():
    logits = {
        "real_heldout": (np.ones(2), np.array([0, 6])),
        "real_test": (np.ones(2), np.array([1, 2])),
        "own_fake@jpeg75": (np.array([-1.0, 1.0]), np.full(2, -1)),
        "real_heldout@jpeg75": (np.array([-2.0, 2.0]), np.array([0, 6])),
        "real_test@jpeg75": (np.array([2.0, 3.0]), np.array([1, 2])),
    }
    rows = {(r["suite"], r["metric"]): r["value"] for r in metrics.upload_rows(logits)}
    assert rows[("own_fake@jpeg75", "generated_recall")] == 0.5
    assert rows[("own_fake@jpeg75", "auroc_test")] == 1.0
    assert rows[("own_fake@jpeg75", "auroc_heldout")] == 0.5  # 2 of 4 pairs ranked right
    assert rows[("real_heldout@jpeg75", "real_recall")] == 0.5
    assert rows[("real_test@jpeg75", "real_recall")] == 1.0
    assert not any(s in EIGHT_BIT_SUITES for s, _ in rows)
