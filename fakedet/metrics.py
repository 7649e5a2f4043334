"""A detector's metric rows from its per-image logits: pure functions, no torch.

Labels follow the report: 0 = generated, 1 = real. Inputs are the detector's logits for
"real" (float64; the sigmoid of a logit is the probability the report thresholds at 0.5,
i.e. logit 0). Logits rank images without the ties that float32 probabilities have once
a logit passes about 17. An image is flagged as generated when its logit is below the
threshold.

Each row is a dict with keys suite, class_id, metric, value, support; the trial adds its
identity and provenance (`fakedet.schema.metric_table`). The suites and their metrics
are listed in `fakedet.schema.SUITES`; `trial_rows` and `cross_rows` write all of them, so
rescoring stored logits (`analysis.rescore`) gives the same rows as the trial did.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    classification_report,
    confusion_matrix,
    roc_auc_score,
)

from fakedet.schema import EIGHT_BIT_SUITES, UPLOAD_TRANSFORMS, transformed

THRESHOLD_LOGIT = 0.0  # probability 0.5, the report's threshold
TARGET_FALSE_FLAG = 0.05  # the operating point: flag 5% of seen-class reals
LABELS = {0: "generated", 1: "real"}


def _row(suite: str, metric: str, value: float, support: int, class_id: int | None = None):
    return dict(
        suite=suite, class_id=class_id, metric=metric, value=float(value), support=int(support)
    )


def classification_rows(suite: str, y_true: np.ndarray, logits: np.ndarray) -> list[dict]:
    """The report's numbers for one suite at probability 0.5, from sklearn's functions.

    Rows: {generated,real,macro,weighted}_{precision,recall,f1} with their support;
    accuracy; confusion counts tn, fp, fn, tp (positive = real).
    """
    y_pred = (logits >= THRESHOLD_LOGIT).astype(np.int64)
    report = classification_report(
        y_true, y_pred, labels=[0, 1], target_names=list(LABELS.values()),
        output_dict=True, zero_division=0,
    )  # fmt: skip
    n = len(y_true)
    rows = [
        _row(
            suite,
            f"{label.removesuffix(' avg')}_{stat.removesuffix('-score')}",
            report[label][stat],
            report[label]["support"],
        )  # fmt: skip
        for label in ("generated", "real", "macro avg", "weighted avg")
        for stat in ("precision", "recall", "f1-score")
    ]
    rows.append(_row(suite, "accuracy", (y_pred == y_true).mean() if n else np.nan, n))
    counts = confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel()
    rows += [_row(suite, k, v, n) for k, v in zip(("tn", "fp", "fn", "tp"), counts, strict=True)]
    return rows


def ranking(fake_logits: np.ndarray, real_logits: np.ndarray) -> tuple[float, float]:
    """(AUROC, average precision) of detecting fakes among fakes and these reals.

    NaN when either side is empty.
    """
    if len(fake_logits) == 0 or len(real_logits) == 0:
        return np.nan, np.nan
    is_fake = np.r_[np.ones(len(fake_logits)), np.zeros(len(real_logits))]
    fakeness = -np.r_[fake_logits, real_logits].astype(np.float64)
    return roc_auc_score(is_fake, fakeness), average_precision_score(is_fake, fakeness)


def ranking_rows(suite: str, fake: np.ndarray, heldout: np.ndarray, test: np.ndarray):
    """AUROC and AP of fakes against held-out-class reals and against seen-class reals,
    separately: their difference is the threshold-free generalization gap."""
    rows = []
    for name, reals in (("heldout", heldout), ("test", test)):
        auroc, ap = ranking(fake, reals)
        n = len(fake) + len(reals)
        rows += [_row(suite, f"auroc_{name}", auroc, n), _row(suite, f"ap_{name}", ap, n)]
    return rows


def per_class_rows(suite: str, classes: np.ndarray, logits: np.ndarray) -> list[dict]:
    """False-flag rate (share flagged as generated) of each source class of real images."""
    return [
        _row(
            suite,
            "false_flag_rate",
            (logits[classes == c] < THRESHOLD_LOGIT).mean(),
            int((classes == c).sum()),
            int(c),
        )  # fmt: skip
        for c in np.unique(classes)
    ]


def calibration_halves(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(calibration, evaluation) positions of the real_test images: even and odd positions
    of their stored order, so the operating point is chosen on one half and its seen-class
    false-flag rate measured on the other."""
    positions = np.arange(n)
    return positions[0::2], positions[1::2]


def operating_threshold(calibration_logits: np.ndarray, rate: float = TARGET_FALSE_FLAG) -> float:
    """The logit below which `rate` of the calibration images fall (and are flagged)."""
    if len(calibration_logits) == 0:
        return np.nan
    return float(np.quantile(calibration_logits.astype(np.float64), rate))


def _flagged(logits: np.ndarray, threshold: float) -> float:
    return (logits < threshold).mean() if len(logits) else np.nan


def operating_point_rows(fake: np.ndarray, heldout: np.ndarray, test: np.ndarray) -> list[dict]:
    """Suite `operating_point`: the threshold that flags 5% of one half of real_test; at it,
    own fakes caught, and false flags on the other half of real_test and on real_heldout."""
    calibration, evaluation = calibration_halves(len(test))
    t = operating_threshold(test[calibration])
    suite = "operating_point"
    return [
        _row(suite, "op_threshold", t, len(calibration)),
        _row(suite, "op_fake_recall", _flagged(fake, t), len(fake)),
        _row(suite, "op_test_false_flag", _flagged(test[evaluation], t), len(evaluation)),
        _row(suite, "op_heldout_false_flag", _flagged(heldout, t), len(heldout)),
    ]


