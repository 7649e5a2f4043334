"""Variance components of the crossed class design: exact answers on hand-made grids,
recovery of known components on simulated ones, and the summary's `components` table."""

import json
from dataclasses import replace

import numpy as np
import pytest

from analysis import crossed, summarize
from analysis.components import TooFewTrials, fit
from analysis.crossed import PARTS, Truth, simulate
from analysis.inference import UNIT
from bench.synthetic import write_root
from fakedet.protocol import BALANCED_TRIPLES

TRIPLES = np.array(BALANCED_TRIPLES)
CLASS_DOMINATED = Truth(class_sd=0.10, triple_sd=0.01, seed_sd=0.03)
SEED_DOMINATED = Truth(class_sd=0.005, triple_sd=0.01, seed_sd=0.03)


def test_a_simulated_sweep_is_the_sum_of_its_parts():
    """`analysis.crossed`: each triple holds its 3 classes' draws; one truth per sweep
    gives the same sweeps as each truth alone on the same draws; values stay in bounds."""
    rng = np.random.default_rng(0)
    z_class, z_triple, z_seed = rng.normal(size=(4, 10)), rng.normal(size=(4, 3, 1)), None
    z_seed = rng.normal(size=(4, 3, 2))
    noise = crossed.draw(TRIPLES[:3], 2, 4, np.random.default_rng(0))
    assert np.array_equal(noise.classes[..., 0], z_class[:, TRIPLES[:3]].sum(axis=2))
    assert np.array_equal(noise.triple, z_triple) and np.array_equal(noise.seed, z_seed)
    truth = Truth(0.1, 0.2, 0.3, mean=0.5)
    y = crossed.sweeps(truth, noise)
    assert np.allclose(y, 0.5 + 0.1 * noise.classes + 0.2 * noise.triple + 0.3 * noise.seed)
    assert np.allclose(crossed.fixed(truth, noise), (y - 0.3 * noise.seed))
    truths = [truth, Truth(seed_sd=1.0, bounds=UNIT), truth, Truth()]
    each = crossed.sweeps(truths, noise)
    for r, t in enumerate(truths):
        one = crossed.Noise(
            noise.classes[r : r + 1], noise.triple[r : r + 1], noise.seed[r : r + 1]
        )
        assert np.array_equal(each[r], crossed.sweeps(t, one)[0])
    assert each[1].min() >= 0 and each[1].max() <= 1 and (each[3] == 0).all()
    mask = np.array([[True, False], [True, True], [False, True]])
    assert np.isnan(simulate(truth, TRIPLES[:3], mask, 2, rng)[:, ~mask]).all()


def test_one_trials_variation_moves_whole_between_parts():
    t = Truth(0.1, 0.2, 0.3, mean=0.4, bounds=UNIT)
    total = 3 * 0.1**2 + 0.2**2 + 0.3**2
    seed, triple = t.as_seed_noise(), t.as_triple_noise()
    assert (seed.class_sd, seed.triple_sd, seed.seed_sd**2) == (0, 0, pytest.approx(total))
    assert (triple.class_sd, triple.seed_sd) == (0, 0.3)
    assert triple.triple_sd**2 + triple.seed_sd**2 == pytest.approx(total)
    assert (seed.mean, seed.bounds) == (0.4, UNIT) and t.only_classes() == Truth(
        0.1, mean=0.4, bounds=UNIT
    )


def test_the_seed_part_is_the_pooled_within_triple_variance():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(20, 3)) + 5 * rng.normal(size=(20, 1))
    y[3, 2] = np.nan  # a missing trial: its triple has 2 seeds, 1 degree of freedom
    rows = [r[~np.isnan(r)] for r in y]
    pooled = sum(((r - r.mean()) ** 2).sum() for r in rows) / sum(len(r) - 1 for r in rows)
    c = fit(y, TRIPLES[:20], bootstrap=0)
    assert c.variances["seed"] == pytest.approx(pooled)
    assert c.trials == 59 and c.mean == pytest.approx(np.nanmean(y))


def test_no_variation_fits_zero_everywhere():
    c = fit(np.full((20, 2), 0.7), TRIPLES[:20])
    assert all(c.sd(p) == pytest.approx(0, abs=1e-6) for p in PARTS)  # rounding error
    assert c.intervals["class"][0] == 0.0


@pytest.mark.parametrize("truth", [CLASS_DOMINATED, SEED_DOMINATED], ids=["class", "seed"])
def test_moment_estimates_are_unbiased(truth):
    ys = simulate(truth, TRIPLES[:40], np.ones((40, 2), bool), 400, np.random.default_rng(1))
    fits = [fit(y, TRIPLES[:40], bootstrap=0) for y in ys]
    for part in PARTS:
        mean = np.mean([f.variances[part] for f in fits])
        sd = np.std([f.variances[part] for f in fits]) / np.sqrt(len(fits))
        assert abs(mean - truth.sd(part) ** 2) < 4 * sd, part  # within Monte Carlo error


