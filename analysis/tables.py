"""The summary's detection tables: each a function of a `MetricGrid` returning a `TableData`.

Every estimate is a mean over trials (or a paired difference of means) with an interval
of one named kind (`analysis.inference`): "a new class" (classes drawn from a population;
what claims about unseen classes need) or "these classes" (the 10 Fashion-MNIST classes
fixed; training randomness only). Each table's caption says which it shows.

"Seen" reals are the unseen images of the 7 training classes (suite `real_test`);
"unseen" reals are those of the 3 held-out classes (`real_heldout`). Gaps are seen minus
unseen, so a positive gap is a loss of detection on classes the detector never saw.
"""

from __future__ import annotations

import numpy as np

from analysis import stats
from analysis.cells import by_arch, caption, cell, estimates, no_interval, other_generators, present
from analysis.class_gap import class_gap
from analysis.grid import MetricGrid
from analysis.inference import NEW_CLASS, THESE_CLASSES
from analysis.measures import (
    ACCURACY,
    CROSS_FAKE,
    EIGHT_BIT_HEADLINE,
    HEADLINE,
    HELD_FALSE_FLAGS,
    OP_OTHER_FAKES,
    OPERATING,
    OTHER_FAKES,
    OTHER_FAKES_8BIT,
    OWN_FAKES,
    SEEN_FALSE_FLAGS,
    SINGLE_TRIALS,
    gap_measures,
)
from analysis.render import (
    BOUNDED_CAPTION,
    CAPTIONS,
    CLASS_GAP_CAPTION,
    Percent,
    TableData,
    interval_note,
)
from analysis.stats import Band
from analysis.verdicts import single_trial_band
from fakedet.data import CLASSES
from fakedet.protocol import ALL_TRIPLES, triple_str
from fakedet.schema import EIGHT_BIT, METRIC_VERSION


def headline(grid: MetricGrid) -> TableData:
    """Detection per GAN architecture: own fakes, reals of seen and unseen classes, the
    generalization gap (threshold 0.5 and threshold-free), other generators' fakes."""
    kind = NEW_CLASS
    t = TableData(
        "headline",
        "Headline: the discriminator as a detector",
        ["quantity", *grid.gans],
        interval=kind,
    )
    t.rows = [
        *(by_arch(grid, m, kind) for m in HEADLINE),
        *(by_arch(grid, m, kind) for m in EIGHT_BIT_HEADLINE if present(grid, m)),
        *(by_arch(grid, OTHER_FAKES.named(g), kind, skip=(g,)) for g in other_generators(grid)),
        *(
            by_arch(grid, OTHER_FAKES_8BIT.named(g), kind, skip=(g,))
            for g in other_generators(grid)
            if present(grid, OTHER_FAKES_8BIT, g)
        ),
        by_arch(grid, ACCURACY, kind),
    ]
    t.caption = caption(
        kind,
        "flagged/passed at probability 0.5; seen = unseen images of the 7 training classes, "
        "unseen = images of the 3 held-out classes; gap = seen - unseen; AUROC of fakes "
        "against those reals; 8-bit: the same fakes rounded to 8-bit pixels as an image "
        "file stores them (the reals already are), the marketplace's view",
        grid=grid,
    )
    return t


def generalization_gap(grid: MetricGrid) -> TableData:
    """Seen minus unseen classes, per architecture and measure, with both interval kinds."""
    t = TableData(
        "gap",
        "Generalization gap: seen minus unseen classes",
        ["arch", "measure", "seen", "unseen", "gap (new)", "gap (these)"],
        interval=f"{NEW_CLASS}; gap (these): {THESE_CLASSES}",
        keys=2,
    )
    rows = [
        (arch, m)
        for arch in grid.gans
        for m in gap_measures(grid.generators(arch))
        if not m.seen.suite.endswith(EIGHT_BIT) or present(grid, m.seen)
    ]
    cells = [cell(grid, q, arch) for arch, m in rows for q in (m.seen, m.unseen, m.gap)]
    new = estimates(grid, cells, NEW_CLASS)
    these = estimates(grid, cells[2::3], THESE_CLASSES)
    for i, (arch, m) in enumerate(rows):
        t.rows.append([arch, m.label, *new[3 * i : 3 * i + 3], these[i]])
    t.caption = "\n".join(
        [
            interval_note(grid.confidence) + "; estimates are means over trials",
            "gap = seen - unseen, paired by trial (> 0: worse on unseen)",
            "seen, unseen, gap (new): " + CAPTIONS[NEW_CLASS],
            "gap (these): " + CAPTIONS[THESE_CLASSES],
            BOUNDED_CAPTION,
            *no_interval(grid, THESE_CLASSES),
            "real recall @5%: reals passed at the threshold that flags 5% of one half of the "
            "seen-class reals (seen: measured on the other half); AUROC, AP: of the fakes "
            "against the seen or the unseen reals",
        ]
    )
    return t


