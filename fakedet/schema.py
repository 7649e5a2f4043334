"""The vocabulary and schemas of results: one definition, imported by every writer and reader.

Suites (`SUITES`) say what each evaluation measures and which metric is its headline.
Metric rows are tidy: one row per trial x suite x (generator) x (class) x metric x
(checkpoint). Layout under a results root (hive-partitioned on `arch` and `protocol`):

    metrics/arch=<arch>/protocol=<protocol>/<trial_key>.parquet          a trial's suites
    metrics/arch=<arch>/protocol=<protocol>/<trial_key>.x-<garch>.parquet cross_fake rows
    scores/arch=<arch>/protocol=<protocol>/<trial_key>.parquet           per-image scores
    trials/<trial_key>/{generator.pt,discriminator.pt,samples.png,trial.json,history.json}
    _tune/                                                               Ray Tune state

The partition columns live in the directory names, not in the files. Columns added since
the first release are nullable, and a null means what those files meant: metric version
1, the final checkpoint, no left-out generator, no logit.

This module imports only pyarrow: the analysis reads results without torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

PARTITION_COLUMNS = ("arch", "protocol")
METRIC_VERSION = 2
"""1: the first release (AUROC of own fakes against all reals pooled, the operating point's
seen-class false flags on its own calibration images). 2: AUROC/AP against held-out and
seen-class reals separately, from logits; the operating point calibrated on one half of
real_test and measured on the other."""

CLASSIFICATION_METRICS = (
    *(
        f"{label}_{stat}"
        for label in ("generated", "real", "macro", "weighted")
        for stat in ("precision", "recall", "f1")
    ),  # fmt: skip
    "accuracy",
    "tn",
    "fp",
    "fn",
    "tp",
)
RANKING_METRICS = ("auroc_heldout", "ap_heldout", "auroc_test", "ap_test")
OPERATING_METRICS = (
    "op_threshold",
    "op_fake_recall",
    "op_test_false_flag",
    "op_heldout_false_flag",
)


@dataclass(frozen=True)
class Suite:
    """One evaluation suite: what it measures and how it is summarised."""

    name: str
    headline: str
    """The metric that answers the suite's question (its "recall")."""
    meaning: str
    """What the headline metric counts, in words."""
    metrics: tuple[str, ...]
    """Every trial-level metric the suite's rows hold (per-class rows aside)."""
    images: str = "both"
    """'fake', 'real' or 'both': which images it holds (a suite of fakes has no real
    recall, though sklearn's report writes one)."""
    per_class: bool = False
    """Whether it also has a `false_flag_rate` row per source class."""


SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        Suite(
            "own_fake",
            "generated_recall",
            "fakes of its own generator flagged",
            (*CLASSIFICATION_METRICS, *RANKING_METRICS),
            images="fake",
        ),
        Suite(
            "cross_fake",
            "generated_recall",
            "fakes of another generator flagged",
            (*CLASSIFICATION_METRICS, *RANKING_METRICS, "op_fake_recall"),
            images="fake",
        ),
        Suite(
            "train_fake",
            "generated_recall",
            "fakes of the generators it was trained against flagged (dedicated detector)",
            (*CLASSIFICATION_METRICS, *RANKING_METRICS),
            images="fake",
        ),
        Suite(
            "real_heldout",
            "real_recall",
            "real images of held-out classes passed",
            CLASSIFICATION_METRICS,
            images="real",
            per_class=True,
        ),
        Suite(
            "real_test",
            "real_recall",
            "unseen real images of training classes passed",
            CLASSIFICATION_METRICS,
            images="real",
            per_class=True,
        ),
        Suite(
            "overall",
            "accuracy",
            "own fakes, held-out and seen-class reals together (the report's table)",
            (*CLASSIFICATION_METRICS, "auroc", "average_precision"),
        ),
        Suite(
            "operating_point",
            "op_fake_recall",
            "own fakes flagged at the threshold that flags 5% of seen-class reals",
            OPERATING_METRICS,
        ),
    )
}

# --- images as a marketplace receives them (fakedet.uploads) --------------------------------
EIGHT_BIT = "_8bit"
"""Suffix of a suite of fakes scored after the round trip to 8 bits (own_fake_8bit, ...)."""
UPLOAD_TRANSFORMS = ("jpeg90", "jpeg75", "half", "blur")
"""The upload transforms (`fakedet.uploads.TRANSFORMS`), applied at the final checkpoint."""
QUALITY = "fake_quality"
"""The suite of the fakes' quality figures (`fakedet.quality`); not a detector's scores."""
QUALITY_METRICS = (
    "fid", "fid_floor", "precision", "recall", "heldout_share", "seen_covered",
    "class_share", "background_real", "background_fake", "background_fake_8bit",
    "classifier_accuracy",
)  # fmt: skip


