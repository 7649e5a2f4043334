import gzip

import numpy as np
import pytest

from fakedet import data as fmnist
from fakedet.errors import DataError


def write_idx(path, array: np.ndarray, gz: bool) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_round_trip(tmp_path, gz):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    labels = np.array([7, 1], dtype=np.uint8)
    write_idx(tmp_path / "img", images, gz)
    write_idx(tmp_path / "lab", labels, gz)
    np.testing.assert_array_equal(fmnist.read_idx(tmp_path / "img"), images)
    np.testing.assert_array_equal(fmnist.read_idx(tmp_path / "lab"), labels)
    assert fmnist.read_idx(tmp_path / "img").dtype == np.uint8


def test_checksum_mismatch_names_the_file(tmp_path):
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5, np.uint8), gz=False)
    with pytest.raises(DataError, match="train-labels-idx1-ubyte is corrupt"):
        fmnist.read_idx(tmp_path / "train-labels-idx1-ubyte", expected_md5="0" * 32)


def test_truncated_and_garbage_files(tmp_path):
    (tmp_path / "garbage").write_bytes(b"not an idx file at all")
    with pytest.raises(DataError, match="not an unsigned-byte IDX"):
        fmnist.read_idx(tmp_path / "garbage")
    header = bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big")
    (tmp_path / "short").write_bytes(header + b"\x00" * 3)
    with pytest.raises(DataError, match="truncated"):
        fmnist.read_idx(tmp_path / "short")


def test_explicit_dir_without_files_is_clear(tmp_path):
    with pytest.raises(DataError, match="does not hold the four Fashion-MNIST IDX files"):
        fmnist.resolve_data_dir(tmp_path)


def test_env_var_wins_over_cache(tmp_path, monkeypatch, data_dir):
    monkeypatch.setenv(fmnist.ENV_VAR, data_dir)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert str(fmnist.resolve_data_dir()) == data_dir


def test_no_data_and_no_network_lists_three_ways(tmp_path, monkeypatch):
    monkeypatch.delenv(fmnist.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(fmnist, "DEBIAN_DIR", tmp_path / "none")
    with pytest.raises(DataError) as info:  # the network is blocked in tests
        fmnist.resolve_data_dir()
    message = str(info.value)
    assert "--data-dir" in message and "apt-get install dataset-fashion-mnist" in message
    assert str(tmp_path / "fakedet") in message
    assert "\n" not in message


def test_real_data_shapes(fashion_mnist):
    d = fashion_mnist
    assert d.train_images.shape == (60000, 28, 28) and d.train_images.dtype == np.uint8
    assert d.test_images.shape == (10000, 28, 28)
    assert d.train_labels.shape == (60000,) and d.test_labels.shape == (10000,)
    assert np.bincount(d.train_labels).tolist() == [6000] * 10
