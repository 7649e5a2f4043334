"""Plan the next sweep: what precision each design buys, and at what cost.

    python -m analysis.plan --results ROOT [--target 0.05] [--quantity recall_gap]
        [--archs hands_on,brownlee] [--format table|json]

Fits the variance components of every headline quantity and architecture on the results
under ROOT (`analysis.components`), then, for each candidate design -- the first N
class-balanced triples (`fakedet.protocol.BALANCED_TRIPLES[:N]`, what `--triples N` runs)
x S seeds -- simulates the fitted model and puts every simulated sweep through the
summary's own interval code (`analysis.inference.Intervals.means`, both kinds, within
the quantity's bounds), so the predicted half-width is the mean half-width the summary
would print for that design, by construction. The floor is the half-width of an
interval for a new class that no design can beat because only 10 classes exist: the
class effects alone, on all 120 triples (no triple or seed noise, as with infinitely
many seeds).

Each predicted half-width comes with a range that says how sure it is: the 5% and 95%
points of the half-width one sweep of the design shows, over truths the pilot leaves
plausible (one per data set of the components' parametric bootstrap, by the ratio pivot
of their intervals, `Components.plausible`), one simulated sweep each (`realized`,
`predicted_range`). So the range carries both the fitted components' uncertainty and one
sweep's luck. A design that separates no part (one seed per triple and at most 10
triples, such as the 1-epoch study's 10 x 1) cannot tell class effects from seed noise:
half of its plausible truths put all of a trial's variation in the class effects, half in
seed noise, and its ranges span both.

The verdict is stated only where the ranges decide it: in cost order, the first design
whose range is not wholly above the target is "the cheapest" if its range lies at or
below it, else the plan is "undecided" and names the batch that would tell most (a second
seed, else as many triples again); "no candidate design" only when every range lies above.

Accuracy, against a known truth (`python -m tests.test_planner`; the test runs 30
pilots): per pilot of 10 x 2 drawn from the truth, the share of pilots whose range for 20
x 2 and 40 x 2 holds the half-width one sweep drawn from that truth shows. The point
prediction, on sweeps of the fitted model itself, is within 2-8% of the summary's mean
half-width (the same script).

Cost: device-hours of training, one trial at a time, at the budget of ROOT's trials (the
median steps per architecture) and the committed benchmark records' milliseconds per
step (`bench/results/throughput-cuda.json` where it exists, else the CPU record,
labelled CPU-hours); evaluation, the dedicated detectors and any packing gain (which
`sweeps/estimate.py` applies to the dry run when its record is plausible) are not
counted.
The cheapest design is the one whose predicted half-width of the chosen quantity is at
most --target for every architecture, at the lowest cost.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.text import Text

from analysis.components import (
    DEFAULT_QUANTITY,
    PARTS,
    QUANTITIES,
    Components,
    TooFewTrials,
    fit,
)
from analysis.grid import MetricGrid, select
from analysis.inference import KINDS, NEW_CLASS, THESE_CLASSES, UNBOUNDED, Intervals
from analysis.load import load_results
from analysis.render import Percent, TableData, half_width, rich_table
from analysis.stats import Estimate
from fakedet.errors import ArgumentParser, UserError, exit_on_user_error
from fakedet.options import finite_float
from fakedet.protocol import BALANCED_TRIPLES
from fakedet.status import stderr_console, step

TRIPLES = (10, 20, 30, 40, 60, 120)
SEEDS = (1, 2, 3, 5)
REPLICATES = 40  # simulated sweeps per design: the mean half-width to a few percent
PREDICTIVE = 0.90  # level of a predicted half-width's range (its 5% and 95% points)
DRAWS = 100  # plausible truths per range, one simulated sweep each
RESAMPLES = 1000  # of the Intervals object (its intervals of means draw none)
RECORDS = Path(__file__).resolve().parents[1] / "bench" / "results"
Key = tuple[str, str]  # (quantity, arch)


@dataclass(frozen=True)
class Cost:
    """Device-hours of training per trial of each architecture, from a benchmark record."""

    unit: str
    """'GPU-hours' or 'CPU-hours'."""
    machine: str
    hours_per_trial: dict[str, float]
    """{arch: hours}; NaN where the record has no speed for it."""
    steps: dict[str, int]

    def hours(self, n_triples: int, n_seeds: int) -> float:
        return n_triples * n_seeds * sum(self.hours_per_trial.values())


def device_cost(steps: dict[str, int], records: Path = RECORDS) -> Cost | None:
    """Training cost at `steps` per trial per architecture, from the GPU record where it
    exists, else the CPU one; None when neither does."""
    for device, unit in (("cuda", "GPU-hours"), ("cpu", "CPU-hours")):
        path = records / f"throughput-{device}.json"
        if path.is_file():
            record = json.loads(path.read_text())
            speed = record.get("results", {})
            hours = {
                a: n * speed.get(a, {}).get("fast_ms_per_step", math.nan) / 3.6e6
                for a, n in steps.items()
            }
            return Cost(unit, str(record.get("machine", "?")), hours, steps)
    return None


def predict(
    sds: dict[Key, dict[str, float]],
    n_triples: int,
    n_seeds: int,
    replicates: int = REPLICATES,
    resamples: int = RESAMPLES,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[Key, dict[str, float]]:
    """Mean half-width of both interval kinds for a design, by simulating the fitted model.

    Args:
        sds: {(quantity, arch): {part: SD}} (`Components.planned`), and optionally
            "mean": the fitted mean the simulated sweeps centre on (default 0) and
            "bounds": the quantity's range (default unbounded): simulated trials are
            clipped into it, and the intervals respect it as in the summary's.
        n_triples: N, the design's triples: `BALANCED_TRIPLES[:N]`.
        n_seeds: S seeds per triple.
        replicates: R simulated sweeps (the same draws, scaled, for every key).

    Returns:
        {(quantity, arch): {kind: mean half-width}}; NaN for "these classes" with one seed;
        0 where every SD is 0 (nothing varies: not simulated).
    """
    out = {
        k: {THESE_CLASSES: 0.0 if n_seeds > 1 else math.nan, NEW_CLASS: 0.0}
        for k, s in sds.items()
        if not any(s[p] for p in PARTS)
    }
    sds = {k: s for k, s in sds.items() if k not in out}
    if not sds:
        return out
    tri = np.array(BALANCED_TRIPLES[:n_triples])
    rng = np.random.default_rng(seed)
    z_class = rng.standard_normal((replicates, 10))[:, tri].sum(axis=2)[..., None]
    z_triple = rng.standard_normal((replicates, n_triples, 1))
    z_seed = rng.standard_normal((replicates, n_triples, n_seeds))
    keys = list(sds)
    stack = np.concatenate(
        [
            np.clip(  # a rate's trials stay in its range, as real ones do
                sds[k].get("mean", 0.0)
                + sds[k]["class"] * z_class
                + sds[k]["triple"] * z_triple
                + sds[k]["seed"] * z_seed,
                *sds[k].get("bounds", UNBOUNDED),
            )
            for k in keys
        ]
    )
    bounds = [sds[k].get("bounds", UNBOUNDED) for k in keys for _ in range(replicates)]
    intervals = Intervals(tri, n_seeds, resamples=resamples, seed=seed, confidence=confidence)
    out.update({k: {} for k in keys})
    for kind in KINDS:
        if kind == THESE_CLASSES and n_seeds < 2:
            width = np.full((len(keys), replicates), np.nan)
        else:
            estimates = intervals.means(stack, kind=kind, bounds=bounds)
            width = np.array([half_width(e) for e in estimates])
        for k, w in zip(keys, width.reshape(len(keys), replicates), strict=True):
            out[k][kind] = float(np.mean(w))
    return out


def realized(
    truths: list[dict[str, float]],
    n_triples: int,
    n_seeds: int,
    kind: str,
    seed: int = 0,
    confidence: float = 0.95,
) -> np.ndarray:
    """The half-width of `kind`'s interval on one simulated sweep per truth.

    Args:
        truths: B {part: SD} (and optionally "mean", "bounds", as in `predict`), each the
            truth of one independent sweep.
        n_triples, n_seeds: the design, `BALANCED_TRIPLES[:n_triples]` x `n_seeds`.

    Returns:
        (B,) half-widths the summary would print; NaN for "these classes" with one seed.
    """
    b = len(truths)
    if kind == THESE_CLASSES and n_seeds < 2:
        return np.full(b, np.nan)
    tri = np.array(BALANCED_TRIPLES[:n_triples])
    # a stream of its own: the components' bootstrap draws from default_rng(seed), and
    # sharing its draws would tie each plausible truth to its own sweep's luck
    rng = np.random.default_rng([seed, 1])
    part = {p: np.array([t[p] for t in truths])[:, None, None] for p in PARTS}
    mean = np.array([t.get("mean", 0.0) for t in truths])[:, None, None]
    bounds = [t.get("bounds", UNBOUNDED) for t in truths]
    lo, hi = np.array(bounds, float).T
    y = (
        mean
        + part["class"] * rng.standard_normal((b, 10))[:, tri].sum(axis=2)[..., None]
        + part["triple"] * rng.standard_normal((b, n_triples, 1))
        + part["seed"] * rng.standard_normal((b, n_triples, n_seeds))
    )
    stack = np.clip(y, lo[:, None, None], hi[:, None, None])
    intervals = Intervals(tri, n_seeds, resamples=RESAMPLES, seed=seed, confidence=confidence)
    return np.array([half_width(e) for e in intervals.means(stack, kind=kind, bounds=bounds)])


def plausible_truths(comps: Components, bounds, separated: bool) -> list[dict[str, float]]:
    """Truths the fitted components leave plausible (`Components.plausible`, one per
    bootstrap data set). Where the design separates no part (`separated` False), half of
    them put all of a trial's variation in the class effects and half in seed noise (3
    class variances: one trial's), the two splits the data cannot tell apart."""
    out = [{**t, "mean": comps.mean, "bounds": bounds} for t in comps.plausible()]
    if separated:
        return out
    as_seed = [{**t, "class": 0.0, "triple": 0.0, "seed": math.sqrt(3) * t["class"]} for t in out]
    return [t if i % 2 == 0 else s for i, (t, s) in enumerate(zip(out, as_seed, strict=True))]


