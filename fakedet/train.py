"""Train one DCGAN by its recipe.

The loop is written for the accelerator: the training images live on the device as
uint8 and are scaled to [-1, 1] per batch; batch indices come from an on-device
permutation (or on-device random indices); losses and D outputs accumulate in device
tensors and are read back once per epoch, so the step loop never waits on the device.

All randomness (initial weights, batch order, noise, dropout masks) flows from explicit
generators seeded by the trial seed: the same seed on the same device gives the same run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fakedet.models import Arch, SeededDropout, build, get_arch
from fakedet.recipe import Recipe, total_steps


@dataclass
class TrainResult:
    """What training produced."""

    generator: nn.Module
    discriminator: nn.Module
    history: list[dict] = field(default_factory=list)
    """One row per epoch: epoch, steps, d_loss, g_loss, d_real, d_fake (means)."""
    steps: int = 0
    seconds: float = 0.0


def pick_device(requested: str | None = None) -> torch.device:
    """The requested device, else CUDA when a GPU is visible, else the CPU."""
    if requested:
        return torch.device(requested)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_unit_range(images_u8: torch.Tensor) -> torch.Tensor:
    """(N, 28, 28) uint8 -> (N, 1, 28, 28) float in [-1, 1]."""
    return images_u8.unsqueeze(1).float().div_(127.5).sub_(1.0)


def make_optimizer(params, recipe: Recipe, lr: float) -> torch.optim.Optimizer:
    if recipe.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=recipe.rho, eps=recipe.eps)
    return torch.optim.Adam(params, lr=lr, betas=(recipe.beta1, recipe.beta2), eps=recipe.eps)


class _CompiledOrEager(nn.Module):
    """`torch.compile(module, mode="reduce-overhead")` (CUDA graphs on a GPU), falling back
    to the eager module, with a warning, if compilation fails on this platform."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.eager = module
        self.compiled = torch.compile(module, mode="reduce-overhead")
        self.failed = False

    def forward(self, *args):
        if not self.failed:
            try:
                return self.compiled(*args)
            except Exception as e:  # no compiler, unsupported op: run eagerly
                import warnings

                warnings.warn(f"torch.compile failed, training eagerly: {e}", stacklevel=2)
                self.failed = True
        return self.eager(*args)


class _Batches:
    """Yields index tensors for one epoch, drawn on the device."""

    def __init__(self, n: int, recipe: Recipe, rng: torch.Generator, device: torch.device):
        self.n, self.recipe, self.rng, self.device = n, recipe, rng, device

    def epoch(self):
        r, n = self.recipe, self.n
        if r.sampling == "replacement":
            for _ in range(r.steps_per_epoch(n)):
                yield torch.randint(0, n, (r.batch_size,), generator=self.rng, device=self.device)
            return
        perm = torch.randperm(n, generator=self.rng, device=self.device)
        for start in range(0, r.steps_per_epoch(n) * r.batch_size, r.batch_size):
            yield perm[start : start + r.batch_size]


