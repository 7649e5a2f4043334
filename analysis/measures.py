"""The analysis's vocabulary: suites, quantities and their contrasts, each defined once.

Each measure is a `Quantity` (one number per trial), a `Difference` (two measures paired
on seed and triple; every difference of the analysis is one) or a `Contrast` (a quantity
on seen-class and on unseen-class reals, and their gap): the kinds, in `analysis.measure`.
Every table, claim, training stage, detector comparison and plot takes its quantities, labels
and lists from here; suite names come from `fakedet.schema.SUITES`. A measure named by a
string (the command line's `--quantity`, the 2022 study's numbers in `fakedet.study`,
which imports no analysis) is named in `QUANTITIES` or `REPORT`.

The range decides the interval: a bounded quantity (rates, recall, AUROC, AP, and their
differences) gets an interval inside its range by construction, an unbounded one (a
logit threshold) a t interval (`analysis.inference`). Which population the interval
speaks of ("these classes" or "a new class") is the table's choice, named in its caption.

    OWN_FAKES(grid, "hands_on")                   # (T, S) values, NaN where missing
    OTHER_FAKES(grid, "hands_on", "brownlee")     # of another generator's fakes
    OTHER_FAKES.named("brownlee").label           # "brownlee fakes flagged"
    REAL_RECALL.gap.bounds                        # (-1.0, 1.0)
    Difference("d", OWN_FAKES, OWN_FAKES)(grid, "brownlee", y_arch="hands_on")  # two archs
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from analysis.inference import UNBOUNDED
from analysis.measure import Contrast, Difference, Measure, Quantity
from fakedet.schema import QUALITY, SUITES, UPLOAD_TRANSFORMS, eight_bit, transformed

TRANSFORM_LABELS = {
    "jpeg90": "JPEG q90",
    "jpeg75": "JPEG q75",
    "half": "half size and back",
    "blur": "mild blur",
}
"""How tables name the upload transforms (`fakedet.uploads` holds the transforms)."""

# --- suites: the names of fakedet.schema.SUITES, checked at import ----------------------
OWN_FAKE, CROSS_FAKE, TRAIN_FAKE, REAL_HELDOUT, REAL_TEST, OVERALL, OPERATING_POINT = (
    SUITES[name].name
    for name in (
        "own_fake",
        "cross_fake",
        "train_fake",
        "real_heldout",
        "real_test",
        "overall",
        "operating_point",
    )
)
FALSE_FLAG_RATE = "false_flag_rate"
"""The metric of the per-class rows of the real suites (`Suite.per_class`)."""


def _ranking(stat: str, suite: str, fakes: str) -> Contrast:
    """AUROC or AP of `fakes` against seen-class reals and against unseen-class reals."""
    name = {"auroc": "AUROC", "ap": "AP"}[stat]
    return Contrast(
        f"{name} {fakes}",
        Quantity(f"{name} {fakes} vs seen", suite, f"{stat}_test"),
        Quantity(f"{name} {fakes} vs unseen", suite, f"{stat}_heldout"),
    )


# --- quantities ---------------------------------------------------------------------------
OWN_FAKES = Quantity("own fakes flagged", OWN_FAKE, SUITES[OWN_FAKE].headline)
OTHER_FAKES = Quantity("{generator} fakes flagged", CROSS_FAKE, SUITES[CROSS_FAKE].headline)
SEEN_PASSED = Quantity("seen-class reals passed", REAL_TEST, SUITES[REAL_TEST].headline)
UNSEEN_PASSED = Quantity("unseen-class reals passed", REAL_HELDOUT, SUITES[REAL_HELDOUT].headline)
REALS_PASSED = Quantity("reals passed", OVERALL, "real_recall")
ACCURACY = Quantity("accuracy (report's table)", OVERALL, SUITES[OVERALL].headline)
HELD_FALSE_FLAGS = Quantity("false flags, held out", REAL_HELDOUT, FALSE_FLAG_RATE)
SEEN_FALSE_FLAGS = Quantity("false flags, seen", REAL_TEST, FALSE_FLAG_RATE)
"""Per-class rows: call with class_id."""

REAL_RECALL = Contrast("real recall", SEEN_PASSED, UNSEEN_PASSED)
AUROC_OWN = _ranking("auroc", OWN_FAKE, "own fakes")
AP_OWN = _ranking("ap", OWN_FAKE, "own fakes")
AUROC_OTHER = _ranking("auroc", CROSS_FAKE, "{generator} fakes")
AP_OTHER = _ranking("ap", CROSS_FAKE, "{generator} fakes")

# at the operating point: the threshold that flags 5% of one half of the seen-class reals
THRESHOLD = Quantity("threshold (logit)", OPERATING_POINT, "op_threshold", UNBOUNDED)
OP_SEEN_FLAGS = Quantity("seen-class false flags @5%", OPERATING_POINT, "op_test_false_flag")
OP_UNSEEN_FLAGS = Quantity("unseen-class false flags @5%", OPERATING_POINT, "op_heldout_false_flag")
OP_OWN_FAKES = Quantity("own fakes flagged @5%", OPERATING_POINT, SUITES[OPERATING_POINT].headline)
OP_OTHER_FAKES = Quantity("{generator} fakes flagged @5%", CROSS_FAKE, "op_fake_recall")
OP_RECALL = Contrast(
    "real recall @5%",
    replace(OP_SEEN_FLAGS, label="seen-class reals passed @5%", complement=True),
    replace(OP_UNSEEN_FLAGS, label="unseen-class reals passed @5%", complement=True),
)

# --- images as a marketplace receives them (fakedet.uploads) -------------------------------
OWN_FAKE_8BIT, CROSS_FAKE_8BIT, TRAIN_FAKE_8BIT = (
    SUITES[eight_bit(s)].name for s in (OWN_FAKE, CROSS_FAKE, TRAIN_FAKE)
)
OWN_FAKES_8BIT = Quantity("own 8-bit fakes flagged", OWN_FAKE_8BIT, "generated_recall")
OTHER_FAKES_8BIT = Quantity("{generator} 8-bit fakes flagged", CROSS_FAKE_8BIT, "generated_recall")
AUROC_OWN_8BIT = _ranking("auroc", OWN_FAKE_8BIT, "own 8-bit fakes")
AUROC_OTHER_8BIT = _ranking("auroc", CROSS_FAKE_8BIT, "{generator} 8-bit fakes")
EIGHT_BIT_HEADLINE: list[Measure] = [OWN_FAKES_8BIT, AUROC_OWN_8BIT.seen, AUROC_OWN_8BIT.unseen]
"""The headline's 8-bit rows, beside the float ones (shown where the results hold them)."""
EIGHT_BIT_EFFECT: list[Difference] = [
    Difference("own fakes flagged, 8-bit - float", OWN_FAKES_8BIT, OWN_FAKES),
    Difference("AUROC own fakes vs seen, 8-bit - float", AUROC_OWN_8BIT.seen, AUROC_OWN.seen),
    Difference("AUROC own fakes vs unseen, 8-bit - float", AUROC_OWN_8BIT.unseen, AUROC_OWN.unseen),
]
"""Claim 7: detection survives 8-bit encoding (each within the margin of zero)."""


