"""Plan the next sweep: what precision each design buys, and at what cost.

    python -m analysis.plan --results ROOT [--target 0.05] [--quantity recall_gap]
        [--archs hands_on,brownlee] [--format table|json]

Fits the variance components of every headline quantity and architecture on the results
under ROOT, predicts for each candidate design -- the first N class-balanced triples
(what `--triples N` runs) x S seeds -- the half-width of the summary's interval for the
quantity, with the range one sweep's half-width falls in, and names the cheapest design
whose range lies at or below --target where those ranges decide it, else says
"undecided" and which batch to run next. Cost: device-hours of training from the
committed benchmark records (`fakedet.cost`). The model: `analysis.plan_model`; its
method, accuracy and limits: docs/method.md, "Planning the next sweep"; the tables and
JSON: `analysis.plan_tables`.

The statistics (pandas, scipy) load after the arguments are parsed, so `--help` answers at
once; loading and planning show a status line on stderr.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from analysis.measures import DEFAULT_QUANTITY, QUANTITIES
from fakedet.errors import ArgumentParser, exit_on_user_error
from fakedet.options import (
    add_options,
    between,
    check_fields,
    finite_float,
    from_namespace,
    names,
    option,
)
from fakedet.status import stderr_console, step

if TYPE_CHECKING:
    from analysis.grid import MetricGrid

TRIPLES = (10, 20, 30, 40, 60, 120)
"""The candidate designs' numbers of balanced triples."""
SEEDS = (1, 2, 3, 5)
"""The candidate designs' seeds per triple."""


def _quantity(name: str) -> str | None:
    return None if name in QUANTITIES else f"unknown quantity; valid: {', '.join(QUANTITIES)}"


@dataclass(frozen=True)
class PlanOptions:
    """What `python -m analysis.plan` takes; each option declared once, with its type and
    range (`fakedet.options`)."""

    results: str = option(None, "results root: a path or a URI", required=True)
    target: float = option(0.05, "CI half-width wanted", parse=finite_float, check=between(0, 1))
    quantity: str = option(
        DEFAULT_QUANTITY, f"the quantity to plan for: {', '.join(QUANTITIES)}", check=_quantity
    )
    archs: tuple[str, ...] | None = option(
        None, "only these architectures, comma-separated (default: all)", parse=names
    )
    format: str = option("table", "output format", choices=("table", "json"))
    protocol: str | None = option(None, "protocol to fit (default: the most common)")

    def __post_init__(self):
        check_fields(self)


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m analysis.plan",
        description=__doc__.split("\n\n")[0],
        epilog="Predictions for N balanced triples (--triples N) x S seeds, N in "
        f"{', '.join(map(str, TRIPLES))}, S in {', '.join(map(str, SEEDS))}; see the "
        "module docstring (analysis/plan.py).",
    )
    add_options(p, PlanOptions)
    return p


def load_grid(
    root: str, archs: tuple[str, ...] | None, protocol: str | None, on_invalid=None
) -> MetricGrid:
    """The results under `root` as a grid: one protocol, only `archs`.
    Each file left out (corrupt, or not of the schema) is passed to `on_invalid(path,
    reason)`; a filter that matches nothing is one `UserError` naming what the results hold.
    """
    from analysis.grid import MetricGrid, only, select
    from analysis.load import load_results

    results = load_results(root)
    for path, reason in results.invalid:
        if on_invalid:
            on_invalid(path, reason)
    df, _ = select(results.metrics, protocol)
    return MetricGrid(only(df, "arch", "--archs", archs))


def parse(argv: list[str] | None = None) -> PlanOptions:
    """The command line's options, each value checked before any work."""
    return from_namespace(PlanOptions, build_parser().parse_args(argv))


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    opts = parse(argv)
    status = stderr_console()
    left_out = []
    with step(status, f"loading results from {opts.results}"):
        from analysis import crossed, plan_model

        grid = load_grid(opts.results, opts.archs, opts.protocol, lambda *f: left_out.append(f))
    for path, reason in left_out:  # once the options are known good: an error stays one line
        print(f"invalid file left out: {path}: {reason}", file=sys.stderr)
    designs = f"{len(TRIPLES) * len(SEEDS)} designs x {crossed.REPLICATES} simulated sweeps"
    with step(status, f"fitting, simulating {designs} (a minute or two on 2 cores)"):
        plan = plan_model.make_plan(grid, opts.quantity, opts.target, triples=TRIPLES, seeds=SEEDS)
    sys.stdout.write(render(plan, opts.format, opts.results))


def render(plan, fmt: str, results: str) -> str:
    """A plan as the command prints it: JSON, or the tables and the verdict in 80 columns."""
    from analysis import plan_tables
    from analysis.render import rich_table

    if fmt == "json":
        return plan_tables.to_json(plan, results) + "\n"
    console = Console(width=80, record=True, file=io.StringIO())
    for t in plan_tables.tables(plan):
        console.print(rich_table(t, caption=False))
        console.print(Text(t.caption, style="dim"))
        console.print()
    for line in plan_tables.verdict(plan):
        console.print(line)
    return console.export_text(styles=sys.stdout.isatty())


if __name__ == "__main__":
    main()
