"""Options as types: each command refuses a bad value before any work, with one line.

A property-based test (Hypothesis) drives each command's parser and validation (what its
`main` does before any work) with generated values, typed the way a typo or a script
writes them (nan, inf, negative, huge, empty, unknown names), and asserts: exit 0 or
exactly one `error:` line with exit 2, never a traceback, and nothing written under the
results root by a rejected command. The "fast" profile runs in the suite;
`HYPOTHESIS_PROFILE=long` runs many more examples (tests/conftest.py).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import uuid
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from analysis import plan, rescore, rescoring, summarize
from bench.synthetic import write_root
from conftest import assert_user_error, run_cli
from fakedet import trial
from fakedet.config import Budget, TrialConfig, make_config
from fakedet.errors import exit_on_user_error
from fakedet.options import (
    at_least,
    between,
    defaults,
    finite,
    finite_float,
    names,
    positive,
    writable_dir,
)
from fakedet.protocol import BALANCED_TRIPLES
from fakedet.store import ResultsStore
from sweeps import options as sweep

ARCHS = ("hands_on", "brownlee")
CORRUPT = "metrics/arch=hands_on/protocol=seed/corrupt.parquet"


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A small synthetic results root (2 archs x 2 seeds x 3 triples) and one corrupt file."""
    path = tmp_path_factory.mktemp("results")
    write_root(str(path), ARCHS, (0, 1), BALANCED_TRIPLES[:3], lambda *a, **k: 0.7)
    (path / CORRUPT).write_bytes(b"not parquet")
    return path


def _snapshot(path: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in path.rglob("*")} if path.exists() else {}


