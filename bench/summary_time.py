"""Benchmark: summarising a full-size results root.

    python -m bench.summary_time [--archs hands_on,brownlee] [--seeds 10] [--keep DIR]
    python -m bench.summary_time --root DIR      # time an existing root (e.g. a kept one)

Writes a synthetic results root of archs x seeds x 120 triples (2 x 10 x 120 = 2,400
trials, each with its per-class rows and cross-generator files), then times loading it
and building every table (`--tables all`), as `python -m analysis.summarize` does. Wall
time depends on what else the machine runs, so the CPU time of the process (all its
threads) and the load average are printed beside it.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

import numpy as np

from analysis.load import load_results
from analysis.summarize import parse, summarize
from analysis.synthetic import write_root
from fakedet.protocol import ALL_TRIPLES


def timed(fn, *args):
    """(result, wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--archs", default="hands_on,brownlee")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--resamples", type=int, default=10_000)
    p.add_argument("--keep", help="write the synthetic root here instead of a temp dir")
    p.add_argument("--root", help="summarise this existing root instead of writing one")
    args = p.parse_args()
    root = args.root or args.keep or tempfile.mkdtemp(prefix="fakedet-bench-")
    if not args.root:
        rng = np.random.default_rng(0)

        def value(arch, suite, metric, gen, class_id, seed, triple, **_):
            return float(rng.uniform(0.3, 0.9))

        archs = args.archs.split(",")
        n, t_write, _ = timed(write_root, root, archs, range(args.seeds), ALL_TRIPLES, value)
        print(f"wrote {n} trials in {t_write:.1f} s")
    summary_args = parse(["--results", root, "--resamples", str(args.resamples), "--tables", "all"])
    _, load_wall, load_cpu = timed(load_results, root)
    (tables, context), wall, cpu = timed(summarize, summary_args)
    print(
        f"machine: {platform.node()} ({platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}); "
        f"{context.grid.df.trial_key.nunique():,} trials, {len(context.grid.df):,} "
        "metric rows"
    )
    print(
        f"loaded and summarised {len(tables)} tables (resamples {args.resamples}) in "
        f"{wall:.2f} s wall, {cpu:.2f} s CPU; loading alone {load_wall:.2f} s wall, "
        f"{load_cpu:.2f} s CPU"
    )


if __name__ == "__main__":
    main()
