"""What the detector detects: fakes as a marketplace receives them, and how good they are.

Two tables, each a function of the grids returning a `TableData`:

    quality      per architecture and checkpoint: how far its fakes are from real
                 seen-class images (Frechet distance in a Fashion-MNIST classifier's
                 features, with the real-versus-real floor), precision and recall of the
                 fakes, the share that looks like a held-out class, the seen classes
                 covered, the share of background pixels; beside them, detection of the
                 same fakes as 8-bit images. The other generators' fakes of the
                 cross-evaluation follow.
    robustness   at the final checkpoint, fakes and reals after each upload transform
                 (JPEG q90 and q75, half size and back, a mild blur): fakes flagged,
                 reals passed, AUROC; the AUROC drop against the untransformed 8-bit
                 images, each an equivalence test within the margin (Holm over the table).

Results written before these measures existed hold none: the tables then say so and
have no rows. Measures and their labels are in `analysis.measures`.
"""

from __future__ import annotations

import numpy as np

from analysis.cells import cell, estimates, present
from analysis.claims import Verdicts
from analysis.grid import MetricGrid
from analysis.inference import NEW_CLASS
from analysis.measures import (
    AUROC_OWN_8BIT,
    FAKE_PRECISION,
    FAKE_RECALL,
    FID,
    HELDOUT_LOOK,
    OWN_FAKES_8BIT,
    QUALITY_MEASURES,
    SEEN_COVERED,
    UPLOADS,
)
from analysis.render import BOUNDED_CAPTION, CAPTIONS, PLUS_MINUS, TableData
from analysis.verdicts import holm

ROBUSTNESS_MARGIN = 0.05
"""An upload transform leaves detection intact when its AUROC drop is within ±0.05."""
DETECTION = [OWN_FAKES_8BIT, AUROC_OWN_8BIT.seen]
"""Detection of the same fakes, beside their quality."""
CROSS_QUALITY = [FID, FAKE_PRECISION, FAKE_RECALL, HELDOUT_LOOK, SEEN_COVERED]
"""The other generators' fakes' quality (cross-evaluation, final checkpoint)."""


def stage_grids(grid: MetricGrid, checkpoints: dict[float, MetricGrid]) -> list[tuple]:
    """[(label, grid)] of the earlier checkpoints by epoch, then the final one."""
    return [*((f"{e:g}", g) for e, g in checkpoints.items()), ("final", grid)]


def quality(grid: MetricGrid, checkpoints: dict[float, MetricGrid]) -> TableData:
    """The fakes' quality per architecture and checkpoint, with detection beside it."""
    kind = NEW_CLASS
    stages = stage_grids(grid, checkpoints)
    t = TableData(
        "quality",
        "Quality of the fakes along training, and their detection",
        ["arch", "quantity", *(label for label, _ in stages)],
        interval=kind,
        keys=2,
    )
    measured = any(present(g, FID) for _, g in stages)  # stages end with the final grid
    if measured:
        for arch in grid.gans:
            for m in [*QUALITY_MEASURES, *DETECTION]:
                cells = [cell(g, m, arch) for _, g in stages]
                found = estimates(grid, cells, kind)
                if any(e is not None and not np.isnan(e.value) for e in found):
                    t.rows.append([arch, m.label, *found])
            for g in grid.generators(arch):
                for m in CROSS_QUALITY:
                    named = m.named(g) if "{generator}" in m.label else m
                    x = named(grid, arch, g)
                    if np.isnan(x).all():
                        continue
                    (est,) = estimates(grid, [(x, m.bounds)], kind)
                    row = [None] * len(stages)
                    row[-1] = est
                    t.rows.append([arch, f"{g} fakes (cross): {m.label}", *row])
    notes = [
        f"mean over trials and its CI ({PLUS_MINUS}); " + CAPTIONS[kind],
        BOUNDED_CAPTION,
        "features: the penultimate layer of a Fashion-MNIST classifier trained on all 10 "
        "classes' training images; Frechet distance of n fakes against n seen-class test "
        "reals (n = min(2000, half the seen-class evaluation images)); floor: the same "
        "distance between two disjoint sets of n reals; precision/recall: k-NN manifolds "
        "(k = 3, Kynkaanniemi et al. 2019); background: pixels at exactly the background "
        "value (0 in 8 bits, -1 as floats). docs/method.md says why each is there",
    ]
    if not measured:
        notes.append(
            "the results hold no quality figures: trials written before they were measured, "
            "or run with --no-quality"
        )
    t.caption = "\n".join(notes)
    return t


def robustness(grid: MetricGrid) -> TableData:
    """Detection after each upload transform at the final checkpoint, and whether it holds."""
    kind = NEW_CLASS
    t = TableData(
        "robustness",
        "Detection of uploads: fakes and reals re-encoded",
        [
            "arch",
            "images",
            "fakes flagged",
            "seen passed",
            "unseen passed",
            "AUROC seen",
            "AUROC unseen",
            "AUROC seen - 8-bit",
            "verdict",
            "Holm",
        ],  # fmt: skip
        interval=kind,
        keys=2,
    )
    v = Verdicts(grid)
    rows = []
    for arch in grid.gans:
        if not present(grid, UPLOADS[0].fakes) and not present(grid, OWN_FAKES_8BIT):
            continue
        base = [OWN_FAKES_8BIT, None, None, AUROC_OWN_8BIT.seen, AUROC_OWN_8BIT.unseen]
        cells = [None if m is None else cell(grid, m, arch) for m in base]
        rows.append([arch, "8-bit, untransformed", *estimates(grid, cells, kind), None, "", ""])
        for u in UPLOADS:
            measures = [u.fakes, u.seen, u.unseen, u.auroc.seen, u.auroc.unseen]
            if np.isnan(u.fakes(grid, arch)).all():
                continue
            found = estimates(grid, [cell(grid, m, arch) for m in measures], kind)
            drop = u.drops()[0]
            verdict = v.equivalent("", drop.label, drop, arch, ROBUSTNESS_MARGIN)
            rows.append([arch, u.label, *found, verdict[2], verdict[4], None])
    kept = holm(v.p, round(1 - grid.confidence, 6))
    it = iter(kept)
    for r in rows:
        if r[-1] is None:
            k = next(it)
            r[-1] = r[-2] if k else "inconclusive"
    t.rows = rows
    notes = [
        f"mean over trials and its CI ({PLUS_MINUS}); " + CAPTIONS[kind],
        BOUNDED_CAPTION,
        "final checkpoint; each transform is applied to the first 1,000 8-bit fakes and "
        "1,000 reals of each kind alike (Pillow: JPEG quality 90 and 75; 14x14 box and "
        "back to 28x28 bilinear; Gaussian blur radius 0.5), then scored; flagged/passed at "
        "probability 0.5",
        f"AUROC seen - 8-bit: paired on (seed, triple); verdict: 'supported' when its CI "
        f"lies inside ±{ROBUSTNESS_MARGIN:g} (detection survives the transform, TOST), 'not "
        "supported' when it lies wholly outside; Holm over this table's rows",
    ]
    if not rows:
        notes.append(
            "the results hold no 8-bit or upload figures: trials written before they were measured"
        )
    t.caption = "\n".join(notes)
    return t
