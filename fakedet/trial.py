"""One trial: train a DCGAN on 7 classes, evaluate its discriminator as a fake detector.

    python -m fakedet --arch brownlee --held-out 0,6,9 --seed 0 --results results/
    python -m fakedet.trial ...   # the same

A trial is (architecture, seed, held-out triple, protocol, training budget); its key is a
deterministic string of those, so results can be deduplicated and resumed by key. It
trains (`fakedet.train`), evaluates its discriminator at checkpoints along training and at
the end (`evaluate_trial`), then writes weights, an 8x8 sample grid, its history, the
per-image scores and the metric rows (`write_trial`); the metrics file comes last and
marks the trial complete.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch

import fakedet
from fakedet import evaluate, metrics
from fakedet.data import FashionMNIST
from fakedet.errors import ArgumentParser, UserError, exit_on_user_error, first_line
from fakedet.models import ARCHS, Recipe, build, get_arch
from fakedet.protocol import (
    PROTOCOLS,
    SEED_TRAIN_IMAGES,
    check_protocol,
    make_split,
    parse_triple,
    triple_str,
)
from fakedet.schema import SCORES_SCHEMA, SUITES, metric_table
from fakedet.store import ResultsStore
from fakedet.train import pick_device, total_steps, train

SAMPLE_NOISE_SEED = 0  # the fixed noise of every sample grid
EVAL_NOISE_OFFSET = 1_000_003  # evaluation fakes use noise seeded apart from training's
DEFAULT_EVAL_AT = (1, 2, 5, 10, 20, 50, 100)  # epochs; those inside the budget are used
MAX_SEED = 2**63 - 1
TRIAL_FILES = ("generator.pt", "discriminator.pt", "samples.png", "history.json", "trial.json")


@dataclass(frozen=True)
class TrialConfig:
    """Everything that defines a trial's result."""

    arch: str
    """Architecture name (see `fakedet.models.ARCHS`)."""
    seed: int
    """Trial seed: the data split (with the triple) and all training randomness."""
    heldout: tuple[int, int, int]
    """The 3 held-out classes, sorted."""
    protocol: str = "seed"
    """'seed' (the report's split of the training set) or 'official'."""
    recipe: Recipe = dataclasses.field(default_factory=Recipe)
    """The effective training recipe (the arch's, with any overrides)."""
    max_steps: int | None = None
    """Stop training after this many steps."""
    eval_limit: int | None = None
    """Cap on real images per suite (and hence fakes), for quick runs."""
    eval_at: tuple[float, ...] | None = None
    """Epochs at which to evaluate along training (None: the default ladder inside the
    budget; (): the final step only). Not part of the key: it adds rows, it changes none."""

    @property
    def key(self) -> str:
        """arch_s<seed>_h<triple>_<protocol>_<hash of recipe and budget>."""
        budget = json.dumps(
            [dataclasses.asdict(self.recipe), self.max_steps, self.eval_limit], sort_keys=True
        )
        digest = hashlib.sha1(budget.encode()).hexdigest()[:8]
        return f"{self.arch}_s{self.seed}_h{triple_str(self.heldout)}_{self.protocol}_{digest}"

    def steps_per_epoch(self, n_train: int) -> int:
        return self.recipe.steps_per_epoch(n_train)

    def checkpoint_steps(self, n_train: int) -> dict[int, float]:
        """{step: epoch} of the checkpoints before the final step."""
        per_epoch, total = (
            self.steps_per_epoch(n_train),
            total_steps(self.recipe, n_train, self.max_steps),
        )
        epochs = DEFAULT_EVAL_AT if self.eval_at is None else self.eval_at
        steps = {round(e * per_epoch): e for e in epochs}
        return {s: e for s, e in sorted(steps.items()) if 0 < s < total}

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["heldout"] = list(self.heldout)
        d["eval_at"] = None if self.eval_at is None else list(self.eval_at)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrialConfig:
        eval_at = d.get("eval_at")
        return cls(
            **{
                **d,
                "heldout": tuple(d["heldout"]),
                "recipe": Recipe(**d["recipe"]),
                "eval_at": None if eval_at is None else tuple(eval_at),
            }
        )


def parse_eval_at(text: str | None) -> tuple[float, ...] | None:
    """'--eval-at' -> epochs: None (default ladder), 'none' -> (), '0.5,1,2' -> (0.5, 1, 2)."""
    if text is None or text == "default":
        return None
    if text.strip() == "none":
        return ()
    try:
        epochs = tuple(sorted({float(e) for e in text.split(",") if e.strip()}))
    except ValueError:
        raise UserError(f"--eval-at {text!r}: expected epochs such as 1,2,5 or 'none'") from None
    if not epochs or min(epochs) <= 0:
        raise UserError(f"--eval-at {text!r}: epochs must be positive, e.g. 0.5,1,2")
    return epochs


