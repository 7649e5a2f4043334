"""Recompute every trial's metric rows from its saved per-image scores (the library of
`python -m analysis.rescore`).

Results computed on expensive runs gain the metrics of a newer metric version without
retraining. For each metrics file under `<root>/metrics` (a trial's own, `<key>.parquet`,
or a cross-evaluation, `<key>.x-<garch>.parquet`) the rows are recomputed with
`fakedet.metrics` from the scores file of the same name under `<root>/scores`: a trial's
own rows per checkpoint (`trial_rows`, and `upload_rows` for 8-bit fakes and upload
transforms), a cross-evaluation's rows (`fake_rows` of its float and 8-bit fakes) from its
fakes' logits and the held-out and seen-class logits of the trial's own scores at its
final checkpoint. The fakes' quality rows (suite fake_quality) are measured on images, not
logits, and are kept as they were. Every identity and provenance column of the old rows is kept;
`metric_version` becomes the current one.

Files already at the current metric version are skipped (unless `force`), so a rerun
does nothing. A metrics file marks its trial complete, so it is rewritten in place by an
atomic write (`fakedet.store`), never deleted first. A file that cannot be read or
rescored (corrupt, or its scores missing) is reported by name with the reason and left
as it was; the others go on. Scores of metric version 1 hold float32 probabilities only;
their logits are recovered from them (`stored_logits`), which ties images whose logit
exceeds about 17.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.fs as pafs

from analysis.measures import CROSS_FAKE, OWN_FAKE, REAL_HELDOUT, REAL_TEST, TRAIN_FAKE
from fakedet import metrics
from fakedet.errors import UserError, first_line
from fakedet.schema import (
    METRIC_VERSION,
    METRICS_SCHEMA,
    PARTITION_COLUMNS,
    QUALITY,
    eight_bit,
    metric_table,
)
from fakedet.store import ResultsStore, TrialId

ROW_COLUMNS = ("suite", "generator_arch", "class_id", "metric", "value", "support")
"""What `fakedet.metrics` computes; every other column is the trial's and is kept."""
KEPT_COLUMNS = [
    c
    for c in METRICS_SCHEMA.names
    if c not in ROW_COLUMNS and c not in PARTITION_COLUMNS and c != "metric_version"
]
FAKE_SUITES = (OWN_FAKE, TRAIN_FAKE)


class RescoreError(Exception):
    """Why one file could not be rescored (reported; the others go on)."""


@dataclass
class Report:
    """What a rescore did."""

    rescored: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(file, reason)."""


@dataclass(frozen=True)
class MetricsFile:
    """One metrics file and where its trial and scores are."""

    path: str
    trial: TrialId
    generator_arch: str | None
    """The cross-evaluation's generator, or None for the trial's own file."""


def metrics_files(store: ResultsStore) -> list[MetricsFile]:
    """Every complete metrics file under the root (temporaries, `_*` and `.*`, left out)."""
    base = store.path("metrics")
    info = store.fs.get_file_info(base)
    if info.type != pafs.FileType.Directory:
        raise UserError(f"no results at {store.root} (expected {base}); run a sweep first")
    out = []
    for f in store.fs.get_file_info(pafs.FileSelector(base, recursive=True)):
        name = f.base_name
        if f.type != pafs.FileType.File or not name.endswith(".parquet") or name[0] in "_.":
            continue
        parts = dict(
            p.split("=", 1)
            for p in posixpath.relpath(posixpath.dirname(f.path), base).split("/")
            if "=" in p
        )
        if not set(PARTITION_COLUMNS) <= set(parts):
            continue
        stem = name.removesuffix(".parquet")
        key, _, garch = stem.partition(".x-")
        out.append(
            MetricsFile(f.path, TrialId(key, parts["arch"], parts["protocol"]), garch or None)
        )
    return sorted(out, key=lambda m: m.path)


def is_current(old: pd.DataFrame) -> bool:
    versions = old["metric_version"] if "metric_version" in old else pd.Series([None])
    return bool(len(old)) and bool((versions.fillna(1) == METRIC_VERSION).all())


def _shared(rows: pd.DataFrame) -> dict:
    """The trial-level columns of one checkpoint's rows (the first row's)."""
    first = rows.iloc[0]
    out = {}
    for c in KEPT_COLUMNS:
        if c in rows:
            v = first[c]
            out[c] = None if v is None or (isinstance(v, float) and np.isnan(v)) else v
    return out


def _generators(rows: pd.DataFrame) -> dict[str, str]:
    """{suite: generator_arch} of the old rows."""
    return dict(rows.drop_duplicates("suite")[["suite", "generator_arch"]].to_numpy())


def _require(logits: dict, suites, what: str) -> None:
    if missing := [s for s in suites if s not in logits]:
        raise RescoreError(f"its scores have no {', '.join(missing)} ({what})")


def own_rows(old: pd.DataFrame, scores: pa.Table, arch: str) -> list[dict]:
    """A trial's own rows, recomputed per checkpoint of its old rows."""
    rows = []
    steps = old["checkpoint_step"] if "checkpoint_step" in old else pd.Series(np.nan, old.index)
    for step, part in old.groupby(steps.fillna(-1), sort=True):
        step = None if step == -1 else int(step)
        logits = metrics.stored_logits(scores, step)
        what = "final checkpoint" if step is None else f"checkpoint step {step}"
        fake_suite = next((s for s in FAKE_SUITES if s in logits), None)
        if fake_suite is None:
            raise RescoreError(f"its scores have no own_fake or train_fake ({what})")
        _require(logits, (REAL_HELDOUT, REAL_TEST), what)
        (fake, _), (held, held_y), (test, test_y) = (
            logits[s] for s in (fake_suite, REAL_HELDOUT, REAL_TEST)
        )
        new = metrics.trial_rows(fake, held, held_y, test, test_y, fake_suite)
        if CROSS_FAKE in logits:  # a dedicated detector scores the left-out generator too
            new += metrics.cross_rows(logits[CROSS_FAKE][0], held, test)
        new += metrics.upload_rows(logits)
        generators = _generators(part)
        fallback = generators.get(fake_suite, arch)
        base = _shared(part)
        rows += [{**base, "generator_arch": generators.get(r["suite"], fallback), **r} for r in new]
        rows += _kept(part)
    return rows