def predicted_range(
    truths: list[dict[str, float]], n_triples: int, n_seeds: int, kind: str, **kw
) -> tuple[float, float]:
    """The PREDICTIVE interval of the half-width one sweep of the design will show: the
    (1 -/+ PREDICTIVE) / 2 points of `realized` over plausible truths, so it carries both
    the fitted components' uncertainty and one sweep's luck."""
    if not truths:
        return math.nan, math.nan
    w = realized(truths[:DRAWS], n_triples, n_seeds, kind, **kw)
    if np.isnan(w).all():
        return math.nan, math.nan
    a = (1 - PREDICTIVE) / 2
    low, high = np.nanquantile(w, [a, 1 - a])
    return float(low), float(high)


def predicted_ranges(
    truths: dict[Key, list[dict[str, float]]],
    n_triples: int,
    n_seeds: int,
    kind: str,
    confidence: float = 0.95,
) -> dict[Key, tuple[float, float]]:
    """`predicted_range` of every key at once (one simulation of all their truths)."""
    keys = [k for k in truths if truths[k]]
    rows = [t for k in keys for t in truths[k][:DRAWS]]
    out = {k: (math.nan, math.nan) for k in truths}
    if not rows:
        return out
    w = realized(rows, n_triples, n_seeds, kind, confidence=confidence)
    a, start = (1 - PREDICTIVE) / 2, 0
    for k in keys:
        part = w[start : start + len(truths[k][:DRAWS])]
        start += len(part)
        if not np.isnan(part).all():
            low, high = np.nanquantile(part, [a, 1 - a])
            out[k] = (float(low), float(high))
    return out


