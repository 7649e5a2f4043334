"""Results on object storage: the sweep, Tune's state, the summary and killed writers on S3,
against moto's standalone server on 127.0.0.1 (skipped without `moto[server]`).

Two ways to point the AWS SDK (inside pyarrow) at the server:
- the endpoint in the results URI itself, as in
  `s3://bucket/run?endpoint_override=127.0.0.1:PORT&scheme=http&region=us-east-1`;
- a plain `s3://bucket/run`, with the endpoint in AWS_ENDPOINT_URL (what a real bucket
  looks like: `s3://YOUR-BUCKET/fakedet`, credentials and region from the environment).

About 3 minutes on 2 CPU cores, most of it the two small sweeps.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest

from conftest import REPO, kill_with_env, run_cli

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(  # CI installs the dev extra: there a missing server fails, loudly
        not os.environ.get("CI")
        and (importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None),
        reason="needs moto's standalone server: pip install 'moto[server]'",
    ),
]

SWEEP = "sweeps/all_triples.py"
SMALL = ["--smoke", "--archs", "hands_on,brownlee", "--triples", "1", "--num-cpus", "2"]
TINY = ["--max-steps", "3", "--eval-limit", "100", "--cross-fakes", "100"]
if "--no-detector" in (REPO / SWEEP).read_text():  # training and cross-evaluation only
    TINY.append("--no-detector")
REGION = "us-east-1"

# A trial (python -m fakedet.trial ARGS) whose process SIGKILLs itself halfway through
# writing the first results file whose path contains $KILL_AT: half the bytes are handed
# to the real S3 stream and flushed, then the process dies, as a preempted node would.
DYING_TRIAL = r"""
import os, runpy, signal, sys
from fakedet import store as store_mod

KILL_AT = os.environ["KILL_AT"]

