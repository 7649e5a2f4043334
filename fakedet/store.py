"""A results root on any pyarrow filesystem: a local path, NFS, or a URI such as s3://.

Every write is atomic, so a crashed trial never leaves a file that a reader takes as
complete. On a file system the bytes go to a sibling name that starts with `_` (which
readers and pyarrow datasets ignore) and are then moved into place. On object storage
(s3://, gs://) a PUT of the final key is already all-or-nothing while a "move" is a copy
plus a delete, so the bytes go straight to the final key and a killed writer leaves
nothing behind. A trial is complete when its metrics file exists; it is written last.

Paths of a trial's results take its identity as one object: anything with `key`, `arch`
and `protocol` (a `TrialConfig`, or a `TrialId`).
"""

from __future__ import annotations

import contextlib
import io
import json
import posixpath
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from fakedet.errors import UserError, first_line
from fakedet.schema import METRICS_SCHEMA, SCORES_SCHEMA, file_schema

TMP_PREFIX = "_tmp-"  # then 8 hex digits, '-', and the final name


def _is_uri(root: str) -> bool:
    return "://" in root


class Trial(Protocol):
    """What the store needs to know of a trial."""

    key: str
    arch: str
    protocol: str


class TrialId(NamedTuple):
    """A trial's identity when its config is not at hand (e.g. read back from a file)."""

    key: str
    arch: str
    protocol: str


@dataclass
class Record:
    """Everything one result writes (built by `fakedet.record`)."""

    trial: Trial
    """Whose result: names its directory and files."""
    files: dict[str, bytes | dict | list] = field(default_factory=dict)
    """Files of the trial's directory: bytes as they are, anything else as JSON."""
    scores: pa.Table | None = None
    """Per-image scores (SCORES_SCHEMA)."""
    metrics: pa.Table | None = None
    """Metric rows (METRICS_SCHEMA); written last, it marks the result complete."""
    generator_arch: str | None = None
    """Set for a cross-evaluation: its files are named after the other generator."""


