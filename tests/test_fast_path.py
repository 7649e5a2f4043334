"""The fast training loop computes exactly what the straightforward loop computes."""

import numpy as np
import pytest
import torch

from bench.naive import naive_train
from fakedet.models import ARCHS
from fakedet.train import train

STEPS = {"hands_on": 12, "brownlee": 5, "tf_dcgan": 4}  # each crosses an epoch boundary


@pytest.mark.parametrize("name", list(ARCHS))
def test_fast_path_matches_reference_loop(name):
    arch = ARCHS[name]
    images = np.random.default_rng(0).integers(0, 256, (300, 28, 28), dtype=np.uint8)
    fast = train(arch, arch.recipe, images, seed=3, device="cpu", max_steps=STEPS[name])
    G, D, losses, _ = naive_train(arch, arch.recipe, images, seed=3, max_steps=STEPS[name])
    assert fast.steps == len(losses) == STEPS[name]
    per_epoch, start = [], 0
    for row in fast.history:
        chunk = np.array(losses[start : start + row["steps"]])
        per_epoch.append(chunk.mean(axis=0))
        start += row["steps"]
    np.testing.assert_allclose(
        [[r["d_loss"], r["g_loss"]] for r in fast.history], per_epoch, rtol=1e-5, atol=1e-6
    )
    for mine, ref in ((fast.generator, G), (fast.discriminator, D)):
        for (k, a), (_, b) in zip(mine.state_dict().items(), ref.state_dict().items(), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=k)


def test_bf16_is_opt_in_and_recorded():
    arch = ARCHS["hands_on"]
    assert arch.recipe.precision == "fp32"
    recipe = arch.recipe.override(precision="bf16")
    images = np.random.default_rng(0).integers(0, 256, (100, 28, 28), dtype=np.uint8)
    result = train(arch, recipe, images, seed=0, device="cpu", max_steps=2)
    assert result.steps == 2 and np.isfinite(result.history[0]["d_loss"])