def class_effect(grid: MetricGrid) -> TableData:
    """Per class: its false-flag rate when held out vs. when seen, and the difference."""
    t = TableData(
        "class_effect",
        "Per class: false flags of real images, held out vs seen",
        ["class", "arch", "held out", "seen", "held - seen"],
        interval=NEW_CLASS,
        keys=2,
    )
    for c, name in enumerate(CLASSES):
        if c not in grid.intervals.classes:
            continue
        for arch in grid.gans:
            held = HELD_FALSE_FLAGS(grid, arch, class_id=c)
            seen = SEEN_FALSE_FLAGS(grid, arch, class_id=c)
            if np.isnan(held).all() and np.isnan(seen).all():
                continue
            g = class_gap(
                grid.intervals, held, seen, c, kind=NEW_CLASS, bounds=HELD_FALSE_FLAGS.bounds
            )
            t.rows.append([f"{c} {name}", arch, g.held, g.seen, g.difference])
    t.caption = "\n".join(
        [
            interval_note(grid.confidence),
            "share of a class's real images flagged as generated (probability < 0.5), mean "
            "over trials",
            CLASS_GAP_CAPTION,
            BOUNDED_CAPTION,
        ]
    )
    return t


def cross_matrix(grid: MetricGrid) -> TableData:
    """Fake recall of each GAN's discriminator on each generator's fakes (diagonal: own)."""
    kind, archs = THESE_CLASSES, grid.gans
    t = TableData(
        "cross_matrix",
        "Cross-generator matrix: fakes flagged",
        ["detector \\ generator", *archs],
        interval=kind,
    )
    cells = [
        cell(grid, OWN_FAKES if g == det else OTHER_FAKES.named(g), det)
        for det in archs
        for g in archs
    ]
    found = estimates(grid, cells, kind)
    for i, det in enumerate(archs):
        t.rows.append([det, *found[i * len(archs) : (i + 1) * len(archs)]])
    t.caption = caption(kind, "rows: whose discriminator; columns: whose fakes", grid=grid)
    return t


def operating_point(grid: MetricGrid) -> TableData:
    """At the threshold that flags 5% of one half of the seen-class reals."""
    kind = NEW_CLASS
    t = TableData(
        "operating_point",
        "Operating point: 5% of seen-class reals flagged",
        ["quantity", *grid.gans],
        interval=kind,
    )
    t.rows = [
        *(by_arch(grid, q, kind) for q in OPERATING),
        *(by_arch(grid, OP_OTHER_FAKES.named(g), kind, skip=(g,)) for g in other_generators(grid)),
    ]
    t.caption = caption(
        kind,
        "threshold chosen on the even positions of the seen-class reals; seen-class false "
        "flags measured on the odd ones (an estimate, not 5% by construction)",
        grid=grid,
    )
    return t


def triple_range(values: np.ndarray) -> Band:
    """Per triple the mean over seeds; their median, min and max."""
    present = ~np.isnan(values)
    counts = present.sum(axis=1)
    per_triple = np.where(present, values, 0.0).sum(axis=1)[counts > 0] / counts[counts > 0]
    if per_triple.size == 0:
        return Band(np.nan, np.nan, np.nan, 0)
    return Band(
        float(np.median(per_triple)),
        float(per_triple.min()),
        float(per_triple.max()),
        int(per_triple.size),
    )


