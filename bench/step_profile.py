"""Profile: where a CPU training step spends its time, by kind of operator.

    python -m bench.step_profile [--arch hands_on] [--steps 20] [--threads 1]

Runs `--steps` steps of the trainer (after 3 untimed ones) under `torch.profiler` and
sums the operators' own CPU time into kinds: convolutions (forward and backward), 'same'
padding emulation (pad, the transposed convolutions' crop), dropout (mask draws and
their arithmetic), noise, matrix products, the optimizer, and the rest. Prints a table
of each kind's share of the step.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from fakedet.models import ARCHS
from fakedet.train import train

KINDS = {  # aten operators by kind; an operator not named here counts as "other"
    "convolution": {"convolution", "_convolution", "mkldnn_convolution", "convolution_backward",
                    "_slow_conv2d_forward", "_slow_conv2d_backward", "slow_conv_transpose2d",
                    "conv2d", "conv_transpose2d", "_convolution_mode"},
    "padding / crop": {"constant_pad_nd", "pad", "slice", "slice_backward", "narrow",
                       "as_strided"},
    "dropout masks": {"rand", "uniform_", "ge", "_to_copy", "to"},
    "noise": {"randn", "normal_"},
    "matrix products": {"addmm", "mm", "linear", "t", "bmm"},
    "optimizer": {"_foreach_mul_", "_foreach_addcmul_", "_foreach_sqrt", "_foreach_div_",
                  "_foreach_add_", "_foreach_addcdiv_", "_foreach_lerp_", "_foreach_mul",
                  "_foreach_sqrt_", "_foreach_add", "_foreach_div", "_foreach_addcmul"},
}  # fmt: skip


def kind_of(name: str) -> str:
    op = name.removeprefix("aten::")
    return next((kind for kind, ops in KINDS.items() if op in ops), "other")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--arch", default="hands_on")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    arch = ARCHS[args.arch]
    images = np.random.default_rng(0).integers(0, 256, (4096, 28, 28), dtype=np.uint8)
    train(arch, arch.recipe, images, 0, "cpu", 3)
    activities = [torch.profiler.ProfilerActivity.CPU]
    with torch.profiler.profile(activities=activities) as prof:
        train(arch, arch.recipe, images, 0, "cpu", args.steps)
    own, ops = defaultdict(float), prof.key_averages()
    for event in ops:
        own[kind_of(event.key)] += event.self_cpu_time_total
    total = sum(own.values())
    t = Table(title=f"{args.arch}: own CPU time by operator kind, {args.threads} thread(s)")
    for col in ("kind", "ms per step", "share"):
        t.add_column(col, justify="right" if col != "kind" else "left")
    for kind, us in sorted(own.items(), key=lambda kv: -kv[1]):
        t.add_row(kind, f"{us / 1e3 / args.steps:.1f}", f"{us / total:.1%}")
    console = Console()
    console.print(t)
    top = sorted(ops, key=lambda e: -e.self_cpu_time_total)[:15]
    console.print("top operators (own ms per step): " + ", ".join(
        f"{e.key} {e.self_cpu_time_total / 1e3 / args.steps:.1f}" for e in top))  # fmt: skip


if __name__ == "__main__":
    main()
