"""One trial: train a DCGAN on 7 classes, evaluate its discriminator as a fake detector.

    python -m fakedet --arch brownlee --held-out 0,6,9 --seed 0 --results results/
    python -m fakedet.trial ...   # the same

A trial is (architecture, seed, held-out triple) and a budget (`fakedet.config`); its key
is a deterministic string of those, so results can be deduplicated and resumed by key. It
trains (`fakedet.train`), evaluates its discriminator at checkpoints along training and at
the end (`fakedet.evaluate.Evaluator`), and writes its record
(`fakedet.record.trial_record`): weights, an 8x8 sample grid, its history, the per-image
scores and the metric rows; the metrics file comes last and marks the trial complete
(`fakedet.gan_job`, the K = 1 case of a pack). It saves its training state along the way
(`fakedet.checkpoint`): run again after a kill, it resumes where the last save left it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fakedet import cost
from fakedet.config import (
    DATA_DIR_HELP,
    DEFAULT_MINUTES,
    MAX_SEED,
    Budget,
    TrialConfig,
    make_config,
)
from fakedet.errors import ArgumentParser, UserError, exit_on_user_error, first_line
from fakedet.options import (
    add_options,
    check_fields,
    finite_float,
    from_namespace,
    group,
    integer,
    option,
    positive,
)
from fakedet.protocol import SEED_TRAIN_IMAGES, parse_triple
from fakedet.recipe import RECIPES

if TYPE_CHECKING:  # torch loads inside the functions: `--help` answers before it
    import torch

    from fakedet.checkpoint import Sink
    from fakedet.data import FashionMNIST
    from fakedet.store import ResultsStore

QUICK_SECONDS = 600
"""A trial expected to train longer than this (or of unknown cost) needs `--yes`."""


# --- run -----------------------------------------------------------------------------------
def run_trial(
    cfg: TrialConfig,
    data: FashionMNIST,
    store: ResultsStore,
    device: str | torch.device | None = None,
    force: bool = False,
    on_step: Callable[[int, int], None] | None = None,
    classifier=None,
    sink: Sink | None = None,
    minutes: float = DEFAULT_MINUTES,
) -> dict:
    """Run one trial and write its results; skip it when its results exist (unless `force`).

    With a `classifier` (`fakedet.quality.Classifier`), every checkpoint also measures how
    good the fakes are (suite fake_quality); without one, those rows are absent. A killed
    trial run again resumes from its last checkpoint (`fakedet.checkpoint`: saved in
    `store` unless `sink` says otherwise, at every evaluation and at least every `minutes`).

    Returns:
        A summary: status ('done' or 'skipped'), key, steps, seconds, and each suite's
        headline value at the final checkpoint for a done trial.
    """
    from fakedet.gan_job import run_gan

    (summary,) = run_gan([cfg], data, store, device, force, on_step, classifier, sink, minutes)
    return summary


# --- command line --------------------------------------------------------------------------
def check_device(name: str | None) -> torch.device:
    """The device a user asked for, or one clear error."""
    import torch

    from fakedet.train import pick_device

    try:
        device = pick_device(name)
        torch.empty(0, device=device)
    except (RuntimeError, AssertionError) as e:
        raise UserError(f"--device {name}: not usable here ({first_line(e)})") from None
    return device


def expected_training(cfg: TrialConfig, device_type: str) -> tuple[float, str] | None:
    """(seconds, source) of training `cfg` at the committed benchmark record's speed for
    this kind of device (`fakedet.cost`), or None without a record for it. Evaluation and
    writing are not counted."""
    model = cost.device_cost(device_type)
    if model is None or cfg.arch not in model.ms_per_step:
        return None
    seconds = model.seconds(cfg.arch, cost.trial_steps(cfg))
    return seconds, f"{model.source}: {model.machine}, {model.date[:10]}"


def describe(cfg: TrialConfig, device_type: str) -> tuple[str, float | None]:
    """One line saying what the trial runs and its expected training time; the seconds."""
    steps = cost.trial_steps(cfg)
    epochs = steps / cfg.steps_per_epoch(SEED_TRAIN_IMAGES)
    line = f"about to run {cfg.key}: {steps:,} steps ({epochs:.3g} epochs) on {device_type}"
    expected = expected_training(cfg, device_type)
    if expected is None:
        return f"{line}; no benchmark record for {cfg.arch} on {device_type}", None
    seconds, source = expected
    return f"{line}, training about {_duration(seconds)} ({source})", seconds


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def _arch(text: str) -> str:
    if text not in RECIPES:
        raise UserError(f"unknown architecture {text!r}; valid: {', '.join(RECIPES)}")
    return text


def _seed(value) -> str | None:
    return None if 0 <= value <= MAX_SEED else f"must be an integer in 0..{MAX_SEED}"


@dataclass(frozen=True)
class TrialOptions:
    """The trial's command line: what to run (a config) and where, each option once."""

    arch: str = option("brownlee", f"architecture: {', '.join(RECIPES)}", parse=_arch)
    held_out: tuple[int, int, int] = option(
        (0, 6, 9), "3 held-out class ids, e.g. 0,6,9", parse=parse_triple
    )
    seed: int = option(0, "trial seed (split and training)", parse=integer, check=_seed)
    results: str = option("results", "results root: a path or a URI (s3://)")
    device: str | None = option(None, "cpu, cuda, cuda:1 (default: CUDA when visible)")
    force: bool = option(False, "rerun even if results exist")
    yes: bool = option(
        False, f"start a trial expected to train longer than {QUICK_SECONDS // 60} minutes"
    )
    quality: bool = option(
        True,
        "skip the fakes' quality figures (they need a Fashion-MNIST classifier, trained once "
        "into the user cache on first use)",
        flag="--no-quality",
    )
    checkpoint_minutes: float = option(
        DEFAULT_MINUTES,
        "save the training state at least this often (and at every evaluation); a killed "
        "trial run again resumes from it",
        parse=finite_float,
        check=positive,
    )
    budget: Budget = group(Budget)
    """The budget's options (`fakedet.config.Budget`)."""
    data_dir: str | None = option(None, DATA_DIR_HELP)

    def __post_init__(self):
        check_fields(self)

    def config(self) -> TrialConfig:
        """The trial these options run; a bad combination raises `UserError`."""
        return make_config(self.arch, self.seed, self.held_out, self.budget)


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m fakedet",
        description="Train one DCGAN on 7 Fashion-MNIST classes and evaluate its "
        "discriminator as a fake-image detector. It first says what it runs and how long "
        f"training takes at the committed benchmark's speed; a trial over {QUICK_SECONDS // 60} "
        "minutes (the recipes' full budgets: hours on a CPU) starts only with --yes. Quick "
        "runs: --epochs 1, --max-steps 200, --eval-limit 2000.",
    )
    add_options(p, TrialOptions)
    return p


