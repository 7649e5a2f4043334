"""What every table of the summary is made of: a cell (one measure of one architecture,
or a paired difference), its estimate with an interval of a named kind, captions, and
whether the results hold a measure (`analysis.tables` and the other table modules use
them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.grid import MetricGrid
from analysis.inference import THESE_CLASSES
from analysis.measures import Difference, Measure, Quantity
from analysis.render import BOUNDED_CAPTION, CAPTIONS, NO_SEED_INTERVAL, interval_note


@dataclass(frozen=True)
class Paired:
    """x - y of two bounded quantities paired on (seed, triple), kept apart so that the
    difference's interval keeps theirs (`Intervals.differences`): two rates at 1 give
    x - y = 0 with the rates' uncertainty, not [0, 0]."""

    x: np.ndarray
    """(T, S) values."""
    y: np.ndarray
    """(T, S) values."""
    bounds: tuple[float, float]
    """The range of x and of y."""


Cell = tuple[np.ndarray, tuple[float, float]] | Paired  # (T, S) values and their range


def caption(kind: str, *more: str, grid: MetricGrid | None = None) -> str:
    """A table's caption: what `value [low, high]` means, which population its CI speaks
    of (`kind`), the ranges, then `more`; with `grid`, at its level and why a CI is n/a."""
    level = grid.confidence if grid is not None else 0.95
    return "\n".join(
        [
            interval_note(level) + "; estimates are means over trials",
            CAPTIONS[kind],
            BOUNDED_CAPTION,
            *more,
            *(no_interval(grid, kind) if grid is not None else []),
        ]
    )


def no_interval(grid: MetricGrid, kind: str) -> list[str]:
    """Why an interval of `kind` reads n/a on this grid: [] when none does."""
    seeds = grid.intervals.S if kind == THESE_CLASSES else 2
    return [NO_SEED_INTERVAL] if seeds < 2 else []


def cell(
    grid: MetricGrid,
    measure: Measure,
    arch: str,
    *,
    y_arch: str | None = None,
    y_grid: MetricGrid | None = None,
) -> Cell:
    """A measure's values for one architecture, with their range. A difference of two
    quantities of one finite range is `Paired`; `y_arch`, `y_grid`: where a difference
    reads its y (`Difference.sides`)."""
    if not isinstance(measure, Difference):
        return measure(grid, arch), measure.bounds
    x, y = measure.sides(grid, arch, y_arch=y_arch, y_grid=y_grid)
    parts = measure.x.bounds
    if (
        isinstance(measure.x, Quantity)
        and isinstance(measure.y, Quantity)
        and measure.y.bounds == parts
        and np.isfinite(parts).all()
    ):
        return Paired(x, y, tuple(parts))
    return x - y, measure.bounds


def estimates(grid: MetricGrid, cells: list[Cell | None], kind: str, confidence=None):
    """Means with intervals of (values, range) cells and of Paired differences, all at
    once (None for a None cell)."""
    plain = [c for c in cells if c is not None and not isinstance(c, Paired)]
    pairs = [c for c in cells if isinstance(c, Paired)]
    found = iter([])
    if plain:
        found = iter(
            grid.intervals.means(
                np.stack([v for v, _ in plain]),
                kind=kind,
                confidence=confidence,
                bounds=[b for _, b in plain],
            )
        )
    diffs = iter([])
    if pairs:
        diffs = iter(
            grid.intervals.differences(
                np.stack([c.x for c in pairs]),
                np.stack([c.y for c in pairs]),
                kind=kind,
                confidence=confidence,
                bounds=[c.bounds for c in pairs],
            )
        )
    return [
        None if c is None else next(diffs) if isinstance(c, Paired) else next(found) for c in cells
    ]


def by_arch(grid: MetricGrid, measure: Measure, kind: str, skip=()) -> list:
    """A row: the measure's label, then its mean per GAN architecture (None for `skip`)."""
    cells = [None if a in skip else cell(grid, measure, a) for a in grid.gans]
    return [measure.label, *estimates(grid, cells, kind)]


def present(grid: MetricGrid, measure: Measure, generator: str | None = None) -> bool:
    """Whether any trial of any GAN architecture holds a value of `measure` (results
    written before a measure existed hold none)."""
    return any((~np.isnan(measure(grid, a, generator))).any() for a in grid.gans)


def other_generators(grid: MetricGrid) -> list[str]:
    return sorted({g for a in grid.gans for g in grid.generators(a)})
