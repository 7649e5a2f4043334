"""The dedicated detector versus the GANs' discriminators, leave-one-generator-out.

For each (seed, triple) and each architecture X, a small CNN (`fakedet.detector`) is
trained on real images of the 7 seen classes against the fakes of the other architectures'
generators, never X's. Its label here is `detector-lo-X` (`analysis.grid`). It is
compared, paired on (seed, triple), with the discriminator of each GAN Y != X on X's fakes
(Y's `cross_fake` rows against generator X): both have never seen X's fakes, so the
comparison asks whether training on other generators' fakes beats the GAN game. On real
images, both are compared on the same unseen-class reals (`real_heldout`).
"""

from __future__ import annotations

from analysis.cells import cell, estimates
from analysis.grid import MetricGrid
from analysis.inference import NEW_CLASS
from analysis.measures import DEDICATED, REAL_RECALL, Difference
from analysis.render import BOUNDED_CAPTION, CAPTIONS, TableData, interval_note


def pairs(grid: MetricGrid) -> list[tuple[str, str, str]]:
    """(detector label, left-out generator X, GAN Y) for every GAN Y != X evaluated on X's
    fakes."""
    return [
        (d, x, y)
        for d, x in grid.detectors.items()
        for y in grid.gans
        if y != x and x in grid.generators(y)
    ]


def comparison(grid: MetricGrid) -> TableData:
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
        measures = [q.named(x) for q in DEDICATED] + [REAL_RECALL.unseen, REAL_RECALL.seen]
        cells = []
        for m in measures:
            versus = Difference(f"{m.label}: detector - GAN", m, m)
            cells += [cell(grid, m, d), cell(grid, m, y), cell(grid, versus, d, y_arch=y)]
        est = estimates(grid, cells, kind)
        for i, m in enumerate(measures):
            t.rows.append([x, y, m.label, *est[3 * i : 3 * i + 3]])
    t.caption = "\n".join(
        [
            "detector: a CNN trained on seen-class reals vs the fakes of every generator but "
            "the unseen one (label detector-lo-<unseen gen>); GAN: that GAN's discriminator "
            "on the same fakes; paired on (seed, triple); means over trials",
            interval_note(grid.confidence),
            CAPTIONS[kind],
            BOUNDED_CAPTION,
        ]
    )
    return t
