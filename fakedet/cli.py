"""Command line of one trial: `python -m fakedet.trial --help`."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from fakedet import data as fmnist
from fakedet.errors import ArgumentParser, UserError, exit_on_user_error
from fakedet.models import ARCHS
from fakedet.protocol import PROTOCOLS
from fakedet.report import classification_report_table, suite_recall_table
from fakedet.store import ResultsStore
from fakedet.trial import make_config, run_trial


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    """['lr_d=1e-4', 'batch_size=64'] -> {'lr_d': '1e-4', 'batch_size': '64'}."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UserError(f"--set takes FIELD=VALUE, got {pair!r}")
        out[name.strip()] = value.strip()
    return out


def add_budget_args(parser: ArgumentParser) -> None:
    """Arguments shared by the trial and the sweep."""
    parser.add_argument(
        "--protocol",
        default="seed",
        choices=PROTOCOLS,
        help="data protocol: 'seed' (the report's) or 'official'",
    )
    parser.add_argument("--epochs", type=int, help="override the recipe's epochs")
    parser.add_argument("--max-steps", type=int, help="stop training after this many steps")
    parser.add_argument(
        "--eval-limit", type=int, help="cap real images per evaluation suite (quick runs)"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a recipe field (repeatable)",
    )
    parser.add_argument(
        "--data-dir",
        help="directory of the four Fashion-MNIST IDX files "
        "(default: $FAKEDET_DATA_DIR, ~/.cache/fakedet, Debian's package, "
        "else download)",
    )


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m fakedet.trial",
        description="Train one DCGAN on 7 Fashion-MNIST classes and evaluate its "
        "discriminator as a fake-image detector.",
    )
    p.add_argument("--arch", default="brownlee", help=f"architecture: {', '.join(ARCHS)}")
    p.add_argument("--held-out", default="0,6,9", help="3 held-out class ids, e.g. 0,6,9")
    p.add_argument("--seed", type=int, default=0, help="trial seed (split and training)")
    p.add_argument("--results", default="results", help="results root: a path or a URI (s3://)")
    p.add_argument("--device", help="cpu, cuda, cuda:1 (default: CUDA when visible)")
    p.add_argument("--force", action="store_true", help="rerun even if results exist")
    add_budget_args(p)
    return p


@exit_on_user_error
def trial_main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    cfg = make_config(
        args.arch,
        args.seed,
        args.held_out,
        args.protocol,
        parse_overrides(args.overrides),
        args.epochs,
        args.max_steps,
        args.eval_limit,
    )
    store = ResultsStore(args.results)
    store.check_writable()
    console = Console()
    if store.is_complete(cfg.key, cfg.arch, cfg.protocol) and not args.force:
        console.print(f"[yellow]skipped[/] {cfg.key}: results exist (use --force to rerun)")
    else:
        dataset = fmnist.load(args.data_dir)
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("steps"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(f"training {cfg.key}", total=None)

            def on_step(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            summary = run_trial(cfg, dataset, store, args.device, args.force, on_step)
        console.print(
            f"[green]done[/] {cfg.key}: {summary['steps']} steps on "
            f"{summary['device']} in {summary['seconds']:.1f} s (training "
            f"{summary['train_seconds']:.1f} s, then writing {summary['write_seconds']:.1f} s)"
            f" → {store.root}"
        )
    path = store.metrics_path(cfg.key, cfg.arch, cfg.protocol)
    df = pq.read_table(io.BytesIO(store.read_bytes(path))).to_pandas()
    console.print(classification_report_table(df, "overall"))
    console.print(suite_recall_table(df))
