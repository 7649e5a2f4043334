"""The plan of a sweep, without Ray: parsing, the grid, cross pairs, groups."""

import subprocess
import sys

import pytest

from conftest import REPO
from fakedet.config import Budget, from_tune, make_config, tune_point
from fakedet.errors import UserError
from fakedet.protocol import ALL_TRIPLES
from sweeps.spec import (
    SweepSpec,
    cross_pairs,
    parse_archs,
    parse_seeds,
    parse_triples,
    plan_name,
    same_data_groups,
)


def test_parsers():
    assert parse_seeds("0-4") == (0, 1, 2, 3, 4) and parse_seeds("3,1,3") == (3, 1)
    assert parse_triples("all") == ALL_TRIPLES
    assert parse_triples("9,6,0;1,2,3") == ((0, 6, 9), (1, 2, 3))
    assert parse_triples("3") == ((0, 1, 2), (3, 4, 5), (6, 7, 8))  # 9 different classes
    assert parse_triples("40")[:10] == parse_triples("10")
    for bad in ("x", "-1", "1-"):
        with pytest.raises(UserError):
            parse_seeds(bad)
    for bad in ("0", "121", "1,2;3,4,5"):
        with pytest.raises(UserError):
            parse_triples(bad)


def test_cross_pairs_and_plan_name():
    trials = [make_config(a, 0, t) for a in ("hands_on", "brownlee") for t in ("0,1,2", "3,4,5")]
    done = {t.key for t in trials[:3]}  # brownlee on 3,4,5 is missing
    pairs = {(d.arch, g.arch, d.heldout) for d, g in cross_pairs(same_data_groups(trials, done))}
    assert pairs == {("hands_on", "brownlee", (0, 1, 2)), ("brownlee", "hands_on", (0, 1, 2))}
    assert plan_name(trials) == plan_name(trials[::-1]) != plan_name(trials[:2])


def test_spec_trials_follow_the_grid_and_share_the_budget():
    spec = SweepSpec(archs=("brownlee", "hands_on"), seeds=(1, 2), triples=((0, 1, 2),),
                     budget=Budget(max_steps=7, eval_at=(0.001,)))  # fmt: skip
    trials = spec.trials()
    assert [(t.arch, t.seed) for t in trials] == [
        ("brownlee", 1), ("hands_on", 1), ("brownlee", 2), ("hands_on", 2)
    ]  # fmt: skip
    assert {t.max_steps for t in trials} == {7} and {t.eval_at for t in trials} == {(0.001,)}
    grid = spec.grid()
    assert grid == {"arch": ["brownlee", "hands_on"], "seed": [1, 2], "heldout": [[0, 1, 2]]}
    point = tune_point("hands_on", 2, (0, 1, 2), spec.budget)
    assert set(point) == {"arch", "seed", "heldout", "budget"}  # no infrastructure
    assert from_tune(point) == trials[3]  # a Tune config comes back as the same trial


def test_same_data_groups_hold_finished_trials_of_one_seed_and_triple():
    trials = [make_config(a, s, "0,1,2") for a in ("hands_on", "brownlee") for s in (0, 1)]
    done = {t.key for t in trials} - {trials[3].key}  # brownlee seed 1 missing
    groups = sorted(same_data_groups(trials, done), key=len)
    assert [[t.arch for t in g] for g in groups] == [["hands_on"], ["hands_on", "brownlee"]]


def test_parse_archs_rejects_empty_and_unknown():
    assert parse_archs("hands_on, brownlee,hands_on") == ("hands_on", "brownlee")
    for bad, fragment in ((" , ", "empty"), ("gan", "unknown arch")):
        with pytest.raises(UserError, match=fragment):
            parse_archs(bad)
    with pytest.raises(UserError, match="0..9223372036854775807"):
        parse_seeds("99999999999999999999")


def test_planning_imports_no_ray():
    code = "import sys, sweeps.spec, sweeps.estimate; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
