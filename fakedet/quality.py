"""How good a generator's fakes are, in the feature space of a Fashion-MNIST classifier.

A detection rate says little without the quality of the fakes: a discriminator that flags
every fake of a generator that draws noise is no detector. This module measures the fakes
in the feature space of a small classifier trained once per dataset, so every trial,
checkpoint and generator is measured with the same ruler.

The classifier (`make_classifier`, `ClassifierRecipe`): two 5x5 convolutions with stride 2
(1 -> width -> 2 width channels; 28 -> 14 -> 7 pixels), each with BatchNorm and ReLU, a
linear layer to `feature_dim` features with ReLU (the feature space), and a linear layer
to the 10 class logits. It is trained on the official 60,000 training images of all ten
classes (Adam, cross-entropy, batches in an order drawn from a seeded `torch.Generator`,
initial weights drawn under `torch.manual_seed` inside `torch.random.fork_rng`, so the
same recipe and data give the same classifier and no global random state changes), and its
accuracy on the official 10,000 test images is recorded with it. `load_or_train` caches it
by the data's checksum and the recipe's key; a corrupt or mismatching file is retrained.
The default recipe (width 16, 3 epochs) measured 0.8955 test accuracy, short of the 0.90
aimed at; width 32 gave 0.8990 at several times the cost, 5 epochs with a cosine learning
rate 0.8986 (one run each, seed 0, on the loaded 2-core VM).

The measures (`fake_quality`), each of `QUALITY_SAMPLES` fakes against as many real test
images of the trial's seven seen classes:

- Fréchet distance (`frechet_distance`, the FID of Heusel et al. 2017, here with this
  classifier's features instead of Inception's): a Gaussian is fitted to each set of
  features and the distance is ||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)).
  It falls as the fakes' feature statistics approach the reals'. It is biased upwards by
  small samples (even two sets of real images are apart), so every figure uses the same
  sample size and `real_floor` gives the distance between two disjoint sets of
  `QUALITY_SAMPLES` real seen-class images: no generator can be expected to go below it.
- Precision and recall (`precision_recall`, Kynkäänniemi et al. 2019): each set's
  manifold is the union of balls around its points, each ball reaching the point's k-th
  nearest neighbour within its own set (k = 3). Precision is the share of fakes inside the
  real manifold (are fakes realistic?), recall the share of reals inside the fake manifold
  (do fakes cover the variety of the reals?). The FID mixes the two; these separate them.
  The radii depend on the set sizes, another reason the sizes are fixed.
- The class histogram (`class_histogram`): the share of fakes the classifier puts in each
  class. `heldout_share` is the share in one of the three held-out classes (a generator
  that never saw them should rarely draw them); `seen_covered` counts the seen classes
  that receive at least `COVERAGE_SHARE` of the fakes (mode collapse lowers it).

Sample sizes: `QUALITY_SAMPLES` (2,000) fakes and 2,000 seen-class test reals for every
Fréchet distance and precision/recall; the floor uses two disjoint sets of 2,000 of the
7,000 seen-class test images (`seen_test_reals`). Figures from other sample sizes are not
comparable with these.

Run `python -m fakedet.quality [--data-dir DIR] [--cache-dir DIR]` to train (or load) the
cached classifier and print its test accuracy and where it is cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F
from torch import nn

from fakedet.data import IMAGE_SHAPE, FashionMNIST
from fakedet.errors import UserError
from fakedet.train import to_unit_range

N_CLASSES = 10
QUALITY_SAMPLES = 2000
"""Fakes, and seen-class reals, per Fréchet distance and precision/recall (FID is biased
by sample size, so this is fixed)."""
COVERAGE_SHARE = 1 / 35
"""A seen class is covered when it receives at least a fifth of the share it would get if
the fakes were spread evenly over the seven seen classes (1/7 / 5, about 2.9%)."""
BATCH = 2048
"""Images per forward pass when computing features or predictions."""
CACHE_FORMAT = 1
"""Version of the cached file's layout; a different one is retrained."""