def make_config(
    arch: str,
    seed: int,
    heldout,
    protocol: str = "seed",
    overrides: dict | None = None,
    epochs: int | None = None,
    max_steps: int | None = None,
    eval_limit: int | None = None,
    eval_at: tuple[float, ...] | None = None,
    n_train: int | None = None,
) -> TrialConfig:
    """Validate user input into a `TrialConfig`; bad input raises `UserError`.

    `n_train` (training images; default: protocol `seed`'s) is used to check that every
    `eval_at` epoch falls inside the budget.
    """
    spec = get_arch(arch)
    if not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise UserError(f"seed must be an integer in 0..{MAX_SEED}, got {seed!r}")
    overrides = dict(overrides or {})
    if epochs is not None:
        overrides["epochs"] = epochs
    for name, value in (("max_steps", max_steps), ("eval_limit", eval_limit)):
        if value is not None and value < 1:
            raise UserError(f"{name} must be >= 1, got {value}")
    cfg = TrialConfig(
        arch=arch,
        seed=seed,
        heldout=parse_triple(heldout),
        protocol=check_protocol(protocol),
        recipe=spec.recipe.override(**overrides),
        max_steps=max_steps,
        eval_limit=eval_limit,
        eval_at=eval_at,
    )
    if eval_at:
        n = n_train or SEED_TRAIN_IMAGES
        total = total_steps(cfg.recipe, n, max_steps)
        budget = total / cfg.steps_per_epoch(n)
        if max(eval_at) > budget:
            raise UserError(
                f"--eval-at {max(eval_at):g} is beyond the budget of {cfg.arch} "
                f"({budget:.3g} epochs, {total} steps)"
            )
    return cfg


# --- evaluate ------------------------------------------------------------------------------
@dataclass
class Evaluation:
    """A detector's logits on a trial's suites, at one checkpoint."""

    step: int
    epoch: float
    fake: np.ndarray
    heldout: np.ndarray
    test: np.ndarray

    def rows(self, heldout_classes: np.ndarray, test_classes: np.ndarray) -> list[dict]:
        rows = metrics.trial_rows(self.fake, self.heldout, heldout_classes, self.test, test_classes)
        return [{**r, "checkpoint_step": self.step, "checkpoint_epoch": self.epoch} for r in rows]


def evaluate_networks(cfg: TrialConfig, G, D, held_x, test_x, step: int, epoch: float):
    """Score the trial's own fakes (as many as its real evaluation images), the held-out
    reals and the seen-class test reals."""
    device = next(D.parameters()).device
    n = len(held_x) + len(test_x)
    fakes = evaluate.generate(G, n, EVAL_NOISE_OFFSET + cfg.seed, cfg.recipe.latent_dim, device)
    return Evaluation(
        step,
        epoch,
        evaluate.logits(D, fakes),
        evaluate.logits(D, held_x),
        evaluate.logits(D, test_x),
    )


# --- write ---------------------------------------------------------------------------------
@functools.cache
def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
            capture_output=True, text=True, timeout=5,
        )  # fmt: skip
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def identity(cfg: TrialConfig) -> dict:
    """The columns that name a trial in every row it writes."""
    heldout = triple_str(cfg.heldout)
    return dict(
        trial_key=cfg.key, arch=cfg.arch, seed=cfg.seed, heldout=heldout, protocol=cfg.protocol
    )


def provenance(cfg: TrialConfig, device, steps: int, n_train: int, seconds: float) -> dict:
    per_epoch = cfg.steps_per_epoch(n_train)
    return dict(
        fakedet_version=fakedet.__version__,
        git_commit=git_commit(),
        torch_version=torch.__version__,
        device=str(device),
        precision=cfg.recipe.precision,
        epochs=steps / per_epoch if per_epoch else 0.0,
        steps=steps,
        wall_seconds=seconds,
        recipe=json.dumps(dataclasses.asdict(cfg.recipe), sort_keys=True),
    )


def score_columns(cfg, suite: str, generator_arch: str, logits, classes=None, step=None) -> dict:
    """Per-image score rows of one suite, as columns of SCORES_SCHEMA."""
    n = len(logits)
    return dict(
        trial_key=[cfg.key] * n,
        arch=[cfg.arch] * n,
        protocol=[cfg.protocol] * n,
        suite=[suite] * n,
        generator_arch=[generator_arch] * n,
        class_id=[None] * n if classes is None else classes.astype(np.int8),
        score=evaluate.probability(logits),
        logit=logits.astype(np.float32),
        checkpoint_step=[step] * n,
    )


def scores_table(columns: list[dict]) -> pa.Table:
    return pa.concat_tables(pa.table(c, schema=SCORES_SCHEMA) for c in columns)


