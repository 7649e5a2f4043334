"""Coverage of the summary's intervals by simulation, small designs and the full one.

    python tests/simulate_coverage.py [--sweeps 4000]    # the table in docs/method.md

Every scenario simulates the crossed class design (10 classes; value = mu + the triple's 3
class effects + triple noise + seed noise, on the logit scale for rates near a bound) and
reports, per design and kind of interval, the share of the nominal 95% intervals that
contain their target and their mean width. `tests/analysis/test_inference.py` runs the same
scenarios with fewer sweeps. The targets: for a new class, the population mean (over
classes, triples and seeds); for these classes, the mean the design's own triples would
give with new seeds. The crossed design is simulated by `analysis.crossed` (the planner's
and the components' simulation too), each scenario from its own fixed seed, so the table
is the same on every run.
"""

from __future__ import annotations

import argparse
import functools
from dataclasses import dataclass

import numpy as np
from scipy import special
from scipy import stats as sps

from analysis import crossed
from analysis.inference import NEW_CLASS, SIGNED, THESE_CLASSES, UNIT, Intervals
from analysis.verdicts import single_trial_band
from fakedet.protocol import ALL_TRIPLES, BALANCED_TRIPLES
from sweeps.options import PILOT_TRIPLES

PILOT = list(PILOT_TRIPLES)
"""The pilot's 8 triples (docs/pilot)."""
DESIGNS = {
    "8 x 1": (PILOT, 1),
    "8 x 2": (PILOT, 2),
    "10 x 1": (BALANCED_TRIPLES[:10], 1),
    "10 x 2": (BALANCED_TRIPLES[:10], 2),
    "40 x 1": (BALANCED_TRIPLES[:40], 1),
    "120 x 5": (ALL_TRIPLES, 5),
}
"""triples x seeds: the pilot's 8, the first 10 and 40 of the class-balanced order, all."""


@dataclass(frozen=True)
class Row:
    """One line of the coverage table."""

    design: str
    quantity: str
    kind: str
    true: float
    coverage: float
    width: float
    inside: bool
    """Whether every interval stayed inside the quantity's range."""

    def __str__(self) -> str:
        return (
            f"{self.design:<14} {self.quantity:<26} {self.kind:<13} {self.true:>6.3f} "
            f"{self.coverage:>7.1%} {self.width:>6.3f}"
        )


HEADER = f"{'design':<14} {'quantity':<26} {'kind':<13} {'true':>6} {'covers':>7} {'width':>6}"


def measure(design, quantity, kind, estimates, target, true, bounds=(-np.inf, np.inf)) -> Row:
    """Coverage and mean width of `estimates` (one per sweep) for `target` (scalar or one
    per sweep); sweeps without an interval count as not covering."""
    low, high = np.array([(e.low, e.high) for e in estimates]).T
    covered = (low <= target) & (target <= high)
    inside = bool(np.all((low >= bounds[0] - 1e-12) & (high <= bounds[1] + 1e-12)))
    return Row(
        design, quantity, kind, true, float(np.mean(covered)), float(np.nanmean(high - low)), inside
    )


def _crossed(rng, triples, seeds, sweeps, class_sd, triple_sd, seed_sd):
    """(sweeps, T, S) noise of the crossed design (`analysis.crossed`, mean 0) and its fixed
    part (sweeps, T); `seed_sd` may be a function of (rng, sweeps, T) drawn after the
    noise, for seed noise that differs between triples."""
    noise = crossed.draw(triples, seeds, sweeps, rng)
    truth = crossed.Truth(class_sd, triple_sd, 1.0 if callable(seed_sd) else seed_sd)
    fixed = crossed.fixed(truth, noise)
    if callable(seed_sd):
        return fixed[..., 0], fixed + noise.seed * seed_sd(rng, sweeps, len(triples))
    return fixed[..., 0], crossed.sweeps(truth, noise)


def _uneven_seed_sd(rng, sweeps, triples):
    """Seed sd differing between triples (lognormal about 0.03): some triples are noisier."""
    return 0.03 * np.exp(rng.normal(0, 0.5, (sweeps, triples, 1)))


