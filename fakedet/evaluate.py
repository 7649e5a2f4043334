"""The discriminator as a detector: its fakes and its logits, on the device.

A detector's output for an image is a logit for "real"; its sigmoid is the probability
the report thresholds at 0.5. The metrics of those logits are in `fakedet.metrics`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from fakedet import metrics, streams, uploads
from fakedet.data import IMAGE_SHAPE
from fakedet.recipe import total_steps
from fakedet.schema import QUALITY, SUITES, eight_bit, transformed
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
    return torch.cat(out) if out else torch.empty(0, *IMAGE_SHAPE, device=device)


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


def real_classes(suite: str, held_y: np.ndarray, test_y: np.ndarray) -> np.ndarray | None:
    """The class ids of a suite's images: the held-out or seen-class reals' (also after an
    upload transform), None for fakes."""
    base = suite.split("@")[0]
    return {"real_heldout": held_y, "real_test": test_y}.get(base)


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
    uploads: dict[str, np.ndarray] = field(default_factory=dict)
    """{suite: logits} of the images as a marketplace receives them: own_fake_8bit at every
    checkpoint; own_fake@t, real_heldout@t, real_test@t per upload transform t at the final
    one (`fakedet.uploads`)."""
    quality: list[dict] = field(default_factory=list)
    """The fake_quality rows of this checkpoint's fakes (none without a classifier)."""

    def logits(self, held_y: np.ndarray, test_y: np.ndarray) -> dict[str, tuple]:
        """{suite: (logits, class ids)} of every suite scored, as `metrics.stored_logits`."""
        suites = {"own_fake": self.fake, "real_heldout": self.heldout, "real_test": self.test}
        suites.update(self.uploads)
        out = {}
        for suite, x in suites.items():
            classes = real_classes(suite, held_y, test_y)
            out[suite] = (x, np.full(len(x), -1) if classes is None else classes[: len(x)])
        return out

    def rows(self, heldout_classes: np.ndarray, test_classes: np.ndarray) -> list[dict]:
        rows = metrics.trial_rows(self.fake, self.heldout, heldout_classes, self.test, test_classes)
        rows += metrics.upload_rows(self.logits(heldout_classes, test_classes))
        rows += self.quality
        return [{**r, "checkpoint_step": self.step, "checkpoint_epoch": self.epoch} for r in rows]


UPLOAD_SAMPLES = 1000
"""Images per suite (fakes, held-out and seen-class reals) scored after each upload
transform: the first ones of each, so the cost stays small next to training."""


def upload_logits(D: nn.Module, fakes8: np.ndarray, held_x, test_x) -> dict[str, np.ndarray]:
    """{suite: logits} of the first `UPLOAD_SAMPLES` 8-bit fakes, held-out and seen-class
    reals after each upload transform."""
    n, out = UPLOAD_SAMPLES, {}
    suites = (("own_fake", fakes8), ("real_heldout", held_x), ("real_test", test_x))
    for name, transform in uploads.TRANSFORMS.items():
        for suite, images in suites:
            out[transformed(suite, name)] = logits(D, transform(np.asarray(images[:n])))
    return out