class GANStep:
    """One training step of a recipe: 'update D' then 'update G'.

    Returns device tensors (d_loss, g_loss, d_real, d_fake); nothing is read back.
    """

    def __init__(self, G: nn.Module, D: nn.Module, recipe: Recipe, rng: torch.Generator):
        self.G, self.D, self.recipe, self.rng = G, D, recipe, rng
        self.opt_d = make_optimizer(D.parameters(), recipe, recipe.lr_d)
        self.opt_g = make_optimizer(G.parameters(), recipe, recipe.lr_g)
        self.device = next(G.parameters()).device
        for m in D.modules():
            if isinstance(m, SeededDropout):
                m.rng = rng

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.recipe.latent_dim, generator=self.rng, device=self.device)

    def labels(self, n: int, value: float) -> torch.Tensor:
        return torch.full((n,), value, device=self.device)

    def fakes_for_d(self, n: int) -> torch.Tensor:
        z = self.noise(n)
        if self.recipe.g_eval_for_d:  # Keras `generator(noise)` / `predict`: inference mode
            self.G.eval()
        with torch.no_grad():
            fake = self.G(z)
        self.G.train()
        return fake

    def d_step(self, x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.D(x).squeeze(1)
        loss = F.binary_cross_entropy_with_logits(logits.float(), target)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        return loss.detach(), torch.sigmoid(logits.detach().float())

    def g_step(self, n: int) -> torch.Tensor:
        self.D.requires_grad_(False)  # Keras: discriminator.trainable = False
        logits = self.D(self.G(self.noise(n))).squeeze(1)
        loss = F.binary_cross_entropy_with_logits(logits.float(), torch.ones_like(logits).float())
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        return loss.detach()

    def __call__(self, real: torch.Tensor) -> tuple[torch.Tensor, ...]:
        r, b = self.recipe, real.shape[0]
        if r.d_update == "simultaneous":
            return self._simultaneous(real)
        if r.d_update == "joint":
            # update D: a batch of fakes (label 0) and the batch of reals (label 1), one step
            fake = self.fakes_for_d(b)
            target = torch.cat([self.labels(b, 0.0), self.labels(b, 1.0)])
            d_loss, p = self.d_step(torch.cat([fake, real]), target)
            d_fake, d_real = p[:b].mean(), p[b:].mean()
        else:
            # update D: a half batch of reals, then a half batch of fakes, two steps
            half = b // 2
            loss_r, p_r = self.d_step(real[:half], self.labels(half, 1.0))
            loss_f, p_f = self.d_step(self.fakes_for_d(half), self.labels(half, 0.0))
            d_loss, d_real, d_fake = (loss_r + loss_f) / 2, p_r.mean(), p_f.mean()
        # update G: a full batch of noise through a frozen D, with label 1
        g_loss = self.g_step(b)
        return d_loss, g_loss, d_real, d_fake

    def _simultaneous(self, real: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """TF tutorial: both losses from one forward pass, both optimizers step together."""
        fake = self.G(self.noise(self.recipe.batch_size))
        real_logits = self.D(real).squeeze(1).float()
        fake_logits = self.D(fake).squeeze(1).float()
        ones, zeros = torch.ones_like(real_logits), torch.zeros_like(fake_logits)
        d_loss = F.binary_cross_entropy_with_logits(
            real_logits, ones
        ) + F.binary_cross_entropy_with_logits(fake_logits, zeros)
        g_loss = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
        g_params, d_params = list(self.G.parameters()), list(self.D.parameters())
        g_grads = torch.autograd.grad(g_loss, g_params, retain_graph=True)
        d_grads = torch.autograd.grad(d_loss, d_params)
        for p, g in zip(g_params + d_params, g_grads + d_grads, strict=True):
            p.grad = g
        self.opt_g.step()
        self.opt_d.step()
        return (
            d_loss.detach(),
            g_loss.detach(),
            torch.sigmoid(real_logits.detach()).mean(),
            torch.sigmoid(fake_logits.detach()).mean(),
        )


def epoch_row(epoch: int, steps: int, means: list[float]) -> dict:
    """One epoch's row of a history: its steps and mean (d_loss, g_loss, d_real, d_fake)."""
    names = ("d_loss", "g_loss", "d_real", "d_fake")
    return dict(epoch=epoch, steps=steps, **dict(zip(names, means, strict=True)))


def train(
    arch: Arch | str,
    recipe: Recipe,
    images: np.ndarray,
    seed: int,
    device: torch.device | str = "cpu",
    max_steps: int | None = None,
    on_step: Callable[[int, int], None] | None = None,
    compile_step: bool = False,
    checkpoint_steps: Collection[int] = (),
    on_checkpoint: Callable[[int, nn.Module, nn.Module], None] | None = None,
) -> TrainResult:
    """Train a GAN of `arch` by `recipe` on `images`.

    Args:
        arch: the architecture (networks), or its name.
        recipe: the training recipe (possibly overridden).
        images: (N, 28, 28) uint8 training images.
        seed: the trial seed; every random draw comes from generators seeded by it.
        device: where to train.
        max_steps: stop after this many steps (for quick runs).
        on_step: called as on_step(steps_done, steps_total) every 25 steps and at the end.
        compile_step: run G and D through `torch.compile(mode="reduce-overhead")`; off by
            default (see BENCHMARKS.md for whether it pays on a GPU).
        checkpoint_steps: steps after which to call `on_checkpoint(steps, G, D)`, with
            both networks in eval mode; training resumes exactly as without the call (the
            callback must draw no randomness from training's generators).

    Returns:
        The trained networks (in eval mode) and the per-epoch history.
    """
    device = torch.device(device)
    arch = get_arch(arch) if isinstance(arch, str) else arch
    G, D = build(arch, recipe, torch.Generator().manual_seed(seed))
    G, D = G.to(device).train(), D.to(device).train()
    rng = torch.Generator(device=device).manual_seed(seed)
    data = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    if compile_step:
        step_fn = GANStep(_CompiledOrEager(G), _CompiledOrEager(D), recipe, rng)
    else:
        step_fn = GANStep(G, D, recipe, rng)
    batches = _Batches(len(data), recipe, rng, device)
    n_total = total_steps(recipe, len(data), max_steps)
    autocast = torch.autocast(device.type, torch.bfloat16, enabled=recipe.precision == "bf16")

    history, steps, t0 = [], 0, time.perf_counter()
    for epoch in range(recipe.epochs):
        sums = torch.zeros(4, device=device)
        epoch_steps = 0
        for idx in batches.epoch():
            if steps >= n_total:
                break
            with autocast:
                sums += torch.stack(step_fn(to_unit_range(data[idx])))
            steps += 1
            epoch_steps += 1
            if on_step and (steps % 25 == 0 or steps == n_total):
                on_step(steps, n_total)
            if on_checkpoint and steps in checkpoint_steps:
                on_checkpoint(steps, G.eval(), D.eval())
                G.train()
                D.train()
        if epoch_steps:
            history.append(epoch_row(epoch, epoch_steps, (sums / epoch_steps).tolist()))
        if steps >= n_total:
            break
    return TrainResult(G.eval(), D.eval(), history, steps, time.perf_counter() - t0)
