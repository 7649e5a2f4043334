"""The DCGANs of the study, ported from Keras to PyTorch, in one registry keyed by name.

- `hands_on`: the report's network 1; the DCGAN of Géron, Hands-On Machine Learning
  (2nd ed., ch. 17), trained on Fashion-MNIST with RMSprop.
- `brownlee`: the report's network 2; Brownlee's Keras Fashion-MNIST DCGAN.
- `tf_dcgan`: the TensorFlow DCGAN tutorial, which the report cites.

The port keeps what changes results: TensorFlow's 'same' padding (asymmetric for
stride-2, so the same pixels line up), Keras BatchNorm (momentum 0.99, eps 1e-3), Glorot
uniform kernels with zero biases, and the LeakyReLU slopes. Discriminators output logits;
the probability of "real" is their sigmoid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from fakedet.errors import UserError
from fakedet.layers import (
    KerasBatchNorm,
    Reshape,
    SameConv2d,
    SameConvTranspose2d,
    SeededDropout,
    keras_init_,
)
from fakedet.recipe import RECIPES, Recipe


# --- hands_on: Géron, Hands-On ML 2nd ed., ch. 17 -------------------------------------
def hands_on_generator(latent_dim: int = 100) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(latent_dim, 7 * 7 * 128),  # (N, 6272)
        Reshape(128, 7, 7),  # (N, 128, 7, 7)
        KerasBatchNorm(128),
        SameConvTranspose2d(128, 64, 5, stride=2),  # (N, 64, 14, 14)
        nn.SELU(),
        KerasBatchNorm(64),
        SameConvTranspose2d(64, 1, 5, stride=2),  # (N, 1, 28, 28)
        nn.Tanh(),
    )


def hands_on_discriminator() -> nn.Sequential:
    return nn.Sequential(
        SameConv2d(1, 64, 5, stride=2),  # (N, 64, 14, 14)
        nn.LeakyReLU(0.2),
        SeededDropout(0.4),
        SameConv2d(64, 128, 5, stride=2),  # (N, 128, 7, 7)
        nn.LeakyReLU(0.2),
        SeededDropout(0.4),
        nn.Flatten(),  # (N, 6272); Keras flattens NHWC, a fixed permutation of NCHW
        nn.Linear(7 * 7 * 128, 1),  # (N, 1) logit
    )


# --- brownlee: Keras Fashion-MNIST DCGAN ------------------------------------------------
def brownlee_generator(latent_dim: int = 100) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(latent_dim, 128 * 7 * 7),  # (N, 6272)
        nn.LeakyReLU(0.2),
        Reshape(128, 7, 7),  # (N, 128, 7, 7)
        SameConvTranspose2d(128, 128, 4, stride=2),  # (N, 128, 14, 14)
        nn.LeakyReLU(0.2),
        SameConvTranspose2d(128, 128, 4, stride=2),  # (N, 128, 28, 28)
        nn.LeakyReLU(0.2),
        SameConv2d(128, 1, 7),  # (N, 1, 28, 28)
        nn.Tanh(),
    )


def brownlee_discriminator() -> nn.Sequential:
    return nn.Sequential(
        SameConv2d(1, 128, 3, stride=2),  # (N, 128, 14, 14)
        nn.LeakyReLU(0.2),
        SameConv2d(128, 128, 3, stride=2),  # (N, 128, 7, 7)
        nn.LeakyReLU(0.2),
        nn.Flatten(),  # (N, 6272)
        SeededDropout(0.4),
        nn.Linear(128 * 7 * 7, 1),  # (N, 1) logit
    )


# --- tf_dcgan: TensorFlow DCGAN tutorial -------------------------------------------------
def tf_dcgan_generator(latent_dim: int = 100) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(latent_dim, 7 * 7 * 256, bias=False),  # (N, 12544)
        KerasBatchNorm(7 * 7 * 256),
        nn.LeakyReLU(0.3),
        Reshape(256, 7, 7),  # (N, 256, 7, 7)
        SameConvTranspose2d(256, 128, 5, stride=1, bias=False),  # (N, 128, 7, 7)
        KerasBatchNorm(128),
        nn.LeakyReLU(0.3),
        SameConvTranspose2d(128, 64, 5, stride=2, bias=False),  # (N, 64, 14, 14)
        KerasBatchNorm(64),
        nn.LeakyReLU(0.3),
        SameConvTranspose2d(64, 1, 5, stride=2, bias=False),  # (N, 1, 28, 28)
        nn.Tanh(),
    )


def tf_dcgan_discriminator() -> nn.Sequential:
    return nn.Sequential(
        SameConv2d(1, 64, 5, stride=2),  # (N, 64, 14, 14)
        nn.LeakyReLU(0.3),
        SeededDropout(0.3),
        SameConv2d(64, 128, 5, stride=2),  # (N, 128, 7, 7)
        nn.LeakyReLU(0.3),
        SeededDropout(0.3),
        nn.Flatten(),  # (N, 6272)
        nn.Linear(7 * 7 * 128, 1),  # (N, 1) logit
    )


@dataclass(frozen=True)
class Arch:
    """An architecture: its two networks and its training recipe."""

    name: str
    source: str
    make_generator: Callable[[int], nn.Module]
    """latent_dim -> a fresh generator."""
    make_discriminator: Callable[[], nn.Module]
    """A fresh discriminator (outputs logits)."""
    recipe: Recipe


ARCHS: dict[str, Arch] = {
    "hands_on": Arch(
        name="hands_on",
        source="Géron, Hands-On Machine Learning 2nd ed., ch. 17 (report's network 1)",
        make_generator=hands_on_generator,
        make_discriminator=hands_on_discriminator,
        recipe=RECIPES["hands_on"],
    ),
    "brownlee": Arch(
        name="brownlee",
        source="Brownlee, Keras Fashion-MNIST DCGAN (report's network 2)",
        make_generator=brownlee_generator,
        make_discriminator=brownlee_discriminator,
        recipe=RECIPES["brownlee"],
    ),
    "tf_dcgan": Arch(
        name="tf_dcgan",
        source="TensorFlow DCGAN tutorial (cited by the report)",
        make_generator=tf_dcgan_generator,
        make_discriminator=tf_dcgan_discriminator,
        recipe=RECIPES["tf_dcgan"],
    ),
}


def get_arch(name: str) -> Arch:
    """Look an architecture up by name; an unknown name lists the valid ones."""
    if name not in ARCHS:
        raise UserError(f"unknown arch {name!r}; valid: {', '.join(ARCHS)}")
    return ARCHS[name]


def build(
    arch: Arch, recipe: Recipe, rng: torch.Generator | None = None
) -> tuple[nn.Module, nn.Module]:
    """Fresh (G, D) with Keras initialisation drawn from `rng` (on the CPU)."""
    G = keras_init_(arch.make_generator(recipe.latent_dim), rng)
    D = keras_init_(arch.make_discriminator(), rng)
    return G, D
