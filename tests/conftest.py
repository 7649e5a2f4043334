"""Shared fixtures. Tests never touch the network: only loopback connections are allowed."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from fakedet import data as fmnist
from fakedet.errors import DataError

REPO = Path(__file__).resolve().parents[1]

# Property-based tests (Hypothesis): "fast" in the suite (seconds), "long" on request:
# HYPOTHESIS_PROFILE=long pytest tests/test_options.py
_HYPOTHESIS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fast", max_examples=25, **_HYPOTHESIS)
settings.register_profile("long", max_examples=1000, **_HYPOTHESIS)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))
_connect = socket.socket.connect


def _loopback_only(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and not (
        host.startswith("127.") or host in ("localhost", "::1", "0.0.0.0") or "/" in host
    ):
        raise OSError(f"tests must not use the network (tried {address})")
    return _connect(self, address)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture(scope="session")
def fashion_mnist() -> fmnist.FashionMNIST:
    """The real dataset, found without downloading; CI must have it (see .ci/run)."""
    try:
        return fmnist.load(download=False)
    except DataError as e:
        if os.environ.get("CI"):
            pytest.fail(f"Fashion-MNIST is required in CI: {e}")
        pytest.skip(f"Fashion-MNIST not available: {e}")


@pytest.fixture(scope="session")
def data_dir(fashion_mnist) -> str:
    return fashion_mnist.source


def run_cli(*args: str, env: dict | None = None, timeout: float = 300):
    """Run `python <args>` from the repo root; returns the CompletedProcess."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )


def start_cli(*args: str) -> subprocess.Popen:
    """Start `python <args>` from the repo root in its own session (so a test can kill its
    whole process group); stdout and stderr together, as text."""
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def pids_with_env(name: str, value: str) -> list[int]:
    """Live (not zombie) processes whose environment has `name=value` (Linux /proc)."""
    needle = f"{name}={value}".encode()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if needle not in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                continue
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                found.append(int(pid))
        except OSError:
            pass
    return found


def kill_with_env(name: str, value: str, rounds: int = 10, pause: float = 0.5) -> list[int]:
    """SIGKILL every process whose environment has `name=value`, up to `rounds` times;
    returns those still alive after."""
    for _ in range(rounds):
        found = pids_with_env(name, value)
        if not found:
            return []
        for pid in found:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(pause)
    return pids_with_env(name, value)


def assert_user_error(proc, *fragments: str) -> None:
    """Exit status 2, one line on stderr starting with 'error:', no traceback."""
    err = proc.stderr.strip()
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    # a status line ("... …", fakedet.status) may precede it when loading took seconds
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.endswith(" …")]
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
