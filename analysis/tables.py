"""The summary's tables: each a function of a `Grid` returning a `TableData`.

A `TableData` holds numbers (estimates with intervals, counts, text); `rich_table` turns
one into a `rich.table.Table`, and `analysis.export` into markdown, CSV or JSON, so every
format shows the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from rich.table import Table

from analysis.design import Grid
from analysis.stats import Estimate, verdict
from fakedet.data import CLASSES
from fakedet.schema import SUITES
from fakedet.study import NETWORKS, PUBLISHED

HEADLINE = [
    ("fake recall", "generated_recall"),
    ("real recall", "real_recall"),
    ("accuracy", "accuracy"),
    ("AUROC", "auroc"),
]


def applicable(suite: str) -> list[str]:
    """The headline metrics that mean something on `suite` (fakes have no real recall)."""
    return [m for _, m in HEADLINE if SUITES[suite].means_something(m)]


SEEN_UNSEEN_MARGIN = 0.05  # claim 3: "about as often" = within 5 points
TRANSFER_MARGIN = 0.10  # claim 4: cross fakes caught at most 10 points less often


@dataclass
class TableData:
    """A table as numbers: cells are Estimate, int, float, str or None."""

    name: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    caption: str = ""


def fmt(cell, digits: int = 3) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Estimate):
        if np.isnan(cell.value):
            return "-"
        return f"{cell.value:.{digits}f} [{cell.low:.{digits}f}, {cell.high:.{digits}f}]"
    if isinstance(cell, float | np.floating):
        return "-" if np.isnan(cell) else f"{cell:.{digits}f}"
    return str(cell)


def rich_table(data: TableData) -> Table:
    table = Table(title=data.title, caption=data.caption or None, title_justify="left")
    for i, col in enumerate(data.columns):
        table.add_column(col, justify="left" if i == 0 else "right", overflow="fold")
    for row in data.rows:
        table.add_row(*(fmt(c) for c in row))
    return table


def _suites(grid: Grid, arch: str) -> list[tuple[str, str | None]]:
    out = [
        (s, None)
        for s in ("own_fake", "real_heldout", "real_test", "overall")
        if grid.has(arch, s, SUITES[s].headline)
    ]
    return out + [("cross_fake", g) for g in grid.generators(arch)]


def headline(grid: Grid) -> TableData:
    """1. Per architecture and suite: fake recall, real recall, accuracy, AUROC; mean over
    trials with its interval, the IQM of the suite's headline metric, and n."""
    t = TableData(
        "headline",
        "1. Headline: detection per architecture and suite",
        ["arch", "suite", *(h for h, _ in HEADLINE), "IQM (headline)", "n"],
    )
    boot = grid.bootstrap()
    for arch in grid.archs:
        for suite, gen in _suites(grid, arch):
            present = [m for m in applicable(suite) if grid.has(arch, suite, m, gen)]
            est = dict(
                zip(
                    present,
                    boot.means(np.stack([grid.get(arch, suite, m, gen) for m in present])),
                    strict=True,
                )
            )
            primary = grid.get(arch, suite, SUITES[suite].headline, gen)
            label = suite if gen is None else f"cross_fake ({gen} fakes)"
            n = est[SUITES[suite].headline].n if SUITES[suite].headline in est else 0
            t.rows.append([arch, label, *(est.get(m) for _, m in HEADLINE), boot.iqm(primary), n])
    t.caption = (
        "mean [95% CI] over trials; CI: hierarchical bootstrap over triples and "
        "seeds within triples"
    )
    return t


def _triple_range(values: np.ndarray) -> str:
    with np.errstate(all="ignore"):
        per_triple = np.nanmean(values, axis=1) if np.isfinite(values).any() else values[:, 0]
    if not np.isfinite(per_triple).any():
        return "-"
    return f"{np.nanmin(per_triple):.2f}-{np.nanmax(per_triple):.2f}"


