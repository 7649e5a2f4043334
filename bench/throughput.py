"""Benchmark: training throughput of the fast path against the naive baseline.

    python -m bench.throughput [--device cpu|cuda] [--archs hands_on,brownlee,tf_dcgan]
        [--steps N] [--repeats R] [--threads T] [--busy B] [--no-naive]
        [--record | --out PATH]

For each architecture, in one process and interleaved (baseline, fast, baseline, fast,
...), it measures steady-state training images per second and milliseconds per step of
(a) `bench.naive` (DataLoader, per-batch copies, eager fp32, `.item()` every step) and
(b) `fakedet.train` (the fast path), each timed as the difference between a run of
warmup + N steps and a run of warmup steps, so start-up costs cancel. Beside wall time it
records the process's CPU time per step (all its threads): a step whose CPU time far
exceeds its wall time x threads, or a wall time far above the CPU time / threads, was
contended; and it records the thread settings (torch's intra- and inter-op threads,
OMP_NUM_THREADS, OMP_WAIT_POLICY). It also measures evaluation (discriminator scoring and
generator sampling) images per second.

`--busy B` holds B cores with busy processes during the measurement (a shared machine:
another process on one of the two cores). It prints a rich table; it writes the committed
record (`bench/results/throughput-<device>.json`) only with `--record`, or JSON to
`--out PATH`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
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


def thread_settings() -> dict:
    """The settings that decide how a CPU step uses its cores."""
    return dict(
        torch_threads=torch.get_num_threads(),
        torch_interop_threads=torch.get_num_interop_threads(),
        OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS"),
        OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY"),
        cpus=os.cpu_count(),
    )


def loop_seconds(kind: str, arch, images, device, steps: int, compile_step: bool = False):
    """(wall, CPU) seconds of `steps` training steps (CPU: this process, all threads)."""
    recipe = arch.recipe
    cpu0 = time.process_time()
    if kind == "naive":
        wall = naive_train(arch, recipe, images, 0, str(device), steps)[3]
    else:
        wall = train(arch, recipe, images, 0, device, steps, compile_step=compile_step).seconds
    return wall, time.process_time() - cpu0


def step_ms(kind, arch, images, device, steps, warmup, compile_step=False) -> tuple:
    """Steady-state (wall, CPU) milliseconds per step: (time of warmup + steps) - (time of
    warmup). The CPU time includes the run's set-up; the difference cancels it.

    A compiled step is compiled once, untimed, first: later runs reuse torch.compile's cache.
    """
    if compile_step:
        loop_seconds(kind, arch, images, device, warmup, compile_step)
    long = loop_seconds(kind, arch, images, device, warmup + steps, compile_step)
    short = loop_seconds(kind, arch, images, device, warmup, compile_step)
    return tuple(max(a - b, 1e-9) / steps * 1e3 for a, b in zip(long, short, strict=True))


def _spin() -> None:
    while True:
        pass


def hold_cores(n: int) -> list:
    """n processes that each keep one core busy (terminate them when done)."""
    procs = [multiprocessing.get_context("spawn").Process(target=_spin, daemon=True)
             for _ in range(n)]  # fmt: skip
    for proc in procs:
        proc.start()
    return procs


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
    naive: bool = True,
) -> dict:
    images = np.random.default_rng(0).integers(0, 256, (N_IMAGES, 28, 28), dtype=np.uint8)
    results = {}
    for name in archs:
        arch = ARCHS[name]
        timed = {"naive": [], "fast": []} if naive else {"fast": []}
        for _ in range(repeats):  # interleaved, so drifts in machine speed hit both alike
            for kind, runs in timed.items():
                runs.append(step_ms(kind, arch, images, device, steps, warmup, compile_step
                                    and kind == "fast"))  # fmt: skip
        b, r = arch.recipe.batch_size, {"batch_size": arch.recipe.batch_size}
        for kind, runs in timed.items():
            wall = statistics.median(w for w, _ in runs)
            r.update({
                f"{kind}_ms_per_step": wall,
                f"{kind}_cpu_ms_per_step": statistics.median(c for _, c in runs),
                f"{kind}_images_per_s": b / wall * 1e3,
                f"{kind}_ms_all": [w for w, _ in runs],
                f"{kind}_cpu_ms_all": [c for _, c in runs],
            })  # fmt: skip
        if naive:
            r["speedup"] = r["naive_ms_per_step"] / r["fast_ms_per_step"]
        results[name] = {**r, **eval_rates(arch, device, eval_n)}
    return results


def table(results: dict, title: str) -> Table:
    t = Table(title=title)
    columns = (
        ("batch", "batch_size", "{}"),
        ("naive ms/step", "naive_ms_per_step", "{:.1f}"),
        ("naive CPU ms/step", "naive_cpu_ms_per_step", "{:.1f}"),
        ("fast ms/step", "fast_ms_per_step", "{:.1f}"),
        ("fast CPU ms/step", "fast_cpu_ms_per_step", "{:.1f}"),
        ("naive img/s", "naive_images_per_s", "{:,.0f}"),
        ("fast img/s", "fast_images_per_s", "{:,.0f}"),
        ("speedup", "speedup", "{:.2f}x"),
        ("score img/s", "score_images_per_s", "{:,.0f}"),
        ("generate img/s", "generate_images_per_s", "{:,.0f}"),
    )
    t.add_column("arch")
    for header, *_ in columns:
        t.add_column(header, justify="right")
    for name, r in results.items():
        t.add_row(name, *(fmt.format(r[k]) if k in r else "-" for _, k, fmt in columns))
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
    p.add_argument("--threads", type=int, help="torch threads (default: torch's own)")
    p.add_argument("--busy", type=int, default=0, help="cores to keep busy meanwhile")
    p.add_argument("--no-naive", action="store_true", help="time the fast path only")
    p.add_argument(
        "--record", action="store_true", help="write bench/results/throughput-<device>.json"
    )
    p.add_argument("--out", help="write the JSON here instead")
    args = p.parse_args(argv)
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    cuda = device.type == "cuda"
    steps = args.steps or (300 if cuda else 20)
    warmup = args.warmup or (50 if cuda else 3)
    eval_n = args.eval_images or (50_000 if cuda else 4_000)
    archs = [a.strip() for a in args.archs.split(",")]
    busy = hold_cores(args.busy)
    try:
        results = run(device, archs, steps, warmup, args.repeats, eval_n, naive=not args.no_naive)
        if args.compile:
            compiled = run(device, ["hands_on"], steps, warmup, 1, eval_n, True)
    finally:
        for proc in busy:
            proc.terminate()
    record = dict(
        benchmark="throughput",
        device=str(device),
        machine=machine(device),
        torch=torch.__version__,
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        steps=steps,
        warmup=warmup,
        repeats=args.repeats,
        threads=thread_settings(),
        busy_cores=args.busy,
        results=results,
    )
    if args.compile:
        record["compiled"] = compiled
    console = Console()
    console.print(table(results, f"training throughput on {record['machine']}"))
    if args.compile:
        console.print(table(record["compiled"], "with the compiled step"))
    settings = ", ".join(f"{k}={v}" for k, v in record["threads"].items())
    console.print(f"threads: {settings}; busy cores: {args.busy}")
    if args.record or args.out:
        out = Path(args.out or f"bench/results/throughput-{device.type}.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(record, indent=2))
        console.print(f"wrote {out}")


if __name__ == "__main__":
    main()