@dataclass(frozen=True)
class ClassifierRecipe:
    """How the feature classifier is built and trained; its hash names the cached file."""

    epochs: int = 3
    """Passes over the 60,000 training images."""
    batch_size: int = 256
    """Images per training step."""
    lr: float = 1e-3
    """Adam learning rate."""
    seed: int = 0
    """Seeds the initial weights and the batch order."""
    width: int = 16
    """Channels of the first convolution; the second has twice as many (32 was several times
    slower on the loaded 2-core VM for 0.899 test accuracy against 0.896)."""
    feature_dim: int = 128
    """Width of the penultimate layer, the feature space of the measures."""
    max_steps: int | None = None
    """Stop after this many steps (tests, smoke runs); None trains all epochs."""

    @property
    def key(self) -> str:
        """A short sha1 of the recipe, for cache file names."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    def validate(self) -> None:
        if min(self.epochs, self.batch_size, self.width, self.feature_dim) < 1:
            raise UserError("classifier epochs, batch_size, width and feature_dim must be >= 1")
        if self.max_steps is not None and self.max_steps < 1:
            raise UserError("classifier max_steps must be >= 1 (or None)")
        if self.lr <= 0:
            raise UserError(f"classifier lr={self.lr}; must be > 0")


def make_classifier(recipe: ClassifierRecipe) -> nn.Sequential:
    """The classifier CNN: (N, 1, 28, 28) in [-1, 1] -> (N, 10) logits.

    Every layer but the last computes the features (`net[:-1]`); the last is the head.
    Weights are drawn from torch's global generator: call it under `fork_rng`.
    """
    w, d = recipe.width, recipe.feature_dim
    return nn.Sequential(
        nn.Conv2d(1, w, 5, stride=2, padding=2),  # (N, w, 14, 14)
        nn.BatchNorm2d(w),
        nn.ReLU(),
        nn.Conv2d(w, 2 * w, 5, stride=2, padding=2),  # (N, 2w, 7, 7)
        nn.BatchNorm2d(2 * w),
        nn.ReLU(),
        nn.Flatten(),  # (N, 2w * 49)
        nn.Linear(2 * w * 49, d),  # (N, feature_dim)
        nn.ReLU(),  # the features
        nn.Linear(d, N_CLASSES),  # (N, 10) logits
    )


def _as_model_input(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """(N, 28, 28) uint8 stays uint8 (scaled per batch); (N, 1, 28, 28) float -> float32."""
    if isinstance(images, np.ndarray):  # copied when read-only (arrays read from IDX files)
        images = torch.from_numpy(np.require(images, requirements=["C", "W"]))
    if images.dtype == torch.uint8 and images.shape[1:] == (28, 28):
        return images
    if images.is_floating_point() and images.shape[1:] == IMAGE_SHAPE:
        return images.float()
    raise ValueError(
        f"expected (N, 28, 28) uint8 or (N, 1, 28, 28) float images; got "
        f"{tuple(images.shape)} {images.dtype}"
    )


@dataclass(frozen=True, eq=False)
class Classifier:
    """A trained Fashion-MNIST classifier, in eval mode, on one device."""

    net: nn.Module
    """`make_classifier`'s network: features are `net[:-1]`, logits `net`."""
    recipe: ClassifierRecipe
    """How it was trained."""
    test_accuracy: float
    """Accuracy on the official 10,000 test images."""
    data_checksum: str
    """`data_checksum` of the dataset it was trained on."""

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    @torch.inference_mode()
    def _outputs(self, images, features: bool) -> torch.Tensor:
        self.net.eval()
        x_all, device = _as_model_input(images), self.device
        body = self.net[:-1] if features else self.net
        out = []
        for start in range(0, len(x_all), BATCH):
            x = x_all[start : start + BATCH].to(device)
            out.append(body(to_unit_range(x) if x.dtype == torch.uint8 else x).cpu())
        width = self.recipe.feature_dim if features else N_CLASSES
        return torch.cat(out) if out else torch.zeros(0, width)

    def features(self, images: np.ndarray | torch.Tensor) -> np.ndarray:
        """Penultimate-layer features.

        Args:
            images: (N, 28, 28) uint8 (reals, 8-bit fakes) or (N, 1, 28, 28) float in
                [-1, 1] (float fakes).

        Returns:
            (N, feature_dim) float64.
        """
        return self._outputs(images, features=True).double().numpy()

    def predict(self, images: np.ndarray | torch.Tensor) -> np.ndarray:
        """Predicted class ids, (N,) int64, for images as in `features`."""
        return self._outputs(images, features=False).argmax(1).numpy().astype(np.int64)

    def state(self) -> dict:
        """Weights (CPU tensors) and metadata: picklable, for `ray.put` and the cache."""
        return dict(
            format=CACHE_FORMAT,
            weights={k: v.detach().cpu().clone() for k, v in self.net.state_dict().items()},
            recipe=asdict(self.recipe),
            test_accuracy=float(self.test_accuracy),
            data_checksum=self.data_checksum,
        )

    @classmethod
    def from_state(cls, state: dict, device: torch.device | str | None = None) -> Classifier:
        """Rebuild a classifier from `state()` on `device` (default CPU)."""
        if state.get("format") != CACHE_FORMAT:
            raise ValueError(f"classifier state format {state.get('format')!r} unknown")
        recipe = ClassifierRecipe(**state["recipe"])
        net = make_classifier(recipe)
        net.load_state_dict(state["weights"])
        net = net.to(torch.device(device or "cpu")).eval()
        return cls(net, recipe, float(state["test_accuracy"]), str(state["data_checksum"]))