def report_side_by_side(grid: Grid) -> TableData:
    """2. Every number of the report beside this sweep's mean, interval and range."""
    t = TableData(
        "report",
        "2. The report (one run) beside this sweep",
        [
            "quantity",
            "network",
            "report",
            "sweep mean [CI]",
            "range over triples",
            "report inside CI",
        ],
    )
    boot = grid.bootstrap()
    for label, suite, metric, generator, values in PUBLISHED:
        for net, (arch, other) in enumerate((NETWORKS, NETWORKS[::-1])):
            gen = other if generator == "other" else None
            x = grid.get(arch, suite, metric, gen)
            est = boot.mean(x)
            inside = "-" if np.isnan(est.value) else ("yes" if est.contains(values[net]) else "no")
            t.rows.append(
                [label, f"{net + 1} ({arch})", values[net], est, _triple_range(x), inside]
            )
    t.caption = "network 1 = hands_on, network 2 = brownlee; cross fakes come from the other one"
    return t


def claims(grid: Grid) -> TableData:
    """3. The report's claims, each as a statistic with its interval and a verdict."""
    t = TableData(
        "claims",
        "3. The report's claims tested at scale",
        ["claim", "statistic", "estimate [CI]", "P(improvement) [CI]", "verdict"],
    )
    boot = grid.bootstrap()

    def add(claim, statistic, x, y, lower=0.0, upper=None, improvement=False):
        d = boot.difference(x, y)
        poi = boot.probability_of_improvement(x, y) if improvement else None
        t.rows.append([claim, statistic, d, poi, verdict(d, lower, upper)])

    one, two = NETWORKS
    if one in grid.archs and two in grid.archs:
        beats = "1. network 2 beats network 1"
        for suite in ("own_fake", "real_heldout", "real_test", "overall"):
            m = SUITES[suite].headline
            add(beats, f"{suite} {m}: {two} - {one}", grid.get(two, suite, m),
                grid.get(one, suite, m), improvement=True)  # fmt: skip
        add(beats, f"other's fakes recall: {two} - {one}",
            grid.get(two, "cross_fake", "generated_recall", one),
            grid.get(one, "cross_fake", "generated_recall", two), improvement=True)  # fmt: skip
    for arch in grid.archs:
        add("2. fakes are easier than reals", f"{arch}: fake recall - real recall",
            grid.get(arch, "own_fake", "generated_recall"),
            grid.get(arch, "overall", "real_recall"))  # fmt: skip
    m = SEEN_UNSEEN_MARGIN
    for arch in grid.archs:
        add("3. unseen-class reals pass about as often as seen-class reals",
            f"{arch}: recall unseen - seen (within ±{m})",
            grid.get(arch, "real_heldout", "real_recall"),
            grid.get(arch, "real_test", "real_recall"), -m, m)  # fmt: skip
    for arch in grid.archs:
        for gen in grid.generators(arch):
            add("4. detection transfers across generators",
                f"{arch} on {gen} fakes: recall - own-fake recall (> -{TRANSFER_MARGIN})",
                grid.get(arch, "cross_fake", "generated_recall", gen),
                grid.get(arch, "own_fake", "generated_recall"), -TRANSFER_MARGIN)  # fmt: skip
    t.caption = (
        "supported: the CI lies on the claim's side (inside the margin for claim 3); "
        "not supported: entirely on the other side; else inconclusive"
    )
    return t


def heldout_class_effect(grid: Grid) -> TableData:
    """4. Per class: its false-flag rate when held out vs. when trained on."""
    t = TableData(
        "class_effect",
        "4. Held-out class effect: false-flag rate of real images",
        ["class", "arch", "held out", "trained on", "difference"],
    )
    held_boot, trained_boot = grid.bootstrap(), grid.bootstrap(stream=1)
    for c, name in enumerate(CLASSES):
        for arch in grid.archs:
            held = grid.get(arch, "real_heldout", "false_flag_rate", class_id=c)
            trained = grid.get(arch, "real_test", "false_flag_rate", class_id=c)
            if np.isnan(held).all() and np.isnan(trained).all():
                continue
            t.rows.append(
                [
                    f"{c} {name}",
                    arch,
                    held_boot.mean(held),
                    trained_boot.mean(trained),
                    held_boot.unpaired_difference(held, trained_boot, trained),
                ]
            )
    t.caption = "share of a class's real images flagged as generated (threshold 0.5)"
    return t


