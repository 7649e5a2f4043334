"""Train DCGANs by their recipe: one trainer for K >= 1 members (a solo trial is K = 1).

The loop is written for the accelerator: the training images live on the device as
uint8 and are scaled to [-1, 1] per batch; batch indices come from an on-device
permutation (or on-device random indices); losses and D outputs accumulate in device
tensors and are read back once per epoch, so the step loop never waits on the device.

A pack (K > 1) trains K trials of one architecture, recipe and budget at once
(`fakedet.members.Members`: stacked parameters, one batched pass). Each member keeps
everything a solo trial has of its own: its weights from `build` seeded by its seed, its
generator (`fakedet.streams.TRAIN`) and the draws from it in the same order, its
BatchNorm statistics and optimizer state. Each member's loss is its own batch mean; the
backward pass sums the members' losses, so each member's gradient is its own. A member
therefore equals the K = 1 run of the same trainer up to the floating-point summation
order of the batched kernels (tests/fakedet/test_pack.py).

Every draw of a step is made by `Step.draw`, per member, before the passes that use it
(noise, then the dropout masks of the D pass that follows): the order is written once.
The whole training state (networks, optimizers, generators, position in the epoch, the
epoch's running sums, the history) is `state()`; a run resumed from it continues
bit-identically on the same device (`fakedet.checkpoint`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import vmap

from fakedet import streams
from fakedet.data import IMAGE_SHAPE
from fakedet.errors import UserError
from fakedet.members import Members
from fakedet.models import Arch, build, get_arch
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
    """Wall time of this run's training (a resumed run: since it resumed)."""
    resumed_from: int | None = None
    """The step a checkpoint resumed training from (None: it started at step 0)."""


def pick_device(requested: str | None = None) -> torch.device:
    """The requested device, else CUDA when a GPU is visible, else the CPU."""
    if requested:
        return torch.device(requested)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_unit_range(images_u8: torch.Tensor) -> torch.Tensor:
    """(..., 28, 28) uint8 -> (..., 1, 28, 28) float in [-1, 1]."""
    return images_u8.unsqueeze(-3).float().div_(127.5).sub_(1.0)


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


