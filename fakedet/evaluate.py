"""The discriminator as a fake-image detector: scoring and metrics.

A score is D's probability that an image is real; an image is flagged as generated when
its score is below the threshold (0.5, as in the report). Labels follow the report:
0 = generated, 1 = real.

Metric rows are dicts with keys suite, class_id, metric, value, support; the trial adds
its identity and provenance (see `fakedet.schema`).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import (
    average_precision_score,
    classification_report,
    confusion_matrix,
    roc_auc_score,
)
from torch import nn

from fakedet.train import to_unit_range

THRESHOLD = 0.5
TARGET_FALSE_FLAG = 0.05  # the business operating point: flag 5% of seen-class reals
LABELS = {0: "generated", 1: "real"}
EVAL_BATCH = 2048


@torch.inference_mode()
def generate(
    G: nn.Module, n: int, seed: int, latent_dim: int, device: torch.device
) -> torch.Tensor:
    """(n, 1, 28, 28) fakes in [-1, 1] from noise drawn with `seed`, on `device`."""
    G.eval()
    gen = torch.Generator(device=device).manual_seed(seed)
    out = []
    for start in range(0, n, EVAL_BATCH):
        z = torch.randn(min(EVAL_BATCH, n - start), latent_dim, generator=gen, device=device)
        out.append(G(z))
    return torch.cat(out) if out else torch.empty(0, *(1, 28, 28), device=device)


@torch.inference_mode()
def score(D: nn.Module, images: torch.Tensor | np.ndarray) -> np.ndarray:
    """D's probability of "real" for each image.

    Args:
        D: a discriminator that outputs logits.
        images: (N, 28, 28) uint8 (real images, scaled here) or (N, 1, 28, 28) float in
            [-1, 1] (fakes).

    Returns:
        (N,) float32 scores.
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
        out.append(torch.sigmoid(D(x).squeeze(1).float()).cpu())
    return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.float32)


def _row(suite: str, metric: str, value: float, support: int, class_id: int | None = None):
    return dict(
        suite=suite, class_id=class_id, metric=metric, value=float(value), support=int(support)
    )


def classification_rows(suite: str, y_true: np.ndarray, scores: np.ndarray) -> list[dict]:
    """The report's numbers for one suite, from sklearn's own functions.

    Rows: {generated,real}_{precision,recall,f1} with their support; accuracy;
    {macro,weighted}_{precision,recall,f1}; confusion counts tn, fp, fn, tp (positive =
    real). Values equal sklearn's `classification_report` on the same predictions.
    """
    y_pred = (scores >= THRESHOLD).astype(np.int64)
    report = classification_report(
        y_true,
        y_pred,
        labels=[0, 1],
        target_names=list(LABELS.values()),
        output_dict=True,
        zero_division=0,
    )
    n = len(y_true)
    rows = []
    for label in ("generated", "real", "macro avg", "weighted avg"):
        name = label.replace(" avg", "")
        for stat in ("precision", "recall", "f1-score"):
            rows.append(
                _row(
                    suite,
                    f"{name}_{stat.removesuffix('-score')}",
                    report[label][stat],
                    report[label]["support"],
                )
            )
    rows.append(_row(suite, "accuracy", (y_pred == y_true).mean() if n else np.nan, n))
    tn, fp, fn, tp = confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel()
    rows += [
        _row(suite, k, v, n)
        for k, v in zip(("tn", "fp", "fn", "tp"), (tn, fp, fn, tp), strict=True)
    ]
    return rows


def ranking_rows(suite: str, y_true: np.ndarray, scores: np.ndarray) -> list[dict]:
    """Threshold-free metrics: AUROC and average precision of detecting generated images."""
    if len(np.unique(y_true)) < 2:
        return []
    is_fake, fakeness = (y_true == 0).astype(np.int64), 1.0 - scores.astype(np.float64)
    n = len(y_true)
    return [
        _row(suite, "auroc", roc_auc_score(is_fake, fakeness), n),
        _row(suite, "average_precision", average_precision_score(is_fake, fakeness), n),
    ]


def per_class_rows(suite: str, classes: np.ndarray, scores: np.ndarray) -> list[dict]:
    """False-flag rate (share flagged as generated) of each source class of real images."""
    rows = []
    for c in np.unique(classes):
        s = scores[classes == c]
        rows.append(_row(suite, "false_flag_rate", (s < THRESHOLD).mean(), len(s), int(c)))
    return rows


def operating_threshold(real_test_scores: np.ndarray, rate: float = TARGET_FALSE_FLAG) -> float:
    """The threshold below which `rate` of the seen-class real images fall (are flagged)."""
    return float(np.quantile(real_test_scores.astype(np.float64), rate))


def operating_point_rows(
    suite: str,
    threshold: float,
    fake_scores: np.ndarray,
    heldout_scores: np.ndarray | None,
    real_test_scores: np.ndarray | None = None,
) -> list[dict]:
    """At the threshold that flags 5% of seen-class reals: fake recall and unseen false flags."""
    rows = [
        _row(suite, "op_threshold", threshold, 0),
        _row(suite, "op_fake_recall", (fake_scores < threshold).mean(), len(fake_scores)),
    ]
    if heldout_scores is not None:
        rows.append(
            _row(
                suite,
                "op_heldout_false_flag",
                (heldout_scores < threshold).mean(),
                len(heldout_scores),
            )
        )
    if real_test_scores is not None:
        rows.append(
            _row(
                suite,
                "op_test_false_flag",
                (real_test_scores < threshold).mean(),
                len(real_test_scores),
            )
        )
    return rows


def suite_rows(
    fake_scores: np.ndarray,
    heldout_scores: np.ndarray,
    heldout_classes: np.ndarray,
    test_scores: np.ndarray,
    test_classes: np.ndarray,
    fake_suite: str = "own_fake",
) -> list[dict]:
    """All metric rows of a trial's suites from the per-image scores.

    Suites: `fake_suite` (own_fake), real_heldout, real_test, overall (all three), and the
    operating point (rows in suite `operating_point`).
    """
    zeros, ones = np.zeros(len(fake_scores), int), np.ones
    rows = classification_rows(fake_suite, zeros, fake_scores)
    rows += classification_rows("real_heldout", ones(len(heldout_scores), int), heldout_scores)
    rows += per_class_rows("real_heldout", heldout_classes, heldout_scores)
    rows += classification_rows("real_test", ones(len(test_scores), int), test_scores)
    rows += per_class_rows("real_test", test_classes, test_scores)
    all_scores = np.concatenate([fake_scores, heldout_scores, test_scores])
    y = np.concatenate([zeros, ones(len(heldout_scores) + len(test_scores), int)])
    rows += classification_rows("overall", y, all_scores)
    rows += ranking_rows("overall", y, all_scores)
    t = operating_threshold(test_scores)
    rows += operating_point_rows("operating_point", t, fake_scores, heldout_scores, test_scores)
    return rows


def cross_rows(fake_scores: np.ndarray, real_test_scores: np.ndarray) -> list[dict]:
    """Rows of suite `cross_fake`: another generator's fakes against this discriminator.

    The report's recall at 0.5, AUROC against the seen-class reals, and the fake recall at
    the trial's 5% operating threshold.
    """
    rows = classification_rows("cross_fake", np.zeros(len(fake_scores), int), fake_scores)
    y = np.concatenate([np.zeros(len(fake_scores), int), np.ones(len(real_test_scores), int)])
    rows += ranking_rows("cross_fake", y, np.concatenate([fake_scores, real_test_scores]))
    rows += operating_point_rows(
        "cross_fake", operating_threshold(real_test_scores), fake_scores, None
    )
    return rows