def parse(argv: list[str] | None = None) -> tuple[TrialOptions, TrialConfig]:
    """The options of a command line and the trial they run, every value checked; a bad
    value is a `UserError` (or argparse's one line), before any work."""
    opts = from_namespace(TrialOptions, build_parser().parse_args(argv))
    return opts, opts.config()


def load_classifier(dataset, out):
    """The user cache's Fashion-MNIST classifier for the fakes' quality (trained on first
    use, with a status line while it trains)."""
    from fakedet import quality
    from fakedet.status import step

    def training(message: str) -> None:
        out.print(f"training the Fashion-MNIST classifier for the fakes' quality, once ({message})")

    with step(out, "loading the Fashion-MNIST classifier for the fakes' quality"):
        return quality.load_or_train(dataset, on_train=training)


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    from rich.console import Console

    from fakedet.status import step

    opts, cfg = parse(argv)
    out = Console()
    with step(out, "loading torch"):
        from fakedet import console
        from fakedet import data as fmnist
        from fakedet.store import ResultsStore

        device = check_device(opts.device)
    store = ResultsStore(opts.results)
    store.check_writable()  # the last check, before any work
    if store.is_complete(cfg) and not opts.force:
        out.print(f"[yellow]skipped[/] {cfg.key}: results exist (use --force to rerun)")
    else:
        line, seconds = describe(cfg, device.type)
        out.print(line, highlight=False)
        if not opts.yes and (seconds is None or seconds > QUICK_SECONDS):
            raise UserError(
                "not started: add --yes to run it, or shrink it (--epochs 1, --max-steps 200)"
            )
        with step(out, "loading Fashion-MNIST"):
            dataset = fmnist.load(opts.data_dir)
        classifier = load_classifier(dataset, out) if opts.quality else None
        with console.training_progress(out, f"training {cfg.key}") as on_step:
            summary = run_trial(
                cfg, dataset, store, device, opts.force, on_step, classifier,
                minutes=opts.checkpoint_minutes,
            )  # fmt: skip
        out.print(console.done_line(summary, store.root))
    out.print(console.trial_tables(store.read_table(store.metrics_path(cfg)).to_pandas()))


if __name__ == "__main__":
    sys.exit(main())
