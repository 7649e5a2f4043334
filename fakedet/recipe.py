"""How each architecture is trained: its recipe, without the networks (no torch).

`Recipe` holds every training choice of one architecture's source; `RECIPES` the three of
the study; a trial may override any field (`--set FIELD=VALUE`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from fakedet.errors import UserError


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
        typed = kind(value)
        if kind is float and not math.isfinite(typed):
            raise ValueError(value)
        return typed
    except ValueError:
        raise UserError(f"recipe {name}={value!r} is not a valid {kind.__name__}") from None


RECIPES: dict[str, Recipe] = {
    "hands_on": Recipe(
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
    "brownlee": Recipe(
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
    "tf_dcgan": Recipe(
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
}
"""The recipe of each architecture (`fakedet.models.ARCHS` adds its networks)."""


def recipe_for(arch: str) -> Recipe:
    """The recipe of `arch`; an unknown name lists the valid ones."""
    if arch not in RECIPES:
        raise UserError(f"unknown arch {arch!r}; valid: {', '.join(RECIPES)}")
    return RECIPES[arch]


def total_steps(recipe: Recipe, n_images: int, max_steps: int | None = None) -> int:
    """Training steps of `recipe` on `n_images`, capped at `max_steps`."""
    steps = recipe.epochs * recipe.steps_per_epoch(n_images)
    return min(steps, max_steps) if max_steps is not None else steps
