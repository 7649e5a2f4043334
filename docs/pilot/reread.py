"""Re-read the committed pilot exports with the current interval rules (from summary.json).

The pilot's results root is not kept, so its exports (written with the intervals of
commit c233691) are re-read: each old interval for a new class gives its standard error
(half-width / t with 9 df), from which the current bounded interval, p-value and Holm
verdict follow. P(X>Y) intervals the old code clipped give only a lower bound on the width.

    python docs/pilot/reread.py > docs/pilot/summary-reread.md
"""

import json
import sys
from pathlib import Path

import numpy as np
from scipy import stats as sps

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
from analysis.bounded import SIGNED, UNIT, combined, effective_sizes, interval, p_value
from analysis.render import fmt_estimate
from analysis.stats import Estimate, Spread
from analysis.verdicts import greater_than, holm, tost

D = json.loads((HERE / "summary.json").read_text())
T = {t["name"]: t for t in D}
DF = 9  # 10 classes
UNITS = 8  # min(classes 10, cells 8)


def rebuild(c, level, bounds, binary=False):
    v, lo, hi = c["value"], c["low"], c["high"]
    q = sps.t.ppf((1 + level) / 2, DF)
    clipped = binary and (lo <= 0 or hi >= 1) and lo != hi
    if clipped:  # P(X>Y) clipped at [0, 1]: the SE was at least this
        se = (
            max(
                v - lo if lo > 0 else 0,
                hi - v if hi < 1 else 0,
                (1 - v) if hi >= 1 else 0,
                v if lo <= 0 else 0,
            )
            / q
        )
    else:
        se = (hi - lo) / 2 / q
    size, cap = effective_sizes(
        np.array([v]),
        np.array([se]),
        np.array([bounds[0]]),
        np.array([bounds[1]]),
        np.array([10 / 3 if binary else UNITS]),  # P(X>Y): each cell holds 3 classes
        binary,
    )
    s = Spread(se, DF, bounds, float(size[0]), float(cap[0]))
    low, high = interval(v, s, 0.95)
    return Estimate(v, low, high, c["n"], s), clipped


def fmt(e, approx=False):
    return fmt_estimate(e, 2, ", ") + (" (at least)" if approx else "")


def gap(seen, unseen, gap_cell):
    """The gap's interval widened to the floors of its parts (seen and unseen rates)."""
    parts = [rebuild(c, 0.95, b)[0] for c, b in ((seen, UNIT), (unseen, UNIT), (gap_cell, SIGNED))]
    return combined(*parts, 0.95)


def old(c):
    return f"{c['value']:.2f} [{c['low']:.2f}, {c['high']:.2f}]"


print("## headline (95%, a new class)\n")
print("| quantity | arch | before | after |\n|---|---|---|---|")
for row in T["headline"]["rows"]:
    for arch, c in zip(T["headline"]["columns"][1:], row[1:], strict=False):
        if c is None:
            continue
        bounds = SIGNED if "gap" in row[0] else UNIT
        e, _ = rebuild(c, 0.95, bounds)
        print(f"| {row[0]} | {arch} | {old(c)} | {fmt(e)} |")

print("\n## claims\n")
rows, ps = [], []
for r in T["claims"]["rows"]:
    claim, test, c, poi, verdict = r
    level = 0.90 if (" in ±" in test or "> -" in test) else 0.95
    e, _ = rebuild(c, level, SIGNED)
    if " in ±" in test:
        m = float(test.split("±")[1])
        v = tost(e, m)
        sup = max(p_value(e, -m, "above"), p_value(e, m, "below"))
        ref = min(p_value(e, m, "above"), p_value(e, -m, "below"))
    else:
        b = -float(test.split("> -")[1]) if "> -" in test else 0.0
        v = greater_than(e, b)
        sup, ref = p_value(e, b, "above"), p_value(e, b, "below")
    verdict_new = {
        "greater": "supported",
        "equivalent": "supported",
        "not greater": "not supported",
        "not equivalent": "not supported",
    }.get(v, "inconclusive")
    p_row = min(1.0, 2 * min(sup, ref))
    pe = None
    if poi is not None:
        pe, approx = rebuild(poi, 0.95, UNIT, binary=True)
    rows.append((claim, test, c, e, poi, pe, verdict, verdict_new, p_row, approx if poi else False))
    ps.append(p_row)
kept = holm(ps, 0.05)
print(
    "| claim | test | before (level) | after, 95% | P(X>Y) before | after | verdict before | after | Holm | p |\n|---|---|---|---|---|---|---|---|---|---|"
)
for (claim, test, c, e, poi, pe, vb, va, p, approx), k in zip(rows, kept, strict=False):
    lvl = "90%" if (" in ±" in test or "> -" in test) else "95%"
    print(
        f"| {claim} | {test} | {old(c)} ({lvl}) | {fmt(e)} | {old(poi) if poi else ''} | {fmt(pe, approx) if pe else ''} | {vb} | {va} | {va if k else 'inconclusive'} | {p:.3g} |"
    )

print("\n## training gaps (seen - unseen), a new class\n")
for r in T["training"]["rows"]:
    c = r[6]
    e = gap(r[4], r[5], c)
    print(
        r[0],
        r[1],
        r[2],
        "gap",
        old(c),
        "->",
        fmt(e),
        "| fakes",
        old(r[3]) if r[3] else "",
        "->",
        fmt(rebuild(r[3], 0.95, UNIT)[0]) if r[3] else "",
        "| seen",
        old(r[4]),
        "->",
        fmt(rebuild(r[4], 0.95, UNIT)[0]),
        "| unseen",
        old(r[5]),
        "->",
        fmt(rebuild(r[5], 0.95, UNIT)[0]),
    )

print("\n## detector table\n")
for r in T["detector"]["rows"]:
    outs = []
    for c, b in zip(r[3:5], (UNIT, UNIT), strict=False):
        outs.append(fmt(rebuild(c, 0.95, b)[0]))
    outs.append(fmt(gap(r[3], r[4], r[5])))
    print(r[0], r[1], r[2], " | ".join(outs))

print("\n## gap table")
for r in T["gap"]["rows"]:
    print(r[0], r[1], "gap(new)", old(r[4]), "->", fmt(gap(r[2], r[3], r[4])))

print("\n## band coverage: 8 trials -> [min, max] holds a new run with chance 7/9 = 77.8%")
