"""The fast training loop computes exactly what the straightforward loop computes."""

import numpy as np
import pytest
import torch

from bench.naive import naive_train
from fakedet.config import make_config
from fakedet.models import ARCHS
from fakedet.record import provenance
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


def _conv_output_dtypes(recipe, arch, images) -> set:
    seen = set()

    def hook(module, args, output):
        if isinstance(module, torch.nn.Conv2d):
            seen.add(output.dtype)

    handle = torch.nn.modules.module.register_module_forward_hook(hook)
    try:
        train(arch, recipe, images, seed=0, device="cpu", max_steps=2)
    finally:
        handle.remove()
    return seen


def test_bf16_is_opt_in_used_and_recorded():
    arch = ARCHS["hands_on"]
    images = np.random.default_rng(0).integers(0, 256, (100, 28, 28), dtype=np.uint8)
    assert arch.recipe.precision == "fp32"  # opt-in: the default trains in fp32
    assert _conv_output_dtypes(arch.recipe, arch, images) == {torch.float32}
    bf16 = arch.recipe.override(precision="bf16")
    assert _conv_output_dtypes(bf16, arch, images) == {torch.bfloat16}  # autocast is on
    cfg = make_config("hands_on", 0, "0,1,2", overrides={"precision": "bf16"})
    assert cfg.key != make_config("hands_on", 0, "0,1,2").key
    assert provenance(cfg, "cpu", steps=2, n_train=100, seconds=1.0)["precision"] == "bf16"
