"""Fashion-MNIST: find the four IDX files, read them, verify them.

Where the data comes from, first hit wins:
1. `--data-dir` or the `FAKEDET_DATA_DIR` environment variable;
2. the user cache, `~/.cache/fakedet` (or `$XDG_CACHE_HOME/fakedet`);
3. Debian's package `dataset-fashion-mnist` (`/usr/share/datasets/fashion-mnist`);
4. a download through torchvision's mirrors into the user cache.

Files may be gzipped or not. The decompressed bytes are checked against the official
md5s, so Debian's re-gzipped copies verify as well as the originals.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fakedet.errors import DataError, first_line

CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
IMAGE_SHAPE = (1, 28, 28)
"""One image as the networks take it: (channels, height, width); the files hold (28, 28)."""
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# md5 of the decompressed IDX files (the official release).
MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
ENV_VAR = "FAKEDET_DATA_DIR"
_IDX_DTYPES = {0x08: np.uint8}


@dataclass(frozen=True)
class FashionMNIST:
    """The whole dataset as uint8 arrays, as in the IDX files."""

    train_images: np.ndarray
    """(60000, 28, 28) uint8"""
    train_labels: np.ndarray
    """(60000,) uint8, class ids 0..9"""
    test_images: np.ndarray
    """(10000, 28, 28) uint8"""
    test_labels: np.ndarray
    """(10000,) uint8"""
    source: str = ""
    """Directory the files were read from."""


def cache_dir() -> Path:
    """The user cache for downloads: `$XDG_CACHE_HOME/fakedet` or `~/.cache/fakedet`."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fakedet"


def _find_file(directory: Path, name: str) -> Path | None:
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            return candidate
    return None


def _has_all_files(directory: Path) -> bool:
    return all(_find_file(directory, name) for name in FILES.values())


def read_idx(path: str | Path, expected_md5: str | None = None) -> np.ndarray:
    """Read one IDX file, gzipped or not, into a numpy array.

    Args:
        path: the file; gzip is recognised by its magic bytes, not its name.
        expected_md5: md5 of the decompressed content; a mismatch raises `DataError`.

    Returns:
        uint8 array shaped as the file's header says, e.g. (60000, 28, 28).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"cannot read {path}: {e}") from None
    if expected_md5 is not None and hashlib.md5(raw).hexdigest() != expected_md5:
        raise DataError(
            f"{path} is corrupt: md5 of its content is {hashlib.md5(raw).hexdigest()}, "
            f"expected {expected_md5}; delete it and provide a good copy"
        )
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=header)
    if data.size != int(np.prod(shape)):
        raise DataError(f"{path} is truncated: header says {shape}, found {data.size} values")
    return data.reshape(shape)


def read_dir(directory: str | Path, verify: bool = True) -> FashionMNIST:
    """Read and verify the four files of one directory."""
    directory = Path(directory)
    arrays = {}
    for key, name in FILES.items():
        path = _find_file(directory, name)
        if path is None:
            raise DataError(f"{directory} has no {name}[.gz]")
        arrays[key] = read_idx(path, MD5[name] if verify else None)
    return FashionMNIST(**arrays, source=str(directory))


def _download(target: Path) -> Path:
    """Fetch the files through torchvision's mirrors; returns the directory holding them."""
    from torchvision.datasets import FashionMNIST as TorchvisionFashionMNIST

    TorchvisionFashionMNIST(root=str(target), train=True, download=True)
    TorchvisionFashionMNIST(root=str(target), train=False, download=True)
    return target / "FashionMNIST" / "raw"


def resolve_data_dir(data_dir: str | Path | None = None, download: bool = True) -> Path:
    """Find the directory that holds Fashion-MNIST (see the module docstring for the order)."""
    explicit = data_dir or os.environ.get(ENV_VAR)
    if explicit:
        path = Path(explicit).expanduser()
        if not _has_all_files(path):
            raise DataError(
                f"{path} does not hold the four Fashion-MNIST IDX files "
                f"({', '.join(FILES.values())}, gzipped or not)"
            )
        return path
    cache = cache_dir()
    for candidate in (cache, cache / "FashionMNIST" / "raw", DEBIAN_DIR):
        if _has_all_files(candidate):
            return candidate
    if download:
        try:
            return _download(cache)
        except Exception as e:  # any network or filesystem failure ends the same way
            reason = first_line(e)
            raise DataError(
                f"Fashion-MNIST not found and the download failed ({reason}). Provide it "
                f"one of three ways: --data-dir DIR or {ENV_VAR}=DIR pointing at the four "
                f"IDX files; `apt-get install dataset-fashion-mnist` (Debian, into "
                f"{DEBIAN_DIR}); or copy the files into {cache}"
            ) from None
    raise DataError(f"Fashion-MNIST not found in {cache} or {DEBIAN_DIR}")


def load(data_dir: str | Path | None = None, download: bool = True) -> FashionMNIST:
    """Find, read and verify Fashion-MNIST."""
    return read_dir(resolve_data_dir(data_dir, download=download))


if __name__ == "__main__":
    import sys

    from fakedet.errors import exit_on_user_error

    @exit_on_user_error
    def main() -> None:
        """Find (or, unless --no-download, fetch) and verify the data; print where it is."""
        found = load(download="--no-download" not in sys.argv[1:])
        print(f"Fashion-MNIST verified in {found.source}")

    main()
