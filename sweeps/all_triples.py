"""The main job: architectures x seeds x held-out triples on Ray Tune, then cross-evaluation.

    python sweeps/all_triples.py                 # the report's 2 archs x 5 seeds x 120 triples
    python sweeps/all_triples.py --smoke         # a tiny budget on 3 triples, 1 seed (~2 min, CPU)
    python sweeps/all_triples.py --dry-run       # the plan, without running it
    ray up cluster.yaml; ray attach cluster.yaml  # then, on the head node:
    python sweeps/all_triples.py --address auto --results s3://bucket/run

Rerunning the same command after an interruption finishes only what is missing.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.table import Table

from bench import estimate
from fakedet import data as fmnist
from fakedet import sweep
from fakedet.cli import add_budget_args, parse_overrides
from fakedet.cross import DEFAULT_CROSS_FAKES
from fakedet.errors import ArgumentParser, UserError, exit_on_user_error
from fakedet.store import ResultsStore

SMOKE = dict(seeds="0", triples="3", max_steps=20, eval_limit=300, cross_fakes=300)


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="python sweeps/all_triples.py", description=__doc__.split("\n")[0])
    p.add_argument("--archs", default="hands_on,brownlee", help="comma-separated architectures")
    p.add_argument("--seeds", default="0-4", help="seeds: 0-4, 0,2,5 or 3")
    p.add_argument(
        "--triples",
        default="all",
        help="all | 0,6,9;1,2,3 | N (N triples spread over the fixed order)",
    )
    p.add_argument(
        "--results", default="results", help="results root: a path or s3://bucket/prefix"
    )
    p.add_argument(
        "--address",
        help="join this Ray cluster (auto, host:port; default $RAY_ADDRESS, else a local Ray)",
    )
    p.add_argument(
        "--gpu-wait",
        type=float,
        default=600,
        help="when joining a cluster that shows no GPU yet, wait this many seconds for GPU "
        "workers to join before running on CPUs",
    )
    p.add_argument(
        "--gpus-per-trial",
        type=float,
        default=0.25,
        help="GPU fraction per trial where the cluster has GPUs (0.25: 4 per card)",
    )
    p.add_argument("--cpus-per-trial", type=float, default=1.0, help="CPUs per trial")
    p.add_argument("--num-cpus", type=int, help="CPUs of the local Ray (default: all)")
    p.add_argument("--num-gpus", type=int, help="GPUs of the local Ray (default: detected)")
    p.add_argument(
        "--cross-fakes",
        type=int,
        default=DEFAULT_CROSS_FAKES,
        help="fakes per cross-architecture evaluation",
    )
    p.add_argument("--max-failures", type=int, default=3, help="retries of a failed trial")
    p.add_argument(
        "--smoke",
        action="store_true",
        help="tiny budget, 3 triples, 1 seed: every phase in a few minutes on a CPU",
    )
    p.add_argument("--dry-run", action="store_true", help="print the plan and exit")
    add_budget_args(p)
    return p


def plan_table(spec, todo, n_total, n_done, resources, cluster) -> Table:
    t = Table(title="sweep plan", show_header=False)
    t.add_column(style="bold")
    t.add_column()
    t.add_row(
        "trials",
        f"{n_total} = {len(spec.archs)} archs x {len(spec.seeds)} seeds x "
        f"{len(spec.triples)} triples ({spec.protocol} protocol)",
    )
    t.add_row("already done", str(n_done))
    t.add_row("to run", str(n_total - n_done))
    t.add_row("per trial", f"{resources['cpu']:g} CPU, {resources['gpu']:g} GPU")
    t.add_row("cluster", ", ".join(f"{cluster.get(k, 0):g} {k}" for k in ("CPU", "GPU")))
    budget = (
        spec.max_steps
        and f"max {spec.max_steps} steps"
        or (spec.epochs and f"{spec.epochs} epochs")
        or "the recipes' full budgets"
    )
    t.add_row("budget", str(budget))
    for line in estimate.describe(todo):
        t.add_row("estimate", line)
    return t


@exit_on_user_error
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.smoke:
        for name, value in SMOKE.items():
            if getattr(args, name) == build_parser().get_default(name):
                setattr(args, name, value)
    for name in ("cross_fakes", "max_failures"):
        if getattr(args, name) < (1 if name == "cross_fakes" else 0):
            raise UserError(f"--{name.replace('_', '-')} is too small: {getattr(args, name)}")
    if args.gpus_per_trial < 0 or args.cpus_per_trial <= 0:
        raise UserError("--gpus-per-trial must be >= 0 and --cpus-per-trial > 0")
    spec = sweep.SweepSpec(
        archs=sweep.parse_archs(args.archs),
        seeds=sweep.parse_seeds(args.seeds),
        triples=sweep.parse_triples(args.triples),
        protocol=args.protocol,
        epochs=args.epochs,
        max_steps=args.max_steps,
        eval_limit=args.eval_limit,
        overrides=parse_overrides(args.overrides),
        cross_fakes=args.cross_fakes,
    )
    trials = spec.trials()  # validates every trial before anything starts
    store = ResultsStore(args.results)
    console = Console()

    sweep.connect(args.address, args.num_cpus, args.num_gpus)
    store.check_writable()
    import ray

    joined = args.address or os.environ.get("RAY_ADDRESS")
    if joined and args.gpus_per_trial > 0 and not args.dry_run:
        with console.status(f"waiting up to {args.gpu_wait:g} s for GPU workers to join"):
            if not sweep.wait_for_gpus(args.gpu_wait):
                console.print("[yellow]no GPU in the cluster: trials run on CPUs")
    resources = sweep.trial_resources(args.cpus_per_trial, args.gpus_per_trial)
    done = {t.key for t in trials if store.is_complete(t.key, t.arch, t.protocol)}
    todo = [t for t in trials if t.key not in done]
    cluster = ray.cluster_resources()
    console.print(plan_table(spec, todo, len(trials), len(done), resources, cluster))
    if args.dry_run:
        return 0

    status = sweep.LiveStatus(len(trials), len(done))
    errors = {}
    if todo:
        data = fmnist.load(args.data_dir)
        with sweep.live(status, console):
            errors = sweep.train_all(
                spec, data, store, resources, status, args.max_failures, console
            )
    complete = {t.key for t in trials if store.is_complete(t.key, t.arch, t.protocol)}
    pairs = sweep.cross_pairs(trials, complete)
    with console.status(f"cross-evaluating {len(pairs)} detector x generator pairs"):
        cross_done, cross_skipped, cross_errors = sweep.cross_all(
            pairs, store, spec.cross_fakes, resources
        )

    console.print()
    failed = {
        t.key: errors.get(t.key, "no result written") for t in trials if t.key not in complete
    }
    summary = Table(title="sweep summary")
    for col in ("phase", "done", "skipped (already complete)", "failed"):
        summary.add_column(col, justify="right" if col != "phase" else "left")
    summary.add_row("training", str(len(complete - done)), str(len(done)), str(len(failed)))
    summary.add_row("cross-evaluation", str(cross_done), str(cross_skipped), str(len(cross_errors)))
    console.print(summary)
    for key, line in {**failed, **cross_errors}.items():
        console.print(f"[red]failed[/] {key}: {line}")
    console.print(f"results: {store.root}")
    return 1 if failed or cross_errors else 0


if __name__ == "__main__":
    sys.exit(main())
