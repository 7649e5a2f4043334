"""One class's rate when held out, when seen, and the difference, with either kind of
interval (the `class_effect` table; docs/method.md, "Per class")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.bounded import UNBOUNDED, Bounds, combined, difference_bounds
from analysis.inference import NEW_CLASS, Intervals, kind_of, level_of
from analysis.jackknife import partner_gaps
from analysis.stats import NAN_ESTIMATE, Estimate


@dataclass(frozen=True)
class ClassGap:
    """One class's rate when held out, when seen, and held out minus seen."""

    held: Estimate
    seen: Estimate
    difference: Estimate


def class_gaps(
    design: Intervals, held, seen, c: int, *, kind: str, confidence=None, bounds: Bounds = UNBOUNDED
) -> list[ClassGap]:
    """Class c's rate when held out, when seen, and held out minus seen, per metric.

    NEW_CLASS: the partner jackknife -- for each other class p, drop every triple
    holding p from both sides and recompute; t interval with n_partners - 1 df. It
    covers the gap c would show with partner classes drawn anew from their population
    (and new seeds); see CLASS_GAP_CAPTION. THESE_CLASSES: seed variance within
    triples; covers the gap with these partners, given new seeds. Either way the two
    sides also differ in how many other classes are held out (2 vs 3); the gap
    includes that.

    Args:
        held: (M, T, S) rates; only the triples holding c count (others ignored).
        seen: (M, T, S) rates; only the triples not holding c count.
        c: the class id.
        kind: THESE_CLASSES or NEW_CLASS.
        confidence: two-sided level; default the design's.
        bounds: the range of a rate; the difference's follows.
    """
    held, seen, level = (
        design.check(held),
        design.check(seen),
        level_of(confidence, design.confidence),
    )
    if c not in design.classes:
        raise ValueError(f"class {c} is in no triple; classes: {design.classes.tolist()}")
    has_c = (design.triples == c).any(axis=1)[None, :, None]
    held, seen = np.where(has_c, held, np.nan), np.where(has_c, np.nan, seen)
    if kind_of(kind) == NEW_CLASS:
        partners = design.incidence[design.classes != c]
        parts = partner_gaps(held, seen, partners, level, bounds)
    else:
        n_held = (~np.isnan(held)).sum(axis=(1, 2))
        n_seen = (~np.isnan(seen)).sum(axis=(1, 2))
        w_held = 1.0 / np.maximum(n_held, 1)[:, None, None]
        w_seen = 1.0 / np.maximum(n_seen, 1)[:, None, None]
        both, signed = np.where(has_c, held, seen), difference_bounds(bounds, bounds)
        parts = [
            design.linear(held, w_held, level, bounds),
            design.linear(seen, w_seen, level, bounds),
            design.linear(both, np.where(has_c, w_held, -w_seen), level, signed),
        ]
    finite = bool(np.isfinite(bounds).all())  # a difference of bounded rates: floors
    gaps = [
        ClassGap(h, s, combined(h, s, d, level) if finite else d)
        for h, s, d in zip(*parts, strict=True)
    ]
    return [g if g.held.n and g.seen.n else ClassGap(g.held, g.seen, NAN_ESTIMATE) for g in gaps]


def class_gap(
    design: Intervals, held, seen, c: int, *, kind: str, confidence=None, bounds: Bounds = UNBOUNDED
) -> ClassGap:
    """`class_gaps` for one metric: `held, seen` (T, S)."""
    return class_gaps(
        design,
        np.asarray(held)[None],
        np.asarray(seen)[None],
        c,
        kind=kind,
        confidence=confidence,
        bounds=bounds,
    )[0]