# --- one step, for K members -------------------------------------------------------------
class Step:
    """One training step of a recipe for K members: 'update D' then 'update G'.

    Returns (K, 4) device tensors (d_loss, g_loss, d_real, d_fake); nothing is read back.
    """

    def __init__(self, G: Members, D: Members, recipe: Recipe, rngs: Sequence[torch.Generator]):
        self.G, self.D, self.recipe, self.rngs = G, D, recipe, list(rngs)
        self.opt_d = make_optimizer(D.parameters(), recipe, recipe.lr_d)
        self.opt_g = make_optimizer(G.parameters(), recipe, recipe.lr_g)
        self.device = D.parameters()[0].device
        self.mask_dtype = torch.bfloat16 if recipe.precision == "bf16" else torch.float32
        self._shapes: dict[int, list[tuple[int, ...]]] = {}

    # --- every draw of a step, per member, from the member's own generator ----------------
    def draw(self, plan: list[tuple[str, int]]) -> list[torch.Tensor]:
        """Per member, the draws of `plan` in order ('noise' n: (n, latent) normal noise;
        'dropout' n: one uniform draw per D dropout layer for a D pass of n images), each
        stacked over the members: (K, ...)."""
        per_member = []
        for rng in self.rngs:
            drawn = []
            for kind, n in plan:
                if kind == "noise":
                    shapes, dtype, draw = [(n, self.recipe.latent_dim)], None, torch.randn
                else:
                    shapes, dtype, draw = self._dropout_shapes(n), self.mask_dtype, torch.rand
                drawn += [draw(s, generator=rng, device=self.device, dtype=dtype) for s in shapes]
            per_member.append(drawn)
        return [torch.stack(ts) for ts in zip(*per_member, strict=True)]

    def _dropout_shapes(self, n: int) -> list[tuple[int, ...]]:
        if n not in self._shapes:
            self._shapes[n] = self.D.dropout_shapes(n, IMAGE_SHAPE, self.mask_dtype)
        return self._shapes[n]

    # --- the passes ------------------------------------------------------------------------
    def labels(self, n: int, value: float) -> torch.Tensor:
        return torch.full((len(self.rngs), n), value, device=self.device)

    def bce(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(K,) each member's mean binary cross-entropy of (K, N) logits."""
        if len(self.rngs) == 1:
            return F.binary_cross_entropy_with_logits(logits[0], target[0]).unsqueeze(0)
        return vmap(F.binary_cross_entropy_with_logits)(logits, target)

    def fakes_for_d(self, z: torch.Tensor) -> torch.Tensor:
        if self.recipe.g_eval_for_d:  # Keras `generator(noise)` / `predict`: inference mode
            self.G.train(False)
        with torch.no_grad():
            fake = self.G(z)
        self.G.train(True)
        return fake

    def d_step(self, x, keeps, target) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.D(x, tuple(keeps)).squeeze(-1).float()
        loss = self.bce(logits, target)
        self.opt_d.zero_grad(set_to_none=True)
        loss.sum().backward()  # each member's gradient is its own loss's
        self.opt_d.step()
        return loss.detach(), torch.sigmoid(logits.detach())

    def g_step(self, z, keeps) -> torch.Tensor:
        self.D.requires_grad_(False)  # Keras: discriminator.trainable = False
        logits = self.D(self.G(z), tuple(keeps)).squeeze(-1).float()
        loss = self.bce(logits, torch.ones_like(logits))
        self.opt_g.zero_grad(set_to_none=True)
        loss.sum().backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        return loss.detach()

    def __call__(self, real: torch.Tensor) -> torch.Tensor:
        """real: (K, b, 1, 28, 28) in [-1, 1]."""
        r, b, n_drop = self.recipe, real.shape[1], len(self.D.dropouts)
        if r.d_update == "simultaneous":
            return self._simultaneous(real)
        if r.d_update == "joint":
            # update D: a batch of fakes (label 0) and the batch of reals (label 1), one step
            z, *d_keeps = self.draw([("noise", b), ("dropout", 2 * b)])
            zg, *g_keeps = self.draw([("noise", b), ("dropout", b)])
            target = torch.cat([self.labels(b, 0.0), self.labels(b, 1.0)], dim=1)
            fake = self.fakes_for_d(z)
            d_loss, p = self.d_step(torch.cat([fake, real], dim=1), d_keeps, target)
            d_fake, d_real = p[:, :b].mean(1), p[:, b:].mean(1)
        else:
            # update D: a half batch of reals, then a half batch of fakes, two steps
            half = b // 2
            drawn = self.draw([("dropout", half), ("noise", half), ("dropout", half)])
            keeps_r, z, keeps_f = drawn[:n_drop], drawn[n_drop], drawn[n_drop + 1 :]
            zg, *g_keeps = self.draw([("noise", b), ("dropout", b)])
            loss_r, p_r = self.d_step(real[:, :half], keeps_r, self.labels(half, 1.0))
            loss_f, p_f = self.d_step(self.fakes_for_d(z), keeps_f, self.labels(half, 0.0))
            d_loss, d_real, d_fake = (loss_r + loss_f) / 2, p_r.mean(1), p_f.mean(1)
        # update G: a full batch of noise through a frozen D, with label 1
        g_loss = self.g_step(zg, g_keeps)
        return torch.stack([d_loss, g_loss, d_real, d_fake], dim=1)

    def _simultaneous(self, real: torch.Tensor) -> torch.Tensor:
        """TF tutorial: both losses from one forward pass, both optimizers step together."""
        b, n, n_drop = real.shape[1], self.recipe.batch_size, len(self.D.dropouts)
        drawn = self.draw([("noise", n), ("dropout", b), ("dropout", n)])
        z, keeps_r, keeps_f = drawn[0], drawn[1 : 1 + n_drop], drawn[1 + n_drop :]
        fake = self.G(z)
        real_logits = self.D(real, tuple(keeps_r)).squeeze(-1).float()
        fake_logits = self.D(fake, tuple(keeps_f)).squeeze(-1).float()
        d_loss = self.bce(real_logits, torch.ones_like(real_logits)) + self.bce(
            fake_logits, torch.zeros_like(fake_logits)
        )
        g_loss = self.bce(fake_logits, torch.ones_like(fake_logits))
        g_params, d_params = self.G.parameters(), self.D.parameters()
        g_grads = torch.autograd.grad(g_loss.sum(), g_params, retain_graph=True)
        d_grads = torch.autograd.grad(d_loss.sum(), d_params)
        for p, g in zip(g_params + d_params, g_grads + d_grads, strict=True):
            p.grad = g
        self.opt_g.step()
        self.opt_d.step()
        return torch.stack(
            [
                d_loss.detach(),
                g_loss.detach(),
                torch.sigmoid(real_logits.detach()).mean(1),
                torch.sigmoid(fake_logits.detach()).mean(1),
            ],
            dim=1,
        )


def epoch_row(epoch: int, steps: int, means: list[float]) -> dict:
    """One epoch's row of a history: its steps and mean (d_loss, g_loss, d_real, d_fake)."""
    names = ("d_loss", "g_loss", "d_real", "d_fake")
    return dict(epoch=epoch, steps=steps, **dict(zip(names, means, strict=True)))


# --- the loop ----------------------------------------------------------------------------
class Saver(Protocol):
    """Where a run's training state goes (`fakedet.checkpoint.Checkpoint`)."""

    resume_state: dict | None
    """A saved training state to continue from, or None."""

    def due(self, step: int, evaluated: bool) -> bool:
        """Whether to save after `step` (`evaluated`: an evaluation was made at it)."""

    def save(self, state: dict) -> None: ...


@dataclass
class _Position:
    """Where the loop is: all it holds besides networks, optimizers and generators."""

    steps: int = 0
    epoch: int = 0
    in_epoch: int = 0
    """Steps done of the current epoch."""
    perms: torch.Tensor | None = None
    """(K, n) the current epoch's permutations (shuffle sampling)."""
    sums: torch.Tensor | None = None
    """(K, 4) the current epoch's running sums of (d_loss, g_loss, d_real, d_fake)."""
    histories: list[list[dict]] = field(default_factory=list)


class Trainer:
    """K members of one architecture and recipe, their generators and the loop's position."""

    def __init__(self, arch: Arch, recipe: Recipe, seeds: Sequence[int], device, compile_step):
        self.recipe, self.device, self.k = recipe, device, len(seeds)
        inits = [torch.Generator().manual_seed(streams.INIT.seed(s)) for s in seeds]
        nets = [build(arch, recipe, g) for g in inits]
        g_modules = [g.to(device).train() for g, _ in nets]
        d_modules = [d.to(device).train() for _, d in nets]
        runners = {}
        if compile_step and self.k == 1:
            runners = dict(g=_CompiledOrEager(g_modules[0]), d=_CompiledOrEager(d_modules[0]))
        self.G = Members(g_modules, runners.get("g"))
        self.D = Members(d_modules, runners.get("d"))
        self.rngs = [
            torch.Generator(device=device).manual_seed(streams.TRAIN.seed(s)) for s in seeds
        ]
        self.step = Step(self.G, self.D, recipe, self.rngs)
        self.at = _Position(histories=[[] for _ in seeds])

    def indices(self, n: int) -> torch.Tensor:
        """(K, b) this step's batch indices, each member's from its own generator."""
        r, at = self.recipe, self.at
        if r.sampling == "replacement":
            return torch.stack(
                [
                    torch.randint(0, n, (r.batch_size,), generator=g, device=self.device)
                    for g in self.rngs
                ]
            )
        if at.in_epoch == 0:
            at.perms = torch.stack(
                [torch.randperm(n, generator=g, device=self.device) for g in self.rngs]
            )
        start = at.in_epoch * r.batch_size
        return at.perms[:, start : start + r.batch_size]

    def state(self) -> dict:
        """The whole training state, on the CPU."""
        at = self.at
        cpu = lambda t: None if t is None else t.detach().cpu().clone()  # noqa: E731
        return dict(
            k=self.k, steps=at.steps, epoch=at.epoch, in_epoch=at.in_epoch,
            perms=cpu(at.perms), sums=cpu(at.sums), histories=[list(h) for h in at.histories],
            rngs=[g.get_state().clone() for g in self.rngs],
            G=self.G.state_dict(), D=self.D.state_dict(),
            opt_g=self.step.opt_g.state_dict(), opt_d=self.step.opt_d.state_dict(),
        )  # fmt: skip

    def load(self, state: dict) -> None:
        """Continue from `state()` of a run of the same members."""
        if state["k"] != self.k:
            raise ValueError(f"a checkpoint of {state['k']} members for {self.k}")
        dev = lambda t: None if t is None else t.to(self.device)  # noqa: E731
        self.at = _Position(
            state["steps"], state["epoch"], state["in_epoch"], dev(state["perms"]),
            dev(state["sums"]), [list(h) for h in state["histories"]],
        )  # fmt: skip
        for g, s in zip(self.rngs, state["rngs"], strict=True):
            g.set_state(s)
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.step.opt_g.load_state_dict(state["opt_g"])
        self.step.opt_d.load_state_dict(state["opt_d"])


def train_members(
    arch: Arch | str,
    recipe: Recipe,
    images: Sequence[np.ndarray],
    seeds: Sequence[int],
    device: torch.device | str = "cpu",
    max_steps: int | None = None,
    on_step: Callable[[int, int], None] | None = None,
    compile_step: bool = False,
    checkpoint_steps: Collection[int] = (),
    on_checkpoint: Callable[[int, int, nn.Module, nn.Module], None] | None = None,
    saver: Saver | None = None,
) -> list[TrainResult]:
    """Train K GANs of `arch` by `recipe`, one per seed, as one (K = 1: a solo trial).

    Args:
        arch: the architecture (networks), or its name.
        recipe: the training recipe (possibly overridden), shared by all members.
        images: K arrays of (N, 28, 28) uint8 training images, one N for all.
        seeds: K trial seeds; every random draw of member k comes from generators
            seeded by seeds[k] (`fakedet.streams`).
        device: where to train.
        max_steps: stop after this many steps (for quick runs).
        on_step: called as on_step(steps_done, steps_total) every 25 steps and at the end.
        compile_step: run G and D through `torch.compile(mode="reduce-overhead")` (K = 1);
            off by default (see BENCHMARKS.md for whether it pays on a GPU).
        checkpoint_steps: steps after which to call `on_checkpoint(k, steps, G, D)` for
            each member k, with its networks in eval mode; training resumes exactly as
            without the call (the callback must draw nothing from training's generators).
        saver: where to save the training state (when `saver.due`), and the state to
            resume from (`saver.resume_state`).

    Returns:
        One TrainResult per member (networks in eval mode, per-epoch history).
    """
    if len(images) != len(seeds) or not seeds:
        raise ValueError("a pack needs one image array per seed, and at least one member")
    if len({len(x) for x in images}) != 1:
        raise ValueError("a pack's members must have the same number of training images")
    if len(seeds) > 1 and recipe.precision != "fp32":
        raise UserError(f"packs train in fp32 only (recipe precision={recipe.precision!r})")
    device = torch.device(device)
    arch = get_arch(arch) if isinstance(arch, str) else arch
    trainer = Trainer(arch, recipe, seeds, device, compile_step)
    resumed = None
    if saver is not None and saver.resume_state is not None:
        trainer.load(saver.resume_state)
        resumed = trainer.at.steps
    data = torch.stack([torch.from_numpy(np.ascontiguousarray(x)) for x in images]).to(device)
    k, n = data.shape[:2]
    rows = torch.arange(k, device=device).unsqueeze(1)
    n_total, per_epoch = total_steps(recipe, n, max_steps), recipe.steps_per_epoch(n)
    autocast = torch.autocast(device.type, torch.bfloat16, enabled=recipe.precision == "bf16")
    at, t0 = trainer.at, time.perf_counter()
    while at.steps < n_total:
        if at.in_epoch == 0:
            at.sums = torch.zeros(k, 4, device=device)
        real = to_unit_range(data[rows, trainer.indices(n)])
        with autocast:
            at.sums += trainer.step(real)
        at.steps += 1
        at.in_epoch += 1
        if at.in_epoch == per_epoch or at.steps == n_total:
            means = (at.sums / at.in_epoch).tolist()  # one sync per epoch
            for m in range(k):
                at.histories[m].append(epoch_row(at.epoch, at.in_epoch, means[m]))
            at.epoch, at.in_epoch, at.perms, at.sums = at.epoch + 1, 0, None, None
        if on_step and (at.steps % 25 == 0 or at.steps == n_total):
            on_step(at.steps, n_total)
        evaluated = bool(on_checkpoint) and at.steps in checkpoint_steps
        if evaluated:
            for m in range(k):
                on_checkpoint(m, at.steps, trainer.G.member(m).eval(), trainer.D.member(m).eval())
            trainer.G.train(True)
            trainer.D.train(True)
        if saver is not None and at.steps < n_total and saver.due(at.steps, evaluated):
            saver.save(trainer.state())
    seconds = time.perf_counter() - t0
    return [
        TrainResult(
            trainer.G.member(m).eval(),
            trainer.D.member(m).eval(),
            at.histories[m],
            at.steps,
            seconds,
            resumed,
        )  # fmt: skip
        for m in range(k)
    ]


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
    saver: Saver | None = None,
) -> TrainResult:
    """Train one GAN of `arch` by `recipe` on (N, 28, 28) uint8 `images`: `train_members`
    with K = 1 (`on_checkpoint(steps, G, D)` without the member index)."""
    member_callback = None
    if on_checkpoint is not None:
        member_callback = lambda _, step, G, D: on_checkpoint(step, G, D)  # noqa: E731
    (result,) = train_members(
        arch, recipe, [images], [seed], device, max_steps, on_step, compile_step,
        checkpoint_steps, member_callback, saver,
    )  # fmt: skip
    return result