def floor(sds: dict[Key, dict[str, float]], **kw) -> dict[Key, float]:
    """The half-width of an interval for a new class with the class effects alone on every
    triple: what infinitely many seeds (and every one of the 120 triples) would leave."""
    only = {k: {**s, "triple": 0.0, "seed": 0.0} for k, s in sds.items()}
    return {k: v[NEW_CLASS] for k, v in predict(only, len(BALANCED_TRIPLES), 1, **kw).items()}


@dataclass
class Plan:
    """The fitted components, every design's predicted half-widths and cost, the floor."""

    quantity: str
    target: float
    components: dict[Key, Components]
    designs: list[dict]
    """Each: triples, seeds, trials, hours, half_width {(quantity, arch): {kind: value}}."""
    floor: dict[Key, float]
    cost: Cost | None
    archs: list[str]
    confidence: float
    bounded: str = ""
    """Set when the design separates no part: how the ranges then span both splits."""
    pilot: tuple[int, int] = (10, 2)
    """The fitted results' design: (triples, seeds)."""

    def reach(self, d: dict, kind: str, quantity: str | None = None, archs=None) -> str:
        """Whether design `d` reaches the target on `quantity` for every arch: "yes" (every
        arch's predicted range at or below it), "no" (some arch's range above it), else
        "undecided"."""
        quantity, archs = quantity or self.quantity, archs or self.archs
        ranges = [d["range"][(quantity, a)][kind] for a in archs]
        if any(math.isnan(lo) for lo, _ in ranges):
            return "no"
        if any(lo > self.target for lo, _ in ranges):
            return "no"
        return "yes" if all(hi <= self.target for _, hi in ranges) else "undecided"

    def decision(
        self, kind: str, quantity: str | None = None, archs=None
    ) -> tuple[str, dict | None]:
        """What the predicted ranges decide, in cost order: ("cheapest", d) where the
        first design not ruled out surely reaches the target, ("none", None) where every
        design is ruled out, else ("undecided", the first design not ruled out)."""
        order = sorted(self.designs, key=lambda d: (_nan_last(d["hours"]), d["trials"]))
        for d in order:
            r = self.reach(d, kind, quantity, archs)
            if r == "yes":
                return "cheapest", d
            if r == "undecided":
                return "undecided", d
        return "none", None

    def next_batch(self) -> str:
        """The batch that would tell most: a second seed where there is one, else as
        many triples again."""
        t, s = self.pilot
        if s < 2:
            return f"a second seed on the same {t} triples (separates seed noise from classes)"
        return f"the next {t} balanced triples at {s} seeds (--triples {min(2 * t, 120)})"

    def cheapest(self, kind: str, quantity: str | None = None, archs=None) -> dict | None:
        """The design of least cost (then fewest trials) whose predicted half-width of
        `quantity` (default: the plan's) is at most the target for every one of `archs`
        (default: the plan's); None when no candidate reaches it."""
        quantity, archs = quantity or self.quantity, archs or self.archs
        ok = [
            d
            for d in self.designs
            if all(d["half_width"][(quantity, a)][kind] <= self.target for a in archs)
        ]  # NaN never reaches
        return min(ok, key=lambda d: (_nan_last(d["hours"]), d["trials"]), default=None)


