"""Held-out triples and the data protocols that turn Fashion-MNIST into a trial's splits.

Protocol `seed` (the report's): the 60,000 training images only. The 3 held-out classes
form suite `real_heldout` (18,000); the other 7 classes (42,000) are split 90/10,
stratified by class: train (37,800) and suite `real_test` (4,200).

Protocol `official`: train on the 7 classes of the official training set (42,000);
`real_test` is their official test images (7,000); `real_heldout` is the 3 held-out
classes from both sets (21,000).

The split depends only on (seed, triple), never on the architecture, so architectures can
be compared pairwise on identical data.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from fakedet.data import FashionMNIST
from fakedet.errors import UserError

NUM_CLASSES = 10
PROTOCOLS = ("seed", "official")
ALL_TRIPLES: tuple[tuple[int, int, int], ...] = tuple(
    itertools.combinations(range(NUM_CLASSES), 3)
)  # 120 triples in lexicographic order
# All 120 triples in an order whose every prefix is class-balanced: after the first N, the
# times each class is held out differ by at most 1 between classes (the first 10 hold out
# every class exactly 3 times), and pairs of classes held out together are as even as a
# depth-first search could make them (pair counts 0-1 after 10 triples, 1-2 after 20, 2-3
# after 40). `--triples N` runs the first N, so designs nest: growing a sweep from 10 to 40
# triples reuses every finished trial. Fixed data: changing it changes what `--triples N`
# means for results already written.
_BALANCED = """
012 345 678 039 146 257 189 047 238 569 058 137 249 026 135 468 079 236 145 789 016
247 358 129 034 567 489 369 025 178 018 237 459 268 036 147 059 125 348 679 139 024
568 037 289 156 457 046 127 389 078 134 259 169 246 357 028 015 479 368 148 067 235
019 458 239 167 049 278 356 579 013 248 126 346 057 089 158 269 347 023 149 578 056
138 267 469 245 179 038 359 068 124 367 045 279 168 017 258 349 123 478 069 159 456
378 029 035 128 467 014 256 379 589 027 136 048 157 234 689
"""
BALANCED_TRIPLES: tuple[tuple[int, int, int], ...] = tuple(
    tuple(int(c) for c in word) for word in _BALANCED.split()
)
TEST_FRACTION = 0.1
SEED_TRAIN_IMAGES = 37_800  # protocol `seed`: 7 classes x 6,000 x (1 - TEST_FRACTION)


def parse_triple(value: str | Iterable[int]) -> tuple[int, int, int]:
    """Canonicalise a held-out triple: 3 distinct class ids in 0..9, sorted.

    Accepts "0,6,9", "0-6-9", "069" or a sequence of ints.
    """
    if isinstance(value, str):
        text = value.strip()
        parts = text.replace("-", ",").split(",") if ("," in text or "-" in text) else list(text)
        try:
            ids = [int(p) for p in parts]
        except ValueError:
            raise UserError(f"held-out triple {value!r} must be 3 class ids, e.g. 0,6,9") from None
    else:
        ids = [int(v) for v in value]
    if len(ids) != 3 or len(set(ids)) != 3 or not all(0 <= i < NUM_CLASSES for i in ids):
        raise UserError(
            f"held-out triple {value!r} must be 3 distinct class ids in 0..9, e.g. 0,6,9"
        )
    return tuple(sorted(ids))  # type: ignore[return-value]


def triple_str(triple: Iterable[int]) -> str:
    """'0-6-9': the triple as it appears in keys and paths."""
    return "-".join(str(c) for c in triple)


def check_protocol(protocol: str) -> str:
    if protocol not in PROTOCOLS:
        raise UserError(f"unknown protocol {protocol!r}; valid: {', '.join(PROTOCOLS)}")
    return protocol


@dataclass(frozen=True)
class Split:
    """A trial's data: training images and the two real evaluation suites."""

    train_images: np.ndarray
    """(N, 28, 28) uint8 images of the 7 training classes"""
    train_labels: np.ndarray
    """(N,) uint8; never used for training (the GAN is unconditional)"""
    real_test_images: np.ndarray
    """(M, 28, 28) uint8 unseen images of the 7 training classes"""
    real_test_labels: np.ndarray
    """(M,) uint8"""
    real_heldout_images: np.ndarray
    """(H, 28, 28) uint8 images of the 3 held-out classes"""
    real_heldout_labels: np.ndarray
    """(H,) uint8"""


def split_rng(seed: int, triple: tuple[int, int, int]) -> np.random.Generator:
    """The generator of the train/test split: a function of (seed, triple) alone."""
    return np.random.default_rng([seed, *triple])


def stratified_split(
    labels: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Split indices so that `fraction` of each class goes to the second part.

    Args:
        labels: (N,) class ids.
        fraction: share of each class in the second part, rounded per class.
        rng: the split's generator.

    Returns:
        (first, second): sorted index arrays that partition range(N).
    """
    second = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        second.append(rng.permutation(idx)[: round(len(idx) * fraction)])
    second = np.sort(np.concatenate(second))
    first = np.setdiff1d(np.arange(len(labels)), second, assume_unique=True)
    return first, second


def make_split(
    data: FashionMNIST, triple: tuple[int, int, int], seed: int, protocol: str = "seed"
) -> Split:
    """Build a trial's splits (see the module docstring)."""
    check_protocol(protocol)
    triple = parse_triple(triple)
    held = np.isin(data.train_labels, triple)
    if protocol == "seed":
        seen_images, seen_labels = data.train_images[~held], data.train_labels[~held]
        train_idx, test_idx = stratified_split(seen_labels, TEST_FRACTION, split_rng(seed, triple))
        return Split(
            train_images=seen_images[train_idx],
            train_labels=seen_labels[train_idx],
            real_test_images=seen_images[test_idx],
            real_test_labels=seen_labels[test_idx],
            real_heldout_images=data.train_images[held],
            real_heldout_labels=data.train_labels[held],
        )
    test_held = np.isin(data.test_labels, triple)
    return Split(
        train_images=data.train_images[~held],
        train_labels=data.train_labels[~held],
        real_test_images=data.test_images[~test_held],
        real_test_labels=data.test_labels[~test_held],
        real_heldout_images=np.concatenate([data.train_images[held], data.test_images[test_held]]),
        real_heldout_labels=np.concatenate([data.train_labels[held], data.test_labels[test_held]]),
    )
