"""Benchmark: summarising a full-size results root.

    python -m bench.summarize [--trials-archs 2] [--seeds 10] [--keep DIR]

Writes a synthetic results root of archs x seeds x 120 triples (2 x 10 x 120 = 2,400
trials, each with its per-class rows and cross-generator files), then times loading it
and building every table, as `python -m analysis.summarize` does.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time

import numpy as np

from analysis.summarize import build_parser, summarize
from analysis.synthetic import write_root
from fakedet.protocol import ALL_TRIPLES


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--archs", default="hands_on,brownlee")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--resamples", type=int, default=10_000)
    p.add_argument("--keep", help="write the synthetic root here instead of a temp dir")
    args = p.parse_args()
    archs = args.archs.split(",")
    root = args.keep or tempfile.mkdtemp(prefix="fakedet-bench-")
    rng = np.random.default_rng(0)

    def value(arch, suite, metric, gen, class_id, seed, triple):
        return float(rng.uniform(0.3, 0.9))

    t0 = time.perf_counter()
    n = write_root(root, archs, range(args.seeds), ALL_TRIPLES, value)
    t_write = time.perf_counter() - t0
    summary_args = build_parser().parse_args(
        ["--results", root, "--resamples", str(args.resamples)]
    )
    t0 = time.perf_counter()
    tables, grid = summarize(summary_args)
    t_summary = time.perf_counter() - t0
    print(
        f"machine: {platform.node()} ({platform.processor() or platform.machine()}), "
        f"{len(grid.df):,} metric rows"
    )
    print(
        f"wrote {n} trials in {t_write:.1f} s; loaded and summarised "
        f"{len(tables)} tables in {t_summary:.2f} s (resamples {args.resamples})"
    )


if __name__ == "__main__":
    main()