def network_bytes(module: torch.nn.Module) -> bytes:
    buf = io.BytesIO()
    torch.save({k: v.cpu() for k, v in module.state_dict().items()}, buf)
    return buf.getvalue()


def load_networks(store: ResultsStore, cfg: TrialConfig, device: torch.device):
    """(G, D) of a finished trial, in eval mode, on `device`."""
    G, D = build(get_arch(cfg.arch), cfg.recipe)
    for module, name in ((G, "generator.pt"), (D, "discriminator.pt")):
        state = torch.load(
            io.BytesIO(store.read_bytes(store.trial_path(cfg, name))),
            map_location="cpu",
            weights_only=True,
        )
        module.load_state_dict(state)
    return G.to(device).eval(), D.to(device).eval()


def sample_grid_png(G: torch.nn.Module, latent_dim: int) -> bytes:
    """An 8x8 PNG grid of samples from the fixed noise."""
    from torchvision.utils import make_grid, save_image

    z = torch.randn(64, latent_dim, generator=torch.Generator().manual_seed(SAMPLE_NOISE_SEED))
    with torch.inference_mode():
        images = G.eval()(z.to(next(G.parameters()).device)).cpu()
    buf = io.BytesIO()
    save_image(make_grid(images, nrow=8, normalize=True, value_range=(-1, 1)), buf, format="png")
    return buf.getvalue()


def trial_paths(store: ResultsStore, cfg: TrialConfig) -> list[str]:
    """Every file a trial writes."""
    return [
        *(store.trial_path(cfg, name) for name in TRIAL_FILES),
        store.scores_path(cfg),
        store.metrics_path(cfg),
    ]


def write_trial(store, cfg, result, evaluations: list[Evaluation], held_y, test_y, base) -> None:
    """Weights, samples, history and config, then scores; the metrics file last."""
    store.write_bytes(store.trial_path(cfg, "generator.pt"), network_bytes(result.generator))
    store.write_bytes(
        store.trial_path(cfg, "discriminator.pt"), network_bytes(result.discriminator)
    )
    png = sample_grid_png(result.generator, cfg.recipe.latent_dim)
    store.write_bytes(store.trial_path(cfg, "samples.png"), png)
    store.write_json(store.trial_path(cfg, "history.json"), result.history)
    trial_json = {"config": cfg.to_dict(), "key": cfg.key, **base}
    store.write_json(store.trial_path(cfg, "trial.json"), trial_json)
    columns = []
    for e in evaluations:
        columns += [
            score_columns(cfg, "own_fake", cfg.arch, e.fake, step=e.step),
            score_columns(cfg, "real_heldout", cfg.arch, e.heldout, held_y, e.step),
            score_columns(cfg, "real_test", cfg.arch, e.test, test_y, e.step),
        ]
    store.write_scores(scores_table(columns), cfg)
    rows = [r for e in evaluations for r in e.rows(held_y, test_y)]
    store.write_metrics(metric_table(rows, {**base, "generator_arch": cfg.arch}), cfg)


# --- run -----------------------------------------------------------------------------------
def run_trial(
    cfg: TrialConfig,
    data: FashionMNIST,
    store: ResultsStore,
    device: str | torch.device | None = None,
    force: bool = False,
    on_step: Callable[[int, int], None] | None = None,
) -> dict:
    """Run one trial and write its results; skip it when its results exist (unless `force`).

    Returns:
        A summary: status ('done' or 'skipped'), key, steps, seconds, and each suite's
        headline value at the final checkpoint for a done trial.
    """
    if not force and store.is_complete(cfg):
        return dict(status="skipped", key=cfg.key)
    store.remove_temporaries(*trial_paths(store, cfg))  # an earlier attempt died mid-write?
    t0 = time.perf_counter()
    device = pick_device(str(device) if device else None)
    split = make_split(data, cfg.heldout, cfg.seed, cfg.protocol)
    lim = cfg.eval_limit
    held_x, held_y = split.real_heldout_images[:lim], split.real_heldout_labels[:lim]
    test_x, test_y = split.real_test_images[:lim], split.real_test_labels[:lim]
    n_train, per_epoch = len(split.train_images), cfg.steps_per_epoch(len(split.train_images))
    checkpoints = cfg.checkpoint_steps(n_train)
    evaluations: list[Evaluation] = []
    eval_seconds = 0.0

    def on_checkpoint(step: int, G, D) -> None:
        nonlocal eval_seconds
        t = time.perf_counter()
        evaluations.append(evaluate_networks(cfg, G, D, held_x, test_x, step, checkpoints[step]))
        eval_seconds += time.perf_counter() - t

    arch = get_arch(cfg.arch)
    result = train(
        arch, cfg.recipe, split.train_images, cfg.seed, device, cfg.max_steps, on_step,
        checkpoint_steps=checkpoints, on_checkpoint=on_checkpoint,
    )  # fmt: skip
    final_epoch = result.steps / per_epoch if per_epoch else 0.0
    G, D = result.generator, result.discriminator
    during_training, t = eval_seconds, time.perf_counter()
    evaluations.append(evaluate_networks(cfg, G, D, held_x, test_x, result.steps, final_epoch))
    eval_seconds += time.perf_counter() - t

    seconds = time.perf_counter() - t0
    base = {**identity(cfg), **provenance(cfg, device, result.steps, n_train, seconds)}
    write_trial(store, cfg, result, evaluations, held_y, test_y, base)
    final = evaluations[-1].rows(held_y, test_y)
    headline = {
        r["suite"]: r["value"]
        for r in final
        if r["class_id"] is None and r["metric"] == SUITES[r["suite"]].headline
    }
    return dict(
        status="done",
        key=cfg.key,
        steps=result.steps,
        checkpoints=len(evaluations),
        seconds=seconds,
        train_seconds=result.seconds - during_training,
        eval_seconds=eval_seconds,
        write_seconds=time.perf_counter() - t0 - seconds,
        device=str(device),
        **{f"headline_{suite}": v for suite, v in headline.items()},
    )


