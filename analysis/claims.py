"""The 2022 report beside the sweep, and its claims (and the dedicated detector's) tested.

The report is one run of each network on one unstated triple, so it is compared with
single trials, not with a mean: its value's percentile among the sweep's trials of that
architecture and the central 95% of those trials (a prediction interval). A typical run
falls inside it 95% of the time, however many trials the sweep holds.

Claims are differences paired on (seed, triple) with intervals for a new class (each
verdict is about classes the detector never saw). "Greater" claims need the 95% interval
above the bound; equivalence ("about as often") is two one-sided tests at level 0.05 each
(TOST: the 90% interval inside the margins); non-inferiority ("transfers": at most a
margin worse) needs the 90% interval's lower bound above minus the margin.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis import detector
from analysis.design import Grid
from analysis.inference import CAPTIONS, NEW_CLASS, greater_than, percentile_of, tost
from analysis.render import PLUS_MINUS, Percent, TableData
from analysis.stats import Estimate
from analysis.tables import AUROC_OWN, OWN_FAKES, REAL_RECALL, metric, prediction_band
from fakedet.schema import SUITES
from fakedet.study import NETWORKS, PUBLISHED

SEEN_UNSEEN_MARGIN = 0.05  # claim 3: "about as often" = within 5 points
TRANSFER_MARGIN = 0.10  # claim 4: other generators' fakes at most 10 points less often
CLAIMS = {
    1: "network 2 beats network 1",
    2: "fakes are easier to recognise than reals",
    3: "unseen-class reals pass about as often as seen-class reals",
    4: "detection transfers across generators",
    5: "a detector trained on other generators catches an unseen generator's fakes better "
    "than a GAN's own discriminator does",
    6: "the dedicated detector passes unseen-class reals more often than a GAN's discriminator",
}
"""The report's conclusions (1-4, SEED_STUDY.md) and its proposed next step's (5, 6)."""
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


def report(grid: Grid) -> TableData:
    """Every number of the report beside the sweep's single trials of that architecture."""
    t = TableData(
        "report",
        "The report (one run) beside single trials of the sweep",
        ["quantity", "net", "report", "median", "95% of trials", "pct", "typical"],
        keys=2,
    )
    for label, suite, name, generator, values in PUBLISHED:
        for net, (arch, other) in enumerate((NETWORKS, NETWORKS[::-1])):
            x = grid.get(arch, suite, name, other if generator == "other" else None)
            band = prediction_band(x)
            typical = "-" if band.n == 0 else ("yes" if band.contains(values[net]) else "no")
            pct = Percent(percentile_of(values[net], x))
            t.rows.append([label, net + 1, values[net], band.value, band, pct, typical])
    t.caption = (
        f"net 1 = {NETWORKS[0]}, net 2 = {NETWORKS[1]} (cross fakes: the other one's); "
        "95% of trials: the central 95% of single-trial values of that architecture; pct: "
        "the report's percentile among them; typical: the report's one run lies inside, "
        "as one run does 95% of the time"
    )
    return t


class _Claims:
    """Rows of the claims table: claim, statistic, estimate, P(X > Y), verdict."""

    def __init__(self, grid: Grid, margins: Margins):
        self.grid, self.margins, self.rows = grid, margins, []
        self.level = grid.confidence
        self.level_90 = 2 * grid.confidence - 1  # one-sided tests at (1 - confidence) each

    def _diff(self, x, y, level) -> Estimate:
        return self.grid.design.difference(x, y, kind=NEW_CLASS, confidence=level)

    def greater(self, claim, statistic, x, y, improvement=False):
        d = self._diff(x, y, self.level)
        poi = (
            self.grid.design.probability_of_improvement(x, y, kind=NEW_CLASS)
            if improvement
            else None
        )
        self.rows.append([str(claim), statistic + " > 0", d, poi, VERDICT[greater_than(d)]])

    def equivalent(self, claim, statistic, x, y, margin):
        d = self._diff(x, y, self.level_90)
        self.rows.append(
            [str(claim), f"{statistic} in ±{margin:g}", d, None, VERDICT[tost(d, margin)]]
        )

    def not_worse(self, claim, statistic, x, y, margin):
        d = self._diff(x, y, self.level_90)
        self.rows.append(
            [str(claim), f"{statistic} > -{margin:g}", d, None, VERDICT[greater_than(d, -margin)]]
        )


