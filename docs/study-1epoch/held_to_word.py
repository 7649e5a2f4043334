"""The planner held to its word: predicted half-widths for 10 x 2 beside the realized ones.

`plan-seed0.json` is what `python -m analysis.plan` predicted from seed 0 alone (10 triples
x 1 seed), kept from before seed 1 ran, when a 10 x 1 batch gave "upper bounds";
`plan-seed0-ranges.json` is today's planner on the same seed-0 metrics (commit 651f259),
also kept from before seed 1 was read: each half-width with the range where one sweep's
half-width falls 90% of the time. This script reads their 10 x 2 rows and computes, on
the grown results root (10 triples x 2 seeds), the half-width of the interval the planner
predicts for each planned quantity, both interval kinds, at the final checkpoint
(`Intervals.mean` of the quantity's (triple, seed) scores inside its range, as the planner
simulates it). For the rates and AUROCs that is the interval the headline prints; for the
two gaps the summary passes the gap as its two rates (`Intervals.differences`, which also
holds the MOVER of their intervals), so its gap rows can be wider or narrower.

    python docs/study-1epoch/held_to_word.py [--results ROOT] > docs/study-1epoch/held_to_word.md
"""

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

KINDS = ("a new class", "these classes")


def design(plan: dict, triples: int, seeds: int) -> dict:
    """One design of a saved plan: its "half_width" (and, where planned, "range") as
    {quantity: {arch: {kind: ...}}}."""
    for d in plan["designs"]:
        if d["triples"] == triples and d["seeds"] == seeds:
            return d
    raise SystemExit(f"error: the plan has no {triples} x {seeds} design")


def realized(results: str) -> tuple[dict, tuple[int, int]]:
    """{quantity: {arch: {kind: (half-width, Estimate)}}} on a results root, and its design."""
    import numpy as np

    from analysis.components import QUANTITIES
    from analysis.grid import MetricGrid, select
    from analysis.inference import NEW_CLASS, THESE_CLASSES
    from analysis.load import load_results
    from analysis.render import half_width

    df, _ = select(load_results(results).metrics)  # each trial's final checkpoint
    grid = MetricGrid(df)
    out: dict = {}
    for name, measure in QUANTITIES.items():
        for arch in grid.gans:
            scores = measure(grid, arch)
            if np.isnan(scores).all():
                continue
            for kind, label in ((NEW_CLASS, KINDS[0]), (THESE_CLASSES, KINDS[1])):
                e = grid.intervals.mean(scores, kind=kind, bounds=measure.bounds)
                out.setdefault(name, {}).setdefault(arch, {})[label] = (half_width(e), e)
    return out, grid.shape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(HERE / "results"))
    parser.add_argument("--plan", default=str(HERE / "plan-seed0.json"))
    parser.add_argument("--ranges", default=str(HERE / "plan-seed0-ranges.json"))
    args = parser.parse_args()
    from analysis.render import fmt_estimate

    plan = json.loads(Path(args.plan).read_text())
    ranged = json.loads(Path(args.ranges).read_text())
    now, (n_triples, n_seeds) = realized(args.results)
    pred = design(plan, n_triples, n_seeds)["half_width"]
    later = design(ranged, n_triples, n_seeds)
    print(f"# The planner held to its word: {n_triples} triples x {n_seeds} seeds\n")
    print(
        f"Upper bound: `{Path(args.plan).name}` (from {plan['results']} when it held seed 0 "
        f"only; its note: {plan.get('upper_bounds') or 'none'}). Range: `"
        f"{Path(args.ranges).name}`, today's planner on the same seed-0 metrics, its "
        f"{ranged['predictive']:.0%} range of one sweep's half-width (only the planned "
        f"quantity, `{ranged['quantity']}`, has one for these classes). Realized: the "
        f"half-width of the {plan['confidence']:.0%} interval on `{args.results}` now, "
        "computed as the planner simulates it (the mean of per-trial values; the summary's "
        "gap rows differ, see the script's docstring). "
        "Ratio: realized / upper bound; above 1 the data exceed the bound. In range: "
        "whether the realized half-width lies in the range.\n"
    )
    print(
        "| quantity | arch | kind | upper bound | ratio | range | in range | realized "
        "| interval now |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    held = total = 0
    above = {kind: [0, 0] for kind in KINDS}  # realized over the upper bound, of rows
    for name, archs in now.items():
        for arch, kinds in archs.items():
            for kind in KINDS:
                h, e = kinds[kind]
                p = pred.get(name, {}).get(arch, {}).get(kind)
                ratio = f"{h / p:.2f}" if p else "-"
                if p:
                    above[kind][0] += h > p
                    above[kind][1] += 1
                bound = f"{p:.3f}" if p is not None else "- (none predicted)"
                low, high = later.get("range", {}).get(name, {}).get(arch, {}).get(kind) or (
                    None,
                    None,
                )
                if low is None:
                    span, inside = "-", "-"
                else:
                    span, inside = f"[{low:.3f}, {high:.3f}]", low <= h <= high
                    held, total = held + inside, total + 1
                    inside = "yes" if inside else "**no**"
                cells = [name, arch, kind, bound, ratio, span, inside, f"{h:.3f}", fmt_estimate(e)]
                print("| " + " | ".join(cells) + " |")
    print(f"\nRealized half-widths inside the predicted range: {held} of {total}.")
    print(
        "Realized half-widths above the upper bound: "
        + ", ".join(f"{n} of {m} ({kind})" for kind, (n, m) in above.items())
        + "."
    )


if __name__ == "__main__":
    main()
