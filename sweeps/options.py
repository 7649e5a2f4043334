"""The sweep's options, described once: one frozen dataclass, its command line and presets.

`SweepOptions` holds what to run (`sweeps.spec.SweepSpec`, with the trials' `Budget`) and
where and how (results root, Ray, resources, retries). Every field declares its flag, help,
type and range (`fakedet.options`); the command line is built from the fields, and a preset
is a set of field values.

Presets and typed options: a preset fills only the options the user did not type; an
option typed on the command line wins over the preset, whatever its value (also when it
equals the option's default). `--smoke` is `--preset smoke`; two different presets are
refused.

No Ray and no torch: `--help` and every check answer before they load. A local results
root is checked before Ray starts, without creating anything (`writable_dir`).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass

from fakedet.config import DATA_DIR_HELP, DEFAULT_MINUTES
from fakedet.errors import ArgumentParser, UserError
from fakedet.options import (
    add_options,
    at_least,
    check_fields,
    finite_float,
    from_namespace,
    group,
    integer,
    option,
    positive,
    writable_dir,
)
from fakedet.protocol import BALANCED_TRIPLES
from sweeps.spec import SweepSpec


def parse_pack(text: str) -> int | str:
    """'--pack': a positive K, or 'auto'."""
    if text.strip() == "auto":
        return "auto"
    try:
        k = int(text)
    except ValueError:
        k = 0
    if k < 1:
        raise UserError(f"--pack {text}: expected a positive number of trials per pack, or auto")
    return k


def _pack(value) -> str | None:
    ok = value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1)
    return None if ok else "must be a positive number of trials per pack, or auto"


@dataclass(frozen=True)
class SweepOptions:
    """Everything `python sweeps/all_triples.py` takes: the sweep and how it runs."""

    spec: SweepSpec = group(SweepSpec)
    """What to run: architectures, seeds, triples, the trials' budget, cross and detectors."""
    results: str = option("results", "results root: a path or s3://bucket/prefix")
    address: str | None = option(
        None,
        "join this Ray cluster: auto (the one running on this machine), host:port "
        "(default: $RAY_ADDRESS, else a new local Ray)",
    )
    gpu_wait: float = option(
        600.0,
        "when joining a cluster that shows no GPU (or no node that fits a trial) yet, wait "
        "this many seconds for workers to join",
        parse=finite_float,
        check=at_least(0),
    )
    gpus_per_trial: float = option(
        0.25,
        "GPU fraction per trial where the cluster has GPUs (0.25: 4 per card)",
        parse=finite_float,
        check=at_least(0),
    )
    cpus_per_trial: float = option(1.0, "CPUs per trial", parse=finite_float, check=positive)
    pack: int | str = option(
        1,
        "train up to K trials of one architecture as one fused model per Tune trial "
        "(fakedet/pack.py); 'auto': K from the committed GPU records for this GPU "
        "(bench/results/pack-cuda.json), else 1",
        parse=parse_pack,
        check=_pack,
    )
    num_cpus: int | None = option(
        None, "CPUs of the local Ray (default: all)", parse=integer, check=at_least(1)
    )
    num_gpus: int | None = option(
        None, "GPUs of the local Ray (default: detected)", parse=integer, check=at_least(0)
    )
    max_failures: int = option(3, "retries of a failed trial", parse=integer, check=at_least(0))
    checkpoint_minutes: float = option(
        DEFAULT_MINUTES,
        "a trial saves its state at every evaluation and at least this often; a trial "
        "retried (or restored) resumes from it",
        parse=finite_float,
        check=positive,
    )
    mlflow: str | None = option(
        None,
        "also log every trial's parameters and curves to MLflow at URI, e.g. "
        "sqlite:///mlflow.db (pip install fakedet[mlflow]; default: none, no MLflow)",
        metavar="URI",
    )
    dry_run: bool = option(False, "print the plan and exit")
    quality: bool = option(
        True,
        "skip the fakes' quality figures (a Fashion-MNIST classifier, trained once into the "
        "user cache)",
        flag="--no-quality",
    )
    data_dir: str | None = option(None, DATA_DIR_HELP)

    def __post_init__(self):
        check_fields(self)