def _kept(old: pd.DataFrame) -> list[dict]:
    """The old rows that are not computed from logits (the fakes' quality), as they were."""
    kept = old[old["suite"] == QUALITY].drop(columns=[*PARTITION_COLUMNS, "metric_version"],
                                             errors="ignore")  # fmt: skip
    ints = {f.name for f in METRICS_SCHEMA if pa.types.is_integer(f.type)}
    return [
        {k: None if pd.isna(v) else int(v) if k in ints else v for k, v in r.items()}
        for r in kept.to_dict("records")
    ]


def cross_file_rows(old: pd.DataFrame, scores: pa.Table, own_scores: pa.Table, garch: str):
    """A cross-evaluation's rows: its fakes against the trial's final real logits."""
    fakes = metrics.stored_logits(scores)
    _require(fakes, (CROSS_FAKE,), "cross-evaluation")
    reals = metrics.stored_logits(own_scores)
    _require(reals, (REAL_HELDOUT, REAL_TEST), "the trial's own scores, final checkpoint")
    held, test = reals[REAL_HELDOUT][0], reals[REAL_TEST][0]
    new = [
        r
        for suite in (CROSS_FAKE, eight_bit(CROSS_FAKE))
        if suite in fakes
        for r in metrics.fake_rows(suite, fakes[suite][0], held, test)
    ]
    base = {**_shared(old), "generator_arch": garch}
    return [{**base, **r} for r in new] + _kept(old)


def _read(store: ResultsStore, path: str, what: str, columns=()) -> pa.Table:
    if not store.exists(path):
        raise RescoreError(f"no {what} file {path}")
    try:
        table = store.read_table(path)
    except (pa.ArrowException, OSError) as e:
        raise RescoreError(f"cannot read {what} file {path}: {first_line(e)}") from None
    if missing := [c for c in columns if c not in table.column_names]:
        raise RescoreError(f"{what} file {path} has no column {', '.join(missing)}")
    return table


def rescore_file(store: ResultsStore, f: MetricsFile, force: bool = False) -> bool:
    """Recompute one metrics file; False when it was already current (and not `force`)."""
    old = _read(store, f.path, "metrics", ("suite", "generator_arch")).to_pandas()
    if is_current(old) and not force:
        return False
    if old.empty:
        raise RescoreError("the metrics file has no rows")
    needed = ("suite", "score", "class_id")
    scores = _read(store, store.scores_path(f.trial, f.generator_arch), "scores", needed)
    if f.generator_arch is None:
        rows = own_rows(old, scores, f.trial.arch)
    else:
        own = _read(store, store.scores_path(f.trial), "trial's own scores", needed)
        rows = cross_file_rows(old, scores, own, f.generator_arch)
    base = {"arch": f.trial.arch, "protocol": f.trial.protocol}
    store.write_metrics(metric_table(rows, base), f.trial, f.generator_arch)
    return True


def rescore(root: str, force: bool = False) -> Report:
    """Rescore every metrics file under `root`; see the module docstring."""
    store = ResultsStore(root)
    report = Report()
    for f in metrics_files(store):
        try:
            done = rescore_file(store, f, force)
        except (RescoreError, OSError) as e:
            report.failed.append((f.path, first_line(e)))
            continue
        (report.rescored if done else report.current).append(f.path)
    return report
