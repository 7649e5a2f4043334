"""Load every complete metrics file under a results root.

A pyarrow dataset over `<root>/metrics` with the explicit schema of `fakedet.schema`
(never inferred from the first file) and hive partitioning on arch and protocol. A file
that does not match the schema, or cannot be read, is reported by name and left out.
Temporary files (leading `_` or `.`) are never read: they are writes in progress.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from fakedet.errors import UserError, first_line
from fakedet.schema import METRICS_SCHEMA, PARTITION_COLUMNS, file_schema
from fakedet.store import ResultsStore

PARTITIONING = ds.partitioning(
    pa.schema([METRICS_SCHEMA.field(c) for c in PARTITION_COLUMNS]), flavor="hive"
)


@dataclass
class Results:
    """The metric rows of a results root, and what was left out."""

    metrics: pd.DataFrame
    """Tidy metric rows of every trial's final checkpoint (columns of METRICS_SCHEMA)."""
    invalid: list[tuple[str, str]] = field(default_factory=list)
    """(file, reason) of every file left out."""
    root: str = ""
    checkpoints: pd.DataFrame | None = None
    """The rows of checkpoints before each trial's final step (same columns)."""


def _problem(fragment: ds.ParquetFileFragment) -> str | None:
    """Why a file does not match the schema, or None when it does."""
    try:
        physical = fragment.physical_schema
    except (pa.ArrowException, OSError) as e:
        return first_line(e)
    for f in file_schema(METRICS_SCHEMA):
        if f.name not in physical.names:
            if not f.nullable:
                return f"missing column {f.name!r}"
        elif not physical.field(f.name).type.equals(f.type):
            return f"column {f.name!r} is {physical.field(f.name).type}, not {f.type}"
    return None


def load_results(root: str) -> Results:
    """Read all metric rows under `root` (a path or URI).

    Raises:
        UserError: the root is missing, or holds no metrics at all.
    """
    store = ResultsStore(root)
    metrics_dir = store.path("metrics")
    try:
        info = store.fs.get_file_info(metrics_dir)
    except OSError as e:
        raise UserError(f"cannot read results at {store.root}: {e}") from None
    if info.type != pa.fs.FileType.Directory:
        raise UserError(f"no results at {store.root} (expected {metrics_dir}); run a sweep first")
    dataset = ds.dataset(
        metrics_dir,
        schema=METRICS_SCHEMA,
        format="parquet",
        filesystem=store.fs,
        partitioning=PARTITIONING,
        ignore_prefixes=["_", "."],
    )
    fragments = list(dataset.get_fragments())
    with ThreadPoolExecutor(max_workers=8) as pool:
        problems = list(pool.map(_problem, fragments))
    valid = [f for f, p in zip(fragments, problems, strict=True) if p is None]
    invalid = [(f.path, p) for f, p in zip(fragments, problems, strict=True) if p is not None]
    table = None
    if valid:
        try:
            table = ds.FileSystemDataset(valid, METRICS_SCHEMA, dataset.format, store.fs).to_table(
                fragment_readahead=64
            )
        except (pa.ArrowException, OSError):  # a file broken past its footer: find it
            tables = []
            for f in valid:
                try:
                    tables.append(f.to_table(schema=METRICS_SCHEMA))
                except (pa.ArrowException, OSError) as e:
                    invalid.append((f.path, first_line(e)))
            table = pa.concat_tables(tables) if tables else None
    if table is None or table.num_rows == 0:
        detail = f"; {len(invalid)} invalid files" if invalid else ""
        raise UserError(f"no complete results under {store.root}{detail}")
    df = table.to_pandas()
    df["class_id"] = df["class_id"].astype("Int64")
    step = df["checkpoint_step"]
    final = step.isna() | (step == df["steps"])
    return Results(df[final].reset_index(drop=True), invalid, store.root, df[~final])