def _nan_last(x: float) -> float:
    return math.inf if x is None or math.isnan(x) else x


def fit_all(grid: MetricGrid, archs: list[str]) -> dict[Key, Components]:
    """Components of every headline quantity of each architecture that has it."""
    out = {}
    for name, measure in QUANTITIES.items():
        for arch in archs:
            scores = measure(grid, arch)
            if not np.isnan(scores).all():
                out[(name, arch)] = fit(scores, grid.triples, grid.confidence, seed=grid.seed)
    return out


def make_plan(
    grid: MetricGrid,
    quantity: str = DEFAULT_QUANTITY,
    target: float = 0.05,
    archs: list[str] | None = None,
    triples=TRIPLES,
    seeds=SEEDS,
    **kw,
) -> Plan:
    """Fit `grid`, predict every design; raises UserError when the grid cannot be fitted."""
    if quantity not in QUANTITIES:
        raise UserError(f"unknown quantity {quantity!r}; valid: {', '.join(QUANTITIES)}")
    if not target > 0:
        raise UserError(f"--target must be a positive half-width, got {target}")
    archs = archs or grid.gans
    try:
        comps = fit_all(grid, archs)
    except TooFewTrials as e:
        raise UserError(f"too few trials to fit the variance components: {e}") from None
    if not any(k[0] == quantity for k in comps):
        raise UserError(f"the results hold no {quantity!r} for {', '.join(archs)}")
    sds = {
        k: {**c.planned(), "mean": c.mean, "bounds": QUANTITIES[k[0]].bounds}
        for k, c in comps.items()
    }
    bounded = ""
    separated = any(c.separable["seed"] for c in comps.values())
    if not separated:
        # Nothing separates: the fitted class part holds all of a trial's variance. The
        # point predictions put it in the part that widens each kind most; the ranges
        # span both splits (`plausible_truths`).
        bounded = (
            f"{len(grid.triples)} triples x {len(grid.seeds)} seed separate no part: "
            "class effects and seed noise are not told apart, so each predicted range "
            "spans both (all variation as class effects, all as seed noise)"
        )
    truths = {k: plausible_truths(c, QUANTITIES[k[0]].bounds, separated) for k, c in comps.items()}
    as_seed = {
        k: {**s, "class": 0.0, "triple": 0.0, "seed": math.sqrt(3) * s["class"]}
        for k, s in sds.items()
    }
    steps = grid.df.drop_duplicates("trial_key").groupby("arch")["steps"].median()
    cost = device_cost({a: int(steps[a]) for a in archs if a in steps})
    designs = []
    for n in triples:
        for s in seeds:
            widths = predict(sds, n, s, confidence=grid.confidence, **kw)
            if bounded:
                these = predict(as_seed, n, s, confidence=grid.confidence, **kw)
                for k in widths:
                    widths[k][THESE_CLASSES] = these[k][THESE_CLASSES]
            hours = cost.hours(n, s) if cost else math.nan
            ranges = {k: {THESE_CLASSES: (math.nan, math.nan)} for k in sds}
            for kind in KINDS:  # both kinds for the planned quantity, a new class for all
                keys = [k for k in sds if kind == NEW_CLASS or k[0] == quantity]
                found = predicted_ranges({k: truths[k] for k in keys}, n, s, kind, grid.confidence)
                for k in keys:
                    ranges[k][kind] = found[k]
            designs.append(
                dict(
                    triples=n, seeds=s, trials=n * s * len(archs), hours=hours,
                    half_width=widths, range=ranges,
                )
            )  # fmt: skip
    floors = floor(sds, **kw)
    pilot = (len(grid.triples), len(grid.seeds))
    return Plan(
        quantity, target, comps, designs, floors, cost, archs, grid.confidence, bounded, pilot
    )