@dataclass(frozen=True)
class Upload:
    """A trial's detector on fakes and reals after one upload transform (final checkpoint)."""

    transform: str
    label: str

    def _q(self, label: str, base: str, metric: str) -> Quantity:
        return Quantity(f"{label}, {self.label}", transformed(base, self.transform), metric)

    @property
    def fakes(self) -> Quantity:
        return self._q("own fakes flagged", OWN_FAKE, "generated_recall")

    @property
    def seen(self) -> Quantity:
        return self._q("seen-class reals passed", REAL_TEST, "real_recall")

    @property
    def unseen(self) -> Quantity:
        return self._q("unseen-class reals passed", REAL_HELDOUT, "real_recall")

    @property
    def auroc(self) -> Contrast:
        name = f"AUROC own fakes, {self.label}"
        return Contrast(
            name,
            self._q("AUROC own fakes vs seen", OWN_FAKE, "auroc_test"),
            self._q("AUROC own fakes vs unseen", OWN_FAKE, "auroc_heldout"),
        )

    def drops(self) -> list[Difference]:
        """The transform's effect against the untransformed 8-bit images: AUROC (seen and
        unseen reals) and fakes flagged, transformed - untransformed."""
        return [
            Difference(f"{self.auroc.seen.label} - 8-bit", self.auroc.seen, AUROC_OWN_8BIT.seen),
            Difference(
                f"{self.auroc.unseen.label} - 8-bit", self.auroc.unseen, AUROC_OWN_8BIT.unseen
            ),
            Difference(f"{self.fakes.label} - 8-bit", self.fakes, OWN_FAKES_8BIT),
        ]


UPLOADS = [Upload(t, TRANSFORM_LABELS[t]) for t in UPLOAD_TRANSFORMS]
"""The upload transforms' measures, in `fakedet.schema.UPLOAD_TRANSFORMS` order."""

