"""Summarise a sweep's results: generalization statistics with intervals of a named kind.

    python -m analysis.summarize --results results/
    python -m analysis.summarize --results results/ --tables all
    python -m analysis.summarize --results s3://bucket/run --format json > summary.json

The terminal shows the headline, the generalization gap, the claims and the coverage
(`--tables` picks others, `--tables all` every one); markdown, CSV and JSON hold every
table unless `--tables` is given. Intervals are "for a new class" (classes a sample from
a population: leave-one-class-out jackknife) or "for these classes" (the 10 classes
fixed: seed variance within each triple), and stay inside the range of what they
measure; each table's caption says which kind it shows. Verdicts on claims use the
former (`analysis.inference`). See README.md, "The summary".

The statistics (pandas, scipy) load after the arguments are parsed, so `--help` answers at
once; loading the results and building each table show a status line on stderr.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from fakedet.errors import ArgumentParser, UserError, exit_on_user_error
from fakedet.status import stderr_console, step

if TYPE_CHECKING:
    from analysis.claims import Margins
    from analysis.grid import MetricGrid
    from analysis.render import TableData

FORMATS = ("table", "markdown", "csv", "json")
MARGINS = {"seen_unseen": 0.05, "transfer": 0.10, "eight_bit": 0.05}
"""`analysis.claims`' SEEN_UNSEEN_MARGIN, TRANSFER_MARGIN and EIGHT_BIT_MARGIN, repeated
here so that `--help` needs no scipy (tests/test_help.py checks that they agree)."""


def _module(name: str):
    """`analysis.<name>`, imported when a table is built (not for `--help`)."""
    return importlib.import_module(f"analysis.{name}")


class Context:
    """What the tables are built from."""

    def __init__(self, grid: MetricGrid, checkpoints, invalid, notes, margins: Margins):
        from analysis.grid import checkpoint_grids

        self.grid, self.invalid, self.notes, self.margins = grid, invalid, notes, margins
        self.checkpoints = checkpoint_grids(grid, checkpoints)
        """{epoch: grid} of the checkpoints before the final one."""
        notes["checkpoints"] = sum(g.df.trial_key.nunique() for g in self.checkpoints.values())


TABLES: dict[str, Callable[[Context], TableData]] = {
    "headline": lambda c: _module("tables").headline(c.grid),
    "gap": lambda c: _module("tables").generalization_gap(c.grid),
    "claims": lambda c: _module("claims").claims(c.grid, c.margins),
    "report": lambda c: _module("claims").report(c.grid),
    "class_effect": lambda c: _module("tables").class_effect(c.grid),
    "cross_matrix": lambda c: _module("tables").cross_matrix(c.grid),
    "operating_point": lambda c: _module("tables").operating_point(c.grid),
    "single_trials": lambda c: _module("tables").single_trials(c.grid),
    "training": lambda c: _module("training").along_training(c.grid, c.checkpoints),
    "detector": lambda c: _module("dedicated").comparison(c.grid),
    "coverage": lambda c: _module("tables").coverage(c.grid, c.invalid, c.notes),
    "components": lambda c: _module("components").table(c.grid),
    "quality": lambda c: _module("marketplace").quality(c.grid, c.checkpoints),
    "robustness": lambda c: _module("marketplace").robustness(c.grid),
}
"""Every table, by name, in the order they are printed."""
DEFAULT_TABLES = ("headline", "gap", "claims", "coverage")


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m analysis.summarize",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2],
    )
    p.add_argument("--results", default="results", help="results root: a path or a URI")
    p.add_argument("--format", default="table", choices=FORMATS, help="output format")
    p.add_argument(
        "--tables",
        help=f"comma-separated tables, or 'all': {', '.join(TABLES)} (terminal default: "
        f"{','.join(DEFAULT_TABLES)}; exports: all)",
    )
    p.add_argument("--plots", metavar="DIR", help="also write PNG figures here (default: none)")
    p.add_argument("--confidence", type=float, default=0.95, help="interval coverage")
    p.add_argument(
        "--resamples", type=int, default=10_000, help="bootstrap resamples (IQM, these classes)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    p.add_argument(
        "--margin-seen-unseen",
        type=float,
        default=MARGINS["seen_unseen"],
        help="equivalence margin of claim 3 (unseen vs seen classes), TOST",
    )
    p.add_argument(
        "--margin-transfer",
        type=float,
        default=MARGINS["transfer"],
        help="non-inferiority margin of claim 4 (other generators' fakes vs own)",
    )
    p.add_argument(
        "--margin-8bit",
        type=float,
        default=MARGINS["eight_bit"],
        help="equivalence margin of claim 7 (8-bit fakes vs float fakes), TOST",
    )
    p.add_argument("--archs", help="only these architectures, comma-separated (default: all)")
    p.add_argument("--suites", help="only these suites, comma-separated (default: all)")
    p.add_argument("--protocol", help="protocol to summarise (default: the most common)")
    return p


def _only(df, column: str, wanted: str | None):
    """Rows whose `column` is one of the comma-separated `wanted` (all rows if None)."""
    if not wanted:
        return df
    names = {w.strip() for w in wanted.split(",")}
    if unknown := names - set(df[column]):
        raise UserError(
            f"no results for {column} {', '.join(sorted(unknown))}; "
            f"found: {', '.join(sorted(set(df[column])))}"
        )
    return df[df[column].isin(names)]


def table_names(wanted: str | None, fmt: str) -> list[str]:
    """The tables to build: `--tables`, else the default for the format."""
    if not wanted:
        return list(DEFAULT_TABLES if fmt == "table" else TABLES)
    if wanted.strip() == "all":
        return list(TABLES)
    names = [w.strip() for w in wanted.split(",") if w.strip()]
    if unknown := [n for n in names if n not in TABLES]:
        raise UserError(f"--tables: unknown {', '.join(unknown)}; valid: all, {', '.join(TABLES)}")
    return [n for n in TABLES if n in names]


def summarize(args, status: Console | None = None) -> tuple[list[TableData], Context]:
    """The tables `args` ask for and what they were built from; each step shown on
    `status` when given (`fakedet.status.step`)."""
    if not 0.5 < args.confidence < 1:
        raise UserError(f"--confidence must be in (0.5, 1), got {args.confidence}")
    if args.resamples < 100:
        raise UserError(f"--resamples must be >= 100, got {args.resamples}")
    for flag, margin in (
        ("--margin-seen-unseen", args.margin_seen_unseen),
        ("--margin-transfer", args.margin_transfer),
        ("--margin-8bit", args.margin_8bit),
    ):
        if not 0 < margin < 1:
            raise UserError(f"{flag} must be in (0, 1), got {margin}")
    names = table_names(args.tables, args.format)
    with step(status, "loading pandas and scipy"):
        from analysis.claims import Margins
        from analysis.grid import MetricGrid, select
        from analysis.load import load_results

        for module in ("tables", "claims", "training", "dedicated", "components", "marketplace"):
            _module(module)
    with step(status, f"loading results from {args.results}"):
        results = load_results(args.results)
        df, notes = select(results.metrics, args.protocol)
    df = _only(df, "arch", args.archs)
    df = _only(df, "suite", args.suites)
    grid = MetricGrid(df, resamples=args.resamples, confidence=args.confidence, seed=args.seed)
    margins = Margins(args.margin_seen_unseen, args.margin_transfer, args.margin_8bit)
    context = Context(grid, results.checkpoints, results.invalid, notes, margins)
    data = []
    for i, name in enumerate(names, 1):
        with step(status, f"table {i}/{len(names)}: {name}"):
            data.append(TABLES[name](context))
    return data, context


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    status = stderr_console()
    data, context = summarize(args, status)
    from analysis import export
    from analysis.render import rich_table

    if args.format == "table":
        console = Console()
        for t in data:
            console.print(rich_table(t, caption=False))
            if t.caption:
                console.print(Text(t.caption, style="dim"))
            console.print()
    else:
        render = {"markdown": export.to_markdown, "csv": export.to_csv, "json": export.to_json}
        sys.stdout.write(render[args.format](data))
    if args.plots:
        from analysis.plots import write_plots

        with step(status, f"drawing the figures into {args.plots}"):
            written = write_plots(context.grid, args.plots, context.checkpoints)
        for path in written:
            print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
