"""The 2022 report beside the sweep, and its claims (and the dedicated detector's) tested.

The report is one run of each network on one unstated triple, so it is compared with
single trials, not with a mean: its value's percentile among the sweep's trials of that
architecture and an order-statistic band of those trials with its exact chance of
holding one new run (`analysis.inference.single_trial_band`).

Claims are differences paired on (seed, triple) with intervals for a new class (each
verdict is about classes the detector never saw). Every verdict reads the same interval
(`--confidence`, 95% by default), so every claim is one-sided tests at (1 - confidence) /
2 = 2.5%: "greater" needs the interval above the bound; equivalence ("about as often") is
two one-sided tests (TOST: the interval inside the margins); non-inferiority
("transfers": at most a margin worse) needs the interval's lower bound above minus the
margin. Beside each verdict, Holm's step-down over every row of the table keeps the
family-wise error at 1 - confidence (5%): a row's p-value is twice the smaller of its two
one-sided p-values (for "supported" and for "not supported"), and a verdict Holm does not
keep reads "inconclusive".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis import dedicated
from analysis.bounded import p_value
from analysis.grid import MetricGrid
from analysis.inference import NEW_CLASS
from analysis.measures import (
    ACCURACY,
    AUROC_OTHER,
    AUROC_OWN,
    CROSS_FAKE,
    EIGHT_BIT_EFFECT,
    ON_UNSEEN_GENERATOR,
    OP_RECALL,
    OTHER_FAKES,
    OWN_FAKES,
    REAL_RECALL,
    REALS_PASSED,
    REPORT,
    SEEN_PASSED,
    UNSEEN_PASSED,
    Difference,
)
from analysis.render import BOUNDED_CAPTION, CAPTIONS, Percent, TableData, interval_note
from analysis.stats import Estimate
from analysis.tables import BAND_COLUMN, COVERS_COLUMN, band_caption
from analysis.verdicts import greater_than, holm, percentile_of, single_trial_band, tost
from fakedet.study import NETWORKS, PUBLISHED

SEEN_UNSEEN_MARGIN = 0.05  # claim 3: "about as often" = within 5 points
TRANSFER_MARGIN = 0.10  # claim 4: other generators' fakes at most 10 points less often
EIGHT_BIT_MARGIN = 0.05  # claim 7: 8-bit fakes within 5 points of float fakes
CLAIMS = {
    1: "network 2 beats network 1",
    2: "fakes are easier to recognise than reals",
    3: "unseen-class reals pass about as often as seen-class reals",
    4: "detection transfers across generators",
    5: "a detector trained on other generators catches an unseen generator's fakes better "
    "than a GAN's own discriminator does",
    6: "the dedicated detector passes unseen-class reals more often than a GAN's discriminator",
    7: "detection survives 8-bit encoding: fakes as image files are flagged about as often, "
    "and ranked about as well, as float fakes",
}
"""The report's conclusions (1-4, SEED_STUDY.md), its proposed next step's (5, 6), and the
marketplace's view of the fakes (7: where the results hold 8-bit figures)."""
VERDICT = {
    "greater": "supported",
    "not greater": "not supported",
    "equivalent": "supported",
    "not equivalent": "not supported",
    "inconclusive": "inconclusive",
}


@dataclass(frozen=True)
class Margins:
    """The claims' margins (`--margin-seen-unseen`, `--margin-transfer`)."""

    seen_unseen: float = SEEN_UNSEEN_MARGIN
    transfer: float = TRANSFER_MARGIN
    eight_bit: float = EIGHT_BIT_MARGIN