def _run(validate, argv: list[str]) -> tuple[int, str]:
    """(exit status, stderr) of `validate(argv)` run as an entry point runs it."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            exit_on_user_error(validate)(argv)
            code = 0
        except SystemExit as e:
            code = e.code
    return code, err.getvalue()


def _check(code: int, err: str) -> None:
    event(f"exit {code}")  # --hypothesis-show-statistics: how many were accepted
    assert "Traceback" not in err, err
    assert code in (0, 2), (code, err)
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.endswith(" …")]
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("error:"), err
    else:
        assert not [ln for ln in lines if ln.startswith("error")], err


# --- values as a user or a script types them -----------------------------------------------
ODD = ["nan", "NaN", "inf", "-inf", "1e400", "", "x", "0", "-0", "-1", "1.5", "9" * 25]
number = st.one_of(
    st.sampled_from(ODD),
    st.integers(-3, 100_000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
small = st.one_of(st.sampled_from(ODD), st.integers(-2, 50).map(str))
arch_list = st.sampled_from(["hands_on,brownlee", "brownlee", "tf_dcgan,hands_on", "resnet", ""])
budget = {
    "--protocol": st.sampled_from(["seed", "official", "kaggle"]),
    "--epochs": small,
    "--max-steps": number,
    "--eval-limit": number,
    "--eval-at": st.one_of(
        st.sampled_from(["none", "default", "0.5,1", "nan", "inf,1", "0", "1,x", "", "1e-9"]),
        st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=3).map(
            lambda xs: ",".join(map(repr, xs))
        ),
    ),
    "--set": st.sampled_from(
        [
            "batch_size=64",
            "batch_size=40000",
            "batch_size=1",
            "lr_d=nan",
            "lr_d=inf",
            "lr_d=1e-4",
            "epochs=0",
            "nosuch=1",
            "x",
            "=1",
            "optimizer=sgd",
        ]
    ),  # fmt: skip
}


def command_line(options: dict, flags: tuple[str, ...] = ()) -> st.SearchStrategy:
    """argv: some of `options` (as --flag=value) and of `flags`, in any order."""
    pairs = st.lists(
        st.sampled_from(sorted(options)).flatmap(
            lambda flag: options[flag].map(lambda v: f"{flag}={v}")
        ),
        max_size=5,
    )
    return st.tuples(pairs, st.lists(st.sampled_from(flags), max_size=2) if flags else st.just([]))


def _argv(drawn) -> list[str]:
    pairs, flags = drawn
    return [*pairs, *flags]


# --- the commands' validation: what each main does before any work -------------------------
def _trial(argv):
    opts, _ = trial.parse(argv)
    ResultsStore(opts.results).check_writable()


def _sweep(argv):
    sweep.parse(argv).spec.trials()


def _summarize(argv):
    summarize.select_rows(summarize.parse(argv))


def _plan(argv):
    args = plan.parse(argv)
    plan.load_grid(args.results, args.archs, args.protocol, lambda path, why: None)


TRIAL = {
    "--arch": st.sampled_from(["hands_on", "brownlee", "tf_dcgan", "resnet", ""]),
    "--held-out": st.sampled_from(["0,6,9", "1-2-3", "069", "0,6", "0,6,6", "9,8,10", "a,b,c"]),
    "--seed": number,
    "--checkpoint-minutes": number,
    **budget,
}
SWEEP = {
    "--archs": arch_list,
    "--seeds": st.one_of(
        small,
        st.tuples(st.integers(-2, 5), st.integers(-2, 12)).map(lambda t: f"{t[0]}-{t[1]}"),
        st.sampled_from(["0,1", "0-99999999999", "1,x"]),
    ),
    "--triples": st.sampled_from(["1", "3", "10", "0", "121", "all", "0,6,9;1,2,3", "0,6", "x"]),
    "--cross-fakes": number,
    "--gpu-wait": number,
    "--gpus-per-trial": number,
    "--cpus-per-trial": number,
    "--num-cpus": small,
    "--num-gpus": small,
    "--max-failures": small,
    "--checkpoint-minutes": number,
    "--pack": st.sampled_from(["1", "4", "auto", "0", "-1", "x", ""]),
    "--preset": st.sampled_from([*sweep.PRESETS, "nope"]),
    "--address": st.just("auto"),
    **budget,
}


@given(drawn=command_line(TRIAL, ("--force", "--yes", "--no-quality")))
def test_the_trial_refuses_bad_values_with_one_line(tmp_path_factory, drawn):
    results = tmp_path_factory.getbasetemp() / f"trial-{uuid.uuid4().hex}"
    code, err = _run(_trial, [*_argv(drawn), "--results", str(results)])
    _check(code, err)
    if code:
        assert not results.exists()


@given(drawn=command_line(SWEEP, ("--smoke", "--no-detector", "--dry-run", "--no-quality")))
def test_the_sweep_refuses_bad_values_with_one_line(tmp_path_factory, drawn):
    results = tmp_path_factory.getbasetemp() / f"sweep-{uuid.uuid4().hex}"
    env = dict(os.environ)
    os.environ.pop("RAY_ADDRESS", None)
    try:
        code, err = _run(_sweep, [*_argv(drawn), "--results", str(results)])
    finally:
        os.environ.clear()
        os.environ.update(env)
    _check(code, err)
    if code:
        assert not results.exists()


def _analysis_options(root: Path, tmp: Path) -> dict:
    return {
        "--archs": st.sampled_from(["hands_on", "hands_on,brownlee", "tf_dcgan", "x,brownlee"]),
        "--protocol": st.sampled_from(["seed", "official"]),
        "--results": st.sampled_from([str(root), str(tmp / "none"), str(root / CORRUPT)]),
    }


@given(data=st.data())
def test_summarize_refuses_bad_values_with_one_line(root, tmp_path_factory, data):
    tmp = tmp_path_factory.getbasetemp()
    options = {
        **_analysis_options(root, tmp),
        "--format": st.sampled_from(["table", "markdown", "csv", "json", "xml"]),
        "--tables": st.sampled_from(["all", "headline", "gap,headline", "nope", ""]),
        "--plots": st.sampled_from([str(tmp / "plots"), str(root / CORRUPT), "/dev/null/x"]),
        "--confidence": number,
        "--resamples": number,
        "--seed": small,
        "--margin-seen-unseen": number,
        "--margin-transfer": number,
        "--margin-8bit": number,
        "--suites": st.sampled_from(["real_test", "own_fake,real_test", "nope", ""]),
        "--seeds": st.sampled_from(["0", "0-1", "5", "1-", "x", ""]),
    }
    before = _snapshot(root)
    code, err = _run(_summarize, _argv(data.draw(command_line(options))))
    _check(code, err)
    assert _snapshot(root) == before


@given(data=st.data())
def test_the_planner_refuses_bad_values_with_one_line(root, tmp_path_factory, data):
    options = {
        **_analysis_options(root, tmp_path_factory.getbasetemp()),
        "--target": number,
        "--quantity": st.sampled_from([*plan.QUANTITIES, "nope"]),
        "--format": st.sampled_from(["table", "json", "xml"]),
    }
    before = _snapshot(root)
    pairs, _ = data.draw(command_line(options))
    code, err = _run(_plan, ["--results", str(root), *pairs])
    _check(code, err)
    assert _snapshot(root) == before


@given(
    results=st.sampled_from(["root", "none", "corrupt", "under-a-file"]),
    force=st.booleans(),
)
def test_rescore_checks_its_root_before_reading_it(root, tmp_path_factory, results, force):
    tmp = tmp_path_factory.getbasetemp()
    path = {"root": root, "none": tmp / "none", "corrupt": root / CORRUPT,
            "under-a-file": root / CORRUPT / "sub"}[results]  # fmt: skip
    before = _snapshot(root)
    code, err = _run(rescore.parse, ["--results", str(path)] + ["--force"] * force)
    _check(code, err)
    assert code == (0 if results == "root" else 2)
    assert _snapshot(root) == before and not (tmp / "none").exists()


# --- the entry points themselves ------------------------------------------------------------
@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["-m", "fakedet", "--checkpoint-minutes", "nan"], "--checkpoint-minutes: 'nan'"),
        (["-m", "fakedet", "--epochs", "1", "--set", "batch_size=50000"], "--set batch_size"),
        (["sweeps/all_triples.py", "--gpu-wait", "inf"], "--gpu-wait: 'inf' is not a finite"),
        (["sweeps/all_triples.py", "--smoke", "--preset", "pilot"], "--smoke is --preset"),
    ],
)
def test_the_entry_points_refuse_before_any_work(tmp_path, argv, fragment):
    results = tmp_path / "results"
    assert_user_error(run_cli(*argv, "--results", str(results)), fragment)
    assert not results.exists()


def test_the_sweep_checks_its_results_root_before_ray_starts(tmp_path):
    (tmp_path / "file").write_text("keep me")
    proc = run_cli("sweeps/all_triples.py", "--smoke", "--results", str(tmp_path / "file" / "r"))
    assert_user_error(proc, "cannot write results there", "is a file, not a directory")
    assert (tmp_path / "file").read_text() == "keep me"


def test_the_analysis_commands_name_what_the_results_hold(root, tmp_path):
    proc = run_cli("-m", "analysis.summarize", "--results", str(root), "--protocol", "official")
    assert_user_error(proc, "--protocol official", "found: seed")
    proc = run_cli("-m", "analysis.plan", "--results", str(root), "--archs", "tf_dcgan")
    assert_user_error(proc, "--archs", "found: brownlee, hands_on")
    proc = run_cli("-m", "analysis.plan", "--results", str(root), "--target", "nan")
    assert_user_error(proc, "--target: 'nan' is not a finite number")
    proc = run_cli(
        "-m", "analysis.summarize", "--results", str(root), "--plots", str(root / CORRUPT)
    )
    assert_user_error(proc, "--plots", "is a file, not a directory")
    proc = run_cli("-m", "analysis.rescore", "--results", str(root / CORRUPT / "sub"))
    assert_user_error(proc, "no results at")


def test_every_command_reading_results_names_a_corrupt_file(root, capsys):
    left_out = []
    plan.load_grid(str(root), None, None, lambda path, why: left_out.append(path))
    assert [Path(p).name for p in left_out] == ["corrupt.parquet"]
    summarize.main(["--results", str(root), "--tables", "headline", "--resamples", "100"])
    err = capsys.readouterr().err
    assert "invalid file left out:" in err and "corrupt.parquet" in err
    report = rescoring.rescore(str(root))
    assert [Path(p).name for p, _ in report.failed] == ["corrupt.parquet"]


# --- presets, budgets and options as types --------------------------------------------------
def test_an_option_typed_wins_over_the_preset_whatever_its_value():
    opts = sweep.parse(["--smoke", "--cross-fakes", "10000", "--seeds", "0-4"])
    assert opts.spec.cross_fakes == 10_000  # the default's value, typed: it wins
    assert opts.spec.seeds == (0, 1, 2, 3, 4)
    assert opts.spec.triples == BALANCED_TRIPLES[:3]  # not typed: the preset's
    assert opts.spec.budget == Budget(max_steps=20, eval_limit=300)
    assert sweep.parse(["--smoke"]) == sweep.parse(["--preset", "smoke"])


@pytest.mark.parametrize("name", sweep.PRESETS)
def test_every_preset_is_a_set_of_option_values(name):
    opts = sweep.parse(["--preset", name])
    assert opts.spec.trials() and opts.spec.seeds == sweep.PRESETS[name]["seeds"]
    assert opts.spec.seeds[0] == 0  # every preset starts with seed 0
    assert set(sweep.PRESETS[name]) <= set(defaults(sweep.SweepOptions))


def test_a_trials_config_holds_its_budget_and_stores_the_keys_of_0_1():
    cfg = make_config("hands_on", 0, "0,6,9", Budget(max_steps=900, eval_at=(0.5,), epochs=2))
    assert cfg.budget == Budget(max_steps=900, eval_at=(0.5,)) and cfg.recipe.epochs == 2
    stored = cfg.to_dict()
    assert list(stored) == ["arch", "seed", "heldout", "protocol", "recipe", "max_steps",
                            "eval_limit", "eval_at"]  # fmt: skip
    assert TrialConfig.from_dict(stored) == cfg


def test_a_writable_directory_is_checked_without_creating_it(tmp_path):
    assert writable_dir(str(tmp_path / "a" / "b")) is None
    assert not (tmp_path / "a").exists()
    (tmp_path / "f").write_text("")
    assert "is a file, not a directory" in writable_dir(str(tmp_path / "f" / "x"))


def test_the_range_checks_say_what_a_value_must_be():
    assert at_least(1)(1) is None and at_least(1)(None) is None
    assert at_least(1)(0) == "must be >= 1"
    assert positive(float("nan")) == "must be a finite number" == finite(float("inf"))
    assert between(0.5, 1)(0.95) is None and between(0.5, 1)(1) == "must be in (0.5, 1)"
    with pytest.raises(argparse.ArgumentTypeError, match="not a finite number"):
        finite_float("-inf")
    assert names(" a,b , a") == ("a", "b")
