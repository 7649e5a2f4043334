"""The commands answer `--help` at once with every default, say what they are about to run,
and are never silent for long (status lines, the sweep's live status in a log)."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
import time

import pytest
from rich.console import Console

from conftest import REPO, assert_user_error, run_cli
from fakedet import status
from fakedet.errors import DefaultsHelpFormatter

HEAVY = {"torch", "ray", "sklearn", "scipy", "pandas"}
COMMANDS = {
    # command (python -m MODULE or a script) -> libraries its --help must not load
    "fakedet": HEAVY,
    "fakedet.trial": HEAVY,
    "sweeps/all_triples.py": HEAVY,
    "analysis.summarize": HEAVY,
    "analysis.plan": HEAVY,
    "analysis.rescore": HEAVY | {"pyarrow"},  # the command; its library is analysis.rescoring
}


def _help_and_modules(command: str) -> tuple[str, set[str]]:
    """`command --help`'s text and the top-level modules loaded when it answered."""
    run = (
        f"runpy.run_path({command!r}, run_name='__main__')"
        if command.endswith(".py")
        else f"runpy.run_module({command!r}, run_name='__main__', alter_sys=True)"
    )
    code = (
        "import io, contextlib, runpy, sys\n"
        f"sys.argv = [{command!r}, '--help']\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        f"    {run}\n"
        "print(out.getvalue()); print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    text, _, modules = proc.stdout.rstrip().rpartition("\n")
    return text, set(modules.split())


@pytest.mark.parametrize("command", COMMANDS)
def test_help_parses_before_the_heavy_libraries_load(command):
    text, loaded = _help_and_modules(command)
    assert "usage:" in text and "--help" in text
    assert not loaded & COMMANDS[command], (command, loaded & COMMANDS[command])


def _parsers():
    from analysis import plan, rescore, summarize
    from fakedet import trial

    spec = importlib.util.spec_from_file_location("all_triples", REPO / "sweeps/all_triples.py")
    sweep = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sweep)
    return [m.build_parser() for m in (trial, sweep, summarize, plan, rescore)]


def test_every_option_shows_its_default():
    """Each option's help says its default: shown by the formatter, or in its own words
    where the default is no value (None); flags and required options aside."""
    for parser in _parsers():
        formatter = DefaultsHelpFormatter(parser.prog)
        for action in parser._actions:
            if not action.option_strings or action.nargs == 0 or action.required:
                continue
            assert "default" in formatter._get_help_string(action), (parser.prog, action.dest)


def test_the_formatter_shows_a_zero_default():
    """0 is a default worth showing (`0 == False` must not hide it)."""
    parser = _parsers()[0]
    text = " ".join(parser.format_help().split())
    assert "(default: 0)" in text and "(default: brownlee)" in text


def test_summarize_repeats_the_claims_margins_exactly():
    from analysis import claims, summarize

    assert summarize.MARGINS == {
        "seen_unseen": claims.SEEN_UNSEEN_MARGIN,
        "transfer": claims.TRANSFER_MARGIN,
        "eight_bit": claims.EIGHT_BIT_MARGIN,
    }
    assert claims.Margins() == claims.Margins(**summarize.MARGINS)


def test_a_bare_trial_says_what_it_runs_and_its_cost_and_waits_for_yes(tmp_path):
    """`python -m fakedet` alone is the full 100-epoch brownlee trial: hours on a CPU. It
    says so, with the committed record's estimate, and starts only with --yes."""
    proc = run_cli("-m", "fakedet", "--results", str(tmp_path), "--device", "cpu")
    assert_user_error(proc, "--yes", "--epochs 1")
    out = " ".join(proc.stdout.split())
    assert "about to run brownlee_s0_h0-6-9_seed_" in out and "(100 epochs) on cpu" in out
    from fakedet.protocol import SEED_TRAIN_IMAGES
    from fakedet.recipe import RECIPES, total_steps

    steps = total_steps(RECIPES["brownlee"], SEED_TRAIN_IMAGES)
    record = json.loads((REPO / "bench/results/throughput-cpu.json").read_text())
    hours = steps * record["results"]["brownlee"]["fast_ms_per_step"] / 3.6e6
    assert f"{steps:,} steps (100 epochs) on cpu" in out
    assert f"training about {hours:.1f} h (throughput-cpu.json" in out
    assert not any(tmp_path.iterdir())  # nothing ran


def test_the_estimate_counts_the_budget(tmp_path):
    from fakedet.config import make_config
    from fakedet.trial import QUICK_SECONDS, describe

    record = json.loads((REPO / "bench/results/throughput-cpu.json").read_text())
    ms = record["results"]["hands_on"]["fast_ms_per_step"]
    line, seconds = describe(make_config("hands_on", 0, "0,6,9", max_steps=200), "cpu")
    assert seconds == pytest.approx(200 * ms / 1000) and seconds < QUICK_SECONDS
    assert "200 steps" in line
    line, seconds = describe(make_config("hands_on", 0, "0,6,9"), "tpu")
    assert seconds is None and "no benchmark record" in line


# --- status lines ---------------------------------------------------------------------------
def _log_console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=120), out


def test_a_step_in_a_log_speaks_only_once_it_takes_long(monkeypatch):
    monkeypatch.setattr(status, "LOG_AFTER", 0.2)
    console, out = _log_console()
    with status.step(console, "quick"):
        pass
    with status.step(console, "slow"):
        time.sleep(0.6)
    time.sleep(0.3)  # a cancelled line would have printed by now
    assert out.getvalue() == "slow …\n"


def test_the_sweep_status_in_a_log_is_a_line_per_change():
    from sweeps.progress import LiveStatus, live

    console, out = _log_console()
    s = LiveStatus(total=3, already_done=1)
    with live(s, console, heartbeat=60):
        time.sleep(0.8)
        s.task_finished("a", failed=False)
        time.sleep(0.8)
        s.start_phase("cross-evaluation", 2, 0)
        time.sleep(0.8)
    lines = out.getvalue().splitlines()
    assert len(lines) == 4, lines  # start, one done, the new phase, the end
    assert "sweep: training: 1/3 done" in lines[0] and "2 pending" in lines[0]
    assert "sweep: training: 2/3 done" in lines[1] and "1 pending" in lines[1]
    assert "sweep: cross-evaluation: 0/2 done" in lines[2]
    assert "sweep: cross-evaluation: 0/2 done" in lines[3]
