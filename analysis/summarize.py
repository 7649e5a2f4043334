"""Summarise a sweep's results: generalization statistics with confidence intervals.

    python -m analysis.summarize --results results/
    python -m analysis.summarize --results s3://bucket/run --format json > summary.json

Intervals: hierarchical percentile bootstrap. Each resample draws the held-out triples
with replacement and, within each drawn triple, its seeds with replacement; statistics
are recomputed on the resampled trials. Paired comparisons between architectures pair
trials on (seed, triple). The probability of improvement is rliable's (per triple, the
share of seed pairs one architecture wins, averaged over triples; resampled over triples).
"""

from __future__ import annotations

import sys

from rich.console import Console

from analysis import export, tables
from analysis.design import Grid, select
from analysis.load import load_results
from fakedet.errors import ArgumentParser, UserError, exit_on_user_error

FORMATS = ("table", "markdown", "csv", "json")


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m analysis.summarize",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2],
    )
    p.add_argument("--results", default="results", help="results root: a path or a URI")
    p.add_argument("--format", default="table", choices=FORMATS, help="output format")
    p.add_argument("--plots", metavar="DIR", help="also write PNG figures here")
    p.add_argument("--confidence", type=float, default=0.95, help="interval coverage")
    p.add_argument("--resamples", type=int, default=10_000, help="bootstrap resamples")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    p.add_argument("--archs", help="only these architectures (comma-separated)")
    p.add_argument("--suites", help="only these suites (comma-separated)")
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


def summarize(args) -> tuple[list[tables.TableData], Grid]:
    if not 0 < args.confidence < 1:
        raise UserError(f"--confidence must be in (0, 1), got {args.confidence}")
    if args.resamples < 100:
        raise UserError(f"--resamples must be >= 100, got {args.resamples}")
    results = load_results(args.results)
    df = results.metrics
    df = _only(df, "arch", args.archs)
    df = _only(df, "suite", args.suites)
    if args.protocol and args.protocol not in set(df.protocol):
        raise UserError(f"no results for protocol {args.protocol!r}")
    df, notes = select(df, args.protocol)
    grid = Grid(df, resamples=args.resamples, confidence=args.confidence, seed=args.seed)
    return tables.all_tables(grid, results.invalid, notes), grid


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    data, grid = summarize(args)
    if args.format == "table":
        console = Console()
        for t in data:
            console.print(tables.rich_table(t))
            console.print()
    else:
        render = {"markdown": export.to_markdown, "csv": export.to_csv, "json": export.to_json}
        sys.stdout.write(render[args.format](data))
    if args.plots:
        from analysis.plots import write_plots

        for path in write_plots(grid, args.plots):
            print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
