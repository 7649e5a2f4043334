"""The planner held to its word: predicted half-widths for 10 x 2 beside the realized ones.

`plan-seed0.json` is what `python -m analysis.plan` predicted from seed 0 alone (10 triples
x 1 seed), kept from before seed 1 ran. This script reads its 10 x 2 row and computes, on
the grown results root (10 triples x 2 seeds), the half-width of the same interval the
summary prints for each planned quantity, both interval kinds, at the final checkpoint
(`Intervals.mean` of the quantity's (triple, seed) scores inside its range, as the planner
simulates it; the headline's new-class rows print the same intervals).

    python docs/study-1epoch/held_to_word.py [--results ROOT] > docs/study-1epoch/held_to_word.md
"""

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

KINDS = ("a new class", "these classes")


def predicted(plan: dict, triples: int, seeds: int) -> dict:
    """{quantity: {arch: {kind: half-width or None}}} of one design of a saved plan."""
    for d in plan["designs"]:
        if d["triples"] == triples and d["seeds"] == seeds:
            return d["half_width"]
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
    args = parser.parse_args()
    from analysis.render import fmt_estimate

    plan = json.loads(Path(args.plan).read_text())
    now, (n_triples, n_seeds) = realized(args.results)
    pred = predicted(plan, n_triples, n_seeds)
    print(f"# The planner held to its word: {n_triples} triples x {n_seeds} seeds\n")
    print(
        f"Predicted: `{Path(args.plan).name}` (from {plan['results']} when it held seed 0 "
        f"only; its note: {plan.get('upper_bounds') or 'none'}). Realized: the half-width of "
        f"the {plan['confidence']:.0%} interval on `{args.results}` now. Ratio: realized / "
        "predicted; above 1 the data exceed the prediction.\n"
    )
    print("| quantity | arch | kind | predicted | realized | ratio | interval now |")
    print("|---|---|---|---|---|---|---|")
    for name, archs in now.items():
        for arch, kinds in archs.items():
            for kind in KINDS:
                h, e = kinds[kind]
                p = pred.get(name, {}).get(arch, {}).get(kind)
                ratio = f"{h / p:.2f}" if p else "-"
                shown = f"{p:.3f}" if p is not None else "- (none predicted)"
                cells = [name, arch, kind, shown, f"{h:.3f}", ratio, fmt_estimate(e)]
                print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
