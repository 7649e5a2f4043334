"""What a trial writes, built in memory: identity, provenance, tables, networks, samples.

Every result of the project is a `fakedet.store.Record` (files in the trial's directory,
per-image scores, metric rows) that `ResultsStore.write_record` writes with the metrics
file last. Three kinds of trial produce one, through the functions here:

    trial_record     a GAN trial: both networks, an 8x8 sample grid, its history and
                     trial.json, the scores and metric rows of every checkpoint
    cross_record     a discriminator on another architecture's fakes (suite cross_fake)
    detector_record  a dedicated detector: its network and trial.json, its scores and rows

`load_networks` reads a GAN trial's networks back (cross-evaluation, detectors).
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch

import fakedet
from fakedet.config import TrialConfig
from fakedet.evaluate import Evaluation, probability
from fakedet.models import build, get_arch
from fakedet.protocol import triple_str
from fakedet.schema import SCORES_SCHEMA, SUITES, metric_table
from fakedet.store import Record, ResultsStore, Trial
from fakedet.train import TrainResult

SAMPLE_NOISE_SEED = 0  # the fixed noise of every sample grid
TRIAL_FILES = ("generator.pt", "discriminator.pt", "samples.png", "history.json", "trial.json")
DETECTOR_FILES = ("detector.pt", "trial.json")


# --- identity and provenance ---------------------------------------------------------------
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


def identity(trial: Trial) -> dict:
    """The columns that name a trial in every row it writes."""
    heldout = triple_str(trial.heldout)
    return dict(
        trial_key=trial.key, arch=trial.arch, seed=trial.seed, heldout=heldout,
        protocol=trial.protocol,
    )  # fmt: skip


def software() -> dict:
    """The code that produced a result."""
    version = fakedet.__version__
    return dict(fakedet_version=version, git_commit=git_commit(), torch_version=torch.__version__)


@dataclass(frozen=True)
class Run:
    """Where and how long a GAN trial ran."""

    device: str
    n_train: int
    """Training images (epochs are steps over steps per epoch of these)."""
    seconds: float
    """Wall time of training and evaluation."""


def provenance(cfg: TrialConfig, device, steps: int, n_train: int, seconds: float) -> dict:
    """A GAN trial's provenance columns: software, device, precision, budget, wall time."""
    per_epoch = cfg.steps_per_epoch(n_train)
    return dict(
        **software(),
        device=str(device),
        precision=cfg.recipe.precision,
        epochs=steps / per_epoch if per_epoch else 0.0,
        steps=steps,
        wall_seconds=seconds,
        recipe=json.dumps(dataclasses.asdict(cfg.recipe), sort_keys=True),
    )


# --- tables and files ------------------------------------------------------------------------
def score_columns(trial: Trial, suite: str, generator_arch: str, logits, classes=None, step=None):
    """Per-image score rows of one suite, as columns of SCORES_SCHEMA."""
    n = len(logits)
    return dict(
        trial_key=[trial.key] * n,
        arch=[trial.arch] * n,
        protocol=[trial.protocol] * n,
        suite=[suite] * n,
        generator_arch=[generator_arch] * n,
        class_id=[None] * n if classes is None else classes.astype(np.int8),
        score=probability(logits),
        logit=logits.astype(np.float32),
        checkpoint_step=[step] * n,
    )


def scores_table(columns: list[dict]) -> pa.Table:
    return pa.concat_tables(pa.table(c, schema=SCORES_SCHEMA) for c in columns)


def network_bytes(module: torch.nn.Module) -> bytes:
    buf = io.BytesIO()
    torch.save({k: v.cpu() for k, v in module.state_dict().items()}, buf)
    return buf.getvalue()


def sample_grid_png(G: torch.nn.Module, latent_dim: int) -> bytes:
    """An 8x8 PNG grid of samples from the fixed noise."""
    from torchvision.utils import make_grid, save_image

    z = torch.randn(64, latent_dim, generator=torch.Generator().manual_seed(SAMPLE_NOISE_SEED))
    with torch.inference_mode():
        images = G.eval()(z.to(next(G.parameters()).device)).cpu()
    buf = io.BytesIO()
    save_image(make_grid(images, nrow=8, normalize=True, value_range=(-1, 1)), buf, format="png")
    return buf.getvalue()


def load_networks(store: ResultsStore, cfg: TrialConfig, device: torch.device):
    """(G, D) of a finished GAN trial, in eval mode, on `device`."""
    G, D = build(get_arch(cfg.arch), cfg.recipe)
    for module, name in ((G, "generator.pt"), (D, "discriminator.pt")):
        state = torch.load(
            io.BytesIO(store.read_bytes(store.trial_path(cfg, name))),
            map_location="cpu",
            weights_only=True,
        )
        module.load_state_dict(state)
    return G.to(device).eval(), D.to(device).eval()


# --- the three records -----------------------------------------------------------------------
def trial_record(
    cfg: TrialConfig, result: TrainResult, run: Run, evaluations: list[Evaluation], held_y, test_y
) -> Record:
    """A GAN trial's record: networks, samples, history, config, then every checkpoint's
    scores and metric rows, each row with the trial's identity and provenance.

    Args:
        cfg: the trial.
        result: what training produced (networks, history, steps).
        run: where and how long it ran.
        evaluations: the discriminator's logits at each checkpoint, the final one last.
        held_y, test_y: (H,) and (T,) class ids of the evaluated real images.
    """
    base = {**identity(cfg), **provenance(cfg, run.device, result.steps, run.n_train, run.seconds)}
    G, D = result.generator, result.discriminator
    files = {
        "generator.pt": network_bytes(G),
        "discriminator.pt": network_bytes(D),
        "samples.png": sample_grid_png(G, cfg.recipe.latent_dim),
        "history.json": result.history,
        "trial.json": {"config": cfg.to_dict(), "key": cfg.key, **base},
    }
    columns = [
        score_columns(
            cfg, suite, cfg.arch, x, None if SUITES[suite].images == "fake" else c, e.step
        )
        for e in evaluations
        for suite, (x, c) in e.logits(held_y, test_y).items()
    ]
    rows = [r for e in evaluations for r in e.rows(held_y, test_y)]
    metrics = metric_table(rows, {**base, "generator_arch": cfg.arch})
    return Record(cfg, files, scores_table(columns), metrics)


def cross_record(
    detector: TrialConfig, generator_arch: str, fake_logits: dict, rows: list[dict], base: dict
) -> Record:
    """A discriminator's `cross_fake` record against `generator_arch`'s fakes ({suite:
    logits} of cross_fake and cross_fake_8bit); `base` holds the detector trial's identity
    and provenance with this evaluation's checkpoint."""
    step = base.get("checkpoint_step")
    columns = [
        score_columns(detector, suite, generator_arch, logits, step=step)
        for suite, logits in fake_logits.items()
    ]
    metrics = metric_table(rows, {**base, "generator_arch": generator_arch})
    return Record(detector, {}, scores_table(columns), metrics, generator_arch)


def detector_record(trial, network, info: dict, columns: list[dict], rows, base) -> Record:
    """A dedicated detector's record: its network and trial.json (`info` plus `base`), its
    scores (`score_columns` of each suite) and metric rows (each with its generator_arch)."""
    files = {"detector.pt": network_bytes(network), "trial.json": {**info, **base}}
    return Record(trial, files, scores_table(columns), metric_table(rows, base))