def generalization_gap(grid: Grid) -> TableData:
    """5. Real recall on seen classes minus on unseen classes, paired by trial."""
    t = TableData(
        "gap",
        "5. Generalization gap: real recall, seen minus unseen classes",
        ["arch", "real_test recall", "real_heldout recall", "gap"],
    )
    boot = grid.bootstrap()
    for arch in grid.archs:
        seen = grid.get(arch, "real_test", "real_recall")
        unseen = grid.get(arch, "real_heldout", "real_recall")
        t.rows.append([arch, boot.mean(seen), boot.mean(unseen), boot.difference(seen, unseen)])
    return t


def cross_matrix(grid: Grid) -> TableData:
    """6. Fake recall of each detector on each generator's fakes (diagonal: own fakes)."""
    archs = grid.archs
    t = TableData(
        "cross_matrix", "6. Cross-generator matrix: fake recall", ["detector \\ generator", *archs]
    )
    boot = grid.bootstrap()
    for det in archs:
        row = [det]
        for gen in archs:
            suite = "own_fake" if gen == det else "cross_fake"
            row.append(boot.mean(grid.get(det, suite, "generated_recall", gen)))
        t.rows.append(row)
    return t


def operating_point(grid: Grid) -> TableData:
    """7. At the threshold that flags 5% of seen-class reals."""
    t = TableData(
        "operating_point",
        "7. Operating point: 5% of seen-class reals flagged",
        [
            "arch",
            "threshold",
            "seen-class false flags",
            "own fake recall",
            "unseen-class false flags",
            "other fakes recall",
        ],
    )
    boot = grid.bootstrap()
    for arch in grid.archs:
        cells = boot.means(
            np.stack(
                [
                    grid.get(arch, "operating_point", m)
                    for m in (
                        "op_threshold",
                        "op_test_false_flag",
                        "op_fake_recall",
                        "op_heldout_false_flag",
                    )
                ]
            )
        )
        cross = [
            f"{g}: {fmt(boot.mean(grid.get(arch, 'cross_fake', 'op_fake_recall', g)))}"
            for g in grid.generators(arch)
        ]
        t.rows.append([arch, *cells, "; ".join(cross) or "-"])
    return t


def coverage(grid: Grid, invalid: list[tuple[str, str]], notes: dict) -> TableData:
    """8. What the results hold: trials per arch and seed, missing triples, left-out files."""
    t = TableData("coverage", "8. Coverage", ["arch", "seed", "trials", "missing triples"])
    trials = grid.df.drop_duplicates("trial_key")
    from fakedet.protocol import ALL_TRIPLES, triple_str

    expected = [triple_str(tr) for tr in ALL_TRIPLES]
    for arch in grid.archs:
        for seed in grid.seeds:
            found = set(trials[(trials.arch == arch) & (trials.seed == seed)].heldout)
            missing = [tr for tr in expected if tr not in found]
            shown = ", ".join(missing[:4]) + (" ..." if len(missing) > 4 else "")
            t.rows.append(
                [arch, seed, len(found), f"{len(missing)}" + (f" ({shown})" if missing else "")]
            )
    cross = trials.merge(
        grid.df[grid.df.suite == "cross_fake"][["trial_key"]].drop_duplicates(), on="trial_key"
    )
    lines = [
        f"protocol {notes['protocol']} (found: {', '.join(notes['protocols'])})",
        f"{len(cross)} trials with cross-generator results",
    ]
    if notes["dropped_trials"]:
        lines.append(f"{len(notes['dropped_trials'])} trials of a smaller budget left out")
    for path, reason in invalid:
        lines.append(f"invalid file left out: {path}: {reason}")
    t.caption = "\n".join(lines)
    return t


def all_tables(grid: Grid, invalid: list, notes: dict) -> list[TableData]:
    return [
        headline(grid),
        report_side_by_side(grid),
        claims(grid),
        heldout_class_effect(grid),
        generalization_gap(grid),
        cross_matrix(grid),
        operating_point(grid),
        coverage(grid, invalid, notes),
    ]