class DyingStream:
    def __init__(self, inner):
        self.inner = inner
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        self.inner.close()
    def __getattr__(self, name):
        return getattr(self.inner, name)
    def write(self, data):
        data = bytes(data)
        self.inner.write(data[: len(data) // 2])
        self.inner.flush()
        print("killing myself mid-write", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

class DyingFS:
    def __init__(self, fs):
        self._fs = fs
    def __getattr__(self, name):
        return getattr(self._fs, name)
    def open_output_stream(self, path, *args, **kwargs):
        stream = self._fs.open_output_stream(path, *args, **kwargs)
        return DyingStream(stream) if KILL_AT in path else stream

init = store_mod.ResultsStore.__init__
def dying_init(self, *args, **kwargs):
    init(self, *args, **kwargs)
    self.fs = DyingFS(self.fs)
store_mod.ResultsStore.__init__ = dying_init
sys.argv = ["fakedet.trial", *sys.argv[1:]]
runpy.run_module("fakedet.trial", run_name="__main__", alter_sys=True)
"""

# Write N MiB with ResultsStore.write_bytes; with KILL=1, die once half is uploaded.
BIG_WRITE = r"""
import os, signal, sys
from fakedet.store import ResultsStore

store = ResultsStore(sys.argv[1])
path, mib = store.path(sys.argv[2]), int(sys.argv[3])
if os.environ.get("KILL") == "1":
    real = store.fs
    class Half:
        def __init__(self, s): self.s = s
        def __enter__(self): return self
        def __exit__(self, *e): self.s.close()
        def write(self, data):
            data = bytes(data)
            self.s.write(data[: len(data) // 2])
            self.s.flush()
            os.kill(os.getpid(), signal.SIGKILL)
    class FS:
        def __getattr__(self, n): return getattr(real, n)
        def open_output_stream(self, p, *a, **k): return Half(real.open_output_stream(p, *a, **k))
    store.fs = FS()
store.write_bytes(path, os.urandom(mib << 20))
print("written", flush=True)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory):
    """moto's S3 on 127.0.0.1:<free port>; stopped (its process group) afterwards."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail(f"moto did not start (exit {proc.poll()})")
                time.sleep(0.2)
        yield port
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


@pytest.fixture
def aws_env(tmp_path, moto_server, monkeypatch):
    """Dummy credentials, no user AWS config, no instance-metadata lookups."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


def _uri(port: int, bucket: str, prefix: str = "run") -> str:
    q = f"endpoint_override=127.0.0.1:{port}&scheme=http&allow_bucket_creation=true"
    return f"s3://{bucket}/{prefix}?{q}&region={REGION}"


def _fs(port: int):
    import pyarrow.fs as pafs

    return pafs.S3FileSystem(
        access_key="testing",
        secret_key="testing",
        session_token="testing",
        region=REGION,
        scheme="http",
        endpoint_override=f"127.0.0.1:{port}",
        allow_bucket_creation=True,
    )


def _objects(port: int, prefix: str) -> dict[str, int]:
    """{key under prefix: size} of every object there."""
    import pyarrow.fs as pafs

    infos = _fs(port).get_file_info(pafs.FileSelector(prefix, recursive=True, allow_not_found=True))
    return {
        i.path.removeprefix(prefix + "/"): i.size for i in infos if i.type == pafs.FileType.File
    }


def _mtimes(port: int, prefix: str, keys: list[str]) -> dict:
    infos = _fs(port).get_file_info([f"{prefix}/{k}" for k in keys])
    return {i.path: i.mtime for i in infos}


def _bucket() -> str:
    return f"fakedet-{uuid.uuid4().hex[:10]}"


def _metrics(objects: dict[str, int]) -> tuple[list[str], list[str]]:
    """(own, cross) metrics files of the trained architectures (not of later phases)."""
    names = [
        k
        for k in objects
        if k.startswith(("metrics/arch=hands_on/", "metrics/arch=brownlee/"))
        and k.endswith(".parquet")
    ]
    return [k for k in names if ".x-" not in k], [k for k in names if ".x-" in k]


def _temporaries(objects: dict[str, int]) -> list[str]:
    return [k for k in objects if k.rsplit("/", 1)[-1].startswith("_tmp-")]


def _check_sweep(proc, port: int, prefix: str) -> dict[str, int]:
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    objects = _objects(port, prefix)
    own, cross = _metrics(objects)
    assert len(own) == 2 and len(cross) == 2, sorted(objects)
    assert not _temporaries(objects)
    tune_state = [k for k in objects if k.startswith("_tune/")]
    assert any(k.endswith("tuner.pkl") for k in tune_state), tune_state  # Tune's state, on S3
    return objects


def _summarize(results: str, env: dict) -> None:
    proc = run_cli("-m", "analysis.summarize", "--results", results, env=env, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "hands_on" in proc.stdout and "brownlee" in proc.stdout, proc.stdout[-3000:]


def _kill_marked(mark: str) -> None:
    """SIGKILL every process whose environment has FAKEDET_TEST_MARK=mark."""
    kill_with_env("FAKEDET_TEST_MARK", mark)


def test_sweep_tune_state_restore_and_summary_on_s3(moto_server, aws_env, data_dir):
    """A plain s3:// root (the endpoint from AWS_ENDPOINT_URL): the driver is killed after
    its first trial, the same command restores Tune's experiment from S3 and finishes only
    what is missing, then the summary reads the bucket."""
    bucket = _bucket()
    _fs(moto_server).create_dir(bucket)
    mark = uuid.uuid4().hex
    env = {**aws_env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_server}"}
    results, prefix = f"s3://{bucket}/run", f"{bucket}/run"
    args = [SWEEP, *SMALL, *TINY, "--num-cpus", "1", "--results", results, "--data-dir", data_dir]
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=REPO,
        env={**os.environ, **env, "FAKEDET_TEST_MARK": mark, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 300
        while not _metrics(_objects(moto_server, prefix))[0]:
            assert proc.poll() is None, proc.stdout.read()
            assert time.time() < deadline, "no trial finished in 300 s"
            time.sleep(0.5)
    finally:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)  # the driver and the local Ray it started
        proc.wait()
        proc.stdout.close()
        _kill_marked(mark)
    first = _objects(moto_server, prefix)
    own, _ = _metrics(first)
    assert own and any(k.startswith("_tune/") and k.endswith("tuner.pkl") for k in first)
    written = _mtimes(moto_server, prefix, own)

    try:
        again = run_cli(*args, env={**env, "FAKEDET_TEST_MARK": mark}, timeout=400)
    finally:
        _kill_marked(mark)
    _check_sweep(again, moto_server, prefix)
    resumed = "resuming the Tune experiment" in again.stdout
    print(f"trials complete when the driver died: {len(own)} of 2; rerun resumed Tune: {resumed}")
    assert resumed or len(own) == 2, again.stdout[-3000:]  # Tune's state restored from S3
    assert _mtimes(moto_server, prefix, own) == written  # not recomputed
    _summarize(results, env)


def test_sweep_and_summary_with_the_endpoint_in_the_uri(moto_server, aws_env, data_dir):
    bucket = _bucket()
    results = _uri(moto_server, bucket)
    proc = run_cli(SWEEP, *SMALL, *TINY, "--results", results, "--data-dir", data_dir,
                   env=aws_env, timeout=400)  # fmt: skip
    _check_sweep(proc, moto_server, f"{bucket}/run")
    _summarize(results, aws_env)


def test_writer_killed_mid_upload_leaves_no_visible_object(moto_server, aws_env):
    """12 MiB through ResultsStore.write_bytes, SIGKILLed once half (a 5 MiB part or more)
    has gone up: no object, temporary or final, is visible; the rerun writes it whole."""
    bucket = _bucket()
    root = _uri(moto_server, bucket)
    key = "trials/k/generator.pt"
    died = subprocess.run(
        [sys.executable, "-c", BIG_WRITE, root, key, "12"],
        cwd=REPO,
        env={**os.environ, "KILL": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert died.returncode == -signal.SIGKILL, died.stdout + died.stderr
    assert _objects(moto_server, f"{bucket}/run") == {}  # nothing half-written is visible
    if importlib.util.find_spec("boto3") is not None:  # what does linger: the upload itself
        import boto3

        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{moto_server}", region_name=REGION)
        uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        print(f"incomplete multipart uploads after the kill: {[u['Key'] for u in uploads]}")

    done = subprocess.run(
        [sys.executable, "-c", BIG_WRITE, root, key, "12"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert _objects(moto_server, f"{bucket}/run") == {key: 12 << 20}


@pytest.mark.parametrize("kill_at", ["metrics/"])  # the last write: the one that marks completion
def test_trial_killed_mid_write_is_incomplete_and_rerun_completes(
    moto_server, aws_env, data_dir, kill_at
):
    """A trial SIGKILLed while writing its first file or its metrics (the file that marks
    it complete): nothing partial or temporary is visible and the trial is not complete;
    the same command again completes it."""
    bucket = _bucket()
    root = _uri(moto_server, bucket)
    trial = ["--arch", "hands_on", "--held-out", "0,1,2", "--seed", "0", "--max-steps", "3",
             "--eval-limit", "100", "--eval-at", "none", "--results", root,
             "--data-dir", data_dir, "--device", "cpu"]  # fmt: skip
    died = subprocess.run(
        [sys.executable, "-c", DYING_TRIAL, *trial],
        cwd=REPO,
        env={**os.environ, "KILL_AT": kill_at},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert died.returncode == -signal.SIGKILL, died.stdout[-3000:] + died.stderr[-3000:]
    assert "killing myself mid-write" in died.stdout
    objects = _objects(moto_server, f"{bucket}/run")
    own, _ = _metrics(objects)
    assert not own, objects  # not complete
    assert not _temporaries(objects), objects
    assert not [k for k in objects if kill_at in k], objects  # the half-written file is not there

    rerun = run_cli("-m", "fakedet.trial", *trial, env=aws_env, timeout=300)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    objects = _objects(moto_server, f"{bucket}/run")
    own, _ = _metrics(objects)
    assert len(own) == 1 and not _temporaries(objects), objects
    key = own[0].rsplit("/", 1)[-1].removesuffix(".parquet")
    assert {f"trials/{key}/{n}" for n in ("generator.pt", "discriminator.pt")} <= set(objects)
