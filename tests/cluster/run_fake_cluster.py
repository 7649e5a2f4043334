"""The sweep on an autoscaling Ray cluster faked on this machine, through the Jobs API.

    python tests/cluster/run_fake_cluster.py [--triples 3] [--no-kill] [--json out.json]

1. Starts a head from `fake_cluster.yaml` (Ray's fake multinode provider: the autoscaler
   "launches" each worker node as raylet processes on this machine), on 127.0.0.1 and free
   ports, with its own temp dir and auth token, so other Ray instances here are untouched.
2. Submits the smoke sweep with `ray job submit` to the dashboard, as one would to a real
   head (`--address auto`; the job's driver finds the cluster through RAY_ADDRESS).
3. Watches nodes and Tune's trial actors; once trials run (with `--after-checkpoint`: once
   every running trial has saved a Tune checkpoint), SIGKILLs one worker node (its raylet
   and every process under it, as a spot preemption would).
4. Waits for the job; if it failed, resubmits it once (the sweep finishes only what is
   missing); then checks that every trial and cross-evaluation is complete and that
   nothing partial (`_tmp-*`) is left under the results.
5. Stops the cluster and verifies that no process it started is left (each carries an
   environment marker; the job driver runs in its own session, so killing the head's
   process group alone would not do).

Prints the figures (time from submission to the first running trial, worker nodes
launched, trials complete after the node loss, wall time) and writes them as JSON with
--json. Exit status 0 when every check passed, 1 when one failed, 3 when the machine
cannot run it (not Linux, no `ray[default]`). Linux only: it reads /proc.

The job runs without --working-dir: every fake node shares one session directory, and each
node's runtime-env agent unpacks the working_dir package into the same path, replacing the
directory under processes already running there (observed with Ray 2.60: the driver's
working directory vanished and Tune crashed in os.getcwd()). The job's runtime env sets
PYTHONPATH to the checkout instead. On a real cluster `--working-dir .` is the way.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("fake_cluster.yaml")
MARK = "FAKEDET_FAKE_CLUSTER"  # environment marker of every process this script starts
TRIAL_ACTOR = "ImplicitFunc"  # the actor class Ray Tune runs a function trainable in
TERMINAL = {"SUCCEEDED", "FAILED", "STOPPED"}


class Unsupported(Exception):
    """This machine cannot run the fake cluster."""


def log(msg: str) -> None:
    print(f"[fake-cluster {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [""])[0][:200]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- processes (from /proc, so nothing outside the standard library is needed) -----------
def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def marked(mark: str) -> list[int]:
    """Live processes whose environment carries MARK=mark (zombies excluded)."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for pid in _pids():
        if pid != os.getpid() and needle in _environ(pid).split(b"\0"):
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state != "Z":
                found.append(pid)
    return found


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for p in _pids():
        try:
            ppid = int(Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(p)
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def signal_all(pids, sig) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def other_ray_instances(mark: str) -> int:
    """GCS servers on this machine that are not ours (they only cost CPU time)."""
    needle = f"{MARK}={mark}".encode()
    return sum(
        1
        for pid in _pids()
        if "gcs_server" in _cmdline(pid).split(" ", 1)[0]
        and needle not in _environ(pid).split(b"\0")
    )


# --- the cluster -------------------------------------------------------------------------
class FakeCluster:
    """A fake multinode Ray cluster on 127.0.0.1; `stop` leaves none of its processes."""

    def __init__(self, workdir: Path, mark: str, env: dict[str, str], config: Path = CONFIG):
        self.workdir, self.mark, self.env, self.config = workdir, mark, env, config
        self.gcs_port, self.dashboard_port = free_port(), free_port()
        self.gcs = f"127.0.0.1:{self.gcs_port}"
        self.dashboard = f"http://127.0.0.1:{self.dashboard_port}"
        self.head: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> None:
        config = yaml.safe_load(self.config.read_text())
        config["provider"]["gcs_address"] = self.gcs
        head = config["available_node_types"][config["head_node_type"]]["resources"]
        path = self.workdir / "autoscaling.yaml"
        path.write_text(yaml.safe_dump(config))
        temp_dir = self.workdir / "ray"  # short: Ray's socket paths must stay < 108 bytes
        cmd = [
            *ray_cli(),
            "start",
            "--head",
            "--block",
            f"--port={self.gcs_port}",
            "--node-ip-address=127.0.0.1",
            f"--num-cpus={int(head.get('CPU', 0))}",
            f"--num-gpus={int(head.get('GPU', 0))}",
            "--object-store-memory=300000000",
            "--dashboard-host=127.0.0.1",
            f"--dashboard-port={self.dashboard_port}",
            f"--dashboard-agent-listen-port={free_port()}",
            f"--ray-client-server-port={free_port()}",
            f"--temp-dir={temp_dir}",
            f"--autoscaling-config={path}",
            "--disable-usage-stats",
        ]
        self.head_log = (self.workdir / "head.log").open("w")
        self.head = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=self.env,
            stdout=self.head_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline, last = time.time() + timeout, ""
        while time.time() < deadline:
            if self.head.poll() is not None:
                raise RuntimeError(f"ray start exited {self.head.returncode}:\n{self.head_text()}")
            try:
                from ray.job_submission import JobSubmissionClient

                JobSubmissionClient(self.dashboard).list_jobs()
                return
            except Exception as e:
                last = f"{type(e).__name__}: {first_line(e)}"
                time.sleep(1)
        raise RuntimeError(f"no dashboard after {timeout:g} s ({last}):\n{self.head_text()}")

    def head_text(self) -> str:
        return (self.workdir / "head.log").read_text(errors="replace")[-4000:]

    def nodes(self) -> list[dict]:
        from ray.util.state import list_nodes

        return [
            n.__dict__ if hasattr(n, "__dict__") else dict(n)
            for n in list_nodes(address=self.gcs, limit=1000, raise_on_missing_output=False)
        ]

    def trial_actors(self) -> list[dict]:
        from ray.util.state import list_actors

        actors = list_actors(
            address=self.gcs,
            filters=[("class_name", "=", TRIAL_ACTOR), ("state", "=", "ALIVE")],
            limit=1000,
            raise_on_missing_output=False,
        )
        return [a.__dict__ if hasattr(a, "__dict__") else dict(a) for a in actors]

    def raylet_of(self, node_id: str) -> int | None:
        """The raylet of a fake worker node: the provider sets its node id in its env."""
        needle = f"RAY_OVERRIDE_NODE_ID_FOR_TESTING={node_id}".encode()
        for pid in marked(self.mark):
            if "raylet" in _cmdline(pid).split(" ", 1)[0] and needle in _environ(pid).split(b"\0"):
                return pid
        return None

    def kill_node(self, node_id: str) -> list[int]:
        """SIGKILL a worker node's raylet and every process under it (workers, agents)."""
        raylet = self.raylet_of(node_id)
        if raylet is None:
            return []
        victims = [raylet, *descendants(raylet)]
        signal_all(victims, signal.SIGKILL)
        return victims

    def stop(self, grace: float = 15) -> list[int]:
        """Stop everything this cluster started; returns the pids still alive (none)."""
        if self.head is not None and self.head.poll() is None:
            self.head.send_signal(signal.SIGTERM)  # `ray start --block` stops its node
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.head.wait(grace)
        deadline = time.time() + grace
        while (left := marked(self.mark)) and time.time() < deadline:
            signal_all(left, signal.SIGTERM)
            time.sleep(1)
        signal_all(marked(self.mark), signal.SIGKILL)
        if self.head is not None:
            with_timeout(self.head.wait, 5)
            self.head_log.close()
        time.sleep(1)
        return marked(self.mark)


def with_timeout(fn, timeout):
    try:
        return fn(timeout)
    except subprocess.TimeoutExpired:
        return None


def ray_cli() -> list[str]:
    exe = Path(sys.executable).with_name("ray")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ray.scripts.scripts"]


# --- results -----------------------------------------------------------------------------
def check_results(root: Path, archs: list[str], n_trials: int) -> dict:
    """Every trial's metrics, every cross-evaluation, nothing partial. Results of other
    phases (e.g. metrics/arch=detector/) are counted, not required."""
    own, cross, other = [], [], []
    metrics = root / "metrics"
    for p in sorted(metrics.rglob("*.parquet")) if metrics.exists() else []:
        arch = p.parent.parent.name.removeprefix("arch=")
        (other if arch not in archs else cross if ".x-" in p.name else own).append(p)
    missing_cross = [
        f"{p.name} x {g}"
        for p in own
        for g in archs
        if f"arch={g}" != p.parent.parent.name
        and not p.with_name(p.name.removesuffix(".parquet") + f".x-{g}.parquet").exists()
    ]
    empty_trial_dirs = [
        p.name
        for p in own
        if not any((root / "trials" / p.name.removesuffix(".parquet")).glob("*"))
    ]
    resumed = {}
    for p in own:
        info = root / "trials" / p.name.removesuffix(".parquet") / "trial.json"
        step = json.loads(info.read_text()).get("resumed_from_step") if info.exists() else None
        if step is not None:
            resumed[p.name.removesuffix(".parquet")] = step
    return {
        "resumed_from_step": resumed,
        "trials_expected": n_trials,
        "trials_complete": len(own),
        "cross_expected": n_trials * (len(archs) - 1),
        "cross_complete": len(cross),
        "other_metrics_files": len(other),
        "missing_cross": missing_cross,
        "empty_trial_dirs": empty_trial_dirs,
        "temporaries": [str(p.relative_to(root)) for p in root.rglob("_tmp-*")],
    }


# --- the run -----------------------------------------------------------------------------
def submit(cluster: FakeCluster, job_id: str, sweep_args: list[str], env: dict) -> None:
    repo = env.get("FAKEDET_REPO", str(REPO))
    runtime_env = {"env_vars": {"PYTHONPATH": repo, "PYTHONUNBUFFERED": "1"}}
    # `ray job submit` quotes each word (shlex.join): one command, no shell syntax.
    entrypoint = ["python", f"{repo}/sweeps/all_triples.py", *sweep_args]
    cmd = [
        *ray_cli(),
        "job",
        "submit",
        f"--address={cluster.dashboard}",
        f"--submission-id={job_id}",
        f"--runtime-env-json={json.dumps(runtime_env)}",
        "--no-wait",
        "--",
        *entrypoint,
    ]
    log(f"$ ray job submit --address {cluster.dashboard} --no-wait -- {shlex.join(entrypoint)}")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"ray job submit failed:\n{proc.stdout}\n{proc.stderr}")


