"""Everything a results root holds, comparable across runs (the checkpoint tests and the
fake cluster's lost-node test compare a resumed trial with one run without interruption)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import torch

# provenance of a run, not of the trial: its wall time, and the commit checked out when it
# ran (a test session that spans a commit sees two)
TIMING = {"wall_seconds", "git_commit"}


def record(root: Path) -> dict:
    """Everything a results root holds, by relative path, comparable across runs."""
    out = {}
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        rel = str(p.relative_to(root))
        if p.suffix == ".pt":
            out[rel] = torch.load(io.BytesIO(p.read_bytes()), weights_only=True)
        elif p.suffix == ".parquet":
            table = pq.read_table(p)
            out[rel] = table.drop_columns([c for c in table.column_names if c in TIMING])
        elif p.name == "trial.json":
            info = json.loads(p.read_text())
            out[rel] = {k: v for k, v in info.items() if k not in TIMING | {"resumed_from_step"}}
        else:
            out[rel] = p.read_bytes()
    return out


def assert_same(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for name in a:
        if name.endswith(".pt"):
            assert a[name].keys() == b[name].keys(), name
            for k in a[name]:
                assert torch.equal(a[name][k], b[name][k]), (name, k)
        elif name.endswith(".parquet"):
            assert a[name].equals(b[name]), name  # nulls equal nulls, values bit for bit
        else:
            assert a[name] == b[name], name
