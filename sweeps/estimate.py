"""Device-hours of a planned sweep (`--dry-run`) and `--pack auto`, from the cost model of
`fakedet.cost` (the committed benchmark records)."""

from __future__ import annotations

import math

from fakedet import cost
from fakedet.config import TrialConfig


def training_hours(trials: list[TrialConfig], device: cost.DeviceCost) -> dict[str, float]:
    """Hours of training per architecture, one trial at a time, at the recorded speed."""
    hours: dict[str, float] = {}
    for t in trials:
        if t.arch not in device.ms_per_step:
            hours[t.arch] = math.nan
            continue
        hours[t.arch] = hours.get(t.arch, 0.0) + device.hours(t.arch, cost.trial_steps(t))
    return hours


def auto_pack(device_name: str | None, archs) -> tuple[dict[str, int], str]:
    """`--pack auto`: per architecture, the K with the most member-steps per second in the
    committed fused-pack record (`bench/results/pack-cuda.json`, from `bench.pack`) when it
    was measured on this kind of device; else 1. Returns ({arch: K}, why)."""
    record = cost.load_record("pack-cuda")
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
    for device in cost.DEVICES:
        model = cost.device_cost(device)
        if model is None:
            if device == "cuda":
                lines.append(
                    "GPU-hours: not measured yet (no bench/results/throughput-cuda.json;"
                    " run bench/gpu.sh on a GPU machine)"
                )
            continue
        hours = training_hours(trials, model)
        packing = cost.load_record(f"packing-{device}")
        problem = cost.packing_problem(packing, cost.load_record(f"throughput-{device}"))
        gain, k = cost.packing_gain(None if problem else packing)
        total = sum(hours.values())
        per_arch = ", ".join(f"{a} {h:,.1f}" for a, h in hours.items())
        lines.append(
            f"{model.unit} on {model.machine}: {total / gain:,.1f} "
            f"({per_arch} one at a time; / {gain:.2f} for {k} per device)"
        )
        if problem:
            lines.append(f"{model.unit}: no packing gain assumed: {problem}")
    return lines