def claims(grid: Grid, margins: Margins = Margins()) -> TableData:  # noqa: B008 (frozen)
    """The report's claims 1-4 and the dedicated detector's (5, 6), each with a verdict."""
    c, g = _Claims(grid, margins), grid.get
    one, two = NETWORKS
    if one in grid.gans and two in grid.gans:
        for suite, label in (
            ("own_fake", "own fakes flagged"),
            ("real_heldout", "unseen reals passed"),
            ("real_test", "seen reals passed"),
            ("overall", "overall accuracy"),
        ):
            m = SUITES[suite].headline
            c.greater(1, f"{label}: {two} - {one}", g(two, suite, m), g(one, suite, m), True)
        c.greater(
            1,
            f"other's fakes flagged: {two} - {one}",
            g(two, "cross_fake", "generated_recall", one),
            g(one, "cross_fake", "generated_recall", two),
            True,
        )
    for arch in grid.gans:
        c.greater(
            2,
            f"{arch}: fakes flagged - reals passed",
            OWN_FAKES(grid, arch),
            g(arch, "overall", "real_recall"),
        )
    m = margins.seen_unseen
    for arch in grid.gans:
        c.equivalent(
            3,
            f"{arch}: recall unseen - seen",
            REAL_RECALL.unseen(grid, arch),
            REAL_RECALL.seen(grid, arch),
            m,
        )
        c.equivalent(
            3,
            f"{arch}: AUROC unseen - seen",
            AUROC_OWN.unseen(grid, arch),
            AUROC_OWN.seen(grid, arch),
            m,
        )
        op = "operating_point"
        c.equivalent(
            3,
            f"{arch}: false flags @5% unseen - seen",
            g(arch, op, "op_heldout_false_flag"),
            g(arch, op, "op_test_false_flag"),
            m,
        )
    for arch in grid.gans:
        for gen in grid.generators(arch):
            c.not_worse(
                4,
                f"{arch} on {gen} fakes: flagged - own",
                g(arch, "cross_fake", "generated_recall", gen),
                OWN_FAKES(grid, arch),
                margins.transfer,
            )
            c.not_worse(
                4,
                f"{arch} on {gen} fakes: AUROC - own",
                metric("cross_fake", "auroc_test", gen)(grid, arch),
                AUROC_OWN.seen(grid, arch),
                margins.transfer,
            )
    for d, left_out, gan in detector.pairs(grid):
        for label, values in detector.ON_UNSEEN_GENERATOR:
            c.greater(
                5,
                f"{left_out} fakes, {label}: detector - {gan}",
                values(grid, d, left_out),
                values(grid, gan, left_out),
                True,
            )
    for d, left_out, gan in detector.pairs(grid):
        c.greater(
            6,
            f"unseen reals passed: detector (no {left_out}) - {gan}",
            REAL_RECALL.unseen(grid, d),
            REAL_RECALL.unseen(grid, gan),
            True,
        )
    t = TableData(
        "claims",
        "Claims tested at scale",
        ["claim", "test", "estimate", "P(X>Y)", "verdict"],
        c.rows,
        interval=NEW_CLASS,
        keys=2,
    )
    alpha = round(1 - grid.confidence, 6)
    t.caption = "\n".join(
        [
            "claims: " + "; ".join(f"{k}. {v}" for k, v in CLAIMS.items()),
            "paired difference and its CI (" + PLUS_MINUS + "); " + CAPTIONS[NEW_CLASS],
            f"'> 0': {grid.confidence:.0%} CI above 0. 'in ±m' (equivalence, margin "
            f"--margin-seen-unseen {margins.seen_unseen:g}): TOST, two one-sided tests at "
            f"{alpha:g}, i.e. the {c.level_90:.0%} CI inside ±m. '> -m' (non-inferiority, "
            f"--margin-transfer {margins.transfer:g}): the {c.level_90:.0%} CI above -m",
            "P(X>Y): share of matched (seed, triple) trials where the first wins (ties "
            "half), same kind of CI. Verdicts: supported / not supported (the CI wholly on "
            "the other side) / inconclusive",
        ]
    )
    return t
