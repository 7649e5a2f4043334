"""A running trial's checkpoint: its whole state, saved atomically, resumed after a kill.

A GAN trial (or a pack: every member) saves the trainer's state (both networks, both
optimizers, every random generator's state, the step, the position in the epoch and the
epoch's running sums, the history so far: `fakedet.train.Trainer.state`) and the
evaluations already made, at every evaluation checkpoint and at least every
`minutes`. Run again after a kill, it continues from the last save and ends
bit-identical (on the same device) to a run that was never interrupted.

Where the bytes go is a `Sink`:

    StoreSink   the results store, `_checkpoints/<name>.pt` (the command line): written
                atomically by `ResultsStore.write_bytes` (temp + rename; one PUT on
                object storage), so a kill during a save leaves the previous one usable;
                deleted once the trial's record is complete.
    TuneSink    Tune's checkpoint API (`sweeps.run`): `tune.report(..., checkpoint=...)`,
                `tune.get_checkpoint()` on a restart, kept by Tune in the experiment's
                storage (the results store) for `FailureConfig` and `Tuner.restore`.

A `_`-prefixed directory is ignored by pyarrow datasets and the analysis.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import posixpath
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import pyarrow.fs as pafs
import torch

from fakedet.config import DEFAULT_MINUTES
from fakedet.store import ResultsStore

CHECKPOINT_DIR = "_checkpoints"
FORMAT = 1


def checkpoint_name(keys: Sequence[str]) -> str:
    """A trial's checkpoint is named by its key; a pack's by a digest of its members'."""
    if len(keys) == 1:
        return keys[0]
    digest = hashlib.sha1("\n".join(keys).encode()).hexdigest()[:12]
    return f"pack{len(keys)}-{digest}"


def encode(state: dict) -> bytes:
    buf = io.BytesIO()
    torch.save({"format": FORMAT, **state}, buf)
    return buf.getvalue()


def decode(data: bytes) -> dict:
    """A checkpoint's state (our own file: it holds pickled evaluations)."""
    state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=False)
    if state.get("format") != FORMAT:
        raise ValueError(f"checkpoint format {state.get('format')!r}, expected {FORMAT}")
    return state


class Sink(Protocol):
    """Where a run's checkpoints go."""

    def load(self) -> bytes | None:
        """The last checkpoint saved, or None."""

    def save(self, data: bytes, step: int, figures: dict) -> None:
        """Keep `data` as the last checkpoint (`figures`: the step's live figures)."""

    def clear(self) -> None:
        """The run's record is complete: drop its checkpoints."""


class StoreSink:
    """Checkpoints in the results store: one file, replaced atomically at each save."""

    def __init__(self, store: ResultsStore, name: str):
        self.store, self.path = store, store.path(CHECKPOINT_DIR, f"{name}.pt")

    def load(self) -> bytes | None:
        self.store.remove_temporaries(self.path)  # a save killed midway
        return self.store.read_bytes(self.path) if self.store.exists(self.path) else None

    def save(self, data: bytes, step: int, figures: dict) -> None:
        self.store.write_bytes(self.path, data)

    def clear(self) -> None:
        self.store.remove_temporaries(self.path)
        if self.store.exists(self.path):
            self.store.fs.delete_file(self.path)
        directory = posixpath.dirname(self.path)
        with contextlib.suppress(OSError):  # the last one out removes the directory
            selector = pafs.FileSelector(directory, allow_not_found=True)
            if self.store.renames and not self.store.fs.get_file_info(selector):
                self.store.fs.delete_dir(directory)


class Checkpoint:
    """A run's saves (`fakedet.train.Saver`): when they are due, what they hold besides
    the trainer's state (`extra()`, e.g. the evaluations so far), and what they report
    (`figures(state)`, the live figures of a Tune sweep)."""

    def __init__(
        self,
        sink: Sink,
        minutes: float = DEFAULT_MINUTES,
        extra: Callable[[], dict] = dict,
        figures: Callable[[dict], dict] = lambda state: {},
    ):
        self.sink, self.interval, self.extra, self.figures = sink, minutes * 60, extra, figures
        data = sink.load()
        self.saved: dict | None = decode(data) if data else None
        self.resume_state = self.saved["train"] if self.saved else None
        self.last = time.monotonic()
        self.saves, self.save_seconds = 0, 0.0

    def due(self, step: int, evaluated: bool) -> bool:
        return evaluated or time.monotonic() - self.last >= self.interval

    def save(self, state: dict) -> None:
        t = time.perf_counter()
        data = encode({"train": state, **self.extra()})
        self.sink.save(data, state["steps"], self.figures(state))
        self.last = time.monotonic()
        self.saves += 1
        self.save_seconds += time.perf_counter() - t

    def clear(self) -> None:
        self.sink.clear()
