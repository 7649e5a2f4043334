"""Benchmark: this trainer against the trainer of another commit, in one process.

    python -m bench.trainer_vs --baseline 664363c [--archs hands_on,brownlee] [--steps 10]
        [--rounds 5] [--threads 1]

Loads `fakedet/train.py` as it was at `--baseline` (`git show`; it must import only
modules that still exist) beside the current one, and times `train` of each in turn,
round after round (A B A B ...), so drifts in the machine's speed hit both alike. Each
timing is the difference between a run of 2 + `--steps` steps and a run of 2 steps, in
wall time and in this thread's CPU time (`time.thread_time`: with one torch thread the
step runs on it, and time lost to other processes on the core does not count). Prints the
median per step of each and the ratio current / baseline, pair by pair (median).
It also checks that both end with the same weights (a solo trial's numbers unchanged).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from fakedet import train as current
from fakedet.models import ARCHS
from fakedet.protocol import SEED_TRAIN_IMAGES

REPO = Path(__file__).resolve().parents[1]


def load_baseline(commit: str):
    source = subprocess.run(
        ["git", "show", f"{commit}:fakedet/train.py"], cwd=REPO, check=True,
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "baseline_train.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("baseline_train", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["baseline_train"] = module
    spec.loader.exec_module(module)
    return module


def per_step(module, arch, images, steps: int) -> tuple[float, float]:
    """(wall, thread CPU) seconds per steady-state step of `module.train`."""

    def timed(n):
        wall, cpu = time.perf_counter(), time.thread_time()
        result = module.train(arch, arch.recipe, images, 0, "cpu", n)
        return time.perf_counter() - wall, time.thread_time() - cpu, result

    timed(2)  # untimed: first-use costs
    short, long = timed(2), timed(2 + steps)
    return (long[0] - short[0]) / steps, (long[1] - short[1]) / steps


def same_weights(a, b) -> bool:
    pairs = [(a.generator, b.generator), (a.discriminator, b.discriminator)]
    return all(
        torch.equal(x, y)
        for m, n in pairs
        for x, y in zip(m.state_dict().values(), n.state_dict().values(), strict=True)
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--baseline", required=True, help="a commit of this repository")
    p.add_argument("--archs", default="hands_on,brownlee")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    baseline = load_baseline(args.baseline)
    images = np.random.default_rng(0).integers(0, 256, (SEED_TRAIN_IMAGES, 28, 28), np.uint8)
    t = Table(title=f"trainer vs {args.baseline}, {args.threads} thread(s), ms per step")
    for col in ("arch", "baseline wall", "current wall", "ratio wall", "baseline CPU",
                "current CPU", "ratio CPU", "same weights"):  # fmt: skip
        t.add_column(col, justify="right")
    for name in args.archs.split(","):
        arch = ARCHS[name]
        runs = {"baseline": [], "current": []}
        for _ in range(args.rounds):
            runs["baseline"].append(per_step(baseline, arch, images, args.steps))
            runs["current"].append(per_step(current, arch, images, args.steps))
        ratio = [
            [c[i] / b[i] for b, c in zip(runs["baseline"], runs["current"], strict=True)]
            for i in (0, 1)
        ]
        same = same_weights(
            baseline.train(arch, arch.recipe, images, 0, "cpu", 5),
            current.train(arch, arch.recipe, images, 0, "cpu", 5),
        )
        med = {k: [statistics.median(x[i] for x in v) * 1e3 for i in (0, 1)]
               for k, v in runs.items()}  # fmt: skip
        t.add_row(
            name, f"{med['baseline'][0]:.1f}", f"{med['current'][0]:.1f}",
            f"{statistics.median(ratio[0]):.3f} ({min(ratio[0]):.2f}-{max(ratio[0]):.2f})",
            f"{med['baseline'][1]:.1f}", f"{med['current'][1]:.1f}",
            f"{statistics.median(ratio[1]):.3f} ({min(ratio[1]):.2f}-{max(ratio[1]):.2f})",
            str(same),
        )  # fmt: skip
    Console(width=200).print(t)


if __name__ == "__main__":
    main()
