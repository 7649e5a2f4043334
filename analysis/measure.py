"""The kinds of measure the analysis's vocabulary (`analysis.measures`) is made of.

A `Quantity` is one number per trial: a suite's metric (or 1 minus it), with its label
and the range it lives in. A `Difference` is two measures paired on (seed, triple),
x - y, whose range follows from theirs (of one architecture, or of two architectures
or checkpoints). A `Contrast` holds a quantity on seen-class and on unseen-class reals;
its `gap` (seen - unseen) is a Difference.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from analysis.inference import UNIT, Bounds, difference_bounds


@dataclass(frozen=True)
class Quantity:
    """One number per trial: `metric` of `suite` (1 - it when `complement`)."""

    label: str
    """How tables, claims and plots name it; "{generator}" stands for the other
    generator of a cross_fake quantity (`named`)."""
    suite: str
    metric: str
    bounds: Bounds = UNIT
    """The range of its values: the interval of its mean stays inside."""
    complement: bool = False
    """1 - metric (reals passed = 1 - reals flagged)."""
    generator: str | None = None
    """Whose fakes, for cross_fake (`named`); None: the architecture's own."""

    def __call__(self, grid, arch: str, generator: str | None = None, class_id=None):
        """(T, S) values of `arch` in `grid` (of `generator`'s fakes, default this
        quantity's; of one source class for per-class rows); all NaN when the results
        hold none."""
        values = grid.get(arch, self.suite, self.metric, generator or self.generator, class_id)
        return 1.0 - values if self.complement else values

    def named(self, generator: str) -> Quantity:
        """This quantity of `generator`'s fakes, "{generator}" in its label filled in."""
        return replace(self, label=self.label.format(generator=generator), generator=generator)


@dataclass(frozen=True)
class Difference:
    """x - y paired on (seed, triple): two measures of one architecture, or of two
    architectures or two checkpoints (`sides`). Every difference is built as one."""

    label: str
    x: Measure
    y: Measure

    @property
    def bounds(self) -> Bounds:
        return difference_bounds(self.x.bounds, self.y.bounds)

    def sides(
        self,
        grid,
        arch: str,
        generator: str | None = None,
        class_id=None,
        *,
        y_arch: str | None = None,
        y_grid=None,
    ) -> tuple:
        """((T, S) x, (T, S) y): x of `arch` in `grid`, y of `y_arch` (default `arch`) in
        `y_grid` (default `grid`; another checkpoint's grid of the same design)."""
        return (
            self.x(grid, arch, generator, class_id),
            self.y(grid if y_grid is None else y_grid, y_arch or arch, generator, class_id),
        )

    def __call__(
        self,
        grid,
        arch: str,
        generator: str | None = None,
        class_id=None,
        *,
        y_arch=None,
        y_grid=None,
    ):
        """(T, S) x - y (`sides`)."""
        x, y = self.sides(grid, arch, generator, class_id, y_arch=y_arch, y_grid=y_grid)
        return x - y

    def named(self, generator: str) -> Difference:
        return Difference(
            self.label.format(generator=generator), self.x.named(generator), self.y.named(generator)
        )


Measure = Quantity | Difference


@dataclass(frozen=True)
class Contrast:
    """A quantity on seen-class reals and on unseen-class reals; `gap` = seen - unseen."""

    label: str
    seen: Quantity
    unseen: Quantity

    @property
    def gap(self) -> Difference:
        return Difference(f"{self.label} gap", self.seen, self.unseen)

    def named(self, generator: str) -> Contrast:
        return Contrast(
            self.label.format(generator=generator),
            self.seen.named(generator),
            self.unseen.named(generator),
        )
