"""The deployment files agree with each other and with the repository (offline, fast):
Dockerfile, .dockerignore, k8s/rayjob.yaml (KubeRay) and cluster.yaml (ray up)."""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
GPU = "nvidia.com/gpu"


@pytest.fixture(scope="module")
def pin() -> str:
    return re.search(r'"ray\[tune\]==([\d.]+)"', (REPO / "pyproject.toml").read_text())[1]


@pytest.fixture(scope="module")
def cluster() -> dict:
    return yaml.safe_load((REPO / "cluster.yaml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> dict:
    """FROM, WORKDIR and COPY instructions of the Dockerfile (continuations joined)."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    out: dict[str, list[str]] = {}
    for ln in lines:
        word, _, rest = ln.partition(" ")
        out.setdefault(word.upper(), []).append(rest.strip())
    return out


@pytest.fixture(scope="module")
def rayjob() -> dict:
    docs = [d for d in yaml.safe_load_all((REPO / "k8s" / "rayjob.yaml").read_text()) if d]
    jobs = [d for d in docs if d.get("kind") == "RayJob"]
    assert len(jobs) == 1, [d.get("kind") for d in docs]
    return jobs[0]


def _containers(group: dict) -> list[dict]:
    return group["template"]["spec"]["containers"]


def _all_groups(job: dict) -> list[dict]:
    spec = job["spec"]["rayClusterSpec"]
    return [spec["headGroupSpec"], *spec["workerGroupSpecs"]]


def test_rayjob_is_a_kuberay_v1_rayjob_that_cleans_up(rayjob):
    assert rayjob["apiVersion"] == "ray.io/v1"
    spec = rayjob["spec"]
    assert spec["shutdownAfterJobFinishes"] is True
    assert spec["rayClusterSpec"]["enableInTreeAutoscaling"] is True
    if "runtimeEnvYAML" in spec:
        assert isinstance(yaml.safe_load(spec["runtimeEnvYAML"]), dict)


def test_ray_version_and_image_tags_agree_with_the_pin(rayjob, dockerfile, pin):
    assert str(rayjob["spec"]["rayClusterSpec"]["rayVersion"]) == pin
    (base,) = dockerfile["FROM"]
    base_tag = base.rsplit(":", 1)[1]
    assert base_tag.startswith(f"{pin}-")
    for group in _all_groups(rayjob):
        for c in _containers(group):
            assert c["image"].rsplit(":", 1)[1] == f"ray{base_tag}", c["image"]


def test_head_runs_no_trials(rayjob):
    head = rayjob["spec"]["rayClusterSpec"]["headGroupSpec"]
    assert head["rayStartParams"]["num-cpus"] == "0"  # a string: KubeRay passes it on
    for c in _containers(head):
        for kind in ("requests", "limits"):
            assert GPU not in c.get("resources", {}).get(kind, {})


def test_gpu_workers_request_and_tolerate_gpus(rayjob, cluster):
    groups = rayjob["spec"]["rayClusterSpec"]["workerGroupSpecs"]
    assert groups
    for group in groups:
        for c in _containers(group):
            res = c["resources"]
            assert GPU in res["requests"] and GPU in res["limits"], res
            assert str(res["requests"][GPU]) == str(res["limits"][GPU])  # extended resource
        tolerations = group["template"]["spec"].get("tolerations", [])
        assert any(
            t.get("key") == GPU and t.get("operator") in ("Exists", None) for t in tolerations
        ), tolerations
        assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]
    (gpu_group,) = groups
    worker = cluster["available_node_types"]["gpu_worker"]
    assert (gpu_group["minReplicas"], gpu_group["maxReplicas"]) == (
        worker["min_workers"],
        worker["max_workers"],
    ), "the RayJob's GPU group should scale as cluster.yaml's gpu_worker does"


def test_no_credentials_in_the_manifest():
    text = (REPO / "k8s" / "rayjob.yaml").read_text()
    assert not re.search(
        r"AKIA[0-9A-Z]{16}|aws_secret_access_key|AWS_SECRET|AWS_SESSION_TOKEN", text
    )


def test_entrypoint_runs_the_sweep_from_the_image(rayjob, dockerfile):
    words = shlex.split(rayjob["spec"]["entrypoint"])
    assert words[0] == "python"
    script = Path(words[1])
    (workdir,) = dockerfile["WORKDIR"]
    assert any(c.split()[-2:] == [".", "."] for c in dockerfile["COPY"])  # the checkout
    assert script.is_relative_to(workdir), (script, workdir)
    assert (REPO / script.relative_to(workdir)).is_file(), script
    assert words[words.index("--address") + 1] == "auto"
    assert words[words.index("--results") + 1].startswith("s3://")


def test_entrypoint_arguments_parse(rayjob):
    """The sweep's own parser takes the entrypoint's arguments."""
    words = shlex.split(rayjob["spec"]["entrypoint"])
    spec = importlib.util.spec_from_file_location("all_triples", REPO / "sweeps/all_triples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    args = module.build_parser().parse_args(words[2:])
    assert args.address == "auto" and args.results.startswith("s3://")


def test_dockerfile_builds_from_cluster_yamls_image(dockerfile, cluster):
    assert dockerfile["FROM"] == [cluster["docker"]["image"]]
    assert any("pip install" in r and "-e" not in r.split() for r in dockerfile["RUN"])


def test_dockerignore_keeps_the_build_context_small():
    entries = {
        ln.strip().rstrip("/")
        for ln in (REPO / ".dockerignore").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    }
    for needed in (".git", ".venv", "results", "**/__pycache__", ".pytest_cache", ".ruff_cache"):
        assert needed in entries, needed


def test_every_local_path_cluster_yaml_names_exists(cluster):
    """file_mounts sources (relative to the repository root, where `ray up` runs), and any
    path under a file_mounts destination that a command names."""
    mounts = cluster.get("file_mounts", {})
    assert mounts
    for remote, local in mounts.items():
        assert (REPO / local).exists(), (remote, local)
    for local in cluster.get("cluster_synced_files", []):
        assert (REPO / local).exists(), local
    key = cluster.get("auth", {}).get("ssh_private_key")
    assert key is None or Path(key).expanduser().exists()
    commands = [
        c
        for field in (
            "initialization_commands",
            "setup_commands",
            "head_setup_commands",
            "worker_setup_commands",
            "head_start_ray_commands",
            "worker_start_ray_commands",
        )
        for c in cluster.get(field, [])
    ]
    named = 0
    for command in commands:
        for word in shlex.split(command.replace(";", " ")):
            for remote, local in mounts.items():
                remote = remote.rstrip("/")
                if word == remote or word.startswith(remote + "/"):
                    rest = word[len(remote) :].lstrip("/")
                    assert (REPO / local / rest).exists(), (command, word)
                    named += 1
    assert named >= 1  # setup_commands install the mounted checkout
