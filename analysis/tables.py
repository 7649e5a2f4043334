"""The summary's detection tables: each a function of a `Grid` returning a `TableData`.

Every estimate is a mean over trials (or a paired difference of means) with an interval
of one named kind (`analysis.inference`): "a new class" (classes drawn from a population;
what claims about unseen classes need) or "these classes" (the 10 Fashion-MNIST classes
fixed; training randomness only). Each table's caption says which it shows.

"Seen" reals are the unseen images of the 7 training classes (suite `real_test`);
"unseen" reals are those of the 3 held-out classes (`real_heldout`). Gaps are seen minus
unseen, so a positive gap is a loss of detection on classes the detector never saw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from analysis import stats
from analysis.design import Grid
from analysis.inference import CAPTIONS, CLASS_GAP_CAPTION, NEW_CLASS, THESE_CLASSES
from analysis.inference import prediction_interval as _prediction_interval
from analysis.render import PLUS_MINUS, Band, TableData
from fakedet.data import CLASSES
from fakedet.protocol import ALL_TRIPLES, triple_str
from fakedet.schema import METRIC_VERSION

Values = Callable[[Grid, str], np.ndarray]  # (grid, arch) -> (T, S)


def metric(suite: str, name: str, generator: str | None = None) -> Values:
    """One metric of a suite (of `generator`'s fakes for cross_fake)."""
    return lambda grid, arch: grid.get(arch, suite, name, generator)


def passed(suite: str, false_flag: str) -> Values:
    """Reals passed at the operating point: 1 - its false-flag rate."""
    return lambda grid, arch: 1.0 - grid.get(arch, suite, false_flag)


def minus(x: Values, y: Values) -> Values:
    """Paired on (seed, triple): x - y."""
    return lambda grid, arch: x(grid, arch) - y(grid, arch)


@dataclass(frozen=True)
class Measure:
    """A detection measure on seen-class and on unseen-class reals."""

    label: str
    seen: Values
    unseen: Values

    @property
    def gap(self) -> Values:
        return minus(self.seen, self.unseen)


REAL_RECALL = Measure(
    "real recall", metric("real_test", "real_recall"), metric("real_heldout", "real_recall")
)
OP_RECALL = Measure(
    "real recall @5%",
    passed("operating_point", "op_test_false_flag"),
    passed("operating_point", "op_heldout_false_flag"),
)


def ranking(suite: str, stat: str, generator: str | None = None, label: str = "") -> Measure:
    """AUROC or AP of a suite's fakes against seen-class reals and against unseen ones."""
    name = "AUROC" if stat == "auroc" else "AP"
    return Measure(
        f"{name} {label}".strip(),
        metric(suite, f"{stat}_test", generator),
        metric(suite, f"{stat}_heldout", generator),
    )


OWN_FAKES = metric("own_fake", "generated_recall")
AUROC_OWN = ranking("own_fake", "auroc")


def caption(kind: str, *more: str) -> str:
    return "\n".join([f"mean over trials and its CI ({PLUS_MINUS}); " + CAPTIONS[kind], *more])


def estimates(grid: Grid, arrays: list[np.ndarray], kind: str, confidence=None):
    """Means with intervals of (T, S) arrays, all at once (None for a None array)."""
    present = [a for a in arrays if a is not None]
    if not present:
        return [None] * len(arrays)
    it = iter(grid.design.means(np.stack(present), kind=kind, confidence=confidence))
    return [None if a is None else next(it) for a in arrays]


def by_arch(grid: Grid, label: str, values: Values, kind: str, archs=None, skip=()) -> list:
    """A row: label, then the mean of `values` per architecture (None for those in skip)."""
    archs = grid.gans if archs is None else archs
    arrays = [None if a in skip else values(grid, a) for a in archs]
    return [label, *estimates(grid, arrays, kind)]


def other_generators(grid: Grid) -> list[str]:
    return sorted({g for a in grid.gans for g in grid.generators(a)})


def headline(grid: Grid) -> TableData:
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
        by_arch(grid, "own fakes flagged", OWN_FAKES, kind),
        by_arch(grid, "seen-class reals passed", REAL_RECALL.seen, kind),
        by_arch(grid, "unseen-class reals passed", REAL_RECALL.unseen, kind),
        by_arch(grid, "gap: seen - unseen", REAL_RECALL.gap, kind),
        by_arch(grid, "AUROC own fakes vs seen", AUROC_OWN.seen, kind),
        by_arch(grid, "AUROC own fakes vs unseen", AUROC_OWN.unseen, kind),
        by_arch(grid, "AUROC gap: seen - unseen", AUROC_OWN.gap, kind),
        *(
            by_arch(
                grid,
                f"{g} fakes flagged",
                metric("cross_fake", "generated_recall", g),
                kind,
                skip=(g,),
            )
            for g in other_generators(grid)
        ),
        by_arch(grid, "accuracy (report's table)", metric("overall", "accuracy"), kind),
    ]
    t.caption = caption(
        kind,
        "flagged/passed at probability 0.5; seen = unseen images of the 7 training classes, "
        "unseen = images of the 3 held-out classes; AUROC of fakes against those reals",
    )
    return t


