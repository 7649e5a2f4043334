"""The main job: architectures x seeds x held-out triples on Ray Tune, then cross-evaluation.

    python sweeps/all_triples.py                 # the study's 2 archs x 5 seeds x 120 triples
    python sweeps/all_triples.py --smoke         # a tiny budget on 3 triples, 1 seed (CPU)
    python sweeps/all_triples.py --preset study-1epoch  # 1 epoch, 10 balanced triples (CPU)
    python sweeps/all_triples.py --dry-run       # the plan, without running it
    python sweeps/all_triples.py --pack 8        # 8 trials of an arch per fused model
    ray job submit --address http://HEAD:8265 --working-dir . -- \
        python sweeps/all_triples.py --address auto --results s3://bucket/run

Rerunning the same command after an interruption finishes only what is missing.
Ray and torch load after the arguments are parsed, so `--help` answers at once; each
step that takes a while says so (a spinner on a terminal, a line in a log).
"""

from __future__ import annotations

import logging
import os
import sys

from rich.console import Console

from fakedet.config import DEFAULT_CROSS_FAKES, DEFAULT_MINUTES, Budget, add_budget_args
from fakedet.errors import ArgumentParser, UserError, exit_on_user_error
from fakedet.status import step
from sweeps import estimate
from sweeps.spec import (
    SweepSpec,
    cross_pairs,
    packs,
    parse_archs,
    parse_seeds,
    parse_triples,
)

PRESETS = {
    "smoke": dict(seeds="0", triples="3", max_steps=20, eval_limit=300, cross_fakes=300),
    # 2 archs x 8 triples at 150 steps (hands_on 0.13 epoch, brownlee 0.5), evaluated at
    # 0.02, 0.05 and 0.1 epoch and the final step, detectors on: about 40 minutes on
    # 2 CPU cores (docs/pilot/README.md has the measured wall time).
    "pilot": dict(
        seeds="0",
        triples="8",
        max_steps=150,
        eval_limit=2000,
        cross_fakes=2000,
        eval_at="0.02,0.05,0.1",
    ),
    # 2 archs x the first 10 balanced triples (every class held out 3 times) x seed 0 at
    # one epoch, evaluated at 0.05, 0.1, 0.25 and 0.5 epoch and the final step, 4,000 real
    # images per suite and 4,000 fakes per cross-evaluation, detectors on. One epoch is
    # 1,181 steps of hands_on and 295 of brownlee; docs/study-1epoch/README.md has the
    # measured cost of each trial and the wall time on 2 CPU cores.
    "study-1epoch": dict(
        seeds="0",
        triples="10",
        epochs=1,
        eval_limit=4000,
        cross_fakes=4000,
        eval_at="0.05,0.1,0.25,0.5",
    ),
}


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="python sweeps/all_triples.py", description=__doc__.split("\n")[0])
    arg = p.add_argument
    arg("--archs", default="hands_on,brownlee", help="comma-separated architectures")
    arg("--seeds", default="0-4", help="seeds: 0-4, 0,2,5 or 3")
    arg("--triples", default="all", help="all | 0,6,9;1,2,3 | N (N spread over all 120)")
    arg("--results", default="results", help="results root: a path or s3://bucket/prefix")
    arg("--address", help="join this Ray cluster: auto (the one running on this machine), "
        "host:port (default: $RAY_ADDRESS, else a new local Ray)")  # fmt: skip
    arg("--gpu-wait", type=float, default=600,
        help="when joining a cluster that shows no GPU (or no node that fits a trial) yet, "
        "wait this many seconds for workers to join")  # fmt: skip
    arg("--gpus-per-trial", type=float, default=0.25,
        help="GPU fraction per trial where the cluster has GPUs (0.25: 4 per card)")  # fmt: skip
    arg("--cpus-per-trial", type=float, default=1.0, help="CPUs per trial")
    arg("--pack", default="1", help="train up to K trials of one architecture as one fused "
        "model per Tune trial (fakedet/pack.py); 'auto': K from the committed GPU records "
        "for this GPU (bench/results/pack-cuda.json), else 1 (default: 1)")  # fmt: skip
    arg("--num-cpus", type=int, help="CPUs of the local Ray (default: all)")
    arg("--num-gpus", type=int, help="GPUs of the local Ray (default: detected)")
    arg("--cross-fakes", type=int, default=DEFAULT_CROSS_FAKES,
        help="fakes per cross-architecture evaluation")  # fmt: skip
    arg("--no-detector", action="store_true", help="skip the dedicated detector phase")
    arg("--max-failures", type=int, default=3, help="retries of a failed trial")
    arg("--checkpoint-minutes", type=float, default=DEFAULT_MINUTES,
        help="a trial saves its state at every evaluation and at least this often; a "
        "trial retried (or restored) resumes from it")  # fmt: skip
    arg("--mlflow", metavar="URI", help="also log every trial's parameters and curves to "
        "MLflow at URI, e.g. sqlite:///mlflow.db (pip install fakedet[mlflow]; default: none, "
        "no MLflow)")  # fmt: skip
    arg("--preset", choices=PRESETS, help="smoke: every phase in minutes on a CPU; pilot: "
        "150 steps on 8 triples (under an hour on 2 CPU cores); study-1epoch: the study of "
        "docs/study-1epoch, 1 epoch on 10 balanced triples (hours on 2 CPU cores); a preset "
        "fills the options left at their defaults (default: none)")  # fmt: skip
    arg("--smoke", action="store_true", help="the same as --preset smoke")
    arg("--dry-run", action="store_true", help="print the plan and exit")
    arg("--no-quality", action="store_true",
        help="skip the fakes' quality figures (a Fashion-MNIST classifier, trained once into "
        "the user cache)")  # fmt: skip
    add_budget_args(p)
    return p


