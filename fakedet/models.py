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

import dataclasses
import math
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
class Recipe:
    """How an architecture is trained. Every field can be overridden per trial."""

    latent_dim: int = 100
    """Size of the generator's noise vector."""
    optimizer: str = "adam"
    """'adam' or 'rmsprop' (the same kind for D and G)."""
    lr_d: float = 2e-4
    """Discriminator learning rate."""
    lr_g: float = 2e-4
    """Generator learning rate."""
    beta1: float = 0.9
    """Adam beta1."""
    beta2: float = 0.999
    """Adam beta2."""
    rho: float = 0.9
    """RMSprop decay (Keras rho, PyTorch alpha)."""
    eps: float = 1e-7
    """Optimizer epsilon (the Keras default)."""
    batch_size: int = 128
    """Real images per step."""
    epochs: int = 50
    """Passes over the training images (steps per epoch: see `sampling`)."""
    d_update: str = "joint"
    """'joint': one D step on fakes+reals; 'split': a half batch of reals then of fakes,
    two D steps; 'simultaneous': D and G gradients from one forward pass (TF tutorial)."""
    sampling: str = "shuffle"
    """'shuffle': a permutation per epoch; 'replacement': random indices per step."""
    drop_last: bool = True
    """Drop the last partial batch of an epoch ('shuffle' only)."""
    g_eval_for_d: bool = False
    """Generate D's fakes with G in inference mode (Keras `generator(noise)`/`predict`)."""
    precision: str = "fp32"
    """'fp32', or 'bf16' autocast as an explicit opt-in."""

    def steps_per_epoch(self, n_images: int) -> int:
        if self.sampling == "shuffle" and not self.drop_last:
            return math.ceil(n_images / self.batch_size)
        return n_images // self.batch_size

    def override(self, **changes) -> Recipe:
        """A copy with some fields changed; values given as strings are converted."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        typed = {}
        for name, value in changes.items():
            if name not in fields:
                raise UserError(f"unknown recipe field {name!r}; valid: {', '.join(fields)}")
            typed[name] = _convert(name, value, type(getattr(self, name)))
        recipe = dataclasses.replace(self, **typed)
        recipe.validate()
        return recipe

    def validate(self) -> None:
        choices = {
            "optimizer": ("adam", "rmsprop"),
            "d_update": ("joint", "split", "simultaneous"),
            "sampling": ("shuffle", "replacement"),
            "precision": ("fp32", "bf16"),
        }
        for name, valid in choices.items():
            if getattr(self, name) not in valid:
                raise UserError(f"recipe {name}={getattr(self, name)!r}; valid: {valid}")
        if self.batch_size < 2 or self.epochs < 1 or self.latent_dim < 1:
            raise UserError("recipe batch_size must be >= 2, epochs and latent_dim >= 1")


def _convert(name: str, value, kind: type):
    if not isinstance(value, str) or kind is str:
        return value
    try:
        if kind is bool:
            if value.lower() not in ("true", "false", "1", "0"):
                raise ValueError(value)
            return value.lower() in ("true", "1")
        return kind(value)
    except ValueError:
        raise UserError(f"recipe {name}={value!r} is not a valid {kind.__name__}") from None


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
        recipe=Recipe(
            optimizer="rmsprop",
            lr_d=1e-3,
            lr_g=1e-3,
            rho=0.9,
            batch_size=32,
            epochs=50,
            d_update="joint",
            sampling="shuffle",
            drop_last=True,
            g_eval_for_d=True,
        ),
    ),
    "brownlee": Arch(
        name="brownlee",
        source="Brownlee, Keras Fashion-MNIST DCGAN (report's network 2)",
        make_generator=brownlee_generator,
        make_discriminator=brownlee_discriminator,
        recipe=Recipe(
            optimizer="adam",
            lr_d=2e-4,
            lr_g=2e-4,
            beta1=0.5,
            batch_size=128,
            epochs=100,
            d_update="split",
            sampling="replacement",
            g_eval_for_d=True,
        ),
    ),
    "tf_dcgan": Arch(
        name="tf_dcgan",
        source="TensorFlow DCGAN tutorial (cited by the report)",
        make_generator=tf_dcgan_generator,
        make_discriminator=tf_dcgan_discriminator,
        recipe=Recipe(
            optimizer="adam",
            lr_d=1e-4,
            lr_g=1e-4,
            beta1=0.9,
            batch_size=256,
            epochs=50,
            d_update="simultaneous",
            sampling="shuffle",
            drop_last=False,
            g_eval_for_d=False,
        ),
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