def data_checksum(data: FashionMNIST) -> str:
    """sha1 of the four arrays (shape, dtype and bytes), in a fixed order."""
    digest = hashlib.sha1()
    for array in (data.train_images, data.train_labels, data.test_images, data.test_labels):
        array = np.ascontiguousarray(array)
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(array.data)
    return digest.hexdigest()


def _accuracy(classifier: Classifier, images: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(classifier.predict(images) == labels.astype(np.int64)))


def train_classifier(
    data: FashionMNIST,
    recipe: ClassifierRecipe = ClassifierRecipe(),  # noqa: B008 (frozen, so safe to share)
    device: torch.device | str = "cpu",
) -> Classifier:
    """Train the classifier on the 60,000 official training images of all 10 classes.

    Deterministic for a recipe, dataset and device: the initial weights come from
    `torch.manual_seed(recipe.seed)` inside `fork_rng` (the caller's random state is left
    untouched), the batch order from a `torch.Generator` seeded by `recipe.seed`.

    Returns:
        The classifier in eval mode on `device`, with its official test-set accuracy.
    """
    recipe.validate()
    device = torch.device(device)
    images = torch.from_numpy(np.require(data.train_images, requirements=["C", "W"])).to(device)
    labels = torch.from_numpy(data.train_labels.astype(np.int64)).to(device)

    # --- seeding: weights under a forked global generator, batch order from our own ---
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        net = make_classifier(recipe)
    net = net.to(device).train()
    rng = torch.Generator(device=device).manual_seed(recipe.seed)

    opt = torch.optim.Adam(net.parameters(), lr=recipe.lr)
    per_epoch = max(1, len(images) // recipe.batch_size)
    steps = recipe.epochs * per_epoch
    steps = steps if recipe.max_steps is None else min(steps, recipe.max_steps)
    for step in range(steps):
        if step % per_epoch == 0:
            order = torch.randperm(len(images), generator=rng, device=device)
        idx = order[(step % per_epoch) * recipe.batch_size :][: recipe.batch_size]
        loss = F.cross_entropy(net(to_unit_range(images[idx])), labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    classifier = Classifier(net.eval(), recipe, 0.0, data_checksum(data))
    accuracy = _accuracy(classifier, data.test_images, data.test_labels)
    return Classifier(classifier.net, recipe, accuracy, classifier.data_checksum)


def cache_path(
    data: FashionMNIST | str,
    cache_dir: Path | str | None = None,
    recipe: ClassifierRecipe = ClassifierRecipe(),  # noqa: B008
) -> Path:
    """`<cache_dir>/classifier-<data checksum[:12]>-<recipe key>.pt`; `data` may be the
    dataset or its checksum. Default `cache_dir`: the user cache's `classifiers/`."""
    from fakedet.data import cache_dir as user_cache

    checksum = data if isinstance(data, str) else data_checksum(data)
    root = Path(cache_dir) if cache_dir is not None else user_cache() / "classifiers"
    return root / f"classifier-{checksum[:12]}-{recipe.key}.pt"


def _read_cached(path: Path, checksum: str, recipe: ClassifierRecipe, device) -> Classifier:
    """The cached classifier; raises (anything) if the file is unusable or mismatching."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("data_checksum") != checksum:
        raise ValueError("it was trained on other data")
    if state.get("recipe") != asdict(recipe):
        raise ValueError("it was trained with another recipe")
    return Classifier.from_state(state, device)


def _write_atomically(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_or_train(
    data: FashionMNIST,
    cache_dir: Path | str | None = None,
    recipe: ClassifierRecipe = ClassifierRecipe(),  # noqa: B008
    device: torch.device | str = "cpu",
    on_train: Callable[[str], None] | None = None,
) -> Classifier:
    """The cached classifier for this dataset and recipe, trained and cached if absent.

    A corrupt, truncated or mismatching cached file is retrained and rewritten with a
    one-line warning; an unwritable cache warns and returns the freshly trained classifier.

    Args:
        data: the dataset (its checksum names the file).
        cache_dir: where the file lives (default: the user cache's `classifiers/`).
        recipe: the training recipe (its key names the file).
        device: where the classifier runs (and is trained).
        on_train: told (one line) when training starts, e.g. for a status line.
    """
    checksum = data_checksum(data)
    path = cache_path(checksum, cache_dir, recipe)
    if path.exists():
        try:
            return _read_cached(path, checksum, recipe, device)
        except Exception as e:  # any unreadable or mismatching file is retrained
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            warnings.warn(f"retraining the classifier: {path} is unusable ({reason})", stacklevel=2)
    if on_train is not None:
        on_train(f"training the quality classifier (recipe {recipe.key}) into {path}")
    classifier = train_classifier(data, recipe, device)
    try:
        _write_atomically(path, classifier.state())
    except OSError as e:
        warnings.warn(f"could not cache the classifier in {path}: {e}", stacklevel=2)
    return classifier


def _gaussian(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"expected (N >= 2, d) features; got shape {x.shape}")
    return x.mean(0), np.atleast_2d(np.cov(x, rowvar=False))


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two sets of features.

    Args:
        a: (N, d) features.
        b: (M, d) features.

    Returns:
        ||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)) with sample means and
        covariances (ddof 1); 0 (to ~1e-6) for a set with itself, never negative.
    """
    (mu_a, s_a), (mu_b, s_b) = _gaussian(a), _gaussian(b)
    if mu_a.shape != mu_b.shape:
        raise ValueError(f"feature widths differ: {mu_a.shape[0]} and {mu_b.shape[0]}")
    with warnings.catch_warnings():  # features of dead ReLU units make S_a S_b singular
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(s_a @ s_b)
    if not np.isfinite(covmean).all():  # singular product: nudge both, as pytorch-fid does
        eps = np.eye(len(s_a)) * 1e-6
        covmean = scipy.linalg.sqrtm((s_a + eps) @ (s_b + eps))
    diff = mu_a - mu_b
    trace = np.trace(s_a) + np.trace(s_b) - 2 * np.trace(np.real(covmean))
    return float(diff @ diff + max(trace, 0.0))


def _squared_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(len(x), len(y)) squared Euclidean distances (exact for integer coordinates)."""
    d2 = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2 * (x @ y.T)
    return np.maximum(d2, 0.0)


def _kth_radius_sq(x: np.ndarray, k: int, chunk: int = 1024) -> np.ndarray:
    """(N,) squared distance of each point to its k-th nearest other point in `x`."""
    out = np.empty(len(x))
    for start in range(0, len(x), chunk):
        d2 = _squared_distances(x[start : start + chunk], x)
        rows = np.arange(len(d2))
        d2[rows, rows + start] = np.inf  # exclude the point itself
        out[start : start + chunk] = np.partition(d2, k - 1, axis=1)[:, k - 1]
    return out


def _inside_share(points: np.ndarray, centres: np.ndarray, radii_sq: np.ndarray) -> float:
    """Share of `points` within at least one ball (centre, radius) of the other set."""
    inside, chunk = 0, 1024
    for start in range(0, len(points), chunk):
        d2 = _squared_distances(points[start : start + chunk], centres)
        inside += int((d2 <= radii_sq[None, :]).any(1).sum())
    return inside / len(points)


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019).

    Args:
        real: (N, d) features of real images.
        fake: (M, d) features of fakes.
        k: each point's ball reaches its k-th nearest neighbour in its own set (not itself).

    Returns:
        (precision, recall): the share of fakes within some real ball, and the share of
        reals within some fake ball (on the boundary counts as inside).
    """
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} points per set")
    precision = _inside_share(fake, real, _kth_radius_sq(real, k))
    recall = _inside_share(real, fake, _kth_radius_sq(fake, k))
    return precision, recall


def class_histogram(classifier: Classifier, images: np.ndarray | torch.Tensor) -> np.ndarray:
    """(10,) share of `images` the classifier puts in each class (sums to 1)."""
    predicted = classifier.predict(images)
    if len(predicted) == 0:
        raise ValueError("class_histogram needs at least one image")
    return np.bincount(predicted, minlength=N_CLASSES) / len(predicted)


@dataclass(frozen=True)
class Quality:
    """Figures of one set of fakes against real seen-class images."""

    fid: float
    """Fréchet distance between the fakes' and the reals' classifier features."""
    precision: float
    """Share of fakes inside the reals' k-NN manifold."""
    recall: float
    """Share of reals inside the fakes' k-NN manifold."""
    heldout_share: float
    """Share of fakes classified as one of the three held-out classes."""
    seen_covered: int
    """Seen classes receiving at least `COVERAGE_SHARE` of the fakes (0..7)."""
    histogram: tuple[float, ...]
    """Share of fakes per predicted class, 10 values."""
    fid_floor: float | None = field(default=None)
    """The real-vs-real Fréchet distance passed as `reference_fid`, if any."""

    @property
    def fid_above_floor(self) -> float | None:
        """fid minus the floor, when the floor is known."""
        return None if self.fid_floor is None else self.fid - self.fid_floor


def _check_heldout(heldout_classes: Sequence[int]) -> tuple[int, ...]:
    held = tuple(int(c) for c in heldout_classes)
    if len(set(held)) != len(held) or not all(0 <= c < N_CLASSES for c in held):
        raise ValueError(f"held-out classes must be distinct ids in 0..9; got {held}")
    return held


def fake_quality(
    classifier: Classifier,
    fakes: np.ndarray | torch.Tensor,
    seen_reals: np.ndarray | torch.Tensor,
    heldout_classes: Sequence[int],
    reference_fid: float | None = None,
    k: int = 3,
) -> Quality:
    """Fréchet distance, precision, recall and class histogram of one set of fakes.

    Args:
        classifier: the feature classifier (`load_or_train`).
        fakes: (N, 1, 28, 28) float in [-1, 1] or (N, 28, 28) uint8 (8-bit) fakes;
            `QUALITY_SAMPLES` of them for figures comparable across the project.
        seen_reals: (M, 28, 28) uint8 real test images of the seven seen classes;
            `QUALITY_SAMPLES` of them.
        heldout_classes: the trial's three held-out class ids.
        reference_fid: the floor (`real_floor`), carried in the result as `fid_floor`.
        k: neighbourhood size of precision and recall.
    """
    held = _check_heldout(heldout_classes)
    classifier.net.eval()
    fake_features = classifier.features(fakes)
    with torch.inference_mode():  # the head on the features: one pass for both
        head = classifier.net[-1]
        logits = head(torch.from_numpy(fake_features).float().to(classifier.device))
    predicted = logits.argmax(1).cpu().numpy()
    histogram = np.bincount(predicted, minlength=N_CLASSES) / len(predicted)
    real_features = classifier.features(seen_reals)
    precision, recall = precision_recall(real_features, fake_features, k)
    seen = [c for c in range(N_CLASSES) if c not in held]
    return Quality(
        fid=frechet_distance(fake_features, real_features),
        precision=precision,
        recall=recall,
        heldout_share=float(histogram[list(held)].sum()),
        seen_covered=int((histogram[seen] >= COVERAGE_SHARE).sum()),
        histogram=tuple(float(s) for s in histogram),
        fid_floor=reference_fid,
    )


def real_floor(
    classifier: Classifier,
    seen_reals_a: np.ndarray | torch.Tensor,
    seen_reals_b: np.ndarray | torch.Tensor,
) -> float:
    """The Fréchet distance between two disjoint sets of real seen-class images, (N, 28,
    28) uint8 each (`QUALITY_SAMPLES` each): the floor a generator's fid is read against."""
    return frechet_distance(classifier.features(seen_reals_a), classifier.features(seen_reals_b))


def seen_test_reals(
    data: FashionMNIST,
    heldout_classes: Sequence[int],
    n: int = QUALITY_SAMPLES,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint random sets of `n` official test images of the seen classes.

    Returns:
        (n, 28, 28) uint8 and (n, 28, 28) uint8: the reals that fakes are measured
        against, and a second set for `real_floor`.
    """
    held = _check_heldout(heldout_classes)
    pool = np.flatnonzero(~np.isin(data.test_labels, held))
    if 2 * n > len(pool):
        raise ValueError(f"{len(pool)} seen-class test images cannot give two sets of {n}")
    chosen = np.random.default_rng(seed).permutation(pool)[: 2 * n]
    return data.test_images[chosen[:n]], data.test_images[chosen[n:]]


def main(argv: list[str] | None = None) -> None:
    """Train or load the cached classifier; print its test accuracy and cache path."""
    from fakedet import data as fmnist
    from fakedet.errors import ArgumentParser

    p = ArgumentParser(
        prog="python -m fakedet.quality",
        description="Train (or load from the cache) the Fashion-MNIST classifier whose "
        "features measure the quality of fakes; print its test accuracy and cache path.",
    )
    p.add_argument("--data-dir", help="directory of the four Fashion-MNIST IDX files")
    p.add_argument("--cache-dir", help="where classifiers are cached (default: user cache)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1 (default: cpu)")
    args = p.parse_args(argv)
    try:
        device = torch.device(args.device)
    except RuntimeError:
        raise UserError(f"unknown device {args.device!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device {args.device} requested but CUDA is not available")
    dataset = fmnist.load(args.data_dir)
    recipe = ClassifierRecipe()
    classifier = load_or_train(dataset, args.cache_dir, recipe, device, on_train=print)
    print(f"test accuracy {classifier.test_accuracy:.4f}")
    print(f"cached in {cache_path(classifier.data_checksum, args.cache_dir, recipe)}")


if __name__ == "__main__":
    from fakedet.errors import exit_on_user_error

    sys.exit(exit_on_user_error(main)())
