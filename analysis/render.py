"""The summary's tables as data (`TableData`) and their terminal rendering.

A table is built as numbers (estimates with intervals, counts, text) and rendered late, so
the terminal, markdown, CSV and JSON show the same numbers. On the terminal every number
has one compact form, chosen to fit 80 columns without wrapping a number:

    0.63 ±0.04     an estimate and its interval (the larger of its two half-widths)
    [0.41,0.77]    a band of single-trial values (where one run falls)
    37%            a percentile
    0.63           a plain number

Exports keep both bounds of every interval (`analysis.export`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from rich import box
from rich.table import Table

from analysis.stats import Band, Estimate

DIGITS = 2  # decimals on the terminal; exports keep more
PLUS_MINUS = "±: the larger half-width on the terminal; exports give both bounds"


class Percent(float):
    """A percentile, 0-100."""


@dataclass
class TableData:
    """A table as numbers: cells are Estimate, Band, Percent, int, float, str or None."""

    name: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    caption: str = ""
    interval: str = ""
    """Which kind of interval its estimates carry (`analysis.inference.KINDS`), or ''."""
    keys: int = 1
    """How many leading columns name a row (the rest hold its values)."""


def half_width(e: Estimate) -> float:
    """The larger distance from the estimate to a bound of its interval."""
    return max(e.value - e.low, e.high - e.value)


def fmt(cell, digits: int = DIGITS) -> str:
    """A cell in the terminal's compact form."""
    if cell is None:
        return ""
    if isinstance(cell, Band):
        if np.isnan(cell.low):
            return "-"
        return f"[{cell.low:.{digits}f},{cell.high:.{digits}f}]"
    if isinstance(cell, Estimate):
        if np.isnan(cell.value):
            return "-"
        if np.isnan(cell.low) or np.isnan(cell.high):
            return f"{cell.value:.{digits}f} ±n/a"
        return f"{cell.value:.{digits}f} ±{half_width(cell):.{digits}f}"
    if isinstance(cell, Percent):
        return "-" if np.isnan(cell) else f"{cell:.0f}%"
    if isinstance(cell, float | np.floating):
        return "-" if np.isnan(cell) else f"{cell:.{digits}f}"
    return str(cell)


def fmt_full(cell, digits: int = 4) -> str:
    """A cell with both bounds of its interval (markdown): 0.6312 [0.5901, 0.6734]."""
    if isinstance(cell, Band):
        return "-" if np.isnan(cell.low) else f"[{cell.low:.{digits}f}, {cell.high:.{digits}f}]"
    if isinstance(cell, Estimate) and not np.isnan(cell.value):
        bounds = (
            "[-]"
            if np.isnan(cell.low) or np.isnan(cell.high)
            else f"[{cell.low:.{digits}f}, {cell.high:.{digits}f}]"
        )
        return f"{cell.value:.{digits}f} {bounds}"
    if isinstance(cell, Percent):
        return "-" if np.isnan(cell) else f"{cell:.1f}%"
    return fmt(cell, digits)


def _is_number(cell) -> bool:
    return isinstance(cell, Estimate | int | float | np.number) and not isinstance(cell, bool)


def rich_table(data: TableData, caption: bool = True) -> Table:
    """A rich table: text columns wrap, number columns never do; a row's leading key cells
    that repeat the row above are left blank. Without `caption`, print `data.caption`
    yourself (e.g. at the full width of the terminal)."""
    table = Table(
        title=data.title,
        caption=(data.caption or None) if caption else None,
        title_justify="left",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
    )
    for i, col in enumerate(data.columns):
        numeric = any(_is_number(row[i]) for row in data.rows)
        table.add_column(
            col,
            justify="right" if numeric else "left",
            no_wrap=numeric,
            overflow="ellipsis" if numeric else "fold",
        )
    above: list[str] = []
    for row in data.rows:
        cells = [fmt(c) for c in row]
        shown = list(cells)
        for i in range(min(data.keys - 1, len(above))):
            if cells[: i + 1] != above[: i + 1]:
                break
            shown[i] = ""
        if data.keys > 1 and above and cells[0] != above[0]:
            table.add_section()  # a rule between groups of rows
        table.add_row(*shown)
        above = cells
    return table
