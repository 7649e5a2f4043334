"""Which verdicts hold on which seeds: the claims table on seed 0 alone, seed 1 alone and
both seeds, row by row (`python -m analysis.summarize --seeds ...`, 95% intervals for a new
class, Holm over each table's own rows).

    cd docs/study-1epoch && python verdicts_by_seed.py [--results ROOT] > verdicts_by_seed.md
"""

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

SUBSETS = (("seed 0", "0"), ("seed 1", "1"), ("both", "0,1"))


def claims(results: str, seeds: str) -> dict:
    """{(claim, test): (estimate, verdict, Holm)} of the claims table on `seeds`."""
    from analysis.summarize import parse, summarize

    opts = parse(["--results", results, "--seeds", seeds, "--tables", "claims"])
    (table,), _ = summarize(opts)
    at = {c: i for i, c in enumerate(table.columns)}
    return {
        (r[at["claim"]], r[at["test"]]): (r[at["estimate"]], r[at["verdict"]], r[at["Holm"]])
        for r in table.rows
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args()
    from analysis.render import fmt_estimate

    found = {name: claims(args.results, seeds) for name, seeds in SUBSETS}
    rows = list(dict.fromkeys(k for f in found.values() for k in f))
    print("# Verdicts by seed\n")
    print(
        "Each cell: the paired difference with its 95% interval for a new class, the "
        "verdict per claim, and Holm's verdict over that subset's claim rows "
        "(family-wise 5%). `-`: the subset has no such row (claim 7 needs 8-bit fakes, "
        "which only seed 1's trials scored).\n"
    )
    print("| claim | test | " + " | ".join(name for name, _ in SUBSETS) + " |")
    print("|---|---|" + "---|" * len(SUBSETS))
    same = {name: 0 for name, _ in SUBSETS[1:]}
    for key in rows:
        cells = []
        for name, _ in SUBSETS:
            if key not in found[name]:
                cells.append("-")
                continue
            e, verdict, holm = found[name][key]
            cells.append(f"{fmt_estimate(e, sep=', ')}: {verdict} / Holm {holm}")
            if name != "seed 0" and key in found["seed 0"]:
                same[name] += found["seed 0"][key][1:] == (verdict, holm)
        print(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
    shared = sum(k in found["seed 0"] for k in rows)
    print(
        "\nRows whose verdict and Holm verdict equal seed 0's: "
        + ", ".join(f"{name} {n} of {shared}" for name, n in same.items())
        + "."
    )


if __name__ == "__main__":
    main()
