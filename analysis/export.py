"""The summary's tables as markdown, CSV or JSON: the same numbers as the terminal's, with
both bounds of every interval. JSON and CSV keep full float precision; markdown shows 4
decimals (beyond the Monte Carlo error of the bootstrap)."""

from __future__ import annotations

import csv
import io
import json
import math

from analysis.render import Percent, TableData, fmt, fmt_full
from analysis.stats import Band, Estimate


def _json_cell(cell):
    if isinstance(cell, Estimate):
        out = {"value": _num(cell.value), "low": _num(cell.low), "high": _num(cell.high)}
        if isinstance(cell, Band):
            out["band"] = True  # value is the median; [low, high] a band of single trials
            out["coverage"] = _num(cell.coverage)  # its exact chance of holding one new run
        if cell.spread is not None:  # the range the quantity lives in (null: unbounded)
            out["range"] = [_num(b) if math.isfinite(b) else None for b in cell.spread.bounds]
        return {**out, "n": cell.n}
    if isinstance(cell, float):
        return _num(cell)
    if hasattr(cell, "item"):  # numpy scalars
        return _json_cell(cell.item())
    return cell


def _num(x: float):
    return None if x is None or math.isnan(x) else float(x)


def to_json(tables: list[TableData]) -> str:
    """One object per table: name, title, columns, rows (lists of cells), caption, interval."""
    out = [
        {
            "name": t.name,
            "title": t.title,
            "columns": t.columns,
            "rows": [[_json_cell(c) for c in row] for row in t.rows],
            "caption": t.caption,
            "interval": t.interval,
        }
        for t in tables
    ]
    return json.dumps(out, indent=2)


def to_markdown(tables: list[TableData]) -> str:
    parts = []
    for t in tables:
        lines = [
            f"### {t.title}",
            "",
            "| " + " | ".join(t.columns) + " |",
            "|" + "|".join("---" for _ in t.columns) + "|",
        ]
        lines += [
            "| " + " | ".join(fmt_full(c, marks=t.marks).replace("|", "\\|") for c in row) + " |"
            for row in t.rows
        ]
        if t.caption:
            lines += ["", *(f"_{line}_  " for line in t.caption.splitlines())]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def to_csv(tables: list[TableData]) -> str:
    """Long format: table, row (its label cells), column, value, low, high, n."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["table", "row", "column", "value", "low", "high", "n"])
    for t in tables:
        for row in t.rows:
            name = " / ".join(fmt(c) for c in row[: t.keys])
            for col, cell in list(zip(t.columns, row, strict=True))[t.keys :]:
                if isinstance(cell, Estimate):
                    w.writerow([t.name, name, col, cell.value, cell.low, cell.high, cell.n])
                elif isinstance(cell, Percent | float) and not isinstance(cell, bool):
                    w.writerow([t.name, name, col, float(cell), "", "", ""])
                elif cell is not None:
                    w.writerow([t.name, name, col, fmt(cell), "", "", ""])
    return buf.getvalue()
