"""Benchmark: a pack of K trials in one fused model, per member-step, by K.

    python -m bench.pack [--device cpu|cuda] [--archs hands_on,brownlee,tf_dcgan]
        [--ks 1,2,4,8,16] [--steps N] [--warmup W] [--images N] [--batch B]
        [--out bench/results/pack-<device>.json]

For each architecture and K it measures, with the architecture's own recipe and batch:
- dispatched operators per member-step: the leaf aten operators `torch.profiler` records
  over `--profile-steps` pack steps, divided by steps x K (on a GPU, each is a kernel
  launch or more);
- wall milliseconds per member-step: (time of warmup + N steps) - (time of warmup),
  divided by N x K, so start-up costs cancel.
`--batch` overrides every recipe's batch size (a CPU run's time budget), and is recorded.
K = 1 is a pack of one (the fused code path); `bench.throughput` times the solo path. It
prints a rich table and writes JSON, which `--pack auto` and the sweep's dry run read.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from bench.throughput import machine, sync
from fakedet.models import ARCHS
from fakedet.pack import train_pack
from fakedet.protocol import SEED_TRAIN_IMAGES


def leaf_ops(events) -> int:
    """aten operators with no aten operator below them (what actually dispatches work)."""
    n = 0
    for e in events:
        if e.name.startswith("aten::") and not any(
            c.name.startswith("aten::") for c in e.cpu_children
        ):
            n += 1
    return n


def pack_seconds(arch: str, k: int, images, device, steps: int, batch: int | None) -> float:
    recipe = ARCHS[arch].recipe
    recipe = recipe.override(batch_size=batch) if batch else recipe
    results = train_pack(arch, recipe, [images] * k, list(range(k)), device, steps)
    sync(device)
    return results[0].seconds


def measure(arch, k, images, device, steps, warmup, profile_steps, batch=None) -> dict:
    from torch.profiler import ProfilerActivity, profile

    long = pack_seconds(arch, k, images, device, warmup + steps, batch)
    short = pack_seconds(arch, k, images, device, warmup, batch)
    # a profiled run also builds the pack: the steps' operators are the difference between
    # a run of `profile_steps` steps and a run of one
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        pack_seconds(arch, k, images, device, profile_steps, batch)
    with profile(activities=[ProfilerActivity.CPU]) as one:
        pack_seconds(arch, k, images, device, 1, batch)
    ops = leaf_ops(prof.events()) - leaf_ops(one.events())
    row = dict(ops_per_member_step=ops / ((profile_steps - 1) * k))
    if long <= short:  # the steps vanished in the noise: no time, rather than a wrong one
        return {**row, "ms_per_pack_step": None, "ms_per_member_step": None,
                "member_steps_per_s": None, "images_per_s": None}  # fmt: skip
    ms = (long - short) / steps * 1e3
    batch = batch or ARCHS[arch].recipe.batch_size
    return dict(
        **row,
        ms_per_pack_step=ms,
        ms_per_member_step=ms / k,
        member_steps_per_s=1e3 * k / ms,
        images_per_s=1e3 * k * batch / ms,
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--archs", default=",".join(ARCHS))
    p.add_argument("--ks", default="1,2,4,8,16")
    p.add_argument("--steps", type=int, default=10, help="timed steps per pack")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--profile-steps", type=int, default=3)
    p.add_argument("--images", type=int, default=SEED_TRAIN_IMAGES, help="per member")
    p.add_argument("--batch", type=int, help="override every recipe's batch size")
    p.add_argument("--note", default="", help="conditions to record (e.g. background load)")
    p.add_argument("--out")
    args = p.parse_args(argv)
    device = torch.device(args.device)
    images = np.random.default_rng(0).integers(0, 256, (args.images, 28, 28), dtype=np.uint8)
    ks = [int(k) for k in args.ks.split(",")]
    results: dict[str, dict[str, dict]] = {}
    for arch in args.archs.split(","):
        results[arch] = {}
        for k in ks:
            row = measure(
                arch, k, images, device, args.steps, args.warmup, args.profile_steps, args.batch
            )
            results[arch][str(k)] = row
            print(arch, k, row, flush=True)
    record = dict(
        benchmark="pack",
        machine=machine(device),
        device=device.type,
        device_name=torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        torch_version=torch.__version__,
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        steps=args.steps,
        warmup=args.warmup,
        images_per_member=args.images,
        batch=args.batch,
        command="python -m bench.pack " + " ".join(argv if argv is not None else sys.argv[1:]),
        note=args.note,
        results=results,
    )
    table = Table(title=f"pack: per member-step on {record['machine']}")
    for col in ("arch", "K", "ops/member-step", "ms/member-step", "ms/pack-step", "images/s"):
        table.add_column(col, justify="right")
    for arch, rows in results.items():
        for k, r in rows.items():
            if r["ms_per_pack_step"] is None:
                times = ["not measured (steps shorter than the noise)", "", ""]
            else:
                times = [f"{r['ms_per_member_step']:.2f}", f"{r['ms_per_pack_step']:.1f}",
                         f"{r['images_per_s']:,.0f}"]  # fmt: skip
            table.add_row(arch, k, f"{r['ops_per_member_step']:.0f}", *times)
    Console().print(table)
    out = Path(args.out or f"bench/results/pack-{device.type}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
