import itertools

import numpy as np
import pytest

from fakedet.errors import UserError
from fakedet.protocol import (
    ALL_TRIPLES,
    BALANCED_TRIPLES,
    make_split,
    parse_triple,
    stratified_split,
)


def test_parse_triple_canonicalises():
    assert parse_triple("9,0,6") == (0, 6, 9)
    assert parse_triple("0-6-9") == (0, 6, 9)
    assert parse_triple("069") == (0, 6, 9)
    assert parse_triple([3, 1, 2]) == (1, 2, 3)


@pytest.mark.parametrize("bad", ["0,6", "0,6,6", "0,6,10", "a,b,c", "1,2,3,4", "-1,2,3", ""])
def test_parse_triple_rejects(bad):
    with pytest.raises(UserError, match="held-out triple"):
        parse_triple(bad)


def test_all_triples():
    assert len(ALL_TRIPLES) == 120 == len(set(ALL_TRIPLES))
    assert ALL_TRIPLES[0] == (0, 1, 2) and ALL_TRIPLES[-1] == (7, 8, 9)
    assert list(ALL_TRIPLES) == sorted(ALL_TRIPLES)


def test_balanced_order_every_prefix():
    """Every prefix holds each class out equally often (within 1); pairs stay even."""
    assert sorted(BALANCED_TRIPLES) == list(ALL_TRIPLES)
    held = np.zeros(10, int)
    pairs = {p: 0 for p in itertools.combinations(range(10), 2)}
    spread = {}
    for n, triple in enumerate(BALANCED_TRIPLES, start=1):
        held[list(triple)] += 1
        for p in itertools.combinations(triple, 2):
            pairs[p] += 1
        assert held.max() - held.min() <= 1, n
        spread[n] = (min(pairs.values()), max(pairs.values()))
    assert held.tolist() == [36] * 10
    assert spread[10] == (0, 1) and spread[20] == (1, 2) and spread[40] == (2, 3)
    assert spread[120] == (8, 8)


def test_stratified_split_exact():
    labels = np.repeat([0, 1, 2], [10, 20, 30])
    first, second = stratified_split(labels, 0.1, np.random.default_rng(0))
    assert np.bincount(labels[second]).tolist() == [1, 2, 3]
    assert sorted(np.concatenate([first, second]).tolist()) == list(range(60))


def test_seed_protocol_sizes(fashion_mnist):
    s = make_split(fashion_mnist, (0, 6, 9), seed=0, protocol="seed")
    assert len(s.train_images) == 37_800 and len(s.real_test_images) == 4_200
    assert len(s.real_heldout_images) == 18_000
    assert set(np.unique(s.real_heldout_labels)) == {0, 6, 9}
    per_class = np.bincount(s.real_test_labels, minlength=10)
    assert per_class[[1, 2, 3, 4, 5, 7, 8]].tolist() == [600] * 7
    assert not set(np.unique(s.train_labels)) & {0, 6, 9}


def test_official_protocol_sizes(fashion_mnist):
    s = make_split(fashion_mnist, (0, 6, 9), seed=0, protocol="official")
    assert len(s.train_images) == 42_000 and len(s.real_test_images) == 7_000
    assert len(s.real_heldout_images) == 21_000


def test_split_depends_only_on_seed_and_triple(fashion_mnist):
    a = make_split(fashion_mnist, (0, 6, 9), seed=3)
    b = make_split(fashion_mnist, (9, 6, 0), seed=3)
    c = make_split(fashion_mnist, (0, 6, 9), seed=4)
    np.testing.assert_array_equal(a.real_test_images, b.real_test_images)
    np.testing.assert_array_equal(a.train_images, b.train_images)
    assert not np.array_equal(a.real_test_images, c.real_test_images)