def report(grid: MetricGrid) -> TableData:
    """Every number of the report beside the sweep's single trials of that architecture."""
    t = TableData(
        "report",
        "The report (one run) beside single trials of the sweep",
        ["quantity", "net", "report", "median", BAND_COLUMN, COVERS_COLUMN, "pct", "typical"],
        keys=2,
    )
    for row in PUBLISHED:
        q = REPORT[row.measure]
        for net, (arch, other) in enumerate((NETWORKS, NETWORKS[::-1])):
            x = q(grid, arch, other if q.suite == CROSS_FAKE else None)
            value = row.values[net]
            band = single_trial_band(x, grid.confidence)
            typical = "-" if band.n == 0 else ("yes" if band.contains(value) else "no")
            pct = Percent(percentile_of(value, x))
            covers = Percent(100 * band.coverage)
            t.rows.append([row.label, net + 1, value, band.value, band, covers, pct, typical])
    t.caption = "\n".join(
        [
            f"net 1 = {NETWORKS[0]}, net 2 = {NETWORKS[1]} (cross fakes: the other one's); "
            "single trials of that architecture; pct: the report's mid-rank percentile among "
            "them; typical: the report's one run lies inside the band (as one new run does "
            f"with the chance in '{COVERS_COLUMN}')",
            band_caption(grid.confidence),
        ]
    )
    return t


class Verdicts:
    """Rows of a table of verdicts (the claims, the robustness table): claim, test,
    estimate, P(X > Y), verdict; and for each row its p-value for Holm. `greater` and
    `equivalent` add a row and return it: the row of a `Difference` of `arch` (its y of
    `y_arch`, default `arch`)."""

    def __init__(self, grid: MetricGrid):
        self.grid, self.rows, self.p = grid, [], []
        self.level = grid.confidence

    def _diff(
        self, d: Difference, arch: str, y_arch: str | None
    ) -> tuple[np.ndarray, np.ndarray, Estimate]:
        """(x, y, the estimate of x - y with its interval for a new class)."""
        x, y = d.sides(self.grid, arch, y_arch=y_arch)
        est = self.grid.intervals.difference(
            x, y, kind=NEW_CLASS, confidence=self.level, bounds=d.bounds
        )
        return x, y, est

    def _add(self, claim, test, d, poi, verdict, support, refute):
        """`support`/`refute`: one-sided p-values of "supported" and "not supported"."""
        row = [str(claim), test, d, poi, VERDICT[verdict]]
        self.rows.append(row)
        self.p.append(min(1.0, 2 * min(support, refute)))
        return row

    def greater(self, claim, test, d: Difference, arch, y_arch=None, improvement=False, bound=0.0):
        """Whether `d` > `bound` ("> -m": non-inferiority); `improvement`: with P(X > Y)."""
        x, y, est = self._diff(d, arch, y_arch)
        poi = (
            self.grid.intervals.probability_of_improvement(x, y, kind=NEW_CLASS)
            if improvement
            else None
        )
        sign = f"> -{-bound:g}" if bound < 0 else "> 0"
        support = p_value(est, bound, "above", self.level)
        refute = p_value(est, bound, "below", self.level)
        verdict = greater_than(est, bound)
        return self._add(claim, f"{test} {sign}", est, poi, verdict, support, refute)

    def equivalent(self, claim, test, d: Difference, arch, margin):
        """Whether `d` lies within ±`margin` (TOST)."""
        _, _, est = self._diff(d, arch, None)
        inside = max(
            p_value(est, -margin, "above", self.level), p_value(est, margin, "below", self.level)
        )
        outside = min(
            p_value(est, margin, "above", self.level), p_value(est, -margin, "below", self.level)
        )
        verdict = tost(est, margin)
        return self._add(claim, f"{test} in ±{margin:g}", est, None, verdict, inside, outside)


