"""Benchmark: what Ray Tune costs per trial, apart from the trial's own work.

    python -m bench.sweep_overhead [--counts 240,1200] [--num-cpus 2]

Runs N trivial trials (each reports once) through the same Tuner setup as the sweep
(function trainable, the dataset attached with `tune.with_parameters`, actor reuse,
trials named by key) and reports the driver's wall time per trial, so growth with N
shows whether the sweep's bookkeeping stays linear.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")

import numpy as np  # noqa: E402
import ray  # noqa: E402
from ray import tune  # noqa: E402


def trivial(config: dict, data: np.ndarray) -> None:
    tune.report({"pixels": int(data.shape[0])})


def run(n: int, reuse: bool, data: np.ndarray) -> float:
    with tempfile.TemporaryDirectory() as storage:
        t0 = time.perf_counter()
        tune.Tuner(
            tune.with_resources(tune.with_parameters(trivial, data=data), {"cpu": 1}),
            param_space={"i": tune.grid_search(list(range(n)))},
            tune_config=tune.TuneConfig(
                reuse_actors=reuse, trial_dirname_creator=lambda t: f"t{t.config['i']}"
            ),
            run_config=tune.RunConfig(storage_path=storage, verbose=0),
        ).fit()
        return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--counts", default="240,1200")
    p.add_argument("--num-cpus", type=int, default=2)
    p.add_argument("--no-reuse", action="store_true", help="a new actor per trial")
    p.add_argument("--out", default="bench/results/sweep-overhead.json")
    args = p.parse_args(argv)
    ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False)
    data = np.zeros((70_000, 28, 28), np.uint8)  # the size of Fashion-MNIST
    results = {}
    for n in (int(c) for c in args.counts.split(",")):
        seconds = run(n, not args.no_reuse, data)
        results[n] = dict(seconds=seconds, ms_per_trial=seconds / n * 1e3)
        print(
            f"{n} trivial trials: {seconds:.1f} s, {seconds / n * 1e3:.0f} ms per trial", flush=True
        )
    ray.shutdown()
    record = dict(
        benchmark="sweep_overhead",
        machine=f"{platform.node()}, {args.num_cpus} CPUs",
        ray=ray.__version__,
        reuse_actors=not args.no_reuse,
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        results=results,
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