def these_classes(sweeps: int, designs=("8 x 2", "10 x 2", "120 x 5")) -> list[Row]:
    """Means in [0, 1] (about 0.6), seed noise uneven across triples; and 10 x 2 with three
    triples down to one seed (their seed variance pooled from the others)."""
    rows = []
    for name in (*designs, "10 x 2, 3 one-seed"):
        base = name.split(",")[0]
        triples, seeds = DESIGNS[base]
        rng = np.random.default_rng([len(triples), seeds, int("one-seed" in name)])
        fixed, values = _crossed(rng, triples, seeds, sweeps, 0.05, 0.01, _uneven_seed_sd)
        values = 0.6 + values
        if "one-seed" in name:
            values[:, :3, 1] = np.nan
        present = ~np.isnan(values)
        target = 0.6 + (fixed[:, :, None] * present).sum(axis=(1, 2)) / present.sum(axis=(1, 2))
        est = Intervals(triples, seeds).means(values, kind=THESE_CLASSES, bounds=UNIT)
        rows.append(measure(name, "mean of a rate", THESE_CLASSES, est, target, 0.6, UNIT))
    return rows


@functools.cache
def _population_rate(logit_mu: float, sd: float) -> float:
    """E[expit(logit_mu + N(0, sd^2))], by Gauss-Hermite quadrature."""
    x, w = np.polynomial.hermite_e.hermegauss(80)
    return float((special.expit(logit_mu + sd * x) * w).sum() / w.sum())


def bounded_rates(
    sweeps: int, designs=("8 x 1", "10 x 1", "120 x 5"), class_sd: float = 0.5
) -> list[Row]:
    """Rates near 1: logit = logit(0.985) + class effects (sd `class_sd`) + triple (0.2)
    + seed (0.3) noise, skewed towards 0 by the bound; the mean's interval for a new
    class must stay in [0, 1] and cover the population mean (0.978 at class sd 0.5)."""
    rows = []
    for name in designs:
        triples, seeds = DESIGNS[name]
        rng = np.random.default_rng(7 + len(name))
        mu = special.logit(0.985)
        _, eta = _crossed(rng, triples, seeds, sweeps, class_sd, 0.2, 0.3)
        true = _population_rate(mu, float(np.sqrt(3 * class_sd**2 + 0.2**2 + 0.3**2)))
        est = Intervals(triples, seeds).means(special.expit(mu + eta), kind=NEW_CLASS, bounds=UNIT)
        quantity = f"rate near 1, class {class_sd:g}"
        rows.append(measure(name, quantity, NEW_CLASS, est, true, true, UNIT))
    return rows


def improvement(sweeps: int, designs=("8 x 1", "10 x 1", "40 x 1")) -> list[Row]:
    """P(X > Y) on matched cells: X wins a cell when mu + class effects (sd 0.5) + triple
    (0.3) + seed (1) noise > 0; mu sets the population's P to 0.9 or 0.99."""
    rows = []
    total = float(np.sqrt(3 * 0.5**2 + 0.3**2 + 1.0))
    for p in (0.9, 0.99):
        for name in designs:
            triples, seeds = DESIGNS[name]
            rng = np.random.default_rng(int(1000 * p) + len(name))
            _, d = _crossed(rng, triples, seeds, sweeps, 0.5, 0.3, 1.0)
            x = sps.norm.ppf(p) * total + d
            intervals = Intervals(triples, seeds)
            est = [
                intervals.probability_of_improvement(x[r], np.zeros_like(x[r]), kind=NEW_CLASS)
                for r in range(sweeps)
            ]
            cells = f"{len(triples) * seeds} cells"
            rows.append(measure(f"{name} ({cells})", "P(X>Y)", NEW_CLASS, est, p, p, UNIT))
    return rows


