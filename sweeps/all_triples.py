"""The main job: architectures x seeds x held-out triples on Ray Tune, then cross-evaluation.

    python sweeps/all_triples.py                 # the study's 2 archs x 5 seeds x 120 triples
    python sweeps/all_triples.py --smoke         # a tiny budget on 3 triples, 1 seed (CPU)
    python sweeps/all_triples.py --preset study-1epoch  # 1 epoch, 10 balanced triples x 2 seeds
    python sweeps/all_triples.py --dry-run       # the plan, without running it
    python sweeps/all_triples.py --pack 8        # 8 trials of an arch per fused model
    ray job submit --address http://HEAD:8265 --working-dir . -- \
        python sweeps/all_triples.py --address auto --results s3://bucket/run

Rerunning the same command after an interruption finishes only what is missing.
Ray and torch load after the arguments are parsed, so `--help` answers at once; each
step that takes a while says so (a spinner on a terminal, a line in a log). The options
are one dataclass (`sweeps.options.SweepOptions`); a preset fills the options you do not
type, and an option you type wins over it, whatever its value.
"""

from __future__ import annotations

import logging
import os
import sys

from rich.console import Console

from fakedet.errors import exit_on_user_error
from fakedet.status import step
from sweeps import estimate
from sweeps.options import PRESETS, build_parser, parse  # noqa: F401 (the command's)
from sweeps.spec import cross_pairs, packs, same_data_groups


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
    opts = parse(argv)
    spec = opts.spec
    trials = spec.trials()  # validates every trial before anything starts
    console = Console()
    with step(console, "loading Ray and torch"):
        import ray

        from fakedet.store import ResultsStore
        from sweeps import cluster, progress, run

    store = ResultsStore(opts.results)
    where = opts.address or os.environ.get("RAY_ADDRESS") or "a new local Ray"
    with step(console, f"connecting to {where}"):
        joined = cluster.connect(opts.address, opts.num_cpus, opts.num_gpus) != "local"
    store.check_writable()  # a remote root (s3://) is probed here, once Ray is up
    resources = cluster.prepare(
        opts.cpus_per_trial, opts.gpus_per_trial, opts.gpu_wait, joined, console, opts.dry_run
    )
    with step(console, f"checking which of the {len(trials)} trials are complete"):
        done = {t.key for t in trials if store.is_complete(t)}
    todo = [t for t in trials if t.key not in done]
    console.print(progress.plan_table(spec, todo, len(trials), len(done), resources,
                                      cluster.resources()))  # fmt: skip
    sizes, why = pack_sizes(opts.pack, spec.archs, resources)
    packed = packs(trials, sizes) if max(sizes.values()) > 1 else None
    if packed:
        n_packs = len(packed)
        per = ", ".join(f"{a} {k}" for a, k in sizes.items())
        console.print(f"packs: up to {per} trials per Tune trial ({why}); {n_packs} packs "
                      f"hold the {len(trials)} trials, {len(todo)} of them to run")  # fmt: skip
    elif opts.pack == "auto":
        console.print(f"packs: {why}")
    if opts.dry_run:
        with step(console, "stopping Ray" if not joined else "leaving the Ray cluster"):
            ray.shutdown()
        return 0

    status = progress.LiveStatus(len(trials), len(done))
    phases, errors = [], {}
    inputs = Inputs(opts.data_dir, opts.quality, console)
    with progress.live(status, console):
        if todo:
            errors = run.train_all(
                spec, inputs.data(), store, resources, status, opts.max_failures, console,
                sizes, inputs.classifier(), run.Live(opts.checkpoint_minutes, opts.mlflow),
                packed,
            )  # fmt: skip
        complete = {t.key for t in trials if store.is_complete(t)}
        groups = same_data_groups(trials, complete)  # what phases 2 and 3 run on
        pairs = cross_pairs(groups)
        refs = {}
        if any(not store.exists(store.metrics_path(d, g.arch)) for d, g in pairs):
            refs = dict(data_ref=inputs.data_ref(), classifier_ref=inputs.classifier_ref())
        cross = run.cross_all(pairs, store, spec.cross_fakes, resources, status, **refs)
        if spec.detector:
            detectors = run.detector_plan(spec, groups)
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
