"""One trial: train a DCGAN on 7 classes, evaluate its discriminator as a fake detector.

    python -m fakedet.trial --arch brownlee --held-out 0,6,9 --seed 0 --results results/

A trial is (architecture, seed, held-out triple, protocol, training budget); its key is a
deterministic string of those, so results can be deduplicated and resumed by key. It
writes its metrics (tidy rows, see `fakedet.schema`), per-image scores, weights, an 8x8
sample grid and its history under the results root; the metrics file comes last and marks
the trial complete.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import fakedet
from fakedet import evaluate
from fakedet.data import FashionMNIST
from fakedet.errors import UserError
from fakedet.models import Recipe, get_arch
from fakedet.protocol import check_protocol, make_split, parse_triple, triple_str
from fakedet.schema import METRICS_SCHEMA, SCORES_SCHEMA, to_table
from fakedet.store import ResultsStore
from fakedet.train import pick_device, train

SAMPLE_NOISE_SEED = 0  # the fixed noise of every sample grid
EVAL_NOISE_OFFSET = 1_000_003  # evaluation fakes use noise seeded apart from training's


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

    @property
    def key(self) -> str:
        """arch_s<seed>_h<triple>_<protocol>_<hash of recipe and budget>."""
        budget = json.dumps(
            [dataclasses.asdict(self.recipe), self.max_steps, self.eval_limit], sort_keys=True
        )
        digest = hashlib.sha1(budget.encode()).hexdigest()[:8]
        return f"{self.arch}_s{self.seed}_h{triple_str(self.heldout)}_{self.protocol}_{digest}"

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["heldout"] = list(self.heldout)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrialConfig:
        return cls(**{**d, "heldout": tuple(d["heldout"]), "recipe": Recipe(**d["recipe"])})


def make_config(
    arch: str,
    seed: int,
    heldout,
    protocol: str = "seed",
    overrides: dict | None = None,
    epochs: int | None = None,
    max_steps: int | None = None,
    eval_limit: int | None = None,
) -> TrialConfig:
    """Validate user input into a `TrialConfig`; bad input raises `UserError`."""
    spec = get_arch(arch)
    if not isinstance(seed, int) or seed < 0:
        raise UserError(f"seed must be a non-negative integer, got {seed!r}")
    overrides = dict(overrides or {})
    if epochs is not None:
        overrides["epochs"] = epochs
    for name, value in (("max_steps", max_steps), ("eval_limit", eval_limit)):
        if value is not None and value < 1:
            raise UserError(f"{name} must be >= 1, got {value}")
    return TrialConfig(
        arch=arch,
        seed=seed,
        heldout=parse_triple(heldout),
        protocol=check_protocol(protocol),
        recipe=spec.recipe.override(**overrides),
        max_steps=max_steps,
        eval_limit=eval_limit,
    )


@functools.cache
def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def save_state(store: ResultsStore, path: str, module: torch.nn.Module) -> None:
    buf = io.BytesIO()
    torch.save({k: v.cpu() for k, v in module.state_dict().items()}, buf)
    store.write_bytes(path, buf.getvalue())


def load_networks(store: ResultsStore, cfg: TrialConfig, device: torch.device):
    """(G, D) of a finished trial, in eval mode, on `device`."""
    from fakedet.models import build

    G, D = build(get_arch(cfg.arch), cfg.recipe)
    for module, name in ((G, "generator.pt"), (D, "discriminator.pt")):
        state = torch.load(
            io.BytesIO(store.read_bytes(store.trial_path(cfg.key, name))),
            map_location="cpu",
            weights_only=True,
        )
        module.load_state_dict(state)
    return G.to(device).eval(), D.to(device).eval()


def sample_grid_png(G: torch.nn.Module, latent_dim: int) -> bytes:
    """An 8x8 PNG grid of samples from the fixed noise."""
    from torchvision.utils import make_grid, save_image

    z = torch.randn(64, latent_dim, generator=torch.Generator().manual_seed(SAMPLE_NOISE_SEED))
    device = next(G.parameters()).device
    with torch.inference_mode():
        images = G.eval()(z.to(device)).cpu()
    buf = io.BytesIO()
    save_image(make_grid(images, nrow=8, normalize=True, value_range=(-1, 1)), buf, format="png")
    return buf.getvalue()


def provenance(cfg: TrialConfig, device: torch.device, steps: int, n_train: int, seconds: float):
    per_epoch = cfg.recipe.steps_per_epoch(n_train)
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


def identity(cfg: TrialConfig) -> dict:
    return dict(
        trial_key=cfg.key,
        arch=cfg.arch,
        seed=cfg.seed,
        heldout=triple_str(cfg.heldout),
        protocol=cfg.protocol,
    )


def score_rows(cfg: TrialConfig, suite: str, generator_arch: str, scores, classes=None):
    n = len(scores)
    return dict(
        trial_key=[cfg.key] * n,
        arch=[cfg.arch] * n,
        protocol=[cfg.protocol] * n,
        suite=[suite] * n,
        generator_arch=[generator_arch] * n,
        class_id=[None] * n if classes is None else classes.astype(np.int8),
        score=scores.astype(np.float32),
    )


def scores_table(columns: list[dict]):
    import pyarrow as pa

    return pa.concat_tables(pa.table(c, schema=SCORES_SCHEMA) for c in columns)


TRIAL_FILES = ("generator.pt", "discriminator.pt", "samples.png", "history.json", "trial.json")


def trial_paths(store: ResultsStore, cfg: TrialConfig) -> list[str]:
    """Every file a trial writes."""
    return [
        *(store.trial_path(cfg.key, name) for name in TRIAL_FILES),
        store.scores_path(cfg.key, cfg.arch, cfg.protocol),
        store.metrics_path(cfg.key, cfg.arch, cfg.protocol),
    ]


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
        A summary: status ('done' or 'skipped'), key, steps, seconds, and the recall of
        each suite (at threshold 0.5) for a done trial.
    """
    if not force and store.is_complete(cfg.key, cfg.arch, cfg.protocol):
        return dict(status="skipped", key=cfg.key)
    store.remove_temporaries(*trial_paths(store, cfg))  # an earlier attempt died mid-write?
    t0 = time.perf_counter()
    device = pick_device(str(device) if device else None)
    split = make_split(data, cfg.heldout, cfg.seed, cfg.protocol)
    result = train(
        get_arch(cfg.arch), cfg.recipe, split.train_images, cfg.seed, device, cfg.max_steps, on_step
    )

    # evaluate: the trial's own fakes, as many as the real evaluation images
    lim = cfg.eval_limit
    held_x, held_y = split.real_heldout_images[:lim], split.real_heldout_labels[:lim]
    test_x, test_y = split.real_test_images[:lim], split.real_test_labels[:lim]
    fakes = evaluate.generate(
        result.generator,
        len(held_x) + len(test_x),
        EVAL_NOISE_OFFSET + cfg.seed,
        cfg.recipe.latent_dim,
        device,
    )
    s_fake = evaluate.score(result.discriminator, fakes)
    s_held = evaluate.score(result.discriminator, held_x)
    s_test = evaluate.score(result.discriminator, test_x)
    rows = evaluate.suite_rows(s_fake, s_held, held_y, s_test, test_y)

    # write: weights, samples, history, scores; the metrics file last marks completion
    seconds = time.perf_counter() - t0
    base = {
        **identity(cfg),
        "generator_arch": cfg.arch,
        **provenance(cfg, device, result.steps, len(split.train_images), seconds),
    }
    save_state(store, store.trial_path(cfg.key, "generator.pt"), result.generator)
    save_state(store, store.trial_path(cfg.key, "discriminator.pt"), result.discriminator)
    store.write_bytes(
        store.trial_path(cfg.key, "samples.png"),
        sample_grid_png(result.generator, cfg.recipe.latent_dim),
    )
    store.write_json(store.trial_path(cfg.key, "history.json"), result.history)
    store.write_json(
        store.trial_path(cfg.key, "trial.json"), {"config": cfg.to_dict(), "key": cfg.key, **base}
    )
    store.write_scores(
        scores_table(
            [
                score_rows(cfg, "own_fake", cfg.arch, s_fake),
                score_rows(cfg, "real_heldout", cfg.arch, s_held, held_y),
                score_rows(cfg, "real_test", cfg.arch, s_test, test_y),
            ]
        ),
        cfg.key,
        cfg.arch,
        cfg.protocol,
    )
    table = to_table([{**base, **r} for r in rows], METRICS_SCHEMA)
    store.write_metrics(table, cfg.key, cfg.arch, cfg.protocol)
    write_seconds = time.perf_counter() - t0 - seconds
    recalls = {r["suite"]: r["value"] for r in rows if r["metric"] == _recall_metric(r["suite"])}
    return dict(
        status="done",
        key=cfg.key,
        steps=result.steps,
        seconds=seconds,
        train_seconds=result.seconds,
        write_seconds=write_seconds,
        device=str(device),
        **{f"recall_{k}": v for k, v in recalls.items()},
    )


def _recall_metric(suite: str) -> str | None:
    return {
        "own_fake": "generated_recall",
        "cross_fake": "generated_recall",
        "real_heldout": "real_recall",
        "real_test": "real_recall",
        "overall": "accuracy",
    }.get(suite)


if __name__ == "__main__":
    from fakedet.cli import trial_main

    trial_main()