def parse_args(argv: list[str] | None) -> tuple:
    """The arguments (a preset fills what the command line left at its default) and the
    sweep they describe."""
    parser = build_parser()
    args = parser.parse_args(argv)
    preset = "smoke" if args.smoke else args.preset
    for name, value in PRESETS.get(preset, {}).items():
        if getattr(args, name) == parser.get_default(name):
            setattr(args, name, value)
    if args.cross_fakes < 1 or args.max_failures < 0:
        raise UserError("--cross-fakes must be >= 1 and --max-failures >= 0")
    if args.checkpoint_minutes <= 0:
        raise UserError(f"--checkpoint-minutes {args.checkpoint_minutes:g}: must be > 0")
    if args.mlflow:
        from sweeps import run

        run.check_mlflow(args.mlflow)
    args.pack = parse_pack(args.pack)
    if args.gpus_per_trial < 0 or args.cpus_per_trial <= 0:
        raise UserError("--gpus-per-trial must be >= 0 and --cpus-per-trial > 0")
    if not args.no_detector and len(parse_archs(args.archs)) < 2:
        raise UserError(
            f"--archs {args.archs}: the detector phase trains on the generators of the other "
            "architectures and needs at least 2; add one or pass --no-detector"
        )
    spec = SweepSpec(
        archs=parse_archs(args.archs),
        seeds=parse_seeds(args.seeds),
        triples=parse_triples(args.triples),
        budget=Budget.from_args(args),
        cross_fakes=args.cross_fakes,
        detector=not args.no_detector,
    )
    return args, spec


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


def pack_sizes(pack: int | str, archs, resources: dict) -> tuple[dict[str, int], str]:
    """({arch: K}, how K was chosen) of `--pack`."""
    if pack != "auto":
        return dict.fromkeys(archs, pack), "--pack"
    name = None
    if resources["gpu"] > 0:
        import torch

        name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return estimate.auto_pack(name, archs)


class Inputs:
    """The dataset and the quality classifier, each loaded (and put in Ray's object store)
    once, only when a phase needs it."""

    def __init__(self, data_dir, quality: bool, console):
        self.data_dir, self.quality, self.console = data_dir, quality, console
        self._data = self._classifier = self._data_ref = self._classifier_ref = None

    def data(self):
        if self._data is None:
            from fakedet import data as fmnist

            self._data = fmnist.load(self.data_dir)
        return self._data

    def classifier(self) -> dict | None:
        """The classifier's state (`fakedet.quality.Classifier.state`), or None without
        quality figures: the user cache's, trained there on first use."""
        if self.quality and self._classifier is None:
            from fakedet import quality

            def training(message: str) -> None:
                self.console.print(f"training the Fashion-MNIST classifier for the fakes' "
                                   f"quality, once ({message})")  # fmt: skip

            self._classifier = quality.load_or_train(self.data(), on_train=training).state()
        return self._classifier

    def data_ref(self):
        if self._data_ref is None:
            import ray

            self._data_ref = ray.put(self.data())
        return self._data_ref

    def classifier_ref(self):
        state = self.classifier()
        if self._classifier_ref is None and state is not None:
            import ray

            self._classifier_ref = ray.put(state)
        return self._classifier_ref


