"""The dedicated detector versus the GANs' discriminators, leave-one-generator-out.

For each (seed, triple) and each architecture X, a small CNN (`fakedet.detector`) is
trained on real images of the 7 seen classes against the fakes of the other architectures'
generators, never X's. Its label here is `detector-lo-X` (`analysis.design`). It is
compared, paired on (seed, triple), with the discriminator of each GAN Y != X on X's fakes
(Y's `cross_fake` rows against generator X): both have never seen X's fakes, so the
comparison asks whether training on other generators' fakes beats the GAN game. On real
images, both are compared on the same unseen-class reals (`real_heldout`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from analysis.design import Grid
from analysis.inference import CAPTIONS, NEW_CLASS
from analysis.render import PLUS_MINUS, TableData
from analysis.tables import REAL_RECALL, Values, estimates

OnGenerator = Callable[[Grid, str, str], np.ndarray]  # (grid, arch, generator) -> (T, S)


def _cross(name: str) -> OnGenerator:
    return lambda grid, arch, generator: grid.get(arch, "cross_fake", name, generator)


ON_UNSEEN_GENERATOR: list[tuple[str, OnGenerator]] = [
    ("flagged", _cross("generated_recall")),
    ("AUROC vs seen reals", _cross("auroc_test")),
]
"""What the claims compare on the unseen generator's fakes."""

_ROWS: list[tuple[str, OnGenerator]] = [
    *ON_UNSEEN_GENERATOR,
    ("AUROC vs unseen reals", _cross("auroc_heldout")),
]
_REALS: list[tuple[str, Values]] = [
    ("unseen reals passed", REAL_RECALL.unseen),
    ("seen reals passed", REAL_RECALL.seen),
]


def pairs(grid: Grid) -> list[tuple[str, str, str]]:
    """(detector label, left-out generator X, GAN Y) for every GAN Y != X evaluated on X's
    fakes."""
    return [
        (d, x, y)
        for d, x in grid.detectors.items()
        for y in grid.gans
        if y != x and x in grid.generators(y)
    ]


def comparison(grid: Grid) -> TableData:
    """Per left-out generator X and GAN Y: the detector and Y on X's fakes and on reals."""
    kind = NEW_CLASS
    t = TableData(
        "detector",
        "Dedicated detector vs GAN discriminators on an unseen generator",
        ["unseen gen", "vs GAN", "quantity", "detector", "GAN", "det - GAN"],
        interval=kind,
        keys=3,
    )
    for d, x, y in pairs(grid):
        arrays = [(f(grid, d, x), f(grid, y, x)) for _, f in _ROWS]
        arrays += [(f(grid, d), f(grid, y)) for _, f in _REALS]
        flat = [a for det, gan in arrays for a in (det, gan, det - gan)]
        est = estimates(grid, flat, kind)
        labels = [f"{x} fakes {label}" for label, _ in _ROWS] + [label for label, _ in _REALS]
        for i, label in enumerate(labels):
            t.rows.append([x, y, label, *est[3 * i : 3 * i + 3]])
    t.caption = "\n".join(
        [
            f"detector: a CNN trained on seen-class reals vs the fakes of every generator but "
            f"the unseen one (label detector-lo-<unseen gen>); GAN: that GAN's discriminator "
            f"on the same fakes; paired on (seed, triple); mean and CI ({PLUS_MINUS}); "
            f"{CAPTIONS[kind]}",
        ]
    )
    return t
