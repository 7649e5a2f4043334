"""The discriminator as a detector: its fakes and its logits, on the device.

A detector's output for an image is a logit for "real"; its sigmoid is the probability
the report thresholds at 0.5. The metrics of those logits are in `fakedet.metrics`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from fakedet import metrics
from fakedet.schema import SUITES
from fakedet.train import to_unit_range

EVAL_BATCH = 2048


@torch.inference_mode()
def generate(
    G: nn.Module, n: int, seed: int, latent_dim: int, device: torch.device
) -> torch.Tensor:
    """(n, 1, 28, 28) fakes in [-1, 1] from noise drawn with `seed`, on `device`."""
    G.eval()
    rng = torch.Generator(device=device).manual_seed(seed)
    out = []
    for start in range(0, n, EVAL_BATCH):
        z = torch.randn(min(EVAL_BATCH, n - start), latent_dim, generator=rng, device=device)
        out.append(G(z))
    return torch.cat(out) if out else torch.empty(0, 1, 28, 28, device=device)


@torch.inference_mode()
def logits(D: nn.Module, images: torch.Tensor | np.ndarray) -> np.ndarray:
    """D's logit of "real" for each image.

    Args:
        D: a detector that outputs one logit per image, (N, 1).
        images: (N, 28, 28) uint8 (real images, scaled here) or (N, 1, 28, 28) float in
            [-1, 1] (fakes).

    Returns:
        (N,) float32 logits.
    """
    D.eval()
    device = next(D.parameters()).device
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    out = []
    for start in range(0, len(images), EVAL_BATCH):
        x = images[start : start + EVAL_BATCH].to(device)
        if x.dtype == torch.uint8:
            x = to_unit_range(x)
        out.append(D(x).squeeze(1).float().cpu())
    return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.float32)


def probability(logit: np.ndarray) -> np.ndarray:
    """The sigmoid of logits, as float32 (the stored `score`)."""
    return (1.0 / (1.0 + np.exp(-logit.astype(np.float64)))).astype(np.float32)


EVAL_NOISE_OFFSET = 1_000_003  # a trial's evaluation fakes: noise seeded apart from training's


@dataclass
class Evaluation:
    """A discriminator's logits on a trial's suites, at one checkpoint."""

    step: int
    epoch: float
    fake: np.ndarray
    """(F,) logits of the trial's own fakes."""
    heldout: np.ndarray
    """(H,) logits of the held-out classes' real images."""
    test: np.ndarray
    """(T,) logits of the seen classes' unseen real images."""

    def rows(self, heldout_classes: np.ndarray, test_classes: np.ndarray) -> list[dict]:
        rows = metrics.trial_rows(self.fake, self.heldout, heldout_classes, self.test, test_classes)
        return [{**r, "checkpoint_step": self.step, "checkpoint_epoch": self.epoch} for r in rows]


def evaluate_networks(
    G: nn.Module, D: nn.Module, seed: int, latent_dim: int, held_x, test_x, step: int, epoch: float
) -> Evaluation:
    """Score a trial's own fakes (as many as its real evaluation images, from noise seeded
    by the trial `seed`), the held-out reals and the seen-class test reals."""
    device = next(D.parameters()).device
    n = len(held_x) + len(test_x)
    fakes = generate(G, n, EVAL_NOISE_OFFSET + seed, latent_dim, device)
    return Evaluation(step, epoch, logits(D, fakes), logits(D, held_x), logits(D, test_x))


class Evaluator:
    """A trial's evaluation images (its split's, capped at `eval_limit`), and its
    discriminator's logits at each checkpoint, in order, with the time they took."""

    def __init__(self, cfg, split):
        lim = cfg.eval_limit
        self.seed, self.latent_dim = cfg.seed, cfg.recipe.latent_dim
        self.held_x, self.held_y = split.real_heldout_images[:lim], split.real_heldout_labels[:lim]
        self.test_x, self.test_y = split.real_test_images[:lim], split.real_test_labels[:lim]
        self.evaluations: list[Evaluation] = []
        self.seconds = 0.0

    def __call__(self, G: nn.Module, D: nn.Module, step: int, epoch: float) -> None:
        t = time.perf_counter()
        self.evaluations.append(
            evaluate_networks(
                G, D, self.seed, self.latent_dim, self.held_x, self.test_x, step, epoch
            )
        )
        self.seconds += time.perf_counter() - t

    def summary(self, key: str, steps: int, **timings) -> dict:
        """A done trial's summary: key, steps, checkpoints, `timings` (seconds, device,
        ...), and each suite's headline metric at the last checkpoint."""
        rows = self.evaluations[-1].rows(self.held_y, self.test_y)
        headline = {
            f"headline_{r['suite']}": r["value"]
            for r in rows
            if r["class_id"] is None and r["metric"] == SUITES[r["suite"]].headline
        }
        return dict(
            status="done", key=key, steps=steps, checkpoints=len(self.evaluations), **timings,
            **headline,
        )  # fmt: skip