# --- output ---------------------------------------------------------------------------
def _design_name(d: dict | None) -> str:
    if d is None:
        return "none"
    return f"{d['triples']} triples x {d['seeds']} seed{'s' if d['seeds'] > 1 else ''}"


def tables(plan: Plan) -> list[TableData]:
    unit = plan.cost.unit.split("-")[0] + "-h" if plan.cost else "hours"
    label = QUANTITIES[plan.quantity].label
    level = f"{plan.confidence:.0%}"
    comp = TableData(
        "components",
        f"Fitted variance components: {plan.quantity} ({label})",
        ["arch", "mean", "class sd", "triple sd", "seed sd", "class %"],
        keys=1,
    )
    for arch in plan.archs:
        if c := plan.components.get((plan.quantity, arch)):
            comp.rows.append(
                [arch, c.mean, *(c.estimate(p) for p in PARTS), Percent(100 * c.shares()["class"])]
            )
    comp.caption = "sd and its CI (parametric bootstrap); -: not separable by this design"
    designs = TableData(
        "designs",
        f"Predicted half-width of the {level} CI of {plan.quantity}",
        ["T", "S", "trials", unit] + [f"{a}\n{k}" for a in plan.archs for k in ("new", "these")],
    )
    for d in plan.designs:
        designs.rows.append(
            [d["triples"], d["seeds"], d["trials"], d["hours"]]
            + [
                _predicted(d, (plan.quantity, a), k)
                for a in plan.archs
                for k in (NEW_CLASS, THESE_CLASSES)
            ]
        )
    designs.caption = (
        f"T x S: the first T balanced triples x S seeds; new: CI for a new class; these: for "
        f"these 10 classes; value: mean of {REPLICATES} "
        "simulated sweeps of the fitted model through the summary's interval code; "
        f"[low, high]: where one sweep's half-width falls, {PREDICTIVE:.0%} of the time, "
        "over the components the pilot leaves plausible (parametric bootstrap); "
        f"{unit}: training, one trial at a time"
        + (f", on {plan.cost.machine}" if plan.cost else " (no record)")
    )
    largest = plan.designs[-1]
    best = TableData(
        "cheapest",
        f"Floor and cheapest design to ±{plan.target:g}, a new class",
        ["quantity", "arch", "floor", f"{largest['triples']}x{largest['seeds']}", "cheapest"],
        keys=1,
    )
    for name in QUANTITIES:
        for arch in plan.archs:
            if (name, arch) in plan.floor:
                best.rows.append(
                    [
                        name,
                        arch,
                        round(plan.floor[(name, arch)], 3),
                        _predicted(largest, (name, arch), NEW_CLASS),
                        _decided(plan, NEW_CLASS, name, [arch]),
                    ]
                )
    best.caption = (
        "half-widths of the CI for a new class; floor: the class effects alone on all 120 "
        f"triples (infinitely many seeds), as fitted; {largest['triples']}x{largest['seeds']}:"
        " the largest candidate design, with its predicted range; cheapest: the cheapest "
        "design whose range lies at or below the target where every cheaper one's lies "
        "above it; undecided: a range straddles the target first; none: every range lies "
        "above it"
    )
    if plan.bounded:
        for t in (designs, best):
            t.caption += "; " + plan.bounded
    return [comp, designs, best]


