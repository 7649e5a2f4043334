"""How the sweep finds its Ray: a local one by default, a cluster on purpose, and one
clear line within seconds for an address where no Ray answers."""

import http.server
import socket
import threading
import time

import pytest

from conftest import assert_user_error, run_cli

SWEEP = "sweeps/all_triples.py"


@pytest.fixture
def http_port():
    """A plain HTTP server on loopback: something that is not Ray."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def silent_port():
    """A port that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


def test_an_address_where_another_service_listens_is_one_line_in_seconds(tmp_path, http_port):
    t0 = time.time()
    proc = run_cli(SWEEP, "--smoke", "--results", str(tmp_path / "r"),
                   "--address", f"127.0.0.1:{http_port}", timeout=180)  # fmt: skip
    assert_user_error(proc, f"no Ray cluster at 127.0.0.1:{http_port}")
    assert time.time() - t0 < 60  # seconds of imports and one probe, not minutes of retries
    assert not (tmp_path / "r").exists()


def test_a_port_that_never_answers_is_one_line_in_seconds(tmp_path, silent_port):
    proc = run_cli(SWEEP, "--smoke", "--results", str(tmp_path / "r"),
                   "--address", f"127.0.0.1:{silent_port}", timeout=180)  # fmt: skip
    assert_user_error(proc, "does not answer", f"127.0.0.1:{silent_port}")


@pytest.mark.parametrize(
    "args,env,fragment",
    [
        (["--address", "auto", "--num-cpus", "2"], {}, "--num-cpus and --num-gpus size a local"),
        (["--num-gpus", "1"], {"RAY_ADDRESS": "127.0.0.1:6379"}, "--num-cpus and --num-gpus"),
        (["--address", "localhost:port"], {}, "expected auto, host:port"),
    ],
)
def test_cluster_arguments_that_cannot_work(tmp_path, args, env, fragment):
    proc = run_cli(SWEEP, "--smoke", "--results", str(tmp_path / "r"), *args, env=env)
    assert_user_error(proc, fragment)


def test_a_trial_larger_than_every_node_is_one_line(tmp_path):
    proc = run_cli(SWEEP, "--smoke", "--results", str(tmp_path / "r"), "--num-cpus", "1",
                   "--cpus-per-trial", "2", timeout=120)  # fmt: skip
    assert_user_error(proc, "no node of this cluster can run a trial",
                      "asks for 2 CPU and 0 GPU", "1 CPU/0 GPU")  # fmt: skip


def test_the_default_is_a_new_local_ray_even_beside_a_running_cluster(tmp_path):
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    try:
        proc = run_cli(SWEEP, "--dry-run", "--results", str(tmp_path / "r"), "--num-cpus", "2",
                       "--seeds", "0", "--triples", "1", timeout=120)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert "2 CPU, 0 GPU" in proc.stdout  # the local Ray's, not the cluster's 0 CPUs
    finally:
        cluster.shutdown()
