"""The summary's tables as data (`TableData`) and their terminal rendering.

A table is built as numbers (estimates with intervals, counts, text) and rendered late, so
the terminal, markdown, CSV and JSON show the same numbers. On the terminal every number
has one compact form, chosen to fit 80 columns without wrapping a number:

    0.63 [0.59,0.67]     an estimate and its interval, both bounds (never "±": an
                         interval near 0 or 1 is lopsided)
    0.997 [0.981,1]      digits enough that distinct bounds and estimate print distinct,
    0.0001 [<0.0001,0.0010]  so no interval reads as a point the data do not claim
    0.63 [n/a]           no interval (the caption says why)
    [0.41,0.77]          a band of single-trial values (where one run falls)
    37%                  a percentile
    0.63                 a plain number

Markdown shows the same form with at least 4 decimals; CSV and JSON keep full precision
(`analysis.export`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from rich import box
from rich.table import Table
from rich.text import Text

from analysis.inference import NEW_CLASS, THESE_CLASSES
from analysis.stats import Band, Estimate

DIGITS = 2  # decimals on the terminal, at least; exports keep more
MAX_DIGITS = 6  # beyond this, "<0.000001"
INTERVAL_NOTE = (
    "value [low, high]: the estimate and its 95% confidence interval (CI), the range of "
    "values the data do not rule out at that level"
)
PLUS_MINUS = "value [low, high]"  # how captions name the terminal's interval form

CAPTIONS = {
    THESE_CLASSES: "CI for these 10 classes: where the mean of these same classes would fall "
    "with new training seeds (seed variance within each triple)",
    NEW_CLASS: "CI for a new class: where the mean over classes the detector never saw would "
    "fall, classes drawn like these 10 (leave-one-class-out jackknife over the classes)",
}
BOUNDED_CAPTION = (
    "rates, AUROC and AP keep their CI inside [0, 1], differences inside [-1, 1]; a "
    "difference of two rates is never narrower than a rate at 0 or 1 allows (estimators: "
    "docs/method.md)"
)
CLASS_GAP_CAPTION = (
    "held - seen, per class c: mean over trials whose triple holds c minus mean over the "
    "others; CI: where that gap would fall with other partner classes and new seeds "
    "(jackknife over c's partner classes)"
)
NO_SEED_INTERVAL = "n/a: one seed: no interval for these classes (their only variance is seeds')"


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
    marks: tuple[float, ...] = ()
    """Values the table's numbers are read against (a target): a number is printed with
    digits enough never to read as one of them when it is not (0.0485 as 0.048, not 0.05)."""


def half_width(e: Estimate) -> float:
    """The larger distance from the estimate to a bound of its interval."""
    return max(e.value - e.low, e.high - e.value)


def interval_note(confidence: float) -> str:
    """The caption's one plain sentence on what `value [low, high]` means."""
    return INTERVAL_NOTE.replace("95%", f"{confidence:.0%}")


def number(x: float, digits: int = DIGITS) -> str:
    """`x` at `digits` decimals, where rounding would put a value that is not 0 or +-1 on
    0 or +-1: "<0.0001", ">0.9999", "-<0.0001"."""
    text = f"{x:.{digits}f}"
    step = f"{10.0**-digits:.{digits}f}"
    if x != 0 and float(text) == 0:
        return ("<" if x > 0 else "-<") + step
    if abs(x) != 1 and abs(float(text)) == 1:
        near = f"{1 - 10.0**-digits:.{digits}f}"
        return (">" if x > 0 else "<-") + near
    return text


def digits_for(values, digits: int = DIGITS, most: int = MAX_DIGITS, marks=()) -> int:
    """The fewest decimals (from `digits`, at most `most`) at which distinct `values` print
    distinct, and none prints as one of `marks` it differs from (`number`: a value near but
    not at 0 or +-1 prints as "<0.01" or ">0.99")."""
    v = [float(x) for x in values if np.isfinite(x)]
    m = [float(x) for x in marks]
    for d in range(digits, most + 1):
        shown = [number(x, d) for x in v]
        others = list(zip(v, shown, strict=True)) + [(b, number(b, d)) for b in m]
        collide = any(
            a != b and sa == sb for a, sa in zip(v, shown, strict=True) for b, sb in others
        )
        if not collide:
            return d
    return most