def trial_rows(
    fake: np.ndarray,
    heldout: np.ndarray,
    heldout_classes: np.ndarray,
    test: np.ndarray,
    test_classes: np.ndarray,
    fake_suite: str = "own_fake",
) -> list[dict]:
    """All metric rows of a detector's own suites from its logits.

    Args:
        fake: (F,) logits of its own generator's fakes (suite `fake_suite`).
        heldout: (H,) logits of real images of the held-out classes.
        heldout_classes: (H,) their class ids.
        test: (M,) logits of unseen real images of the training classes.
        test_classes: (M,) their class ids.
        fake_suite: the suite name of the fakes ('own_fake'; 'train_fake' for a dedicated
            detector).
    """
    ones = np.ones
    rows = classification_rows(fake_suite, np.zeros(len(fake), int), fake)
    rows += ranking_rows(fake_suite, fake, heldout, test)
    rows += classification_rows("real_heldout", ones(len(heldout), int), heldout)
    rows += per_class_rows("real_heldout", heldout_classes, heldout)
    rows += classification_rows("real_test", ones(len(test), int), test)
    rows += per_class_rows("real_test", test_classes, test)
    everything = np.concatenate([fake, heldout, test])
    y = np.r_[np.zeros(len(fake), int), ones(len(heldout) + len(test), int)]
    rows += classification_rows("overall", y, everything)
    auroc, ap = ranking(fake, np.concatenate([heldout, test]))
    rows += [
        _row("overall", "auroc", auroc, len(y)),
        _row("overall", "average_precision", ap, len(y)),
    ]
    rows += operating_point_rows(fake, heldout, test)
    return rows


def fake_rows(suite: str, fake: np.ndarray, heldout: np.ndarray, test: np.ndarray) -> list[dict]:
    """A suite of fakes against this detector: the report's recall at 0.5, AUROC/AP against
    both kinds of reals, and the fake recall at the detector's operating threshold
    (calibrated on `test` as in `operating_point_rows`)."""
    rows = classification_rows(suite, np.zeros(len(fake), int), fake)
    rows += ranking_rows(suite, fake, heldout, test)
    calibration, _ = calibration_halves(len(test))
    t = operating_threshold(test[calibration])
    rows.append(_row(suite, "op_fake_recall", _flagged(fake, t), len(fake)))
    return rows


def cross_rows(fake: np.ndarray, heldout: np.ndarray, test: np.ndarray) -> list[dict]:
    """Suite `cross_fake`: another generator's fakes against this detector (`fake_rows`)."""
    return fake_rows("cross_fake", fake, heldout, test)


def upload_rows(logits: dict[str, tuple[np.ndarray, np.ndarray]]) -> list[dict]:
    """The rows of the suites of images as a marketplace receives them, from their logits.

    Args:
        logits: {suite: (logits, class ids)}, as `stored_logits` returns them. Of its
            suites, the 8-bit suites of fakes (`schema.EIGHT_BIT_SUITES`: own_fake_8bit,
            train_fake_8bit, cross_fake_8bit) are scored against the untransformed
            real_heldout and real_test logits; each upload transform t
            (`schema.UPLOAD_TRANSFORMS`) against its own transformed reals: own_fake@t (as
            `fake_rows`), real_heldout@t and real_test@t (the report's numbers).

    Returns:
        Rows of every such suite present (none when the logits hold none).
    """
    rows = []
    if "real_heldout" in logits and "real_test" in logits:
        held, test = logits["real_heldout"][0], logits["real_test"][0]
        for suite in EIGHT_BIT_SUITES:
            if suite in logits:
                rows += fake_rows(suite, logits[suite][0], held, test)
    for t in UPLOAD_TRANSFORMS:
        fake, held, test = (transformed(s, t) for s in ("own_fake", "real_heldout", "real_test"))
        if fake in logits and held in logits and test in logits:
            rows += fake_rows(fake, logits[fake][0], logits[held][0], logits[test][0])
            rows += classification_rows(held, np.ones(len(logits[held][0]), int), logits[held][0])
            rows += classification_rows(test, np.ones(len(logits[test][0]), int), logits[test][0])
    return rows


def stored_logits(scores, step: int | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{suite: (logits, class ids)} of one checkpoint of a stored scores table.

    Args:
        scores: a pyarrow table of SCORES_SCHEMA (files of metric version 1 have no
            `logit` or `checkpoint_step` column: the logit is recovered from the float32
            probability, which saturates for logits above about 17).
        step: the checkpoint's step; None for the final one (the largest step).
    """
    df = scores.to_pandas()
    if "checkpoint_step" in df and df.checkpoint_step.notna().any():
        wanted = df.checkpoint_step.max() if step is None else step
        df = df[df.checkpoint_step.isna() | (df.checkpoint_step == wanted)]
    if "logit" in df and df.logit.notna().all():
        logit = df.logit.to_numpy(np.float64)
    else:
        p = np.clip(df.score.to_numpy(np.float64), 1e-12, 1 - 1e-12)
        logit = np.log(p) - np.log1p(-p)
    out = {}
    for suite in df.suite.unique():
        sel = (df.suite == suite).to_numpy()
        out[suite] = (logit[sel], df.class_id[sel].fillna(-1).to_numpy(np.int64))
    return out
