"""Ray for the sweep: start a local Ray or join a cluster, and what a trial asks of it.

Without `--address` and without `RAY_ADDRESS` the sweep starts its own local Ray
(`address="local"`), whatever else runs on the machine; `--address auto` joins the
machine's running cluster on purpose, `--address host:port` a remote one. An address is
probed before Ray sees it, so a closed port, or one where something other than Ray
listens, is one clear line within seconds rather than minutes of Ray's retries.
"""

from __future__ import annotations

import logging
import os
import socket
import time

import ray

from fakedet.errors import UserError, first_line

RAY_INIT = dict(log_to_driver=False, logging_level="WARNING", include_dashboard=False)
PROBE_SECONDS = 3.0
# An HTTP/2 client's connection preface and an empty SETTINGS frame: a gRPC server (Ray's
# GCS) answers with a SETTINGS frame of its own.
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError:
        raise UserError(
            f"--address {address!r}: expected auto, host:port or ray://host:port"
        ) from None


def probe(address: str, timeout: float = PROBE_SECONDS) -> None:
    """Fail with one line unless a Ray GCS (or Ray Client server) answers at `address`.

    A GCS speaks gRPC (HTTP/2): it answers a client's connection preface with a SETTINGS
    frame. Any other service (an HTTP/1 server, an SSH daemon) answers otherwise or not at
    all within `timeout`.
    """
    host, port = _host_port(address)
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            conn.sendall(
                b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
            )
            header = conn.recv(9)
    except TimeoutError:
        raise UserError(
            f"no Ray cluster at {address}: the port is open but does not answer as Ray does"
        ) from None
    except OSError as e:
        raise UserError(f"cannot reach a Ray cluster at {address} ({first_line(e)})") from None
    if len(header) < 4 or header[3] != 0x04:  # HTTP/2 frame type 4: SETTINGS
        raise UserError(f"no Ray cluster at {address}: something else listens there")


def connect(address: str | None, num_cpus: int | None = None, num_gpus: int | None = None) -> str:
    """Start a local Ray (no address) or join the cluster at `address`; returns which."""
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is None:
        # A token in ~/.ray turns token authentication on for a new local Ray, with a
        # warning; that is the safe case and says nothing the user must act on.
        logging.getLogger("ray._private.authentication").setLevel(logging.ERROR)
        ray.init(address="local", num_cpus=num_cpus, num_gpus=num_gpus, **RAY_INIT)
        return "local"
    if num_cpus is not None or num_gpus is not None:
        raise UserError(
            "--num-cpus and --num-gpus size a local Ray; a cluster (--address or "
            "$RAY_ADDRESS) has the resources its nodes declare"
        )
    if address != "auto":
        probe(address)
    try:
        ray.init(address=address, **RAY_INIT)
    except (ConnectionError, RuntimeError) as e:
        raise UserError(f"cannot connect to Ray at {address}: {first_line(e)}") from None
    return address


def wait_for_gpus(timeout: float, poll: float = 5.0) -> float:
    """Wait up to `timeout` seconds for GPUs to join (an autoscaling cluster starts its GPU
    workers after the head); returns the GPUs seen."""
    deadline = time.time() + timeout
    while (gpus := ray.cluster_resources().get("GPU", 0)) == 0 and time.time() < deadline:
        time.sleep(poll)
    return gpus


def trial_resources(cpus: float, gpus: float) -> dict:
    """Per-trial resources: a GPU fraction only where the cluster has GPUs."""
    have_gpus = ray.cluster_resources().get("GPU", 0) > 0
    return {"cpu": cpus, "gpu": gpus if have_gpus else 0}


def node_capacity() -> list[dict]:
    """The CPU and GPU totals of each alive node."""
    return [
        {"CPU": n["Resources"].get("CPU", 0), "GPU": n["Resources"].get("GPU", 0)}
        for n in ray.nodes()
        if n.get("Alive")
    ]


def check_fits(resources: dict, autoscaling: bool = False) -> None:
    """One clear line when no node can run one trial (unless `autoscaling`: such nodes
    may still come)."""
    need_cpu, need_gpu = resources["cpu"], resources["gpu"]
    nodes = node_capacity()
    if any(n["CPU"] >= need_cpu and n["GPU"] >= need_gpu for n in nodes) or autoscaling:
        return
    have = ", ".join(f"{n['CPU']:g} CPU/{n['GPU']:g} GPU" for n in nodes) or "no nodes"
    raise UserError(
        f"no node of this cluster can run a trial: a trial asks for {need_cpu:g} CPU and "
        f"{need_gpu:g} GPU, the nodes have {have} (see --cpus-per-trial, --gpus-per-trial)"
    )


def resources() -> dict:
    """The cluster's total resources now (CPU, GPU, ...)."""
    return ray.cluster_resources()


def _fits(need: dict) -> bool:
    return any(n["CPU"] >= need["cpu"] and n["GPU"] >= need["gpu"] for n in node_capacity())


def prepare(
    cpus_per_trial: float,
    gpus_per_trial: float,
    gpu_wait: float,
    joined: bool,
    console,
    dry_run: bool = False,
) -> dict:
    """Per-trial resources for this cluster, after waiting (up to `gpu_wait` seconds) for
    GPU workers, or for any node that fits a trial, to join a cluster that can autoscale.

    While it waits it asks the autoscaler for one trial's worth of resources
    (`ray.autoscaler.sdk.request_resources`), so a cluster whose GPU workers scale from
    zero starts one before any trial is queued. A local Ray never grows: if no node fits a
    trial, that is one clear line at once. A `dry_run` waits for nothing.
    """
    from ray.autoscaler.sdk import request_resources

    waiting = joined and not dry_run
    if waiting and gpus_per_trial > 0 and not resources().get("GPU", 0):
        request_resources(bundles=[{"CPU": cpus_per_trial, "GPU": gpus_per_trial}])
        with console.status(f"waiting up to {gpu_wait:g} s for GPU workers to join"):
            if not wait_for_gpus(gpu_wait):
                console.print("[yellow]no GPU in the cluster: trials run on CPUs")
    need = trial_resources(cpus_per_trial, gpus_per_trial)
    if waiting and not _fits(need):
        request_resources(bundles=[{"CPU": need["cpu"], "GPU": need["gpu"]}])
        message = (
            f"waiting up to {gpu_wait:g} s for a node with {need['cpu']:g} CPU and "
            f"{need['gpu']:g} GPU (the cluster has none yet; an autoscaler may add one)"
        )
        deadline = time.time() + gpu_wait
        with console.status(message):
            while not _fits(need) and time.time() < deadline:
                time.sleep(2.0)
    if waiting:
        request_resources(bundles=[])  # the trials' own demand takes over from here
    check_fits(need, autoscaling=dry_run)
    return need
