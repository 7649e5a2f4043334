"""The ranges quantities live in, and the range of a difference (no scipy: the vocabulary of
measures and the commands' --help load it)."""

from __future__ import annotations

import math

Bounds = tuple[float, float]
UNBOUNDED: Bounds = (-math.inf, math.inf)
UNIT: Bounds = (0.0, 1.0)
SIGNED: Bounds = (-1.0, 1.0)


def difference_bounds(x: Bounds, y: Bounds) -> Bounds:
    """The range of x - y for x in `x` and y in `y`."""
    return (x[0] - y[1], x[1] - y[0])