def coverage(truth: Truth, n: int, s: int, sweeps: int, seed: int = 2) -> dict[str, float]:
    """{part: share of `sweeps` simulated sweeps (n balanced triples x s seeds) whose 95%
    interval holds the true SD}; an upper bound of NaN counts as unbounded."""
    mask = np.ones((n, s), bool)
    ys = simulate(replace(truth, mean=0.1), TRIPLES[:n], mask, sweeps, np.random.default_rng(seed))
    covered = dict.fromkeys(PARTS, 0)
    for i, y in enumerate(ys):
        c = fit(y, TRIPLES[:n], seed=i)
        for part in PARTS:
            low, high = c.intervals[part]
            covered[part] += low <= truth.sd(part) <= (np.inf if np.isnan(high) else high)
    return {part: k / sweeps for part, k in covered.items()}


@pytest.mark.parametrize("truth", [CLASS_DOMINATED, SEED_DOMINATED], ids=["class", "seed"])
def test_intervals_cover_the_truth(truth):
    """60 sweeps of 120 triples x 3 seeds: at least 85% for class and seed, 75% for the
    triple, whose interval under-covers when its SD is small beside the seed's (see
    `python -m tests.analysis.test_components` and analysis/components.py)."""
    got = coverage(truth, 120, 3, 60)
    assert got["class"] >= 0.85 and got["seed"] >= 0.85 and got["triple"] >= 0.75, got


def test_what_a_design_cannot_separate():
    rng = np.random.default_rng(3)
    one_seed = simulate(CLASS_DOMINATED, TRIPLES[:40], np.ones((40, 1), bool), 1, rng)[0]
    c = fit(one_seed, TRIPLES[:40])
    assert not c.separable["triple"] and c.separable["seed"] and np.isnan(c.sd("triple"))
    assert c.planned().triple_sd == 0.0 and c.note.startswith("one seed per triple")
    fitted = c.planned()  # the seed part holds the triple's: or all of it is the triple's
    assert c.splits(fitted) == (fitted, replace(fitted, triple_sd=fitted.seed_sd, seed_sd=0.0))
    ten = simulate(CLASS_DOMINATED, TRIPLES[:10], np.ones((10, 2), bool), 1, rng)[0]
    c = fit(ten, TRIPLES[:10])  # 10 triples, 10 class effects: nothing left for the triple
    assert not c.separable["triple"] and c.separable["seed"] and c.sd("class") > 0
    assert c.note.startswith("no more triples than class effects")
    assert c.splits(c.planned()) == (c.planned(), c.planned().as_triple_noise())
    assert json.loads(json.dumps(c.separable)) == c.separable  # plain bools, for exports
    c = fit(ten[:, :1], TRIPLES[:10])  # and one seed: only the class part is estimable
    assert not c.separable["seed"] and np.isnan(c.sd("seed")) and c.sd("class") > 0
    assert "class sd holds all the variation" in c.note
    assert c.splits(c.planned()) == (c.planned(), c.planned().as_seed_noise())
    plausible = c.plausible(UNIT)
    assert len(plausible) == 200 and all(t.bounds == UNIT and t.seed_sd == 0 for t in plausible)
    full = fit(simulate(CLASS_DOMINATED, TRIPLES, np.ones((120, 2), bool), 1, rng)[0], TRIPLES)
    assert full.note == "" and full.splits(full.planned()) == (full.planned(),)


def test_too_few_triples_to_fit():
    with pytest.raises(TooFewTrials, match="1 triple"):
        fit(np.ones((1, 3)), TRIPLES[:1])
    with pytest.raises(TooFewTrials, match="1 triple"):
        fit(np.array([[0.1, 0.2], [np.nan, np.nan]]), TRIPLES[:2])


def test_the_summary_shows_a_components_table(tmp_path, capsys):
    rng = np.random.default_rng(4)
    effects = rng.normal(0, 0.1, 10)
    noise = {}

    def value(arch, suite, metric, gen, class_id, seed, triple, **_):
        if suite == "real_heldout" and metric == "real_recall":
            key = (seed, triple)
            noise.setdefault(key, rng.normal(0, 0.03))
            return 0.7 + effects[list(triple)].sum() + noise[key]
        return 0.5

    write_root(str(tmp_path), ["hands_on"], [0, 1], BALANCED_TRIPLES[:20], value, cross=False)
    summarize.main(["--results", str(tmp_path), "--tables", "components", "--format", "json"])
    (table,) = json.loads(capsys.readouterr().out)
    assert table["name"] == "components"
    rows = {row[1]: row for row in table["rows"] if row[0] == "hands_on"}
    unseen = rows["unseen_recall"]
    assert unseen[2]["low"] <= 0.1 <= unseen[2]["high"]  # class sd, the truth
    assert unseen[4]["low"] <= 0.03 <= unseen[4]["high"]  # seed sd
    assert rows["seen_recall"][2]["value"] == pytest.approx(0, abs=1e-9)  # constant


if __name__ == "__main__":  # coverage of the 95% intervals, 200 sweeps per setting
    settings = [
        (CLASS_DOMINATED, 120, 3),
        (CLASS_DOMINATED, 40, 2),
        (SEED_DOMINATED, 40, 2),
        (Truth(0.05, 0.03, 0.03), 40, 2),
    ]
    for truth, n, s in settings:
        got = coverage(truth, n, s, 200, seed=11)
        sds = ", ".join(f"{truth.sd(p):g}" for p in PARTS)
        print(f"({sds}) {n} x {s}:", ", ".join(f"{p} {v:.1%}" for p, v in got.items()))