def no_difference(sweeps: int, designs=("8 x 1", "10 x 1")) -> list[Row]:
    """P(X > Y) = 0.5 exactly: X - Y = class effects (sd 1) + triple (0.2) + seed (0.2)
    noise, centred at 0; with class effects this large every cell agrees in some sweeps,
    where the interval must still hold 0.5 (issue 23: 91.0% on 8 x 1 before)."""
    rows = []
    for name in designs:
        triples, seeds = DESIGNS[name]
        rng = np.random.default_rng(50 + len(triples))
        _, d = _crossed(rng, triples, seeds, sweeps, 1.0, 0.2, 0.2)
        intervals = Intervals(triples, seeds)
        est = [
            intervals.probability_of_improvement(d[r], np.zeros_like(d[r]), kind=NEW_CLASS)
            for r in range(sweeps)
        ]
        rows.append(measure(name, "P(X>Y) = 0.5, class sd 1", NEW_CLASS, est, 0.5, 0.5, UNIT))
    return rows


def full_design(sweeps: int) -> list[Row]:
    """The full design, two architectures sharing class effects in part and a seed's noise
    in part, one missing trial each: means in [0, 1], paired differences in [-1, 1]."""
    rows = []
    tri = np.array(ALL_TRIPLES)
    for label, (class_sd, triple_sd, seed_sd) in {
        "class-dominated": (0.10, 0.01, 0.03),
        "seed-dominated": (0.005, 0.01, 0.03),
    }.items():
        rng = np.random.default_rng(len(label))
        a, b = rng.normal(0, class_sd, (2, sweeps, 10))
        shared, own_x, own_y = rng.normal(0, seed_sd / np.sqrt(2), (3, sweeps, 120, 5))
        fx = 0.60 + a[:, tri].sum(axis=2) + rng.normal(0, triple_sd, (sweeps, 120))
        fy = (
            0.55 + (0.8 * a + 0.6 * b)[:, tri].sum(axis=2) + rng.normal(0, triple_sd, (sweeps, 120))
        )
        x, y = fx[:, :, None] + shared + own_x, fy[:, :, None] + shared + own_y
        x[:, 7, 2] = y[:, 30, 4] = np.nan
        intervals = Intervals(ALL_TRIPLES, 5)
        for kind in (NEW_CLASS, THESE_CLASSES):
            mx = _conditional(fx, x) if kind == THESE_CLASSES else 0.60
            md = _conditional(fx - fy, x - y) if kind == THESE_CLASSES else 0.05
            rows.append(
                measure(f"120 x 5, {label}", "mean", kind,
                        intervals.means(x, kind=kind, bounds=UNIT), mx, 0.60, UNIT)
            )  # fmt: skip
            rows.append(
                measure(f"120 x 5, {label}", "paired difference", kind,
                        intervals.means(x - y, kind=kind, bounds=SIGNED), md, 0.05, SIGNED)
            )  # fmt: skip
    return rows


def _conditional(fixed, values):
    """Per sweep, the mean of the fixed parts over the trials present in `values`."""
    present = ~np.isnan(values)
    return (fixed[:, :, None] * present).sum(axis=(1, 2)) / present.sum(axis=(1, 2))


def band(sweeps: int, sizes=(8, 40, 600)) -> list[Row]:
    """The one-run band of n single trials: the share of new trials inside it (its printed
    coverage is (n + 1 - 2j) / (n + 1), exactly)."""
    rows = []
    rng = np.random.default_rng(5)
    for n in sizes:
        values = rng.normal(0, 1, (sweeps, n))
        new = rng.normal(0, 1, sweeps)
        bands = [single_trial_band(v) for v in values]
        inside = np.mean([b.low <= z <= b.high for b, z in zip(bands, new, strict=True)])
        rows.append(
            Row(f"{n} trials", "one new run", "band", bands[0].coverage, float(inside),
                float(np.mean([b.high - b.low for b in bands])), True)
        )  # fmt: skip
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sweeps", type=int, default=4000)
    n = p.parse_args().sweeps
    print(HEADER)
    for rows in (
        full_design(n),
        these_classes(n),
        bounded_rates(n, class_sd=0.3),
        bounded_rates(n, class_sd=0.5),
        improvement(n),
        no_difference(n),
        band(n),
    ):
        for r in rows:
            print(r)


if __name__ == "__main__":
    main()
