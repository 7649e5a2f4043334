"""The planner's presentation: its three tables, its verdict in words and its JSON.

`python -m analysis.plan` prints `tables` and `verdict` (or writes `to_json`) of a
`analysis.plan_model.Plan`; the numbers come from the model, only their wording is here.
"""

from __future__ import annotations

import json
import math

from analysis.components import QUANTITIES, Key
from analysis.crossed import PARTS, PREDICTIVE, REPLICATES, RESAMPLES
from analysis.inference import KINDS, NEW_CLASS, THESE_CLASSES
from analysis.plan_model import Design, Plan
from analysis.render import Percent, TableData, number
from analysis.stats import Estimate


def tables(plan: Plan) -> list[TableData]:
    """The fitted components of the planned quantity, every design's predicted half-widths
    with their ranges, and each quantity's floor and cheapest design."""
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
        ["T", "S", unit] + [f"{a}\n{k}" for a in plan.archs for k in ("new", "these")],
        marks=(plan.target,),
    )
    for d in plan.designs:
        designs.rows.append(
            [d.triples, d.seeds, d.hours]
            + [
                _predicted(d, (plan.quantity, a), k)
                for a in plan.archs
                for k in (NEW_CLASS, THESE_CLASSES)
            ]
        )
    designs.caption = (
        f"T x S: the first T balanced triples x S seeds, T x S trials per architecture; "
        f"new: CI for a new class; these: for "
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
        ["quantity", "arch", "floor", f"{largest.triples}x{largest.seeds}", "cheapest"],
        keys=1,
        marks=(plan.target,),
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
        f"triples (infinitely many seeds), as fitted; {largest.triples}x{largest.seeds}:"
        " the largest candidate design, with its predicted range; cheapest: the cheapest "
        "design whose range lies at or below the target where every cheaper one's lies "
        "above it; undecided: a range straddles the target first; none: every range lies "
        "above it"
    )
    if plan.not_separated:
        for t in (designs, best):
            t.caption += "; " + plan.not_separated
    return [comp, designs, best]


def _predicted(d: Design, key: Key, kind: str) -> Estimate:
    """A design's predicted half-width with its predictive range, as an Estimate."""
    p = d.predictions[key][kind]
    return Estimate(p.mean, p.low, p.high)


def _decided(plan: Plan, kind: str, quantity=None, archs=None) -> str:
    what, d = plan.decision(kind, quantity, archs)
    if what == "cheapest":
        return d.name
    return "none" if what == "none" else f"undecided ({d.name}?)"


def verdict(plan: Plan) -> list[str]:
    """The plan in sentences: per interval kind, the cheapest design, "undecided" with the
    batch to run next, or no candidate design; then the floor."""
    lines = []
    for kind in KINDS:
        what, d = plan.decision(kind)
        head = f"to ±{plan.target:g} on {plan.quantity}, {kind}:"
        if what == "none":
            lines.append(f"{head} no candidate design (every predicted range lies above)")
            continue
        cost = "" if math.isnan(d.hours) else f", {d.hours:,.2f} {plan.unit}"
        name = f"{d.name} ({d.trials} trials{cost})"
        if what == "cheapest":
            lines.append(f"{head} cheapest is {name}")
        else:
            lines.append(
                f"{head} undecided: the range of {name} straddles the target; run "
                f"{plan.next_batch()} and plan again"
            )
    floors = ", ".join(f"{a} ±{number(plan.floor[(plan.quantity, a)], 3)}" for a in plan.archs)
    lines.append(f"floor for a new class as fitted (only 10 classes exist): {floors}")
    if plan.not_separated:
        lines.append(plan.not_separated)
    return lines


def _num(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def to_json(plan: Plan, root: str) -> str:
    """The plan as JSON: components, designs, floors and decisions, NaN as null."""
    comps: dict = {}
    for (name, arch), c in plan.components.items():
        comps.setdefault(name, {})[arch] = dict(
            mean=c.mean,
            trials=c.trials,
            variance={p: _num(c.variances[p]) for p in PARTS},
            sd={p: _num(c.sd(p)) for p in PARTS},
            interval={p: [_num(v) for v in c.intervals.get(p, ())] for p in PARTS},
            separable=c.separable,
            not_separated=c.note,
            share={p: _num(v) for p, v in c.shares().items()},
        )
    designs = []
    for d in plan.designs:
        widths: dict = {}
        ranges: dict = {}
        for (name, a), by_kind in d.predictions.items():
            widths.setdefault(name, {})[a] = {k: _num(p.mean) for k, p in by_kind.items()}
            ranges.setdefault(name, {})[a] = {
                k: [_num(p.low), _num(p.high)] for k, p in by_kind.items()
            }
        designs.append({**_json_design(d), "half_width": widths, "range": ranges})
    floors: dict = {}
    for (name, a), v in plan.floor.items():
        floors.setdefault(name, {})[a] = _num(v)
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
            steps=plan.steps,
            hours_per_trial={a: _num(h) for a, h in plan.hours_per_trial.items()},
        ),
        components=comps,
        designs=designs,
        floor=floors,
        cheapest={kind: _json_design(plan.sure(kind)) for kind in KINDS},
        decision={
            kind: dict(verdict=plan.decision(kind)[0], design=_json_design(plan.decision(kind)[1]))
            for kind in KINDS
        },
        predictive=PREDICTIVE,
        replicates=REPLICATES,
        resamples=RESAMPLES,
        not_separated=plan.not_separated or None,
    )
    return json.dumps(out, indent=2)


def _json_design(d: Design | None) -> dict | None:
    if d is None:
        return None
    hours = None if math.isnan(d.hours) else d.hours
    return dict(triples=d.triples, seeds=d.seeds, trials=d.trials, hours=hours)