def _predicted(d: dict, key: Key, kind: str) -> Estimate:
    """A design's predicted half-width with its predictive range, as an Estimate."""
    low, high = d["range"][key][kind]
    return Estimate(d["half_width"][key][kind], low, high)


def _decided(plan: Plan, kind: str, quantity=None, archs=None) -> str:
    what, d = plan.decision(kind, quantity, archs)
    if what == "cheapest":
        return _design_name(d)
    return "none" if what == "none" else f"undecided ({_design_name(d)}?)"


def verdict(plan: Plan) -> list[str]:
    lines = []
    for kind in KINDS:
        what, d = plan.decision(kind)
        head = f"to ±{plan.target:g} on {plan.quantity}, {kind}:"
        if what == "none":
            lines.append(f"{head} no candidate design (every predicted range lies above)")
            continue
        cost = "" if math.isnan(d["hours"]) else f", {d['hours']:,.2f} {_unit(plan)}"
        name = f"{_design_name(d)} ({d['trials']} trials{cost})"
        if what == "cheapest":
            lines.append(f"{head} cheapest is {name}")
        else:
            lines.append(
                f"{head} undecided: the range of {name} straddles the target; run "
                f"{plan.next_batch()} and plan again"
            )
    floors = ", ".join(f"{a} ±{plan.floor[(plan.quantity, a)]:.3f}" for a in plan.archs)
    lines.append(f"floor for a new class as fitted (only 10 classes exist): {floors}")
    if plan.bounded:
        lines.append(plan.bounded)
    return lines


def _unit(plan: Plan) -> str:
    return plan.cost.unit if plan.cost else "hours"


def to_json(plan: Plan, root: str) -> str:
    def num(x):
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else x

    comps = {}
    for (name, arch), c in plan.components.items():
        comps.setdefault(name, {})[arch] = dict(
            mean=c.mean,
            trials=c.trials,
            variance={p: num(c.variances[p]) for p in PARTS},
            sd={p: num(c.sd(p)) for p in PARTS},
            interval={p: [num(v) for v in c.intervals.get(p, ())] for p in PARTS},
            separable=c.separable,
            not_separated=c.note,
            share={p: num(v) for p, v in c.shares().items()},
        )
    designs = []
    for d in plan.designs:
        widths: dict = {}
        ranges: dict = {}
        for (name, a), w in d["half_width"].items():
            widths.setdefault(name, {})[a] = {k: num(v) for k, v in w.items()}
            r = d["range"][(name, a)]
            ranges.setdefault(name, {})[a] = {k: [num(x) for x in v] for k, v in r.items()}
        designs.append({**_json_design(d), "half_width": widths, "range": ranges})
    floors: dict = {}
    for (name, a), v in plan.floor.items():
        floors.setdefault(name, {})[a] = num(v)
    out = dict(
        results=root,
        quantity=plan.quantity,
        target=plan.target,
        confidence=plan.confidence,
        archs=plan.archs,
        cost=None
        if plan.cost is None
        else dict(
            unit=plan.cost.unit,
            machine=plan.cost.machine,
            steps=plan.cost.steps,
            hours_per_trial={a: num(h) for a, h in plan.cost.hours_per_trial.items()},
        ),
        components=comps,
        designs=designs,
        floor=floors,
        cheapest={kind: _json_design(_sure(plan, kind)) for kind in KINDS},
        decision={
            kind: dict(verdict=plan.decision(kind)[0], design=_json_design(plan.decision(kind)[1]))
            for kind in KINDS
        },
        predictive=PREDICTIVE,
        replicates=REPLICATES,
        resamples=RESAMPLES,
        not_separated=plan.bounded or None,
    )
    return json.dumps(out, indent=2)


