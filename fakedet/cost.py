"""What training costs on a device, from the committed benchmark records (no torch).

The records are committed with the repository (`bench/results/*.json`, each with its
machine and date); the benchmarks write them, every estimate reads them here: the trial's
"about to run" line (`fakedet.trial`), the sweep's `--dry-run` (`sweeps.estimate`) and the
planner's cost of a design (`analysis.design`).

`throughput-<device>.json` (from `python -m bench.throughput`) gives the fast path's
milliseconds per step per architecture; `packing-<device>.json` (from `python -m
bench.packing`) the aggregate speed-up of several trials sharing a card. A packing record
that is physically impossible (k trials more than k times as fast as one) or far from its
sibling record (its single trial more than `FAR` times away from the throughput record's
speed) is a measurement artefact: `packing_problem` says why, and no gain is assumed.

    cost = device_cost("cpu")                       # None without a record
    cost.seconds("brownlee", trial_steps(cfg))      # NaN where the record lacks the arch
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from fakedet.config import TrialConfig
from fakedet.protocol import SEED_TRAIN_IMAGES
from fakedet.recipe import total_steps

RECORDS = Path(__file__).resolve().parents[1] / "bench" / "results"
"""The committed benchmark records; functions read it when called (tests point it elsewhere)."""
DEVICES = ("cuda", "cpu")
"""Device kinds with records, the preferred first."""
UNITS = {"cuda": "GPU-hours", "cpu": "CPU-hours"}
FAR = 3.0  # a packing record's single trial this many times off the throughput record's


def load_record(name: str, records: Path | None = None) -> dict | None:
    """The record `<records>/<name>.json` (default `RECORDS`), or None when absent."""
    path = (records or RECORDS) / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def trial_steps(cfg: TrialConfig) -> int:
    """Optimizer steps of a trial's training budget."""
    return total_steps(cfg.recipe, SEED_TRAIN_IMAGES, cfg.max_steps)


@dataclass(frozen=True)
class DeviceCost:
    """What a training step costs on one kind of device, from its throughput record."""

    device: str
    """'cuda' or 'cpu'."""
    machine: str
    """The record's machine, in words."""
    date: str
    """When it was measured (ISO 8601)."""
    ms_per_step: dict[str, float]
    """{arch: milliseconds per step of the fast path}; an arch without a speed is absent."""
    source: str
    """The record's file name."""

    @property
    def unit(self) -> str:
        """'GPU-hours' or 'CPU-hours'."""
        return UNITS[self.device]

    def seconds(self, arch: str, steps: int) -> float:
        """Seconds of `steps` training steps of `arch`, one trial at a time; NaN where the
        record has no speed for it."""
        return steps * self.ms_per_step.get(arch, math.nan) / 1e3

    def hours(self, arch: str, steps: int) -> float:
        """`seconds` in hours."""
        return steps * self.ms_per_step.get(arch, math.nan) / 3.6e6


def device_cost(device: str, records: Path | None = None) -> DeviceCost | None:
    """The cost model of one device kind ('cuda' or 'cpu'); None without its record."""
    record = load_record(f"throughput-{device}", records)
    if record is None:
        return None
    speed = {
        arch: float(r["fast_ms_per_step"])
        for arch, r in record.get("results", {}).items()
        if r.get("fast_ms_per_step") is not None
    }
    return DeviceCost(
        device,
        str(record.get("machine", "?")),
        str(record.get("date", "?")),
        speed,
        f"throughput-{device}.json",
    )


def preferred_cost(records: Path | None = None) -> DeviceCost | None:
    """The GPU's cost model where its record exists, else the CPU's; None without either."""
    for device in DEVICES:
        if (cost := device_cost(device, records)) is not None:
            return cost
    return None


def packing_gain(record: dict | None) -> tuple[float, int]:
    """(aggregate throughput of the best packing / one trial, trials per device)."""
    if not record:
        return 1.0, 1
    rates = {int(k): v["aggregate_images_per_s"] for k, v in record["results"].items()}
    best = max(rates, key=rates.get)
    return rates[best] / rates[1], best


def packing_problem(record: dict | None, throughput: dict | None = None) -> str | None:
    """Why a packing record cannot be used, or None when it can (or there is none).

    Args:
        record: a `bench.packing` record: results {k: {aggregate_images_per_s}}.
        throughput: the same device's `bench.throughput` record, the sibling whose
            single-trial speed (fast path, the packing record's architecture) it must match
            within a factor `FAR`.
    """
    if not record:
        return None
    rates = {int(k): v["aggregate_images_per_s"] for k, v in record["results"].items()}
    if 1 not in rates or rates[1] <= 0:
        return "the packing record has no single-trial rate"
    for k, rate in sorted(rates.items()):
        if rate / rates[1] > k:
            return (
                f"the packing record's {k} trials are {rate / rates[1]:.2f}x one trial, "
                f"more than {k} trials can be"
            )
    single = (throughput or {}).get("results", {}).get(record.get("arch"), {})
    if (sibling := single.get("fast_images_per_s")) and not 1 / FAR < rates[1] / sibling < FAR:
        return (
            f"the packing record's single trial ({rates[1]:,.0f} images/s) is more than "
            f"{FAR:g}x off the throughput record's ({sibling:,.0f})"
        )
    return None