def eight_bit(suite: str) -> str:
    """The name of `suite`'s fakes scored as 8-bit images."""
    return suite + EIGHT_BIT


def transformed(suite: str, transform: str) -> str:
    """The name of `suite`'s images after the upload transform `transform`."""
    return f"{suite}@{transform}"


EIGHT_BIT_SUITES = tuple(eight_bit(s) for s in ("own_fake", "train_fake", "cross_fake"))
_FAKE_METRICS = (*CLASSIFICATION_METRICS, *RANKING_METRICS, "op_fake_recall")
for _suite in EIGHT_BIT_SUITES:
    _base = SUITES[_suite.removesuffix(EIGHT_BIT)]
    SUITES[_suite] = Suite(
        _suite, "generated_recall", f"{_base.meaning}, as 8-bit images", _FAKE_METRICS, "fake"
    )
for _t in UPLOAD_TRANSFORMS:
    for _base in (SUITES["own_fake"], SUITES["real_heldout"], SUITES["real_test"]):
        _name = transformed(_base.name, _t)
        _metrics = _FAKE_METRICS if _base.images == "fake" else CLASSIFICATION_METRICS
        SUITES[_name] = Suite(
            _name, _base.headline, f"{_base.meaning}, after upload transform {_t}", _metrics,
            _base.images,
        )  # fmt: skip
SUITES[QUALITY] = Suite(
    QUALITY, "fid", "how far the fakes are from real seen-class images (Frechet distance)",
    QUALITY_METRICS, "fake",
)  # fmt: skip

METRICS_SCHEMA = pa.schema(
    [
        pa.field("trial_key", pa.string(), nullable=False),
        pa.field("arch", pa.string(), nullable=False),
        pa.field("seed", pa.int32(), nullable=False),
        pa.field("heldout", pa.string(), nullable=False),  # "0-6-9", sorted class ids
        pa.field("protocol", pa.string(), nullable=False),
        pa.field("suite", pa.string(), nullable=False),
        pa.field("generator_arch", pa.string(), nullable=False),  # whose fakes (own: arch)
        pa.field("class_id", pa.int8()),  # source class, per-class rows only
        pa.field("metric", pa.string(), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("support", pa.int64(), nullable=False),
        # provenance
        pa.field("fakedet_version", pa.string()),
        pa.field("git_commit", pa.string()),
        pa.field("torch_version", pa.string()),
        pa.field("device", pa.string()),
        pa.field("precision", pa.string()),
        pa.field("epochs", pa.float64()),  # epochs trained (fractional under --max-steps)
        pa.field("steps", pa.int64()),
        pa.field("wall_seconds", pa.float64()),
        pa.field("recipe", pa.string()),  # the effective recipe as JSON
        # added in metric version 2 (null in older files)
        pa.field("metric_version", pa.int32()),  # null: 1
        pa.field("checkpoint_epoch", pa.float64()),  # epochs trained when evaluated
        pa.field("checkpoint_step", pa.int64()),  # steps trained when evaluated; null: final
        pa.field("left_out", pa.string()),  # dedicated detector: the generator left out
    ]
)

SCORES_SCHEMA = pa.schema(
    [
        pa.field("trial_key", pa.string(), nullable=False),
        pa.field("arch", pa.string(), nullable=False),
        pa.field("protocol", pa.string(), nullable=False),
        pa.field("suite", pa.string(), nullable=False),
        pa.field("generator_arch", pa.string(), nullable=False),
        pa.field("class_id", pa.int8()),  # source class of real images; null for fakes
        pa.field("score", pa.float32(), nullable=False),  # D's probability of "real"
        pa.field("logit", pa.float32()),  # D's logit (null in files of metric version 1)
        pa.field("checkpoint_step", pa.int64()),  # steps trained when scored; null: final
    ]
)


def file_schema(schema: pa.Schema) -> pa.Schema:
    """The schema of the files themselves: without the partition columns."""
    return pa.schema([f for f in schema if f.name not in PARTITION_COLUMNS])


def to_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Rows (dicts with any columns of `schema`; missing ones are null) to a table."""
    return pa.Table.from_pylist(rows, schema=schema)


def final_checkpoint(rows):
    """The metric rows (a pandas DataFrame) of each trial's final checkpoint: those whose
    `checkpoint_step` equals the trial's `steps`, or is null or absent (files of metric
    version 1 hold only the final checkpoint)."""
    if "checkpoint_step" not in rows:
        return rows
    step = rows["checkpoint_step"]
    return rows[step.isna() | (step == rows["steps"])]


def metric_table(rows: list[dict], base: dict) -> pa.Table:
    """Metric rows (suite, class_id, metric, value, support, ...) plus the columns every row
    of one trial shares (`base`: identity and provenance) as a METRICS_SCHEMA table."""
    return to_table([{"metric_version": METRIC_VERSION, **base, **r} for r in rows], METRICS_SCHEMA)