def run(args) -> dict:
    if not sys.platform.startswith("linux"):
        raise Unsupported("the fake cluster runner reads /proc: Linux only")
    t_start = time.time()
    mark = args.mark or uuid.uuid4().hex
    workdir = Path(tempfile.mkdtemp(prefix="fakecl-", dir="/tmp"))
    results = Path(args.results) if args.results else workdir / "results"
    token = workdir / "auth_token"
    token.write_text(secrets.token_hex(32))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(
        {
            MARK: mark,
            "FAKEDET_REPO": str(Path(args.repo).resolve()),
            "RAY_FAKE_CLUSTER": "1",  # required by the fake multinode provider
            "AUTOSCALER_UPDATE_INTERVAL_S": "1",  # the autoscaler looks every second
            # Every node, the provider's workers included, on 127.0.0.1, not the host's
            # outward address (this makes Ray's get_node_ip_address answer loopback).
            "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
            "RAY_AUTH_MODE": "token",  # the default of a Ray 2.60 head, with our own token
            "RAY_AUTH_TOKEN_PATH": str(token),
            "RAY_DEDUP_LOGS": "0",
            # `python` in the job's entrypoint is this interpreter, as on a real node.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    # This process talks to the cluster too (state API, job client): same settings, set
    # before Ray is imported (it reads them once).
    for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"):
        os.environ[k] = env[k]
    os.environ.pop("RAY_ADDRESS", None)  # it would override every address given below
    try:
        import aiohttp  # noqa: F401  (the dashboard and its Jobs API: ray[default])
        import ray  # noqa: F401
    except ImportError as e:
        raise Unsupported(f"needs ray[default] (the dashboard and Jobs API): {e}") from None
    archs = [a for a in args.archs.split(",") if a]
    seeds = [s for s in args.seeds.split(",") if s]
    n_trials = len(archs) * len(seeds) * args.triples
    sweep_args = [
        "--smoke",
        "--archs",
        args.archs,
        "--seeds",
        args.seeds,
        "--triples",
        str(args.triples),
        "--results",
        str(results),
        "--address",
        "auto",
        "--gpu-wait",
        str(args.gpu_wait),
        *(["--data-dir", args.data_dir] if args.data_dir else []),
        *args.sweep_args,
    ]
    figures: dict = {"mark": mark, "workdir": str(workdir), "results": str(results)}
    args.results_root = str(results)
    others = other_ray_instances(mark)
    if others:
        log(f"note: {others} other Ray instance(s) on this machine (isolated; they cost CPU)")
    cluster = FakeCluster(workdir, mark, env, Path(args.config))
    try:
        log(f"starting the head: GCS {cluster.gcs}, dashboard {cluster.dashboard}")
        cluster.start()
        figures["head_up_s"] = round(time.time() - t_start, 1)
        log(f"head up after {figures['head_up_s']} s")
        figures.update(watch(cluster, args, sweep_args, env))
        figures.update(check_results(results, archs, n_trials))
    finally:
        log("stopping the cluster")
        left = cluster.stop()
        figures["processes_left"] = [f"{p} {_cmdline(p)[:80]}" for p in left]
        log(f"processes left: {len(left)}")
        if not args.keep:  # Ray's temp dir and logs (and the results, unless --results)
            shutil.rmtree(workdir, ignore_errors=True)
    figures["wall_s"] = round(time.time() - t_start, 1)
    return figures


def watch(cluster: FakeCluster, args, sweep_args: list[str], env: dict) -> dict:
    from ray.job_submission import JobSubmissionClient

    client = JobSubmissionClient(cluster.dashboard)
    out: dict = {"jobs": []}
    head_ids: set[str] = set()
    workers: dict[str, dict] = {}  # node id -> first seen, start time, state
    peak_alive = 0
    t_first = None
    killed = None
    job_id, attempt = f"fakedet-{uuid.uuid4().hex[:8]}", 1
    t_submit = time.time()
    submit(cluster, job_id, sweep_args, env)
    deadline = t_submit + args.timeout
    last_print = 0.0
    while True:
        now = time.time()
        if now > deadline:
            with contextlib.suppress(Exception):
                client.stop_job(job_id)
            raise RuntimeError(f"timed out after {args.timeout:g} s")
        try:
            nodes = cluster.nodes()
            actors = cluster.trial_actors()
        except Exception as e:  # the dashboard is busy on 2 cores: look again
            log(f"state API: {type(e).__name__}: {first_line(e)}")
            time.sleep(1)
            continue
        alive = [n for n in nodes if n["state"] == "ALIVE" and not n["is_head_node"]]
        head_ids |= {n["node_id"] for n in nodes if n["is_head_node"]}
        for n in nodes:
            if not n["is_head_node"] and n["node_id"] not in workers:
                start = (n.get("start_time_ms") or now * 1000) / 1000
                workers[n["node_id"]] = {"after_submit_s": round(start - t_submit, 1)}
                log(f"worker node {n['node_id'][-5:]} up ({start - t_submit:+.1f} s)")
        peak_alive = max(peak_alive, len(alive))
        on_node: dict[str, int] = {}
        for a in actors:
            on_node[a["node_id"]] = on_node.get(a["node_id"], 0) + 1
        if actors and t_first is None:
            t_first = time.time()
            out["first_trial_s"] = round(t_first - t_submit, 1)
            log(f"first trial running {out['first_trial_s']} s after submission")
        if now - last_print > 10:
            last_print = now
            log(f"{len(alive)} worker node(s) alive, {len(actors)} trial(s) running {on_node}")
        saved = len(list((Path(args.results_root) / "_tune").rglob("state.pt")))
        if (
            args.kill
            and killed is None
            and t_first is not None
            and (not args.after_checkpoint or (actors and saved >= len(actors)))
            and on_node
            and (len([n for n in on_node if n not in head_ids]) >= 2 or now - t_first > 20)
            and now - t_first > args.kill_after
        ):
            victim = max(on_node, key=on_node.get)
            pids = cluster.kill_node(victim)
            killed = {
                "node": victim,
                "trials_running_on_it": on_node[victim],
                "trials_running_elsewhere": sum(on_node.values()) - on_node[victim],
                "at_s": round(now - t_submit, 1),
                "checkpoints_saved": saved,
                "processes_killed": len(pids),
            }
            log(f"killed worker node {victim[-5:]}: {killed}")
        status = str(client.get_job_status(job_id)).split(".")[-1]
        if status in TERMINAL:
            out["jobs"].append({"id": job_id, "status": status})
            log(f"job {job_id}: {status}")
            if status != "SUCCEEDED" and attempt == 1:
                logs = client.get_job_logs(job_id)
                log(f"first attempt's log tail:\n{logs[-3000:]}")
                attempt, job_id = 2, f"fakedet-{uuid.uuid4().hex[:8]}"
                log("resubmitting once: the sweep finishes only what is missing")
                submit(cluster, job_id, sweep_args, env)
                continue
            out["job_log_tail"] = client.get_job_logs(job_id)[-6000:]
            break
        time.sleep(1)
    out["job_status"] = out["jobs"][-1]["status"]
    out["worker_nodes_launched"] = len(workers)
    out["worker_nodes_launched_after_submit"] = sum(
        w["after_submit_s"] > 0 for w in workers.values()
    )
    out["worker_nodes_peak_alive"] = peak_alive
    out["worker_nodes"] = workers
    out["killed"] = killed
    out["job_s"] = round(time.time() - t_submit, 1)
    return out


def failures(f: dict, want_kill: bool) -> list[str]:
    bad = []
    if f.get("job_status") != "SUCCEEDED":
        bad.append(f"job ended {f.get('job_status')}")
    if f.get("trials_complete") != f.get("trials_expected"):
        bad.append(f"trials {f.get('trials_complete')}/{f.get('trials_expected')}")
    if f.get("cross_complete") != f.get("cross_expected") or f.get("missing_cross"):
        bad.append(f"cross-evaluations {f.get('cross_complete')}/{f.get('cross_expected')}")
    for key in ("temporaries", "empty_trial_dirs", "processes_left"):
        if f.get(key):
            bad.append(f"{key}: {f[key]}")
    if want_kill and not f.get("killed"):
        bad.append("no worker node was killed (no trial seen running)")
    if not f.get("worker_nodes_launched"):
        bad.append("the autoscaler launched no worker node")
    return bad


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--archs", default="hands_on,brownlee")
    p.add_argument("--seeds", default="0", help="comma-separated seeds")
    p.add_argument("--triples", type=int, default=3, help="a count (the smoke's 3)")
    p.add_argument("--config", default=str(CONFIG), help="autoscaling config (fake_multinode)")
    p.add_argument("--results", help="results root (default: a temporary directory)")
    p.add_argument("--data-dir", help="Fashion-MNIST directory, passed to the sweep")
    p.add_argument("--repo", default=str(REPO), help="the checkout the job runs (default: this)")
    p.add_argument("--gpu-wait", type=float, default=120)
    p.add_argument("--no-kill", dest="kill", action="store_false", help="kill no node")
    p.add_argument(
        "--kill-after", type=float, default=3, help="seconds of trials running before the kill"
    )
    p.add_argument(
        "--after-checkpoint", action="store_true",
        help="kill the node once every running trial has saved a checkpoint",
    )  # fmt: skip
    p.add_argument("--timeout", type=float, default=480, help="seconds for the job(s)")
    p.add_argument("--mark", help="environment marker value (default: random)")
    p.add_argument("--json", help="write the figures here")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("sweep_args", nargs="*", help="after --: more sweep arguments")
    args = p.parse_args(argv)

    def interrupted(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    try:
        figures = run(args)
    except Unsupported as e:
        print(f"unsupported: {e}", flush=True)
        return 3
    bad = failures(figures, args.kill)
    figures["failures"] = bad
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    tail = figures.pop("job_log_tail", "")
    print("\n--- job log (tail) ---\n" + tail[-2500:], flush=True)
    print("--- figures ---")
    print(json.dumps({k: v for k, v in figures.items() if k != "worker_nodes"}, indent=2))
    print("FAILED: " + "; ".join(bad) if bad else "OK: every check passed", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
