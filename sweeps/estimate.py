"""Device-hours of a planned sweep, from the recorded throughput benchmarks.

The records are committed with the repository (`bench/results/*.json`, each with its
machine and date); the benchmarks write them, the plan only reads them.
`bench/results/throughput-<device>.json` (from `python -m bench.throughput`) gives the fast
path's milliseconds per step per architecture; `bench/results/packing-<device>.json`
(from `python -m bench.packing`) the aggregate speed-up of several trials sharing a card.
A packing record that is physically impossible (k trials more than k times as fast as one)
or far from its sibling record (its single trial more than `FAR` times away from the
throughput record's speed) is a measurement artefact: the estimate then assumes no packing
gain and says why.
"""

from __future__ import annotations

import json
from pathlib import Path

from fakedet.config import TrialConfig
from fakedet.protocol import SEED_TRAIN_IMAGES
from fakedet.recipe import total_steps

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results"
FAR = 3.0  # a packing record's single trial this many times off the throughput record's


def load_record(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def training_hours(trials: list[TrialConfig], record: dict) -> dict[str, float]:
    """Hours of training per architecture, one trial at a time, at the recorded speed."""
    hours: dict[str, float] = {}
    for t in trials:
        ms = record["results"].get(t.arch, {}).get("fast_ms_per_step")
        if ms is None:
            hours[t.arch] = float("nan")
            continue
        steps = total_steps(t.recipe, SEED_TRAIN_IMAGES, t.max_steps)
        hours[t.arch] = hours.get(t.arch, 0.0) + steps * ms / 3.6e6
    return hours


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


def auto_pack(device_name: str | None, archs) -> tuple[dict[str, int], str]:
    """`--pack auto`: per architecture, the K with the most member-steps per second in the
    committed fused-pack record (`bench/results/pack-cuda.json`, from `bench.pack`) when it
    was measured on this kind of device; else 1. Returns ({arch: K}, why)."""
    record = load_record("pack-cuda")
    ones = dict.fromkeys(archs, 1)
    if not device_name:
        return ones, "no GPU here: one trial per Tune trial"
    if not record or record.get("device_name") != device_name:
        return ones, f"no fused-pack record for {device_name}: one trial per Tune trial"
    sizes = {}
    for arch in archs:
        rows = record["results"].get(arch, {}).items()
        rates = {int(k): r["member_steps_per_s"] for k, r in rows if r.get("member_steps_per_s")}
        sizes[arch] = max(rates, key=rates.get) if rates else 1
    return sizes, f"from bench/results/pack-cuda.json ({device_name}, {record.get('date')})"


def describe(trials: list[TrialConfig]) -> list[str]:
    """Lines for the sweep's plan: the estimated device-hours, or why there is none."""
    lines = []
    for device in ("cuda", "cpu"):
        record = load_record(f"throughput-{device}")
        if record is None:
            if device == "cuda":
                lines.append(
                    "GPU-hours: not measured yet (no bench/results/throughput-cuda.json;"
                    " run bench/gpu.sh on a GPU machine)"
                )
            continue
        hours = training_hours(trials, record)
        packing = load_record(f"packing-{device}")
        problem = packing_problem(packing, record)
        gain, k = packing_gain(None if problem else packing)
        total = sum(hours.values())
        per_arch = ", ".join(f"{a} {h:,.1f}" for a, h in hours.items())
        unit = "GPU-hours" if device == "cuda" else "CPU-hours"
        lines.append(
            f"{unit} on {record['machine']}: {total / gain:,.1f} "
            f"({per_arch} one at a time; / {gain:.2f} for {k} per device)"
        )
        if problem:
            lines.append(f"{unit}: no packing gain assumed: {problem}")
    return lines