@exit_on_user_error
def main(argv: list[str] | None = None) -> int:
    args, spec = parse_args(argv)
    trials = spec.trials()  # validates every trial before anything starts
    console = Console()
    with step(console, "loading Ray and torch"):
        import ray

        from fakedet.store import ResultsStore
        from sweeps import cluster, progress, run

    store = ResultsStore(args.results)
    where = args.address or os.environ.get("RAY_ADDRESS") or "a new local Ray"
    with step(console, f"connecting to {where}"):
        joined = cluster.connect(args.address, args.num_cpus, args.num_gpus) != "local"
    store.check_writable()
    resources = cluster.prepare(args, joined, console)
    with step(console, f"checking which of the {len(trials)} trials are complete"):
        done = {t.key for t in trials if store.is_complete(t)}
    todo = [t for t in trials if t.key not in done]
    console.print(progress.plan_table(spec, todo, len(trials), len(done), resources,
                                      cluster.resources()))  # fmt: skip
    sizes, why = pack_sizes(args.pack, spec.archs, resources)
    if max(sizes.values()) > 1:
        n_packs = len(packs(trials, sizes))
        per = ", ".join(f"{a} {k}" for a, k in sizes.items())
        console.print(f"packs: up to {per} trials per Tune trial ({why}); {n_packs} packs "
                      f"hold the {len(trials)} trials, {len(todo)} of them to run")  # fmt: skip
    elif args.pack == "auto":
        console.print(f"packs: {why}")
    if args.dry_run:
        with step(console, "stopping Ray" if not joined else "leaving the Ray cluster"):
            ray.shutdown()
        return 0

    status = progress.LiveStatus(len(trials), len(done))
    phases, errors = [], {}
    inputs = Inputs(args.data_dir, not args.no_quality, console)
    with progress.live(status, console):
        if todo:
            errors = run.train_all(
                spec, inputs.data(), store, resources, status, args.max_failures, console,
                sizes, inputs.classifier(), run.Live(args.checkpoint_minutes, args.mlflow),
            )  # fmt: skip
        complete = {t.key for t in trials if store.is_complete(t)}
        pairs = cross_pairs(trials, complete)
        refs = {}
        if any(not store.exists(store.metrics_path(d, g.arch)) for d, g in pairs):
            refs = dict(data_ref=inputs.data_ref(), classifier_ref=inputs.classifier_ref())
        cross = run.cross_all(pairs, store, spec.cross_fakes, resources, status, **refs)
        if spec.detector:
            detectors = run.detector_plan(spec, trials, complete)
            data_ref = None
            if any(not store.is_complete(d) for d in detectors):
                data_ref = inputs.data_ref()
            counts = run.detect_all(detectors, store, data_ref, resources, status)
            phases.append(("detectors", counts))

    failed = {
        t.key: errors.get(t.key, "no result written") for t in trials if t.key not in complete
    }
    rows = [("training", len(complete - done), len(done), len(failed)),
            ("cross-evaluation", cross[0], cross[1], len(cross[2]))]  # fmt: skip
    problems = {**failed, **cross[2]}
    for name, (n_done, n_skipped, phase_errors) in phases:
        rows.append((name, n_done, n_skipped, len(phase_errors)))
        problems.update(phase_errors)
    console.print()
    console.print(progress.summary_table(rows))
    for key, line in problems.items():
        console.print(f"[red]failed[/] {key}: {line}")
    console.print(f"results: {store.root}")
    with step(console, "stopping Ray" if not joined else "leaving the Ray cluster"):
        ray.shutdown()
    return 1 if problems else 0


if __name__ == "__main__":
    code = main()
    # Everything is written and Ray is stopped: skip the interpreter's teardown of torch and
    # Ray (several seconds of silence after the last line on 2 busy cores).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
