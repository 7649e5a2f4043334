"""Load every complete metrics file under a results root.

Each file under `<root>/metrics/arch=<arch>/protocol=<protocol>/` is opened once: its
footer is checked against the explicit schema of `fakedet.schema` (never inferred from
the first file), then its rows are read and conformed to that schema: columns added since
the first release and absent from older files become nulls, and the partition columns
come from the directory names. A file that does not match the schema, or cannot be read,
is reported by name and left out. Temporary files (leading `_` or `.`) are never read:
they are writes in progress.
"""

from __future__ import annotations

import posixpath
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from fakedet.errors import UserError, first_line
from fakedet.schema import METRICS_SCHEMA, PARTITION_COLUMNS, file_schema, final_checkpoint
from fakedet.store import ResultsStore

READERS = 2  # files read at once (each read single-threaded: the files are small)


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


def problem(physical: pa.Schema) -> str | None:
    """Why a file's schema does not match METRICS_SCHEMA, or None when it does."""
    for f in file_schema(METRICS_SCHEMA):
        if f.name not in physical.names:
            if not f.nullable:
                return f"missing column {f.name!r}"
        elif not physical.field(f.name).type.equals(f.type):
            return f"column {f.name!r} is {physical.field(f.name).type}, not {f.type}"
    return None


def _partitions(base: str, path: str) -> dict[str, str]:
    directory = posixpath.relpath(posixpath.dirname(path), base)
    return dict(p.split("=", 1) for p in directory.split("/") if "=" in p)


def read_metrics(fs: pafs.FileSystem, path: str) -> tuple[pa.Table | None, str]:
    """One metrics file's own columns (partition columns aside), or (None, why it was left
    out)."""
    try:
        with fs.open_input_file(path) as f:
            parquet = pq.ParquetFile(f)
            if reason := problem(parquet.schema_arrow):
                return None, reason
            return parquet.read(use_threads=False), ""
    except (pa.ArrowException, OSError) as e:
        return None, first_line(e)


def conform(tables: list[pa.Table], partitions: list[dict[str, str]]) -> pa.Table:
    """Files' rows as one METRICS_SCHEMA table: columns a file lacks are null, partition
    columns come from each file's directory names."""
    rows = np.array([t.num_rows for t in tables])
    combined = pa.concat_tables(tables, promote_options="default")
    columns = []
    for f in METRICS_SCHEMA:
        if f.name in PARTITION_COLUMNS:
            values = np.repeat(np.array([p[f.name] for p in partitions], dtype=object), rows)
            columns.append(pa.array(values, f.type))
        elif f.name in combined.column_names:
            columns.append(combined.column(f.name).cast(f.type))
        else:
            columns.append(pa.nulls(combined.num_rows, f.type))
    return pa.Table.from_arrays(columns, schema=METRICS_SCHEMA)


def load_results(root: str) -> Results:
    """Read all metric rows under `root` (a path or URI).

    Raises:
        UserError: the root is missing, or holds no metrics at all.
    """
    store = ResultsStore(root)
    base = store.path("metrics")
    try:
        info = store.fs.get_file_info(base)
        if info.type != pafs.FileType.Directory:
            raise UserError(f"no results at {store.root} (expected {base}); run a sweep first")
        files = sorted(
            i.path
            for i in store.fs.get_file_info(pafs.FileSelector(base, recursive=True))
            if i.type == pafs.FileType.File
            and i.base_name.endswith(".parquet")
            and i.base_name[0] not in "_."
        )
    except OSError as e:
        raise UserError(f"cannot read results at {store.root}: {first_line(e)}") from None
    partitions = {p: _partitions(base, p) for p in files}
    invalid = [
        (p, f"not under {'/'.join(f'{c}=...' for c in PARTITION_COLUMNS)}/")
        for p, parts in partitions.items()
        if not set(PARTITION_COLUMNS) <= set(parts)
    ]
    files = [p for p in files if set(PARTITION_COLUMNS) <= set(partitions[p])]
    with ThreadPoolExecutor(READERS) as pool:
        read = list(pool.map(lambda p: read_metrics(store.fs, p), files))
    invalid += [(p, why) for p, (t, why) in zip(files, read, strict=True) if t is None]
    found = [(t, partitions[p]) for p, (t, _) in zip(files, read, strict=True) if t is not None]
    found = [(t, parts) for t, parts in found if t.num_rows]
    if not found:
        detail = f"; {len(invalid)} invalid files" if invalid else ""
        raise UserError(f"no complete results under {store.root}{detail}")
    df = conform([t for t, _ in found], [parts for _, parts in found]).to_pandas()
    df["class_id"] = df["class_id"].astype("Int64")
    final = final_checkpoint(df)
    earlier = df.drop(index=final.index)
    return Results(
        final.reset_index(drop=True), invalid, store.root, earlier.reset_index(drop=True)
    )