# --- the fakes' quality (fakedet.quality; suite fake_quality) ------------------------------
FID = Quantity("Frechet distance to seen-class reals", QUALITY, "fid", UNBOUNDED)
FID_FLOOR = Quantity("Frechet distance, real vs real (floor)", QUALITY, "fid_floor", UNBOUNDED)
FAKE_PRECISION = Quantity("precision (fakes on the real manifold)", QUALITY, "precision")
FAKE_RECALL = Quantity("recall (reals on the fake manifold)", QUALITY, "recall")
HELDOUT_LOOK = Quantity("fakes that look like a held-out class", QUALITY, "heldout_share")
SEEN_COVERED = Quantity("seen classes covered (of 7)", QUALITY, "seen_covered", (0.0, 7.0))
BACKGROUND = [
    Quantity(f"background pixels, {what}", QUALITY, f"background_{name}")
    for what, name in (("reals", "real"), ("float fakes", "fake"), ("8-bit fakes", "fake_8bit"))
]
QUALITY_MEASURES: list[Quantity] = [
    FID, FID_FLOOR, FAKE_PRECISION, FAKE_RECALL, HELDOUT_LOOK, SEEN_COVERED, *BACKGROUND
]  # fmt: skip
"""The quality table's rows, per checkpoint."""

# --- the lists the tables and plots share -------------------------------------------------
HEADLINE: list[Measure] = [
    OWN_FAKES,
    SEEN_PASSED,
    UNSEEN_PASSED,
    REAL_RECALL.gap,
    AUROC_OWN.seen,
    AUROC_OWN.unseen,
    AUROC_OWN.gap,
]
"""The headline table's rows before the other generators' fakes (and the plot's bars)."""
SINGLE_TRIALS: list[Measure] = [*HEADLINE, ACCURACY]
"""The quantities whose single trials the `single_trials` table shows."""
TRAINING: list[tuple[str, Quantity | None, Contrast]] = [
    ("recall", OWN_FAKES, REAL_RECALL),
    ("AUROC", None, AUROC_OWN),
]
"""Along training: per row (measure name, the fakes' quantity, the seen/unseen contrast)."""
TRAINING_8BIT: list[tuple[str, Quantity | None, Contrast]] = [
    ("8-bit: recall, AUROC", OWN_FAKES_8BIT, AUROC_OWN_8BIT)
]
"""Along training, the same fakes as 8-bit images (shown where the results hold them)."""
OPERATING: list[Quantity] = [THRESHOLD, OP_SEEN_FLAGS, OP_UNSEEN_FLAGS, OP_OWN_FAKES]
"""The operating point table's rows before the other generators' fakes."""
ON_UNSEEN_GENERATOR: list[Quantity] = [OTHER_FAKES, AUROC_OTHER.seen]
"""What claim 5 compares on the fakes of a generator the detector never saw."""
DEDICATED: list[Quantity] = [*ON_UNSEEN_GENERATOR, AUROC_OTHER.unseen]
"""The dedicated detector table's rows on the unseen generator's fakes (then REAL_RECALL)."""

# --- measures by name: the command line's and the 2022 study's ----------------------------
QUANTITIES: dict[str, Measure] = {
    "own_fakes": OWN_FAKES,
    "seen_recall": SEEN_PASSED,
    "unseen_recall": UNSEEN_PASSED,
    "recall_gap": REAL_RECALL.gap,
    "auroc_seen": AUROC_OWN.seen,
    "auroc_unseen": AUROC_OWN.unseen,
    "auroc_gap": AUROC_OWN.gap,
    "accuracy": ACCURACY,
}
"""SINGLE_TRIALS by the names a command line gives them (`analysis.plan --quantity`,
`analysis.components`)."""
REPORT: dict[str, Quantity] = {
    "generated_precision": Quantity("precision on fakes", OVERALL, "generated_precision"),
    "generated_recall": Quantity("fakes flagged, overall", OVERALL, "generated_recall"),
    "generated_f1": Quantity("F1 on fakes", OVERALL, "generated_f1"),
    "real_precision": Quantity("precision on reals", OVERALL, "real_precision"),
    "reals_passed": REALS_PASSED,
    "real_f1": Quantity("F1 on reals", OVERALL, "real_f1"),
    "accuracy": ACCURACY,
    "macro_precision": Quantity("macro precision", OVERALL, "macro_precision"),
    "macro_recall": Quantity("macro recall", OVERALL, "macro_recall"),
    "macro_f1": Quantity("macro F1", OVERALL, "macro_f1"),
    "unseen_recall": UNSEEN_PASSED,
    "seen_recall": SEEN_PASSED,
    "other_fakes": OTHER_FAKES,
}
"""The quantities of the 2022 report's table, by the names `fakedet.study.PUBLISHED` gives
its numbers (the trial's package imports no analysis, so it names them); a name also in
QUANTITIES names the same measure. `other_fakes`: of the other network's fakes."""


def gap_measures(generators) -> list[Contrast]:
    """The contrasts of one architecture's generalization gap: real recall at 0.5 and at
    the operating point, AUROC and AP of own fakes and of each other generator's fakes."""
    out = [REAL_RECALL, OP_RECALL, AUROC_OWN, AP_OWN, AUROC_OWN_8BIT]
    for g in generators:
        out += [AUROC_OTHER.named(g), AP_OTHER.named(g), AUROC_OTHER_8BIT.named(g)]
    return out
