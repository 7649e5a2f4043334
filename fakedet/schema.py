"""The result schemas: one definition, imported by the writer and by every reader.

Metric rows are tidy: one row per trial x suite x (generator) x (class) x metric.
Layout under a results root (hive-partitioned on `arch` and `protocol`):

    metrics/arch=<arch>/protocol=<protocol>/<trial_key>.parquet          a trial's suites
    metrics/arch=<arch>/protocol=<protocol>/<trial_key>.x-<garch>.parquet cross_fake rows
    scores/arch=<arch>/protocol=<protocol>/<trial_key>.parquet           per-image scores
    trials/<trial_key>/{generator.pt,discriminator.pt,samples.png,trial.json,history.json}
    _tune/                                                               Ray Tune state

The partition columns live in the directory names, not in the files.
"""

from __future__ import annotations

import pyarrow as pa

PARTITION_COLUMNS = ("arch", "protocol")

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
    ]
)


def file_schema(schema: pa.Schema) -> pa.Schema:
    """The schema of the files themselves: without the partition columns."""
    return pa.schema([f for f in schema if f.name not in PARTITION_COLUMNS])


def to_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Rows (dicts with every column of `schema`) to a table of exactly that schema."""
    return pa.Table.from_pylist(rows, schema=schema)
