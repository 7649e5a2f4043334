"""Benchmark: aggregate training throughput of several trials sharing one device.

    python -m bench.packing [--device cuda] [--arch hands_on] [--counts 1,2,4,8]

Starts k processes (k in --counts), each training the fast path of one architecture on
the same device; after a warm-up they start together, and the aggregate throughput is
k x steps x batch / the slowest process's loop time. Sets the case for the sweep's
default GPU fraction per trial (--gpus-per-trial).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from fakedet.protocol import SEED_TRAIN_IMAGES


def _worker(arch_name, device, steps, warmup, barrier, queue, threads):
    import torch

    from fakedet.models import ARCHS
    from fakedet.train import train

    torch.set_num_threads(threads)
    arch = ARCHS[arch_name]
    images = np.random.default_rng(0).integers(0, 256, (SEED_TRAIN_IMAGES, 28, 28), dtype=np.uint8)
    train(arch, arch.recipe, images, 0, device, warmup)
    barrier.wait()
    result = train(arch, arch.recipe, images, 0, device, steps)
    queue.put(result.seconds)


def measure(arch: str, device: str, k: int, steps: int, warmup: int, threads: int) -> dict:
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(k), ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(arch, device, steps, warmup, barrier, queue, threads))
        for _ in range(k)
    ]
    for p in procs:
        p.start()
    seconds = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    from fakedet.models import ARCHS

    images = k * steps * ARCHS[arch].recipe.batch_size
    return dict(
        trials=k, slowest_seconds=max(seconds), aggregate_images_per_s=images / max(seconds)
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--arch", default="hands_on")
    p.add_argument("--counts", default="1,2,4,8")
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--threads", type=int, default=1, help="CPU threads per process")
    p.add_argument("--out", help="JSON path (default: bench/results/packing-<device>.json)")
    args = p.parse_args(argv)
    counts = [int(c) for c in args.counts.split(",")]
    results = {}
    for k in counts:
        results[k] = measure(args.arch, args.device, k, args.steps, args.warmup, args.threads)
        base = results[counts[0]]["aggregate_images_per_s"]
        r = results[k]
        print(
            f"{k} trials: {r['aggregate_images_per_s']:,.0f} images/s in aggregate "
            f"({r['aggregate_images_per_s'] / base:.2f}x one trial)",
            flush=True,
        )
    record = dict(
        benchmark="packing",
        device=args.device,
        arch=args.arch,
        machine=platform.node(),
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        steps=args.steps,
        results=results,
    )
    out = Path(args.out or f"bench/results/packing-{args.device.split(':')[0]}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
