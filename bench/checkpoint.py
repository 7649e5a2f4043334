"""Benchmark: what a trial's checkpoints cost beside its training, on this machine.

    python -m bench.checkpoint [--archs hands_on,brownlee] [--steps 10] [--saves 5]
        [--threads 1] [--minutes 10] [--eval-at 0.05,0.1,0.25,0.5] [--out PATH]

For each architecture it trains `--steps` steps (after 2 untimed ones) to time a step, then
saves the trainer's whole state `--saves` times through the command line's sink (encode
and an atomic write into a temporary results root) and times a save, wall and CPU. The
overhead of a 1-epoch trial is then (saves x seconds per save) / (steps x seconds per
step), with one save per evaluation checkpoint of `--eval-at` (the 1-epoch study's ladder
by default) and one per `--minutes` of training. It prints a table; it writes JSON only
to `--out`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from fakedet.checkpoint import DEFAULT_MINUTES, StoreSink, encode
from fakedet.models import ARCHS
from fakedet.protocol import SEED_TRAIN_IMAGES
from fakedet.store import ResultsStore
from fakedet.train import train


class _Keep:
    """A saver that keeps the last state it is given."""

    resume_state = None
    state: dict | None = None

    def due(self, step: int, evaluated: bool) -> bool:
        return True

    def save(self, state: dict) -> None:
        self.state = state


def _timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(name: str, steps: int, saves: int, minutes: float, eval_at) -> dict:
    arch = ARCHS[name]
    images = np.random.default_rng(0).integers(0, 256, (SEED_TRAIN_IMAGES, 28, 28), np.uint8)
    train(arch, arch.recipe, images, 0, "cpu", 2)  # untimed: the process's first-use costs
    short = _timed(lambda: train(arch, arch.recipe, images, 0, "cpu", 2))
    long = _timed(lambda: train(arch, arch.recipe, images, 0, "cpu", 2 + steps))
    step_s, step_cpu = ((b - a) / steps for a, b in zip(short, long, strict=True))
    keep = _Keep()
    train(arch, arch.recipe, images, 0, "cpu", 3, saver=keep)  # a state with optimizer moments
    with tempfile.TemporaryDirectory() as root:
        sink = StoreSink(ResultsStore(root), "bench")
        data = encode({"train": keep.state})
        times = [_timed(lambda: sink.save(encode({"train": keep.state}), 0, {}))
                 for _ in range(saves)]  # fmt: skip
    save_s = float(np.median([w for w, _ in times]))
    save_cpu = float(np.median([c for _, c in times]))
    epoch_steps = arch.recipe.steps_per_epoch(SEED_TRAIN_IMAGES)
    train_s = epoch_steps * step_s
    n_saves = len([e for e in eval_at if e < 1]) + int(train_s // (minutes * 60))
    return dict(
        bytes=len(data), ms_per_save=save_s * 1e3, cpu_ms_per_save=save_cpu * 1e3,
        ms_per_step=step_s * 1e3, cpu_ms_per_step=step_cpu * 1e3, epoch_steps=epoch_steps,
        epoch_train_s=train_s, saves_per_epoch=n_saves,
        overhead=n_saves * save_s / train_s,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--archs", default="hands_on,brownlee")
    p.add_argument("--steps", type=int, default=10, help="timed training steps")
    p.add_argument("--saves", type=int, default=5, help="timed saves (median)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (sweeps: 1)")
    p.add_argument("--minutes", type=float, default=DEFAULT_MINUTES, help="save interval")
    p.add_argument("--eval-at", default="0.05,0.1,0.25,0.5", help="evaluation epochs")
    p.add_argument("--out", help="write the JSON here")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    eval_at = [float(e) for e in args.eval_at.split(",") if e]
    results = {
        a: measure(a, args.steps, args.saves, args.minutes, eval_at) for a in args.archs.split(",")
    }
    t = Table(title=f"checkpoint cost of a 1-epoch trial ({args.threads} thread(s))")
    for col in ("arch", "state MB", "ms/save", "CPU ms/save", "ms/step", "CPU ms/step",
                "epoch s", "saves", "overhead"):  # fmt: skip
        t.add_column(col, justify="right")
    for a, r in results.items():
        t.add_row(
            a, f"{r['bytes'] / 1e6:.1f}", f"{r['ms_per_save']:.0f}", f"{r['cpu_ms_per_save']:.0f}",
            f"{r['ms_per_step']:.0f}", f"{r['cpu_ms_per_step']:.0f}", f"{r['epoch_train_s']:.0f}",
            str(r["saves_per_epoch"]), f"{r['overhead']:.3%}",
        )  # fmt: skip
    Console().print(t)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(
                dict(threads=args.threads, minutes=args.minutes, results=results), f, indent=2
            )


if __name__ == "__main__":
    main()
