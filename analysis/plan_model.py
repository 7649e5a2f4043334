"""The planner's model: what precision each design of the next sweep buys, and its cost.

A design is the first N class-balanced triples (`fakedet.protocol.BALANCED_TRIPLES[:N]`,
what `--triples N` runs) x S seeds. The planner fits the variance components of every
headline quantity and architecture (`analysis.components`), simulates each design from
the fitted crossed model (`analysis.crossed`) and puts every simulated sweep through the
summary's own interval code (`analysis.inference.Intervals.means`, both kinds, within the
quantity's bounds): a predicted half-width is the mean half-width the summary would print.
Each comes with the range one sweep's half-width falls in, over the truths the pilot leaves
plausible, and the verdict is stated only where those ranges decide it. The method, its
accuracy against a known truth and its limits: docs/method.md, "Planning the next sweep".

    plan = make_plan(MetricGrid(df), "recall_gap", 0.05, triples=(10, 20), seeds=(1, 2))
    plan.decision(NEW_CLASS)        # ("cheapest" | "undecided" | "none", Design | None)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from analysis.components import QUANTITIES, Components, Key, fit_each
from analysis.crossed import NO_RANGE, Truth, floor, predict, predicted_ranges
from analysis.grid import MetricGrid
from analysis.inference import KINDS, NEW_CLASS, THESE_CLASSES
from fakedet.cost import DeviceCost, preferred_cost
from fakedet.errors import UserError


@dataclass(frozen=True)
class Prediction:
    """A design's predicted half-width of one interval kind, and where one sweep's falls."""

    mean: float
    """Mean half-width over `REPLICATES` sweeps of the fitted model; NaN: no interval."""
    low: float = math.nan
    """The (1 - PREDICTIVE) / 2 point over plausible truths; NaN: not predicted."""
    high: float = math.nan
    """The (1 + PREDICTIVE) / 2 point."""


@dataclass(frozen=True)
class Design:
    """A candidate design with its cost and predicted half-widths."""

    triples: int
    """N: the first N balanced triples."""
    seeds: int
    """S seeds per triple."""
    trials: int
    """N x S x the architectures."""
    hours: float
    """Device-hours of training, one trial at a time; NaN without a benchmark record."""
    predictions: dict[Key, dict[str, Prediction]]
    """{(quantity, arch): {interval kind: Prediction}}."""

    @property
    def name(self) -> str:
        return f"{self.triples} triples x {self.seeds} seed{'s' if self.seeds > 1 else ''}"


def plausible_truths(comps: Components, bounds) -> list[Truth]:
    """Truths the fitted components leave plausible (`Components.plausible`, one per
    bootstrap data set), taking in turn each split of the variation the design cannot tell
    apart (`Components.splits`): a range over them spans every split."""
    return [
        (splits := comps.splits(t))[i % len(splits)] for i, t in enumerate(comps.plausible(bounds))
    ]


@dataclass(frozen=True)
class Plan:
    """The fitted components, every design's predicted half-widths and cost, the floor."""

    quantity: str
    """The quantity planned for (a `QUANTITIES` name)."""
    target: float
    """The half-width wanted."""
    components: dict[Key, Components]
    designs: list[Design]
    floor: dict[Key, float]
    """{(quantity, arch): the half-width for a new class no design can beat}."""
    cost: DeviceCost | None
    """The device whose benchmark record prices a design; None without a record."""
    steps: dict[str, int]
    """{arch: training steps of one trial}: the median of the results' trials."""
    archs: list[str]
    confidence: float
    not_separated: str = ""
    """Set when the pilot cannot separate some part: how the ranges then span the splits."""
    pilot: tuple[int, int] = (10, 2)
    """The fitted results' design: (triples, seeds)."""

    @property
    def hours_per_trial(self) -> dict[str, float]:
        """{arch: device-hours of one trial}; NaN where the record has no speed for it."""
        return {a: self.cost.hours(a, n) if self.cost else math.nan for a, n in self.steps.items()}

    @property
    def unit(self) -> str:
        return self.cost.unit if self.cost else "hours"

    def reach(self, d: Design, kind: str, quantity: str | None = None, archs=None) -> str:
        """Whether design `d` reaches the target on `quantity` for every arch: "yes" (every
        arch's predicted range at or below it), "no" (some arch's range above it), else
        "undecided"."""
        quantity, archs = quantity or self.quantity, archs or self.archs
        ranges = [d.predictions[(quantity, a)][kind] for a in archs]
        if any(math.isnan(r.low) or r.low > self.target for r in ranges):
            return "no"
        return "yes" if all(r.high <= self.target for r in ranges) else "undecided"

    def decision(
        self, kind: str, quantity: str | None = None, archs=None
    ) -> tuple[str, Design | None]:
        """What the predicted ranges decide, in cost order: ("cheapest", d) where the
        first design not ruled out surely reaches the target, ("none", None) where every
        design is ruled out, else ("undecided", the first design not ruled out)."""
        for d in sorted(self.designs, key=_cost_order):
            r = self.reach(d, kind, quantity, archs)
            if r == "yes":
                return "cheapest", d
            if r == "undecided":
                return "undecided", d
        return "none", None

    def sure(self, kind: str) -> Design | None:
        """The cheapest design where the ranges decide it; None otherwise."""
        what, d = self.decision(kind)
        return d if what == "cheapest" else None

    def next_batch(self) -> str:
        """The batch that would tell most: a second seed where there is one, else as
        many triples again."""
        t, s = self.pilot
        if s < 2:
            return f"a second seed on the same {t} triples (separates seed noise from classes)"
        return f"the next {t} balanced triples at {s} seeds (--triples {min(2 * t, 120)})"