class ResultsStore:
    """Paths and atomic writes under one results root."""

    def __init__(self, root: str | Path):
        root = str(root)
        if not root:
            raise UserError("the results location is empty")
        try:
            if _is_uri(root):
                self.fs, self.base = pafs.FileSystem.from_uri(root)
            else:
                self.fs, self.base = pafs.LocalFileSystem(), str(Path(root).expanduser().absolute())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, ValueError) as e:
            raise UserError(f"invalid results location {root!r}: {first_line(e)}") from None
        self.root = root if _is_uri(root) else self.base
        self.base = self.base.rstrip("/")
        self.renames = isinstance(self.fs, pafs.LocalFileSystem)
        """Temp-and-rename on file systems; straight to the final key on object storage."""

    # --- layout ------------------------------------------------------------------------
    def path(self, *parts: str) -> str:
        return posixpath.join(self.base, *parts)

    def uri(self, *parts: str) -> str:
        """A path as Ray Tune and other tools take it: local absolute or scheme://, with
        the root's query (e.g. `?endpoint_override=...`) kept at the end."""
        if _is_uri(self.root):
            base, sep, query = self.root.partition("?")
            return posixpath.join(base.rstrip("/"), *parts) + sep + query
        return self.path(*parts)

    def _result_path(self, kind: str, trial: Trial, generator_arch: str | None) -> str:
        name = trial.key + (f".x-{generator_arch}" if generator_arch else "") + ".parquet"
        return self.path(kind, f"arch={trial.arch}", f"protocol={trial.protocol}", name)

    def metrics_path(self, trial: Trial, generator_arch: str | None = None) -> str:
        """A trial's metrics file, or its cross_fake file against `generator_arch`'s fakes."""
        return self._result_path("metrics", trial, generator_arch)

    def scores_path(self, trial: Trial, generator_arch: str | None = None) -> str:
        """A trial's per-image scores, or those of its cross_fake suite."""
        return self._result_path("scores", trial, generator_arch)

    def trial_path(self, trial: Trial, name: str = "") -> str:
        """A trial's directory of weights, samples and history, or a file in it."""
        return self.path("trials", trial.key, name) if name else self.path("trials", trial.key)

    def record_paths(self, trial: Trial, files=(), generator_arch: str | None = None) -> list:
        """Every path of a record: `files` of the trial's directory, scores, metrics."""
        return [
            *(self.trial_path(trial, name) for name in files),
            self.scores_path(trial, generator_arch),
            self.metrics_path(trial, generator_arch),
        ]

    # --- checks ------------------------------------------------------------------------
    def check_writable(self) -> None:
        """Fail early, with one clear line, if the root is unusable."""
        try:
            info = self.fs.get_file_info(self.base)
            if info.type == pafs.FileType.File:
                raise UserError(f"results location {self.root} is a file, not a directory")
            self.fs.create_dir(self.base, recursive=True)
            probe = self.path(f"_probe-{uuid.uuid4().hex}")
            with self.fs.open_output_stream(probe) as f:
                f.write(b"ok")
            self.fs.delete_file(probe)
        except UserError:
            raise
        except (OSError, pa.ArrowException) as e:
            raise UserError(
                f"results location {self.root} is not writable: {first_line(e)}"
            ) from None

    def exists(self, path: str) -> bool:
        try:
            return self.fs.get_file_info(path).type == pafs.FileType.File
        except OSError:
            return False

    def is_complete(self, trial: Trial) -> bool:
        return self.exists(self.metrics_path(trial))

    # --- atomic writes -----------------------------------------------------------------
    @staticmethod
    def _temporary(path: str) -> str:
        directory, name = posixpath.split(path)
        return posixpath.join(directory, f"{TMP_PREFIX}{uuid.uuid4().hex[:8]}-{name}")

    def remove_temporaries(self, *paths: str) -> int:
        """Delete the temporaries of `paths` that a writer killed mid-write left behind
        (its cleanup never ran). Call it before writing those paths again.

        Returns:
            How many were deleted.
        """
        wanted: dict[str, set[str]] = {}
        for path in paths:
            directory, name = posixpath.split(path)
            wanted.setdefault(directory, set()).add(name)
        stale = []
        for directory, names in wanted.items():
            try:
                infos = self.fs.get_file_info(pafs.FileSelector(directory, allow_not_found=True))
            except OSError:
                continue
            stale += [
                i.path
                for i in infos
                if i.type == pafs.FileType.File
                and i.base_name.startswith(TMP_PREFIX)
                and i.base_name[len(TMP_PREFIX) + 9 :] in names
            ]
        for p in stale:
            with contextlib.suppress(OSError):
                self.fs.delete_file(p)
        return len(stale)

    def write_bytes(self, path: str, data: bytes) -> None:
        directory = posixpath.dirname(path)
        self.fs.create_dir(directory, recursive=True)
        if not self.renames:  # object storage: one PUT of the final key
            with self.fs.open_output_stream(path) as f:
                f.write(data)
            return
        tmp = self._temporary(path)
        try:
            with self.fs.open_output_stream(tmp) as f:
                f.write(data)
            self.fs.move(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                self.fs.delete_file(tmp)
            raise

    def write_table(self, path: str, table: pa.Table) -> None:
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        self.write_bytes(path, sink.getvalue())

    def write_json(self, path: str, obj) -> None:
        self.write_bytes(path, json.dumps(obj, indent=2, sort_keys=True).encode())

    def read_bytes(self, path: str) -> bytes:
        with self.fs.open_input_file(path) as f:
            return f.read()

    def read_json(self, path: str):
        return json.loads(self.read_bytes(path))

    def read_table(self, path: str) -> pa.Table:
        with self.fs.open_input_file(path) as f:
            return pq.read_table(f)

    # --- typed writes ------------------------------------------------------------------
    def write_metrics(self, table: pa.Table, trial: Trial, generator_arch=None) -> str:
        path = self.metrics_path(trial, generator_arch)
        self.write_table(path, table.select(file_schema(METRICS_SCHEMA).names))
        return path

    def write_scores(self, table: pa.Table, trial: Trial, generator_arch=None) -> str:
        path = self.scores_path(trial, generator_arch)
        self.write_table(path, table.select(file_schema(SCORES_SCHEMA).names))
        return path

    def write_record(self, record: Record) -> str:
        """Write a result: its files, then its scores, then its metrics file, which marks
        it complete (a writer killed before that leaves a result that reruns).

        Returns:
            The metrics file's path.
        """
        trial, garch = record.trial, record.generator_arch
        for name, content in record.files.items():
            path = self.trial_path(trial, name)
            if isinstance(content, bytes):
                self.write_bytes(path, content)
            else:
                self.write_json(path, content)
        if record.scores is not None:
            self.write_scores(record.scores, trial, garch)
        return self.write_metrics(record.metrics, trial, garch)
