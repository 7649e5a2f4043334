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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

from fakedet.errors import ArgumentParser, UserError, exit_on_user_error
from fakedet.options import (
    add_options,
    at_least,
    between,
    check_fields,
    finite_float,
    from_namespace,
    integer,
    integers,
    names,
    option,
    writable_dir,
)
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


def _tables(text: str) -> tuple[str, ...]:
    """'--tables': 'all' or names of `TABLES`."""
    if text.strip() == "all":
        return tuple(TABLES)
    wanted = names(text)
    if unknown := [n for n in wanted if n not in TABLES]:
        raise UserError(f"--tables: unknown {', '.join(unknown)}; valid: all, {', '.join(TABLES)}")
    return tuple(n for n in TABLES if n in wanted)


def _margin(claim: str, key: str, kind: str) -> Any:
    return option(
        MARGINS[key], f"{kind} margin of {claim}", parse=finite_float, check=between(0, 1)
    )


@dataclass(frozen=True)
class SummaryOptions:
    """What `python -m analysis.summarize` takes; each option declared once, with its
    type and range (`fakedet.options`)."""

    results: str = option("results", "results root: a path or a URI")
    format: str = option("table", "output format", choices=FORMATS)
    tables: tuple[str, ...] | None = option(
        None,
        f"comma-separated tables, or 'all': {', '.join(TABLES)} (terminal default: "
        f"{','.join(DEFAULT_TABLES)}; exports: all)",
        parse=_tables,
    )
    plots: str | None = option(None, "also write PNG figures here (default: none)", metavar="DIR")
    confidence: float = option(0.95, "interval coverage", parse=finite_float, check=between(0.5, 1))
    resamples: int = option(
        10_000, "bootstrap resamples (IQM, these classes)", parse=integer, check=at_least(100)
    )
    seed: int = option(0, "seed of the bootstrap", parse=integer, check=at_least(0))
    margin_seen_unseen: float = _margin(
        "claim 3 (unseen vs seen classes), TOST", "seen_unseen", "equivalence"
    )
    margin_transfer: float = _margin(
        "claim 4 (other generators' fakes vs own)", "transfer", "non-inferiority"
    )
    margin_8bit: float = _margin(
        "claim 7 (8-bit fakes vs float fakes), TOST", "eight_bit", "equivalence"
    )
    archs: tuple[str, ...] | None = option(
        None, "only these architectures, comma-separated (default: all)", parse=names
    )
    suites: tuple[str, ...] | None = option(
        None, "only these suites, comma-separated (default: all)", parse=names
    )
    seeds: tuple[int, ...] | None = option(
        None, "only these seeds: 0,1 or 0-4 (default: all)", parse=integers
    )
    protocol: str | None = option(None, "protocol to summarise (default: the most common)")

    def __post_init__(self):
        check_fields(self)
        if self.plots and (problem := writable_dir(self.plots)):
            raise UserError(f"--plots {self.plots}: cannot write figures there ({problem})")

    @property
    def table_names(self) -> list[str]:
        """The tables to build: `tables`, else the default for the format."""
        if self.tables:
            return list(self.tables)
        return list(DEFAULT_TABLES if self.format == "table" else TABLES)


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m analysis.summarize",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2],
    )
    add_options(p, SummaryOptions)
    return p


def parse(argv: list[str] | None = None) -> SummaryOptions:
    """The options of a command line, every value checked before any work."""
    return from_namespace(SummaryOptions, build_parser().parse_args(argv))


def select_rows(opts: SummaryOptions, status: Console | None = None):
    """The results' rows that `opts` select (protocol, architectures, suites, seeds), the loaded
    results and the selection's notes; a filter that matches nothing is one `UserError`
    naming the option and what the results hold."""
    from analysis.grid import only, select
    from analysis.load import load_results

    with step(status, f"loading results from {opts.results}"):
        results = load_results(opts.results)
        df, notes = select(results.metrics, opts.protocol)
    df = only(df, "arch", "--archs", opts.archs)
    df = only(df, "suite", "--suites", opts.suites)
    df = only(df, "seed", "--seeds", opts.seeds)
    return df, results, notes


def summarize(
    opts: SummaryOptions, status: Console | None = None
) -> tuple[list[TableData], Context]:
    """The tables `opts` ask for and what they were built from; each step shown on
    `status` when given (`fakedet.status.step`). Files left out (corrupt, or not of the
    schema) are in `Context.invalid` (the coverage table lists them)."""
    wanted = opts.table_names
    with step(status, "loading pandas and scipy"):
        from analysis.claims import Margins
        from analysis.grid import MetricGrid

        for module in ("tables", "claims", "training", "dedicated", "components", "marketplace"):
            _module(module)
    df, results, notes = select_rows(opts, status)
    grid = MetricGrid(df, resamples=opts.resamples, confidence=opts.confidence, seed=opts.seed)
    margins = Margins(opts.margin_seen_unseen, opts.margin_transfer, opts.margin_8bit)
    context = Context(grid, results.checkpoints, results.invalid, notes, margins)
    data = []
    for i, name in enumerate(wanted, 1):
        with step(status, f"table {i}/{len(wanted)}: {name}"):
            data.append(TABLES[name](context))
    return data, context


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    opts = parse(argv)
    status = stderr_console()
    data, context = summarize(opts, status)
    if "coverage" not in opts.table_names:  # else its table lists them
        for path, reason in context.invalid:
            print(f"invalid file left out: {path}: {reason}", file=sys.stderr)
    from analysis import export
    from analysis.render import rich_table

    if opts.format == "table":
        console = Console()
        for t in data:
            console.print(rich_table(t, caption=False))
            if t.caption:
                console.print(Text(t.caption, style="dim"))
            console.print()
    else:
        render = {"markdown": export.to_markdown, "csv": export.to_csv, "json": export.to_json}
        sys.stdout.write(render[opts.format](data))
    if opts.plots:
        from analysis.plots import write_plots

        with step(status, f"drawing the figures into {opts.plots}"):
            written = write_plots(context.grid, opts.plots, context.checkpoints)
        for path in written:
            print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
