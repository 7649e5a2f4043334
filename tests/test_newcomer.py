"""A newcomer's first hour: the README's commands, typed into a fresh shell after its setup
step (`make demo`, then `source .venv/bin/activate`), on a terminal.

Each command runs in a clean environment (HOME and a bare PATH, nothing else) under a
pseudo-terminal, as a user's shell would run it, with tiny budgets; the test records when
each chunk of output arrives and fails a command that is silent for more than
`SILENT_LIMIT` seconds (from its start to its first output, between outputs, or from its
last output to its exit), or that fails. The venv is the one running the tests; where it
was installed from another checkout (a git worktree), PYTHONPATH points at this one.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow  # a smoke sweep on a local Ray: minutes

SILENT_LIMIT = 5.0


def fresh_shell_env() -> dict[str, str]:
    """A new login's environment: HOME, a bare PATH, a terminal type; nothing of ours."""
    env = {"HOME": os.environ["HOME"], "PATH": "/usr/bin:/bin", "TERM": "xterm-256color"}
    probe = subprocess.run(
        ["bash", "-c", f"source {sys.prefix}/bin/activate && python -c "
         "'import fakedet; print(fakedet.__file__)'"],  # fmt: skip
        env=env, cwd="/", capture_output=True, text=True, check=True,
    )  # fmt: skip
    if not Path(probe.stdout.strip()).is_relative_to(REPO):
        env["PYTHONPATH"] = str(REPO)  # the venv's editable install is another checkout
    return env


def run_in_terminal(command: str, env: dict, timeout: float = 900) -> tuple[int, str, float, str]:
    """Run `command` in bash on a pseudo-terminal (100 x 40) after activating the venv.

    Returns:
        (exit status, everything it printed, the longest silence in seconds, the last
        output before that silence).
    """
    script = f"source {sys.prefix}/bin/activate && cd {REPO} && {command}"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    proc = subprocess.Popen(
        ["bash", "--noprofile", "--norc", "-c", script],
        stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    out, last, longest, where = [], time.monotonic(), 0.0, 0
    deadline = last + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not data:
                break
            now = time.monotonic()
            if now - last > longest:
                longest, where = now - last, len(out)
            last = now
            out.append(data)
        else:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        if time.monotonic() - last > longest:
            longest, where = time.monotonic() - last, len(out)
    finally:
        os.close(master)
    text = b"".join(out).decode(errors="replace")
    return proc.returncode, text, longest, b"".join(out[:where])[-400:].decode(errors="replace")


def test_the_readmes_commands_work_from_a_fresh_shell_and_are_never_silent(tmp_path):
    env = fresh_shell_env()
    demo, trial, dry = tmp_path / "demo-results", tmp_path / "trial", tmp_path / "dry"
    commands = [
        # the quick start's setup step has run: the demo's own two commands first
        f"python sweeps/all_triples.py --smoke --results {demo}",
        f"python -m analysis.summarize --results {demo}",
        # then what the README shows, with tiny budgets
        "python -m fakedet --help",
        f"python -m fakedet --arch brownlee --held-out 0,6,9 --seed 0 --results {trial} "
        "--max-steps 20 --eval-limit 300",
        f"python sweeps/all_triples.py --triples 10 --seeds 0,1 --epochs 1 --dry-run "
        f"--results {dry}",
        f"python -m analysis.summarize --results {demo} --tables all",
        f"python -m analysis.summarize --results {demo} --format json --plots {tmp_path}/png",
        f"python -m analysis.plan --results {demo}",
        f"python -m analysis.rescore --results {demo}",
    ]
    report = []
    for command in commands:
        t0 = time.monotonic()
        status, text, silent, before = run_in_terminal(command, env)
        report.append(f"{time.monotonic() - t0:6.1f} s, silent at most {silent:4.1f} s: {command}")
        assert status == 0, (command, text[-3000:])
        assert silent <= SILENT_LIMIT, (command, f"silent {silent:.1f} s after:", before)
    print("\n".join(report))  # pytest -s shows each command's time and longest silence
    assert (demo / "metrics").is_dir() and (trial / "metrics").is_dir()
    from analysis.plots import FIGURES

    drawn = {p.name for p in (tmp_path / "png").glob("*.png")}
    assert drawn == set(FIGURES), drawn  # the demo's results hold quality figures too