PILOT_TRIPLES = (
    (0, 1, 2),
    (0, 3, 4),
    (0, 6, 7),
    (1, 3, 6),
    (1, 6, 9),
    (2, 5, 6),
    (3, 5, 6),
    (4, 6, 8),
)
"""The pilot's 8 triples (docs/pilot): every 15th of the lexicographic order, what
`--triples 8` meant when the pilot first ran; class 6 is held out in 6 of them, classes 8
and 9 in one each, so they cannot tell the 10 classes apart."""

PRESETS: dict[str, dict] = {
    "smoke": dict(
        seeds=(0,), triples=BALANCED_TRIPLES[:3], max_steps=20, eval_limit=300, cross_fakes=300
    ),
    # 2 archs x the pilot's 8 triples at 150 steps (hands_on 0.13 epoch, brownlee 0.5),
    # evaluated at 0.02, 0.05 and 0.1 epoch and the final step, detectors on: under an hour
    # on 2 CPU cores (docs/pilot/README.md has the measured wall time).
    "pilot": dict(
        seeds=(0,),
        triples=PILOT_TRIPLES,
        max_steps=150,
        eval_limit=2000,
        cross_fakes=2000,
        eval_at=(0.02, 0.05, 0.1),
    ),
    # 2 archs x the first 10 balanced triples (every class held out 3 times) x seeds 0 and 1
    # at one epoch, evaluated at 0.05, 0.1, 0.25 and 0.5 epoch and the final step, 4,000 real
    # images per suite and 4,000 fakes per cross-evaluation, detectors on. One epoch is
    # 1,181 steps of hands_on and 295 of brownlee; docs/study-1epoch/README.md has the
    # measured cost of each trial and the wall time on 2 CPU cores.
    "study-1epoch": dict(
        seeds=(0, 1),
        triples=BALANCED_TRIPLES[:10],
        epochs=1,
        eval_limit=4000,
        cross_fakes=4000,
        eval_at=(0.05, 0.1, 0.25, 0.5),
    ),
}
"""Each preset's option values (`SweepOptions`' field names, typed values)."""


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python sweeps/all_triples.py",
        description="The main job: architectures x seeds x held-out triples on Ray Tune, "
        "then cross-evaluation and the dedicated detectors.",
        epilog="A preset fills the options you do not type; an option you type wins over "
        "the preset, whatever its value.",
    )
    add_options(p, SweepOptions)
    p.add_argument("--preset", choices=PRESETS, help="smoke: every phase in minutes on a CPU; "
                   "pilot: 150 steps on 8 triples (under an hour on 2 CPU cores); "
                   "study-1epoch: the study of docs/study-1epoch, 1 epoch on 10 balanced "
                   "triples x 2 seeds (hours on 2 CPU cores); it fills the options you do "
                   "not type "
                   "(default: none)")  # fmt: skip
    p.add_argument("--smoke", action="store_true", help="the same as --preset smoke")
    return p


def parse(argv: list[str] | None = None) -> SweepOptions:
    """The options of a sweep's command line, every value checked before any work; a bad
    value is one `UserError` line (or argparse's) naming the option."""
    namespace = build_parser().parse_args(argv)
    preset = namespace.preset if "preset" in namespace else None
    if getattr(namespace, "smoke", False):
        if preset not in (None, "smoke"):
            raise UserError(f"--smoke is --preset smoke: give one preset, not also {preset}")
        preset = "smoke"
    opts = from_namespace(SweepOptions, namespace, **PRESETS.get(preset, {}))
    if opts.mlflow and importlib.util.find_spec("mlflow") is None:
        raise UserError(
            f"--mlflow {opts.mlflow}: MLflow is not installed; pip install 'fakedet[mlflow]'"
        )
    if (opts.address or os.environ.get("RAY_ADDRESS")) and (
        opts.num_cpus is not None or opts.num_gpus is not None
    ):
        raise UserError(
            "--num-cpus and --num-gpus size a local Ray; a cluster (--address or "
            "$RAY_ADDRESS) has the resources its nodes declare"
        )
    if "://" not in opts.results and (problem := writable_dir(opts.results)):
        raise UserError(f"--results {opts.results}: cannot write results there ({problem})")
    return opts