def _sure(plan: Plan, kind: str) -> dict | None:
    """The cheapest design where the ranges decide it; None otherwise."""
    what, d = plan.decision(kind)
    return d if what == "cheapest" else None


def _json_design(d: dict | None) -> dict | None:
    if d is None:
        return None
    hours = None if math.isnan(d["hours"]) else d["hours"]
    return dict(triples=d["triples"], seeds=d["seeds"], trials=d["trials"], hours=hours)


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m analysis.plan",
        description=__doc__.split("\n\n")[0],
        epilog="Predictions for N balanced triples (--triples N) x S seeds, N in "
        f"{', '.join(map(str, TRIPLES))}, S in {', '.join(map(str, SEEDS))}; see the "
        "module docstring (analysis/plan.py).",
    )
    p.add_argument("--results", required=True, help="results root: a path or a URI")
    p.add_argument(
        "--target", type=_finite, default=0.05, help="CI half-width wanted (default 0.05)"
    )
    p.add_argument(
        "--quantity",
        default=DEFAULT_QUANTITY,
        help=f"the quantity to plan for: {', '.join(QUANTITIES)} (default {DEFAULT_QUANTITY})",
    )
    p.add_argument("--archs", help="only these architectures, comma-separated (default: all)")
    p.add_argument("--format", default="table", choices=("table", "json"), help="output format")
    p.add_argument("--protocol", help="protocol to fit (default: the most common)")
    return p


def _finite(text: str) -> float:
    try:
        return finite_float(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def load_grid(root: str, archs: str | None, protocol: str | None, on_invalid=None) -> MetricGrid:
    """The grid to plan from; each file left out (corrupt, or not of the schema) is passed
    to `on_invalid(path, reason)` first."""
    results = load_results(root)
    for path, reason in results.invalid:
        if on_invalid:
            on_invalid(path, reason)
    df, _ = select(results.metrics, protocol)
    if archs:
        wanted = [a.strip() for a in archs.split(",") if a.strip()]
        if unknown := sorted(set(wanted) - set(df.arch)):
            found = ", ".join(sorted(set(df.arch)))
            raise UserError(f"--archs: no results for arch {', '.join(unknown)}; found: {found}")
        df = df[df.arch.isin(wanted)]
    return MetricGrid(df)


def parse(argv: list[str] | None = None):
    """The command line's arguments, each value checked before any work."""
    args = build_parser().parse_args(argv)
    if args.quantity not in QUANTITIES:
        raise UserError(
            f"--quantity: unknown quantity {args.quantity!r}; valid: {', '.join(QUANTITIES)}"
        )
    if not 0 < args.target < 1:
        raise UserError(f"--target must be a positive half-width below 1, got {args.target:g}")
    return args


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    status = stderr_console()
    left_out = []
    with step(status, f"loading results from {args.results}"):
        grid = load_grid(args.results, args.archs, args.protocol, lambda *f: left_out.append(f))
    for path, reason in left_out:  # once the options are known good: an error stays one line
        print(f"invalid file left out: {path}: {reason}", file=sys.stderr)
    designs = f"{len(TRIPLES) * len(SEEDS)} designs x {REPLICATES} simulated sweeps"
    with step(status, f"fitting, simulating {designs} (a minute or two on 2 cores)"):
        plan = make_plan(grid, args.quantity, args.target)
    if args.format == "json":
        sys.stdout.write(to_json(plan, args.results) + "\n")
        return
    console = Console(width=80)
    for t in tables(plan):
        console.print(rich_table(t, caption=False))
        console.print(Text(t.caption, style="dim"))
        console.print()
    for line in verdict(plan):
        console.print(line)


if __name__ == "__main__":
    main()