BAND_COLUMN = "one-run band"
COVERS_COLUMN = "cov"
"""Beside the band: its exact chance of holding one new run (a percent)."""


def band_caption(confidence: float) -> str:
    """What the one-run band and its 'covers' column mean."""
    short = int(np.ceil(2 / (1 - confidence) - 1 - 1e-9))
    return (
        f"{BAND_COLUMN}: [j-th smallest, j-th largest] of the n single trials, the narrowest "
        f"such band that holds one new run with chance >= {confidence:.0%}; {COVERS_COLUMN}: that "
        "chance exactly, (n + 1 - 2j) / (n + 1), for exchangeable runs. Below "
        f"{short} trials no band reaches {confidence:.0%}: it is [min, max] and '{COVERS_COLUMN}' "
        "gives its smaller chance"
    )


def single_trials(grid: MetricGrid) -> TableData:
    """Where single trials fall: mean and IQM with intervals, the one-run band with its
    exact coverage, and the range of per-triple means."""
    kind = NEW_CLASS
    t = TableData(
        "single_trials",
        "Single trials: spread of one run",
        ["arch", "quantity", "mean", "IQM", BAND_COLUMN, COVERS_COLUMN, "triples"],
        interval=kind,
        keys=2,
    )
    for arch in grid.gans:
        # the mean as every other table gives it (a gap through `differences`)
        means = estimates(grid, [cell(grid, m, arch) for m in SINGLE_TRIALS], kind)
        for m, mean in zip(SINGLE_TRIALS, means, strict=True):
            x = m(grid, arch)
            iqm = (
                grid.intervals.statistic(stats.iqm, x, kind=kind, bounds=m.bounds)
                if (~np.isnan(x)).any()
                else None
            )
            band = single_trial_band(x, grid.confidence)
            t.rows.append(
                [
                    arch,
                    m.label,
                    mean,
                    iqm,
                    band,
                    Percent(100 * band.coverage),
                    triple_range(x),
                ]
            )
    t.caption = caption(
        kind,
        "IQM: mean of the middle 50% of trials (rliable); " + band_caption(grid.confidence),
        "triples: min-max over triples of the mean over seeds",
        grid=grid,
    )
    return t


def coverage(grid: MetricGrid, invalid: list[tuple[str, str]], notes: dict) -> TableData:
    """What the results hold: trials per arch and seed, missing triples, left-out files."""
    t = TableData("coverage", "Coverage", ["arch", "seed", "trials", "missing triples"], keys=2)
    trials = grid.df.drop_duplicates("trial_key")
    expected = [triple_str(tr) for tr in ALL_TRIPLES]
    for arch in grid.archs:
        for seed in grid.seeds:
            found = set(trials[(trials.arch == arch) & (trials.seed == seed)].heldout)
            missing = [tr for tr in expected if tr not in found]
            shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
            t.rows.append(
                [arch, seed, len(found), f"{len(missing)}" + (f" ({shown})" if missing else "")]
            )
    cross = grid.df[grid.df.suite == CROSS_FAKE].trial_key.nunique()
    d = grid.intervals
    per_class = d.incidence.sum(axis=1)
    lines = [
        f"protocol {notes['protocol']} (found: {', '.join(notes['protocols'])}); "
        f"{cross} trials with cross-generator results",
        f"intervals for a new class rest on {len(d.classes)} classes, each held out in "
        f"{per_class.min()}-{per_class.max()} of {d.T} triples; seeds per triple: {d.S}",
    ]
    if n_checkpoints := notes.get("checkpoints", 0):
        lines.append(f"{n_checkpoints} earlier checkpoints (table 'training')")
    versions = trials.metric_version.fillna(1).astype(int) if "metric_version" in trials else None
    if versions is not None and (old := int((versions < METRIC_VERSION).sum())):
        lines.append(
            f"{old} trials at an old metric version (< {METRIC_VERSION}): "
            "python -m analysis.rescore --results ROOT adds the new metrics"
        )
    if notes["dropped_trials"]:
        lines.append(f"{len(notes['dropped_trials'])} trials of a smaller budget left out")
    for path, reason in invalid:
        lines.append(f"invalid file left out: {path}: {reason}")
    t.caption = "\n".join(lines)
    return t