class Evaluator:
    """A trial's evaluation images (its split's, capped at `eval_limit`), and its
    discriminator's logits at each checkpoint, in order, with the time they took.

    Every checkpoint scores the trial's own fakes as floats and as 8-bit images; the final
    one also scores fakes and reals after each upload transform. With a `classifier`
    (`fakedet.quality`), every checkpoint also measures how good the fakes are.
    """

    def __init__(self, cfg, split, classifier=None):
        lim = cfg.eval_limit
        self.seed, self.latent_dim = cfg.seed, cfg.recipe.latent_dim
        self.held_x, self.held_y = split.real_heldout_images[:lim], split.real_heldout_labels[:lim]
        self.test_x, self.test_y = split.real_test_images[:lim], split.real_test_labels[:lim]
        self.final_step = total_steps(cfg.recipe, len(split.train_images), cfg.max_steps)
        self.heldout_classes = tuple(cfg.heldout)
        self.classifier = classifier
        self._floor: float | None = None
        self.evaluations: list[Evaluation] = []
        self.seconds = 0.0
        self.quality_seconds = 0.0

    def __call__(self, G: nn.Module, D: nn.Module, step: int, epoch: float) -> None:
        t = time.perf_counter()
        device = next(D.parameters()).device
        n = len(self.held_x) + len(self.test_x)
        fakes = generate(G, n, streams.EVAL_FAKES.seed(self.seed), self.latent_dim, device)
        e = Evaluation(
            step, epoch, logits(D, fakes), logits(D, self.held_x), logits(D, self.test_x)
        )
        floats = fakes.cpu().numpy()
        fakes8 = uploads.to_8bit(floats)
        e.uploads[eight_bit("own_fake")] = logits(D, fakes8)
        if step >= self.final_step:
            e.uploads.update(upload_logits(D, fakes8, self.held_x, self.test_x))
        if self.classifier is not None:
            q = time.perf_counter()
            e.quality, self._floor = quality_rows(
                self.classifier, floats, fakes8, self.held_x, self.test_x,
                self.heldout_classes, self._floor,
            )  # fmt: skip
            self.quality_seconds += time.perf_counter() - q
        self.evaluations.append(e)
        self.seconds += time.perf_counter() - t

    def summary(self, key: str, steps: int, **timings) -> dict:
        """A done trial's summary: key, steps, checkpoints, `timings` (seconds, device,
        ...), and each suite's headline metric at the last checkpoint."""
        rows = self.evaluations[-1].rows(self.held_y, self.test_y)
        headline = {
            f"headline_{r['suite']}": r["value"]
            for r in rows
            if r["class_id"] is None and r["suite"] in BASE_SUITES
            and r["metric"] == SUITES[r["suite"]].headline
        }  # fmt: skip
        return dict(
            status="done", key=key, steps=steps, checkpoints=len(self.evaluations), **timings,
            **headline,
        )  # fmt: skip


BASE_SUITES = ("own_fake", "real_heldout", "real_test", "overall", "operating_point")
"""The suites a trial's summary reports (the first release's)."""


def quality_row(metric: str, value: float, support: int, class_id: int | None = None) -> dict:
    return dict(suite=QUALITY, class_id=class_id, metric=metric, value=float(value),
                support=int(support))  # fmt: skip


def quality_rows(
    classifier, floats, fakes8, held_x, test_x, heldout_classes, floor: float | None = None
) -> tuple[list[dict], float]:
    """The fake_quality rows of one set of fakes, and the Frechet distance floor.

    Args:
        classifier: a `fakedet.quality.Classifier`.
        floats: (F, 1, 28, 28) fakes in [-1, 1]; fakes8: the same as (F, 28, 28) uint8.
        held_x, test_x: (H, 28, 28) and (T, 28, 28) uint8 held-out and seen-class reals.
        heldout_classes: the 3 held-out class ids.
        floor: the real-versus-real distance when already known (it depends on test_x only).

    Returns:
        (rows, floor). The first n = min(QUALITY_SAMPLES, T // 2) fakes are measured against
        the first n seen-class reals; the floor is the distance between those reals and
        the next n.
    """
    from fakedet import quality  # scipy and the classifier load only when quality is measured

    n = min(quality.QUALITY_SAMPLES, len(test_x) // 2)
    if floor is None:
        floor = quality.real_floor(classifier, test_x[:n], test_x[n : 2 * n])
    q = quality.fake_quality(classifier, floats[:n], test_x[:n], heldout_classes)
    reals = np.concatenate([held_x, test_x])
    rows = [
        quality_row("fid", q.fid, n),
        quality_row("fid_floor", floor, n),
        quality_row("precision", q.precision, n),
        quality_row("recall", q.recall, n),
        quality_row("heldout_share", q.heldout_share, n),
        quality_row("seen_covered", q.seen_covered, n),
        quality_row("classifier_accuracy", classifier.test_accuracy, 10_000),
        quality_row("background_real", uploads.background_share(reals), reals.size),
        quality_row("background_fake", uploads.background_share(floats), floats.size),
        quality_row("background_fake_8bit", uploads.background_share(fakes8), fakes8.size),
    ]
    rows += [quality_row("class_share", v, n, c) for c, v in enumerate(q.histogram)]
    return rows, floor