def fmt_estimate(e: Estimate, digits: int = DIGITS, sep: str = ",", marks=()) -> str:
    """`value [low, high]` with digits enough that nothing distinct reads the same (nor as
    one of `marks`)."""
    if np.isnan(e.value):
        return "-"
    if np.isnan(e.low) or np.isnan(e.high):
        return f"{number(e.value, digits_for((e.value,), digits, marks=marks))} [n/a]"
    d = digits_for((e.value, e.low, e.high), digits, marks=marks)
    return f"{number(e.value, d)} [{number(e.low, d)}{sep}{number(e.high, d)}]"


def fmt(cell, digits: int = DIGITS, marks=()) -> str:
    """A cell in the terminal's compact form (`marks`: see `TableData.marks`)."""
    if cell is None:
        return ""
    if isinstance(cell, Band):
        if np.isnan(cell.low):
            return "-"
        d = digits_for((cell.low, cell.high), digits, marks=marks)
        return f"[{number(cell.low, d)},{number(cell.high, d)}]"
    if isinstance(cell, Estimate):
        return fmt_estimate(cell, digits, marks=marks)
    if isinstance(cell, Percent):
        return "-" if np.isnan(cell) else f"{cell:.0f}%"
    if isinstance(cell, float | np.floating):
        if np.isnan(cell):
            return "-"
        return f"{cell:.{digits_for((cell,), digits, marks=marks)}f}"
    return str(cell)


def fmt_full(cell, digits: int = 4, marks=()) -> str:
    """A cell with both bounds of its interval (markdown): 0.6312 [0.5901, 0.6734]."""
    if isinstance(cell, Band):
        if np.isnan(cell.low):
            return "-"
        d = digits_for((cell.low, cell.high), digits, marks=marks)
        return f"[{number(cell.low, d)}, {number(cell.high, d)}]"
    if isinstance(cell, Estimate) and not np.isnan(cell.value):
        return fmt_estimate(cell, digits, sep=", ", marks=marks)
    if isinstance(cell, Percent):
        return "-" if np.isnan(cell) else f"{cell:.1f}%"
    return fmt(cell, digits, marks)


def _is_number(cell) -> bool:
    return isinstance(cell, Estimate | int | float | np.number) and not isinstance(cell, bool)


def _too_wide(data: TableData, width: int) -> bool:
    """Whether one-line `value [low, high]` cells, with every text column at least 10
    wide, overflow `width`."""
    total = 0
    for i, _ in enumerate(data.columns):
        cells = [row[i] for row in data.rows]
        if any(_is_number(c) for c in cells):
            total += max(len(fmt(c, marks=data.marks)) for c in cells) + 1
        else:
            total += 11
    return total > width


def rich_table(data: TableData, caption: bool = True, width: int = 80) -> Table:
    """A rich table: text columns wrap, number columns never do; a row's leading key cells
    that repeat the row above are left blank. Where one-line intervals would not fit
    `width`, an estimate shows its value above its interval. Without `caption`, print
    `data.caption` yourself (e.g. at the full width of the terminal)."""
    table = Table(
        title=data.title,
        caption=Text(data.caption) if caption and data.caption else None,  # "[low, high]"
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
    stack = _too_wide(data, width)
    above: list[str] = []
    for row in data.rows:
        cells = [fmt(c, marks=data.marks) for c in row]
        shown = [
            f.replace(" [", "\n[", 1) if stack and isinstance(c, Estimate) else f
            for c, f in zip(row, cells, strict=True)
        ]
        for i in range(min(data.keys - 1, len(above))):
            if cells[: i + 1] != above[: i + 1]:
                break
            shown[i] = ""
        if data.keys > 1 and above and cells[0] != above[0]:
            table.add_section()  # a rule between groups of rows
        table.add_row(*(Text(x) for x in shown))  # "[0.41,0.77]" is text, not markup
        above = cells
    return table
