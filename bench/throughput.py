"""Benchmark: training throughput of the fast path against the naive baseline.

    python -m bench.throughput [--device cpu|cuda] [--archs hands_on,brownlee,tf_dcgan]
        [--steps N] [--repeats R] [--out bench/results/throughput-cpu.json]

For each architecture, in one process and interleaved (baseline, fast, baseline, fast,
...), it measures steady-state training images per second and milliseconds per step of
(a) `bench.naive` (DataLoader, per-batch copies, eager fp32, `.item()` every step) and
(b) `fakedet.train` (the fast path), each timed as the difference between a run of
warmup + N steps and a run of warmup steps, so start-up costs cancel. It also measures
evaluation (discriminator scoring and generator sampling) images per second. It prints a
rich table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from bench.naive import naive_train
from fakedet import evaluate
from fakedet.models import ARCHS, build
from fakedet.protocol import SEED_TRAIN_IMAGES
from fakedet.train import train

N_IMAGES = SEED_TRAIN_IMAGES  # a trial's training set under protocol `seed`


def machine(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} ({platform.node()})"
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {torch.get_num_threads()} threads ({platform.node()})"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def loop_seconds(kind: str, arch, images, device, steps: int, compile_step: bool = False) -> float:
    recipe = arch.recipe
    if kind == "naive":
        return naive_train(arch, recipe, images, 0, str(device), steps)[3]
    return train(arch, recipe, images, 0, device, steps, compile_step=compile_step).seconds


def step_ms(kind, arch, images, device, steps, warmup, compile_step=False) -> float:
    """Steady-state milliseconds per step: (time of warmup + steps) - (time of warmup).

    A compiled step is compiled once, untimed, first: later runs reuse torch.compile's cache.
    """
    if compile_step:
        loop_seconds(kind, arch, images, device, warmup, compile_step)
    long = loop_seconds(kind, arch, images, device, warmup + steps, compile_step)
    short = loop_seconds(kind, arch, images, device, warmup, compile_step)
    return max(long - short, 1e-9) / steps * 1e3


def eval_rates(arch, device, n: int) -> dict:
    G, D = build(arch, arch.recipe, torch.Generator().manual_seed(0))
    G, D = G.to(device), D.to(device)
    images = np.random.default_rng(0).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    evaluate.logits(D, images[:256])  # warm up
    sync(device)
    t0 = time.perf_counter()
    evaluate.logits(D, images)
    sync(device)
    score_rate = n / (time.perf_counter() - t0)
    evaluate.generate(G, 256, 0, arch.recipe.latent_dim, device)
    sync(device)
    t0 = time.perf_counter()
    evaluate.generate(G, n, 0, arch.recipe.latent_dim, device)
    sync(device)
    return dict(score_images_per_s=score_rate, generate_images_per_s=n / (time.perf_counter() - t0))


def run(
    device: torch.device,
    archs,
    steps: int,
    warmup: int,
    repeats: int,
    eval_n: int,
    compile_step: bool = False,
) -> dict:
    images = np.random.default_rng(0).integers(0, 256, (N_IMAGES, 28, 28), dtype=np.uint8)
    results = {}
    for name in archs:
        arch = ARCHS[name]
        naive, fast = [], []
        for _ in range(repeats):  # interleaved, so drifts in machine speed hit both alike
            naive.append(step_ms("naive", arch, images, device, steps, warmup))
            fast.append(step_ms("fast", arch, images, device, steps, warmup, compile_step))
        b = arch.recipe.batch_size
        naive_ms, fast_ms = statistics.median(naive), statistics.median(fast)
        results[name] = dict(
            batch_size=b,
            naive_ms_per_step=naive_ms,
            fast_ms_per_step=fast_ms,
            naive_images_per_s=b / naive_ms * 1e3,
            fast_images_per_s=b / fast_ms * 1e3,
            speedup=naive_ms / fast_ms,
            naive_ms_all=naive,
            fast_ms_all=fast,
            **eval_rates(arch, device, eval_n),
        )
    return results


def table(results: dict, title: str) -> Table:
    t = Table(title=title)
    for col in (
        "arch",
        "batch",
        "naive ms/step",
        "fast ms/step",
        "naive img/s",
        "fast img/s",
        "speedup",
        "score img/s",
        "generate img/s",
    ):
        t.add_column(col, justify="right" if col != "arch" else "left")
    for name, r in results.items():
        t.add_row(
            name,
            str(r["batch_size"]),
            f"{r['naive_ms_per_step']:.1f}",
            f"{r['fast_ms_per_step']:.1f}",
            f"{r['naive_images_per_s']:,.0f}",
            f"{r['fast_images_per_s']:,.0f}",
            f"{r['speedup']:.2f}x",
            f"{r['score_images_per_s']:,.0f}",
            f"{r['generate_images_per_s']:,.0f}",
        )
    return t


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--archs", default=",".join(ARCHS))
    p.add_argument("--steps", type=int, help="timed steps (default: 20 on CPU, 300 on CUDA)")
    p.add_argument("--warmup", type=int, help="untimed steps (default: 3 on CPU, 50 on CUDA)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--eval-images", type=int, help="images per evaluation timing")
    p.add_argument(
        "--compile",
        action="store_true",
        help="also time hands_on's fast path through torch.compile (CUDA graphs)",
    )
    p.add_argument("--out", help="JSON path (default: bench/results/throughput-<device>.json)")
    args = p.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    cuda = device.type == "cuda"
    steps = args.steps or (300 if cuda else 20)
    warmup = args.warmup or (50 if cuda else 3)
    eval_n = args.eval_images or (50_000 if cuda else 4_000)
    archs = [a.strip() for a in args.archs.split(",")]
    results = run(device, archs, steps, warmup, args.repeats, eval_n)
    record = dict(
        benchmark="throughput",
        device=str(device),
        machine=machine(device),
        torch=torch.__version__,
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        steps=steps,
        warmup=warmup,
        repeats=args.repeats,
        results=results,
    )
    if args.compile:
        record["compiled"] = run(device, ["hands_on"], steps, warmup, 1, eval_n, True)
    console = Console()
    console.print(table(results, f"training throughput on {record['machine']}"))
    if args.compile:
        console.print(table(record["compiled"], "with the compiled step"))
    out = Path(args.out or f"bench/results/throughput-{device.type}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2))
    console.print(f"wrote {out}")


if __name__ == "__main__":
    main()
