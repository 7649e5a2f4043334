"""The straightforward training loop: the baseline of the throughput benchmark and the
reference that the fast path (`fakedet.train`) is checked against.

Written in the style of the PyTorch DCGAN example: a DataLoader over a TensorDataset of
pre-scaled float images on the host, a copy of every batch to the device, eager fp32, and
losses read back with `.item()` every step. It draws its randomness in the same order as
the fast path (batch order, noise, dropout masks), so from the same seed on the CPU both
must produce the same losses and weights.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Sampler, TensorDataset

from fakedet.models import Arch, Recipe, SeededDropout, build
from fakedet.train import make_optimizer


class RecipeBatches(Sampler):
    """Batches of indices as the recipe draws them, from `rng`, lazily (one per step)."""

    def __init__(self, n: int, recipe: Recipe, rng: torch.Generator):
        self.n, self.recipe, self.rng = n, recipe, rng

    def __len__(self):
        return self.recipe.steps_per_epoch(self.n)

    def __iter__(self):
        r, n = self.recipe, self.n
        if r.sampling == "replacement":
            for _ in range(len(self)):
                yield torch.randint(0, n, (r.batch_size,), generator=self.rng).tolist()
            return
        perm = torch.randperm(n, generator=self.rng)
        for start in range(0, len(self) * r.batch_size, r.batch_size):
            yield perm[start : start + r.batch_size].tolist()


def naive_train(
    arch: Arch,
    recipe: Recipe,
    images: np.ndarray,
    seed: int,
    device: str = "cpu",
    max_steps: int | None = None,
):
    """Train like the DCGAN example.

    Returns:
        (G, D, losses, seconds): per-step [d_loss, g_loss] and the loop's wall time.
    """
    device = torch.device(device)
    G, D = build(arch, recipe, torch.Generator().manual_seed(seed))
    G, D = G.to(device).train(), D.to(device).train()
    rng = torch.Generator(device=device).manual_seed(seed)
    for m in D.modules():
        if isinstance(m, SeededDropout):
            m.rng = rng
    real_all = torch.from_numpy(images).float().div(127.5).sub(1.0).unsqueeze(1)
    loader = DataLoader(
        TensorDataset(real_all), batch_sampler=RecipeBatches(len(real_all), recipe, rng)
    )
    opt_d = make_optimizer(D.parameters(), recipe, recipe.lr_d)
    opt_g = make_optimizer(G.parameters(), recipe, recipe.lr_g)
    bce = F.binary_cross_entropy_with_logits
    nz = recipe.latent_dim
    losses, steps = [], 0
    t0 = time.perf_counter()

    def noise(n):
        return torch.randn(n, nz, generator=rng, device=device)

    def fakes(n):
        G.eval() if recipe.g_eval_for_d else G.train()
        with torch.no_grad():
            out = G(noise(n))
        G.train()
        return out

    for _epoch in range(recipe.epochs):
        for (real,) in loader:
            if max_steps is not None and steps >= max_steps:
                return G.eval(), D.eval(), losses, time.perf_counter() - t0
            real = real.to(device)
            b = real.shape[0]
            if recipe.d_update == "simultaneous":
                fake = G(noise(recipe.batch_size))
                out_real, out_fake = D(real).view(-1), D(fake).view(-1)
                err_d = bce(out_real, torch.ones_like(out_real)) + bce(
                    out_fake, torch.zeros_like(out_fake)
                )
                err_g = bce(out_fake, torch.ones_like(out_fake))
                g_grads = torch.autograd.grad(err_g, list(G.parameters()), retain_graph=True)
                d_grads = torch.autograd.grad(err_d, list(D.parameters()))
                for p, g in zip(
                    list(G.parameters()) + list(D.parameters()), g_grads + d_grads, strict=True
                ):
                    p.grad = g
                opt_g.step()
                opt_d.step()
            else:
                # (1) update D
                if recipe.d_update == "joint":
                    fake = fakes(b)
                    out = D(torch.cat([fake, real])).view(-1)
                    target = torch.cat([torch.zeros(b), torch.ones(b)]).to(device)
                    D.zero_grad()
                    err_d = bce(out, target)
                    err_d.backward()
                    opt_d.step()
                else:  # split: half a batch of reals, then half a batch of fakes
                    half = b // 2
                    D.zero_grad()
                    out = D(real[:half]).view(-1)
                    err_real = bce(out, torch.ones(half, device=device))
                    err_real.backward()
                    opt_d.step()
                    D.zero_grad()
                    out = D(fakes(half)).view(-1)
                    err_fake = bce(out, torch.zeros(half, device=device))
                    err_fake.backward()
                    opt_d.step()
                    err_d = (err_real + err_fake) / 2
                # (2) update G
                for p in D.parameters():
                    p.requires_grad_(False)
                G.zero_grad()
                out = D(G(noise(b))).view(-1)
                err_g = bce(out, torch.ones(b, device=device))
                err_g.backward()
                opt_g.step()
                for p in D.parameters():
                    p.requires_grad_(True)
            losses.append([err_d.item(), err_g.item()])
            steps += 1
    return G.eval(), D.eval(), losses, time.perf_counter() - t0