def _cost_order(d: Design) -> tuple[float, int]:
    return (math.inf if math.isnan(d.hours) else d.hours), d.trials


def make_plan(
    grid: MetricGrid,
    quantity: str,
    target: float,
    triples: Sequence[int],
    seeds: Sequence[int],
    archs: list[str] | None = None,
    **kw,
) -> Plan:
    """Fit `grid`, predict every design of `triples` x `seeds` (the first N balanced
    triples x S seeds); raises UserError when the grid cannot be fitted.

    Args:
        grid: the pilot's results.
        quantity: the quantity planned for (a `QUANTITIES` name).
        target: the half-width wanted.
        triples, seeds: the candidate designs' N and S, crossed.
        archs: only these architectures (default: every one of the grid).
        kw: passed to `predict` (replicates, resamples, seed).
    """
    if quantity not in QUANTITIES:
        raise UserError(f"unknown quantity {quantity!r}; valid: {', '.join(QUANTITIES)}")
    if not target > 0:
        raise UserError(f"--target must be a positive half-width, got {target}")
    archs = archs or grid.gans
    comps, failed = fit_each(grid, archs)
    if failed:
        why = next(iter(failed.values()))
        raise UserError(f"too few trials to fit the variance components: {why}")
    if not any(k[0] == quantity for k in comps):
        raise UserError(f"the results hold no {quantity!r} for {', '.join(archs)}")
    planned = {k: c.planned(QUANTITIES[k[0]].bounds) for k, c in comps.items()}
    # A part the pilot cannot separate sits inside another: the point predictions keep it
    # there, except that with nothing separated "these classes" is planned as seed noise
    # (the part that widens it); the ranges span every split (`plausible_truths`).
    these = {
        k: t.as_seed_noise() if not comps[k].separable["seed"] else t for k, t in planned.items()
    }
    truths = {k: plausible_truths(c, QUANTITIES[k[0]].bounds) for k, c in comps.items()}
    steps = grid.df.drop_duplicates("trial_key").groupby("arch")["steps"].median()
    steps = {a: int(steps[a]) for a in archs if a in steps}
    cost = preferred_cost()
    per_trial = sum(cost.hours(a, n) for a, n in steps.items()) if cost else math.nan
    designs = []
    for n in triples:
        for s in seeds:
            widths = predict(planned, n, s, confidence=grid.confidence, **kw)
            if these != planned:
                seeds_only = predict(these, n, s, confidence=grid.confidence, **kw)
                for k in widths:
                    widths[k][THESE_CLASSES] = seeds_only[k][THESE_CLASSES]
            ranges = {k: {THESE_CLASSES: NO_RANGE} for k in planned}
            for kind in KINDS:  # both kinds for the planned quantity, a new class for all
                keys = [k for k in planned if kind == NEW_CLASS or k[0] == quantity]
                found = predicted_ranges(
                    {k: truths[k] for k in keys}, n, s, kind, confidence=grid.confidence
                )
                for k in keys:
                    ranges[k][kind] = found[k]
            predictions = {
                k: {kind: Prediction(w, *ranges[k][kind]) for kind, w in widths[k].items()}
                for k in widths
            }
            hours = n * s * per_trial
            designs.append(Design(n, s, n * s * len(archs), hours, predictions))
    return Plan(
        quantity,
        target,
        comps,
        designs,
        floor(planned, **kw),
        cost,
        steps,
        archs,
        grid.confidence,
        _not_separated(comps, len(grid.triples), len(grid.seeds)),
        (len(grid.triples), len(grid.seeds)),
    )


def _not_separated(comps: dict[Key, Components], triples: int, seeds: int) -> str:
    """What the pilot cannot separate and how the ranges span it, in one line; ''."""
    design = f"{triples} triples x {seeds} seed{'s' if seeds > 1 else ''}"
    if not any(c.separable["seed"] for c in comps.values()):
        return (
            f"{triples} triples x {seeds} seed separate no part: class effects and seed "
            "noise are not told apart, so each predicted range spans both (all variation "
            "as class effects, all as seed noise)"
        )
    if not any(c.separable["triple"] for c in comps.values()):
        part, inside = (
            ("seed", "seed noise")
            if all(c.one_seed for c in comps.values())
            else ("class", "class effects")
        )
        return (
            f"{design} do not tell the triples' own effects from {inside}, so each "
            f"predicted range spans both (the fitted {part} part as {inside}, and as the "
            "triples' own)"
        )
    return ""