def measures(grid: Grid, arch: str) -> list[Measure]:
    """The measures of one architecture's generalization gap."""
    out = [
        REAL_RECALL,
        OP_RECALL,
        ranking("own_fake", "auroc", label="own fakes"),
        ranking("own_fake", "ap", label="own fakes"),
    ]
    for g in grid.generators(arch):
        out += [ranking("cross_fake", stat, g, f"{g} fakes") for stat in ("auroc", "ap")]
    return out


def generalization_gap(grid: Grid) -> TableData:
    """Seen minus unseen classes, per architecture and measure, with both interval kinds."""
    t = TableData(
        "gap",
        "Generalization gap: seen minus unseen classes",
        ["arch", "measure", "seen", "unseen", "gap (new)", "gap (these)"],
        interval=f"{NEW_CLASS}; gap (these): {THESE_CLASSES}",
        keys=2,
    )
    rows = [(arch, m) for arch in grid.gans for m in measures(grid, arch)]
    arrays = [f(grid, arch) for arch, m in rows for f in (m.seen, m.unseen, m.gap)]
    new = estimates(grid, arrays, NEW_CLASS)
    these = estimates(grid, arrays[2::3], THESE_CLASSES)  # one resampling for every gap
    for i, (arch, m) in enumerate(rows):
        t.rows.append([arch, m.label, *new[3 * i : 3 * i + 3], these[i]])
    t.caption = "\n".join(
        [
            f"mean over trials and its CI ({PLUS_MINUS}); gap = seen - unseen, paired by "
            "trial (> 0: worse on unseen)",
            "seen, unseen, gap (new): " + CAPTIONS[NEW_CLASS],
            "gap (these): " + CAPTIONS[THESE_CLASSES],
            "real recall @5%: reals passed at the threshold that flags 5% of one half of the "
            "seen-class reals (seen: measured on the other half); AUROC, AP: of the fakes "
            "against the seen or the unseen reals",
        ]
    )
    return t


def class_effect(grid: Grid) -> TableData:
    """Per class: its false-flag rate when held out vs. when seen, and the difference."""
    t = TableData(
        "class_effect",
        "Per class: false flags of real images, held out vs seen",
        ["class", "arch", "held out", "seen", "held - seen"],
        interval=NEW_CLASS,
        keys=2,
    )
    for c, name in enumerate(CLASSES):
        if c not in grid.design.classes:
            continue
        for arch in grid.gans:
            held = grid.get(arch, "real_heldout", "false_flag_rate", class_id=c)
            seen = grid.get(arch, "real_test", "false_flag_rate", class_id=c)
            if np.isnan(held).all() and np.isnan(seen).all():
                continue
            g = grid.design.class_gap(held, seen, c, kind=NEW_CLASS)
            t.rows.append([f"{c} {name}", arch, g.held, g.seen, g.difference])
    t.caption = (
        f"share of a class's real images flagged as generated (probability < 0.5); mean "
        f"and CI ({PLUS_MINUS})\n" + CLASS_GAP_CAPTION
    )
    return t