def claims(grid: MetricGrid, margins: Margins = Margins()) -> TableData:  # noqa: B008 (frozen)
    """The report's claims 1-4 and the dedicated detector's (5, 6), each with a verdict
    and Holm's family-wise verdict."""
    c = Verdicts(grid)
    one, two = NETWORKS
    if one in grid.gans and two in grid.gans:
        for q in (OWN_FAKES, UNSEEN_PASSED, SEEN_PASSED, ACCURACY):
            d = Difference(f"{q.label}: {two} - {one}", q, q)
            c.greater(1, d.label, d, two, one, improvement=True)
        d = Difference(
            f"other's fakes flagged: {two} - {one}", OTHER_FAKES.named(one), OTHER_FAKES.named(two)
        )
        c.greater(1, d.label, d, two, one, improvement=True)
    for arch in grid.gans:
        d = Difference(f"{OWN_FAKES.label} - {REALS_PASSED.label}", OWN_FAKES, REALS_PASSED)
        c.greater(2, f"{arch}: {d.label}", d, arch)
    for arch in grid.gans:
        for m in (REAL_RECALL, AUROC_OWN, OP_RECALL):
            d = Difference(f"{m.label} unseen - seen", m.unseen, m.seen)
            c.equivalent(3, f"{arch}: {d.label}", d, arch, margins.seen_unseen)
    for arch in grid.gans:
        for gen in grid.generators(arch):
            for other, own in (
                (OTHER_FAKES.named(gen), OWN_FAKES),
                (AUROC_OTHER.named(gen).seen, AUROC_OWN.seen),
            ):
                d = Difference(f"{other.label} - {own.label}", other, own)
                c.greater(4, f"{arch}: {d.label}", d, arch, bound=-margins.transfer)
    for det, left_out, gan in dedicated.pairs(grid):
        for q in ON_UNSEEN_GENERATOR:
            q = q.named(left_out)
            d = Difference(f"{q.label}: detector - {gan}", q, q)
            c.greater(5, d.label, d, det, gan, improvement=True)
    for det, left_out, gan in dedicated.pairs(grid):
        q = UNSEEN_PASSED
        d = Difference(f"{q.label}: detector (no {left_out}) - {gan}", q, q)
        c.greater(6, d.label, d, det, gan, improvement=True)
    for arch in grid.gans:
        for d in EIGHT_BIT_EFFECT:
            if np.isnan(d.x(grid, arch)).all():  # results written before 8-bit fakes were scored
                continue
            c.equivalent(7, f"{arch}: {d.label}", d, arch, margins.eight_bit)
    alpha = round(1 - grid.confidence, 6)
    kept = holm(c.p, alpha)
    rows = [[*r, r[4] if k else "inconclusive"] for r, k in zip(c.rows, kept, strict=True)]
    t = TableData(
        "claims",
        "Claims tested at scale",
        ["claim", "test", "estimate", "P(X>Y)", "verdict", "Holm"],
        rows,
        interval=NEW_CLASS,
        keys=2,
    )
    one_sided = round(alpha / 2, 6)
    t.caption = "\n".join(
        [
            "claims: " + "; ".join(f"{k}. {v}" for k, v in CLAIMS.items()),
            interval_note(grid.confidence) + "; estimate: the paired difference of means",
            CAPTIONS[NEW_CLASS],
            BOUNDED_CAPTION,
            f"every test is one-sided at {one_sided:g}, read off the {grid.confidence:.0%} CI: "
            "'> 0' the CI above 0; 'in ±m' (equivalence, TOST, margin --margin-seen-unseen "
            f"{margins.seen_unseen:g}; claim 7: {margins.eight_bit:g}) the CI inside ±m; "
            "'> -m' (non-inferiority, "
            f"--margin-transfer {margins.transfer:g}) the CI above -m",
            "verdicts: supported / not supported (the CI wholly on the other side) / "
            f"inconclusive. Holm: the verdicts Holm's step-down keeps over all {len(rows)} "
            f"rows at family-wise {alpha:g} (row p = twice its smaller one-sided p); the "
            "others read inconclusive",
            "P(X>Y): share of matched (seed, triple) trials where the first wins (ties "
            "half), same kind of CI, its effective size at most the number of classes",
        ]
    )
    return t
