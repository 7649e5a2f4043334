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

A design that separates no part (one seed per triple and at most 10 triples, such as
the 1-epoch study's 10 x 1) still plans, with bounds: the fitted class part then holds
all of a trial's variance, so intervals for a new class are predicted with all of it as
class effects and intervals for these classes with all of it as seed noise, the part
that widens each kind most; every half-width and the floor are then upper bounds, and
the output says so.

On synthetic sweeps of a fitted model the prediction was within 2-8% of the summary's
mean half-width, for both kinds and three designs (`python -m tests.test_planner`).

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
from fakedet.errors import ArgumentParser, UserError, exit_on_user_error
from fakedet.protocol import BALANCED_TRIPLES
from fakedet.status import stderr_console, step

TRIPLES = (10, 20, 30, 40, 60, 120)
SEEDS = (1, 2, 3, 5)
REPLICATES = 40  # simulated sweeps per design: the mean half-width to a few percent
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
    """Set when the design separates no part: why every half-width is an upper bound."""

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
    if not any(c.separable["seed"] for c in comps.values()):
        # Nothing separates: the fitted class part holds all of a trial's variance. Each
        # kind is predicted with all of it in the part that widens that kind most, so
        # every prediction (and the floor) is an upper bound.
        bounded = (
            f"{len(grid.triples)} triples x {len(grid.seeds)} seed separate no part: every "
            "half-width is an upper bound (a new class: all variation taken as class "
            "effects; these classes: all of it as seed noise); add a second seed or more "
            "than 10 triples to fit the parts"
        )
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
            designs.append(
                dict(triples=n, seeds=s, trials=n * s * len(archs), hours=hours, half_width=widths)
            )
    floors = floor(sds, **kw)
    return Plan(quantity, target, comps, designs, floors, cost, archs, grid.confidence, bounded)


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
        ["triples", "seeds", "trials", unit]
        + [f"{a}\n{k}" for a in plan.archs for k in ("new", "these")],
    )
    for d in plan.designs:
        w = [d["half_width"][(plan.quantity, a)] for a in plan.archs]
        designs.rows.append(
            [d["triples"], d["seeds"], d["trials"], d["hours"]]
            + [round(x[k], 3) for x in w for k in (NEW_CLASS, THESE_CLASSES)]
        )
    designs.caption = (
        f"new: CI for a new class; these: for these 10 classes; mean of {REPLICATES} "
        f"simulated sweeps through the summary's interval code; {unit}: training, one "
        "trial at a time" + (f", on {plan.cost.machine}" if plan.cost else " (no record)")
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
                        round(largest["half_width"][(name, arch)][NEW_CLASS], 3),
                        _design_name(plan.cheapest(NEW_CLASS, name, [arch])),
                    ]
                )
    best.caption = (
        "half-widths of the CI for a new class; floor: the class effects alone on all 120 "
        f"triples (infinitely many seeds); {largest['triples']}x{largest['seeds']}: the "
        "largest candidate design"
    )
    if plan.bounded:
        for t in (designs, best):
            t.caption += "; UPPER BOUNDS: " + plan.bounded
    return [comp, designs, best]


def verdict(plan: Plan) -> list[str]:
    lines = []
    for kind in KINDS:
        d = plan.cheapest(kind)
        cost = "" if d is None or math.isnan(d["hours"]) else f", {d['hours']:,.2f} {_unit(plan)}"
        what = f"{_design_name(d)} ({d['trials']} trials{cost})" if d else "no candidate design"
        lines.append(f"cheapest to ±{plan.target:g} on {plan.quantity}, {kind}: {what}")
    floors = ", ".join(f"{a} ±{plan.floor[(plan.quantity, a)]:.3f}" for a in plan.archs)
    lines.append(f"floor for a new class (only 10 classes exist): {floors}")
    if plan.bounded:
        lines.append(f"upper bounds only: {plan.bounded}")
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
        for (name, a), w in d["half_width"].items():
            widths.setdefault(name, {})[a] = {k: num(v) for k, v in w.items()}
        designs.append({**_json_design(d), "half_width": widths})
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
        cheapest={kind: _json_design(plan.cheapest(kind)) for kind in KINDS},
        replicates=REPLICATES,
        resamples=RESAMPLES,
        upper_bounds=plan.bounded or None,
    )
    return json.dumps(out, indent=2)


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
    p.add_argument("--target", type=float, default=0.05, help="CI half-width wanted (default 0.05)")
    p.add_argument(
        "--quantity",
        default=DEFAULT_QUANTITY,
        help=f"the quantity to plan for: {', '.join(QUANTITIES)} (default {DEFAULT_QUANTITY})",
    )
    p.add_argument("--archs", help="only these architectures, comma-separated (default: all)")
    p.add_argument("--format", default="table", choices=("table", "json"), help="output format")
    p.add_argument("--protocol", help="protocol to fit (default: the most common)")
    return p


def load_grid(root: str, archs: str | None, protocol: str | None) -> MetricGrid:
    df, _ = select(load_results(root).metrics, protocol)
    if archs:
        wanted = [a.strip() for a in archs.split(",") if a.strip()]
        if unknown := sorted(set(wanted) - set(df.arch)):
            found = ", ".join(sorted(set(df.arch)))
            raise UserError(f"no results for arch {', '.join(unknown)}; found: {found}")
        df = df[df.arch.isin(wanted)]
    return MetricGrid(df)


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.quantity not in QUANTITIES:
        raise UserError(f"unknown quantity {args.quantity!r}; valid: {', '.join(QUANTITIES)}")
    if not args.target > 0:
        raise UserError(f"--target must be a positive half-width, got {args.target}")
    status = stderr_console()
    with step(status, f"loading results from {args.results}"):
        grid = load_grid(args.results, args.archs, args.protocol)
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
