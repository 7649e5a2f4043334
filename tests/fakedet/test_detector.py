import dataclasses

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from fakedet import evaluate
from fakedet.detector import (
    DetectorRecipe,
    fakes_from,
    make_detector,
    train_detector,
)
from fakedet.errors import UserError
from fakedet.layers import Reshape
from fakedet.streams import FAKES_STRIDE

TINY = DetectorRecipe(batch_size=32, epochs=2, max_steps=6)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny convolutions gain nothing from threads, and on a busy machine two threads'
    spin-waits make these tests several times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def blobs(n: int, seed: int) -> np.ndarray:
    """(n, 28, 28) uint8 'real' images: one smooth Gaussian blob each."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    cy, cx = rng.uniform(8, 20, (2, n, 1, 1))
    width = rng.uniform(3, 6, (n, 1, 1))
    img = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * width**2))
    return (255 * img).astype(np.uint8)


def noise(n: int, seed: int) -> torch.Tensor:
    """(n, 1, 28, 28) 'fakes': uniform noise in [-1, 1]."""
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_output_shape_and_parameter_count():
    D = make_detector(torch.Generator().manual_seed(0))
    assert D.eval()(noise(5, 0)).squeeze(1).shape == (5,)
    conv1 = 1 * 32 * 3 * 3 + 32
    conv2 = 32 * 64 * 3 * 3 + 64
    conv3 = 64 * 64 * 3 * 3 + 64
    linear = 64 * 4 * 4 * 1 + 1
    assert sum(p.numel() for p in D.parameters()) == conv1 + conv2 + conv3 + linear == 56_769


def test_initialisation_is_seeded_by_the_generator():
    a, b, c = (make_detector(torch.Generator().manual_seed(s)) for s in (0, 0, 1))
    assert torch.equal(a[0].weight, b[0].weight) and not torch.equal(a[0].weight, c[0].weight)
    assert a[-1].bias.abs().sum() == 0


def test_same_seed_same_detector_different_seed_different():
    real, fake = blobs(100, 0), noise(100, 1)
    runs = [train_detector(real, fake, seed=s, device="cpu", recipe=TINY) for s in (3, 3, 4)]
    weights = [torch.cat([p.flatten() for p in r.detector.parameters()]) for r in runs]
    assert torch.equal(weights[0], weights[1])
    assert not torch.equal(weights[0], weights[2])
    assert runs[0].history == runs[1].history


def test_it_learns_to_separate_unseen_reals_from_fakes():
    recipe = DetectorRecipe(batch_size=64, epochs=3)
    result = train_detector(torch.from_numpy(blobs(300, 0)), noise(300, 1), seed=0, recipe=recipe)
    real_logits = evaluate.logits(result.detector, blobs(200, 10))  # fresh, not trained on
    fake_logits = evaluate.logits(result.detector, noise(200, 11))
    y = np.r_[np.ones(200), np.zeros(200)]  # 1 = real, the positive logit
    assert roc_auc_score(y, np.r_[real_logits, fake_logits]) > 0.99
    assert (evaluate.probability(real_logits) >= 0.5).mean() > 0.95
    assert not result.detector.training


def test_steps_history_and_progress_follow_the_recipe():
    calls = []
    recipe = DetectorRecipe(batch_size=16, epochs=3)  # 8 per half: 60 fakes -> 7 steps/epoch
    result = train_detector(
        blobs(20, 0), noise(60, 1), 0, "cpu", recipe, on_step=lambda s, n: calls.append((s, n))
    )
    assert recipe.steps_per_epoch(20, 60) == 7 and result.steps == 21
    assert [h["steps"] for h in result.history] == [7, 7, 7]
    assert calls == [(21, 21)]
    capped = train_detector(
        blobs(20, 0), noise(60, 1), 0, "cpu", dataclasses.replace(recipe, max_steps=9)
    )
    assert capped.steps == 9 and [h["steps"] for h in capped.history] == [7, 2]


def test_default_recipe_steps_and_serialisation():
    recipe = DetectorRecipe()
    assert recipe.steps_per_epoch(4200, 4200) == 4200 // 64 == 65
    assert recipe.total_steps(4200, 4200) == 5 * 65
    assert dataclasses.asdict(recipe)["max_steps"] is None
    assert DetectorRecipe(**dataclasses.asdict(recipe)) == recipe


@pytest.mark.parametrize("n_real,n_fake", [(0, 10), (10, 0)])
def test_empty_input_is_a_user_error(n_real, n_fake):
    with pytest.raises(UserError, match="needs real and fake images"):
        train_detector(blobs(n_real, 0), noise(n_fake, 1), seed=0, recipe=TINY)


def test_odd_batch_is_a_user_error():
    with pytest.raises(UserError, match="even"):
        train_detector(blobs(10, 0), noise(10, 1), seed=0, recipe=DetectorRecipe(batch_size=33))


def _toy_generator(latent_dim: int, seed: int) -> nn.Module:
    G = nn.Sequential(nn.Linear(latent_dim, 28 * 28), nn.Tanh(), Reshape(1, 28, 28))
    for p in G.parameters():
        nn.init.uniform_(p, -0.1, 0.1, generator=torch.Generator().manual_seed(seed))
    return G


def test_fakes_from_splits_evenly_with_distinct_seeds():
    G1, G2 = _toy_generator(4, 0), _toy_generator(6, 1)
    cpu = torch.device("cpu")
    fakes = fakes_from([(G1, 4), (G2, 6)], n_total=7, seed=5, device=cpu)
    assert fakes.shape == (7, 1, 28, 28)
    torch.testing.assert_close(fakes[:4], evaluate.generate(G1, 4, 5, 4, cpu))
    torch.testing.assert_close(fakes[4:], evaluate.generate(G2, 3, 5 + FAKES_STRIDE, 6, cpu))
    with pytest.raises(UserError):
        fakes_from([], 7, 5, cpu)


def test_trains_on_fakes_made_under_inference_mode():
    fakes = evaluate.generate(_toy_generator(4, 0), 40, 0, 4, torch.device("cpu"))
    assert fakes.is_inference()
    assert train_detector(blobs(40, 0), fakes, seed=0, recipe=TINY).steps == 2 * (40 // 16)