def cross_matrix(grid: Grid) -> TableData:
    """Fake recall of each GAN's discriminator on each generator's fakes (diagonal: own)."""
    kind, archs = THESE_CLASSES, grid.gans
    t = TableData(
        "cross_matrix",
        "Cross-generator matrix: fakes flagged",
        ["detector \\ generator", *archs],
        interval=kind,
    )
    arrays = [
        grid.get(det, "own_fake" if g == det else "cross_fake", "generated_recall", g)
        for det in archs
        for g in archs
    ]
    cells = estimates(grid, arrays, kind)
    for i, det in enumerate(archs):
        t.rows.append([det, *cells[i * len(archs) : (i + 1) * len(archs)]])
    t.caption = caption(kind, "rows: whose discriminator; columns: whose fakes")
    return t


def operating_point(grid: Grid) -> TableData:
    """At the threshold that flags 5% of one half of the seen-class reals."""
    kind = NEW_CLASS
    t = TableData(
        "operating_point",
        "Operating point: 5% of seen-class reals flagged",
        ["quantity", *grid.gans],
        interval=kind,
    )
    op = "operating_point"
    t.rows = [
        by_arch(grid, "threshold (logit)", metric(op, "op_threshold"), kind),
        by_arch(grid, "seen-class false flags", metric(op, "op_test_false_flag"), kind),
        by_arch(grid, "unseen-class false flags", metric(op, "op_heldout_false_flag"), kind),
        by_arch(grid, "own fakes flagged", metric(op, "op_fake_recall"), kind),
        *(
            by_arch(
                grid,
                f"{g} fakes flagged",
                metric("cross_fake", "op_fake_recall", g),
                kind,
                skip=(g,),
            )
            for g in other_generators(grid)
        ),
    ]
    t.caption = caption(
        kind,
        "threshold chosen on the even positions of the seen-class reals; seen-class false "
        "flags measured on the odd ones (an estimate, not 5% by construction)",
    )
    return t


TRIAL_QUANTITIES: list[tuple[str, Values]] = [
    ("own fakes flagged", OWN_FAKES),
    ("seen reals passed", REAL_RECALL.seen),
    ("unseen reals passed", REAL_RECALL.unseen),
    ("recall gap", REAL_RECALL.gap),
    ("AUROC own, seen", AUROC_OWN.seen),
    ("AUROC own, unseen", AUROC_OWN.unseen),
    ("accuracy", metric("overall", "accuracy")),
]


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


def prediction_band(values: np.ndarray, conf: float = 0.95) -> Band:
    e = _prediction_interval(values, conf)
    return Band(e.value, e.low, e.high, e.n)


def single_trials(grid: Grid) -> TableData:
    """Where single trials fall: mean and IQM with intervals, the central 95% of single
    trials, and the range of per-triple means."""
    kind = NEW_CLASS
    t = TableData(
        "single_trials",
        "Single trials: spread of one run",
        ["arch", "quantity", "mean", "IQM", "95% of trials", "triples"],
        interval=kind,
        keys=2,
    )
    for arch in grid.gans:
        for label, values in TRIAL_QUANTITIES:
            x = values(grid, arch)
            iqm = grid.design.statistic(stats.iqm, x, kind=kind) if (~np.isnan(x)).any() else None
            t.rows.append(
                [
                    arch,
                    label,
                    grid.design.mean(x, kind=kind),
                    iqm,
                    prediction_band(x),
                    triple_range(x),
                ]
            )
    t.caption = caption(
        kind,
        "IQM: mean of the middle 50% of trials (rliable); 95% of trials: the central 95% "
        "of single-trial values (where one new run falls; it does not shrink with more "
        "trials); triples: min-max over triples of the mean over seeds",
    )
    return t


def coverage(grid: Grid, invalid: list[tuple[str, str]], notes: dict) -> TableData:
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
    cross = grid.df[grid.df.suite == "cross_fake"].trial_key.nunique()
    d = grid.design
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