# --- command line --------------------------------------------------------------------------
def parse_overrides(pairs: list[str]) -> dict[str, str]:
    """['lr_d=1e-4', 'batch_size=64'] -> {'lr_d': '1e-4', 'batch_size': '64'}."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UserError(f"--set takes FIELD=VALUE, got {pair!r}")
        out[name.strip()] = value.strip()
    return out


def add_budget_args(parser: ArgumentParser) -> None:
    """Arguments shared by the trial and the sweep."""
    arg = parser.add_argument
    arg("--protocol", default="seed", choices=PROTOCOLS,
        help="data protocol: 'seed' (the report's) or 'official'")  # fmt: skip
    arg("--epochs", type=int, help="override the recipe's epochs")
    arg("--max-steps", type=int, help="stop training after this many steps")
    arg("--eval-limit", type=int, help="cap real images per evaluation suite (quick runs)")
    arg(
        "--eval-at",
        help="epochs at which to evaluate along training, e.g. 0.5,1,2 ('none': the final "
        f"step only; default: {','.join(map(str, DEFAULT_EVAL_AT))} inside the budget)",
    )
    arg("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
        help="override a recipe field (repeatable)")  # fmt: skip
    arg(
        "--data-dir",
        help="directory of the four Fashion-MNIST IDX files (default: $FAKEDET_DATA_DIR, "
        "~/.cache/fakedet, Debian's package, else download)",
    )


def check_device(name: str | None) -> torch.device:
    """The device a user asked for, or one clear error."""
    try:
        device = pick_device(name)
        torch.empty(0, device=device)
    except (RuntimeError, AssertionError) as e:
        raise UserError(f"--device {name}: not usable here ({first_line(e)})") from None
    return device


def build_parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="python -m fakedet",
        description="Train one DCGAN on 7 Fashion-MNIST classes and evaluate its "
        "discriminator as a fake-image detector.",
    )
    p.add_argument("--arch", default="brownlee", help=f"architecture: {', '.join(ARCHS)}")
    p.add_argument("--held-out", default="0,6,9", help="3 held-out class ids, e.g. 0,6,9")
    p.add_argument("--seed", type=int, default=0, help="trial seed (split and training)")
    p.add_argument("--results", default="results", help="results root: a path or a URI (s3://)")
    p.add_argument("--device", help="cpu, cuda, cuda:1 (default: CUDA when visible)")
    p.add_argument("--force", action="store_true", help="rerun even if results exist")
    add_budget_args(p)
    return p


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    from fakedet import console
    from fakedet import data as fmnist

    args = build_parser().parse_args(argv)
    cfg = make_config(
        args.arch, args.seed, args.held_out, args.protocol, parse_overrides(args.overrides),
        args.epochs, args.max_steps, args.eval_limit, parse_eval_at(args.eval_at),
    )  # fmt: skip
    device = check_device(args.device)
    store = ResultsStore(args.results)
    store.check_writable()
    out = console.Console()
    if store.is_complete(cfg) and not args.force:
        out.print(f"[yellow]skipped[/] {cfg.key}: results exist (use --force to rerun)")
    else:
        dataset = fmnist.load(args.data_dir)
        with console.training_progress(out, f"training {cfg.key}") as on_step:
            summary = run_trial(cfg, dataset, store, device, args.force, on_step)
        out.print(console.done_line(summary, store.root))
    out.print(console.trial_tables(store.read_table(store.metrics_path(cfg)).to_pandas()))


if __name__ == "__main__":
    sys.exit(main())
