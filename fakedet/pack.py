"""A pack: K trials of one architecture, recipe and budget trained as one batched model.

The networks are tiny, so on a GPU one trial is bound by kernel launches, not arithmetic.
A pack is the K > 1 case of the one trainer (`fakedet.train.train_members`, its members
`fakedet.members.Members`): every forward and backward pass runs once for all members.
Each member keeps everything a solo trial has of its own and draws it in the same order,
so a member equals its solo trial up to the floating-point summation order of the
batched kernels (tests/fakedet/test_pack.py). `fakedet.gan_job.run_gan` runs a pack's trials
and writes each one's record.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from fakedet.config import TrialConfig
from fakedet.errors import UserError
from fakedet.train import TrainResult, train_members

PACK_FIELDS = ("arch", "protocol", "recipe", "max_steps", "eval_limit", "eval_at")
"""What the members of one pack share (their seeds and held-out triples differ)."""


def pack_group(cfg: TrialConfig) -> tuple:
    """The trials that can share a pack have equal groups."""
    return tuple(getattr(cfg, name) for name in PACK_FIELDS)


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


def pack_out_of_memory(k: int, device: torch.device, needed: float) -> UserError:
    """The one line a pack that does not fit gives."""
    return UserError(
        f"a pack of K={k} members does not fit in {device} memory: it needed at least "
        f"{_gib(needed)}; use a smaller --pack"
    )


def train_pack(
    arch, recipe, images: Sequence[np.ndarray], seeds: Sequence[int], device="cpu", *args, **kw
) -> list[TrainResult]:
    """`train_members` (same arguments), with a pack that does not fit in the device's
    memory as one clear line."""
    device = torch.device(device)
    try:
        return train_members(arch, recipe, images, seeds, device, *args, **kw)
    except torch.OutOfMemoryError:
        if len(seeds) == 1:
            raise
        needed = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else 0
        raise pack_out_of_memory(len(seeds), device, needed) from None
