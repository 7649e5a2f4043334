"""cluster.yaml, validated offline the way Ray's own tests validate cluster configs."""

import re
from pathlib import Path

import pytest
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load((REPO / "cluster.yaml").read_text())


def test_cluster_yaml_is_valid(config):
    prepared = prepare_config(config)
    validate_config(prepared)
    assert prepared["provider"]["type"] == "aws"


def test_head_runs_no_trials_and_dashboard_stays_local(config):
    start = " ".join(config["head_start_ray_commands"])
    assert "--num-cpus=0" in start
    assert "--dashboard-host=127.0.0.1" in start


def test_gpu_workers_autoscale_on_spot(config):
    worker = config["available_node_types"]["gpu_worker"]
    assert worker["node_config"]["InstanceType"].startswith("g5.")
    assert worker["node_config"]["InstanceMarketOptions"]["MarketType"] == "spot"
    assert worker["max_workers"] > worker["min_workers"] >= 0


def test_image_ray_version_matches_the_pin(config):
    pinned = re.search(r'"ray\[tune\]==([\d.]+)"', (REPO / "pyproject.toml").read_text())[1]
    assert config["docker"]["image"] == f"rayproject/ray:{pinned}-py311-gpu"
    import ray

    assert ray.__version__ == pinned


def test_no_credentials(config):
    text = (REPO / "cluster.yaml").read_text()
    assert not re.search(r"AKIA[0-9A-Z]{16}|aws_secret|ssh_private_key|KeyName", text)
