"""A pack: K trials of one architecture, recipe and budget trained as one batched model.

The networks are tiny, so on a GPU one trial is bound by kernel launches, not arithmetic.
A pack stacks the K members' parameters (`torch.func.stack_module_state`) and runs every
forward and backward pass once for all of them (`torch.func.vmap` over `functional_call`:
convolutions become grouped convolutions, linear layers batched matrix products).

Each member keeps everything a solo trial (`fakedet.train.train`) has of its own, drawn
as the solo trial draws it: its weights from `build` seeded by its seed, its batch order,
noise and dropout masks from its own generator in the same order (the masks are drawn
before the batched pass and applied inside it), its BatchNorm statistics (stacked
buffers) and its optimizer state. Adam and RMSprop are elementwise, so one optimizer over
the stacked parameters is K independent optimizers. Each member's loss is its own batch
mean; the pack's backward pass sums the members' losses, so each member's gradient is
its own, not scaled by K. A member therefore matches its solo trial up to the
floating-point summation order of the batched kernels (tests/test_pack.py).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Collection, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from fakedet.config import TrialConfig
from fakedet.data import FashionMNIST
from fakedet.errors import UserError
from fakedet.evaluate import Evaluator
from fakedet.models import Arch, SeededDropout, build, get_arch
from fakedet.protocol import make_split
from fakedet.recipe import Recipe, total_steps
from fakedet.record import TRIAL_FILES, Run, trial_record
from fakedet.store import ResultsStore
from fakedet.train import (
    TrainResult,
    _Batches,
    epoch_row,
    make_optimizer,
    pick_device,
    to_unit_range,
)


class _MaskDropout(nn.Module):
    """SeededDropout's arithmetic with a mask drawn beforehand (set as `keep`)."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p
        self.keep: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        return x * (self.keep >= self.p).to(x.dtype) / (1 - self.p)


class Stacked:
    """K networks of one architecture as stacked parameters and buffers.

    `self(x, keeps)` runs all K at once: x is (K, N, ...), keeps a tuple with one
    (K, N, ...) uniform draw per dropout layer (in layer order); the output is (K, N, ...).
    """

    def __init__(self, members: Sequence[nn.Module]):
        self.members = list(members)  # the solo modules, refreshed by `member()`
        self.params, self.buffers = stack_module_state(self.members)
        self.template = copy.deepcopy(self.members[0]).to("meta")
        self.dropouts = []
        for name, m in list(self.template.named_modules()):
            if isinstance(m, SeededDropout):
                parent_name, _, child = name.rpartition(".")
                parent = self.template.get_submodule(parent_name)
                setattr(parent, child, _MaskDropout(m.p))
                self.dropouts.append(getattr(parent, child))
        self.template.train()
        self._batched = vmap(self._one, in_dims=(0, 0, 0, 0), randomness="error")

    def _one(self, params, buffers, x, keeps):
        for layer, keep in zip(self.dropouts, keeps, strict=True):
            layer.keep = keep
        try:
            return functional_call(self.template, (params, buffers), (x,))
        finally:
            for layer in self.dropouts:
                layer.keep = None

    def __call__(self, x: torch.Tensor, keeps: tuple[torch.Tensor, ...] = ()) -> torch.Tensor:
        return self._batched(self.params, self.buffers, x, keeps)

    def dropout_shapes(self, n: int, sample: tuple[int, ...]) -> list[tuple[int, ...]]:
        """The input shape of each dropout layer for a batch of n inputs of shape `sample`."""
        shapes = []
        hooks = [
            layer.register_forward_pre_hook(lambda _, args: shapes.append(tuple(args[0].shape)))
            for layer in self.dropouts
        ]
        try:
            training = self.template.training
            self.template.eval()  # no masks needed on the meta device
            with torch.no_grad():
                self.template(torch.empty(n, *sample, device="meta"))
            self.template.train(training)
        finally:
            for h in hooks:
                h.remove()
        return shapes

    def train(self, mode: bool = True) -> None:
        self.template.train(mode)

    def requires_grad_(self, flag: bool) -> None:
        for p in self.params.values():
            p.requires_grad_(flag)

    def parameters(self) -> list[torch.Tensor]:
        return list(self.params.values())

    @torch.no_grad()
    def member(self, k: int) -> nn.Module:
        """Member k as its own module (the solo module it started from, updated)."""
        module = self.members[k]
        for name, t in module.named_parameters():
            t.copy_(self.params[name][k])
        for name, t in module.named_buffers():
            t.copy_(self.buffers[name][k])
        return module


class PackStep:
    """One training step of a recipe for K members: GANStep's draws and updates, batched.

    Returns (K, 4) device tensors (d_loss, g_loss, d_real, d_fake) per member.
    """

    def __init__(self, G: Stacked, D: Stacked, recipe: Recipe, rngs: Sequence[torch.Generator]):
        self.G, self.D, self.recipe, self.rngs = G, D, recipe, list(rngs)
        self.opt_d = make_optimizer(D.parameters(), recipe, recipe.lr_d)
        self.opt_g = make_optimizer(G.parameters(), recipe, recipe.lr_g)
        self.device = D.parameters()[0].device
        self._shapes: dict[int, list[tuple[int, ...]]] = {}

    # --- per-member draws, each from the member's own generator ---------------------------
    def noise(self, rng: torch.Generator, n: int) -> torch.Tensor:
        return torch.randn(n, self.recipe.latent_dim, generator=rng, device=self.device)

    def keeps(self, rng: torch.Generator, n: int) -> list[torch.Tensor]:
        """The uniform draws of D's dropout layers for a D forward pass of n images."""
        if n not in self._shapes:
            self._shapes[n] = self.D.dropout_shapes(n, (1, 28, 28))
        return [
            torch.rand(s, generator=rng, device=self.device, dtype=torch.float32)
            for s in self._shapes[n]
        ]

    def draw(self, plan: list[tuple[str, int]]) -> list[torch.Tensor]:
        """Per member, the draws of `plan` in order ('noise' n or 'dropout' n), stacked."""
        per_member = []
        for rng in self.rngs:
            drawn = []
            for kind, n in plan:
                drawn += [self.noise(rng, n)] if kind == "noise" else self.keeps(rng, n)
            per_member.append(drawn)
        return [torch.stack(ts) for ts in zip(*per_member, strict=True)]

    # --- the batched passes ---------------------------------------------------------------
    def labels(self, n: int, value: float) -> torch.Tensor:
        return torch.full((len(self.rngs), n), value, device=self.device)

    def fakes_for_d(self, z: torch.Tensor) -> torch.Tensor:
        if self.recipe.g_eval_for_d:
            self.G.train(False)
        with torch.no_grad():
            fake = self.G(z)
        self.G.train(True)
        return fake

    @staticmethod
    def bce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(K,) each member's mean binary cross-entropy, as F's default reduction."""
        return vmap(F.binary_cross_entropy_with_logits)(logits, target)

    def d_step(self, x, keeps, target) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.D(x, tuple(keeps)).squeeze(-1)
        loss = self.bce(logits, target)
        self.opt_d.zero_grad(set_to_none=True)
        loss.sum().backward()  # each member's gradient is its own loss's
        self.opt_d.step()
        return loss.detach(), torch.sigmoid(logits.detach())

    def g_step(self, z, keeps) -> torch.Tensor:
        self.D.requires_grad_(False)
        logits = self.D(self.G(z), tuple(keeps)).squeeze(-1)
        loss = self.bce(logits, torch.ones_like(logits))
        self.opt_g.zero_grad(set_to_none=True)
        loss.sum().backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        return loss.detach()

    def __call__(self, real: torch.Tensor) -> torch.Tensor:
        """real: (K, b, 1, 28, 28) in [-1, 1]."""
        r, b = self.recipe, real.shape[1]
        n_drop = len(self.D.dropouts)
        if r.d_update == "simultaneous":
            return self._simultaneous(real)
        if r.d_update == "joint":
            z, *d_keeps = self.draw([("noise", b), ("dropout", 2 * b)])
            zg, *g_keeps = self.draw([("noise", b), ("dropout", b)])
            fake = self.fakes_for_d(z)
            target = torch.cat([self.labels(b, 0.0), self.labels(b, 1.0)], dim=1)
            d_loss, p = self.d_step(torch.cat([fake, real], dim=1), d_keeps, target)
            d_fake, d_real = p[:, :b].mean(1), p[:, b:].mean(1)
        else:
            half = b // 2
            drawn = self.draw([("dropout", half), ("noise", half), ("dropout", half)])
            keeps_r, z, keeps_f = drawn[:n_drop], drawn[n_drop], drawn[n_drop + 1 :]
            zg, *g_keeps = self.draw([("noise", b), ("dropout", b)])
            loss_r, p_r = self.d_step(real[:, :half], keeps_r, self.labels(half, 1.0))
            loss_f, p_f = self.d_step(self.fakes_for_d(z), keeps_f, self.labels(half, 0.0))
            d_loss, d_real, d_fake = (loss_r + loss_f) / 2, p_r.mean(1), p_f.mean(1)
        g_loss = self.g_step(zg, g_keeps)
        return torch.stack([d_loss, g_loss, d_real, d_fake], dim=1)

    def _simultaneous(self, real: torch.Tensor) -> torch.Tensor:
        b, n = real.shape[1], self.recipe.batch_size
        drawn = self.draw([("noise", n), ("dropout", b), ("dropout", n)])
        n_drop = len(self.D.dropouts)
        z, keeps_r, keeps_f = drawn[0], drawn[1 : 1 + n_drop], drawn[1 + n_drop :]
        fake = self.G(z)
        real_logits = self.D(real, tuple(keeps_r)).squeeze(-1)
        fake_logits = self.D(fake, tuple(keeps_f)).squeeze(-1)
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


def _check_members(recipe: Recipe, images: Sequence[np.ndarray], seeds: Sequence[int]) -> None:
    if len(images) != len(seeds) or not seeds:
        raise ValueError("a pack needs one image array per seed, and at least one member")
    if len({len(x) for x in images}) != 1:
        raise ValueError("a pack's members must have the same number of training images")
    if recipe.precision != "fp32":
        raise UserError(f"packs train in fp32 only (recipe precision={recipe.precision!r})")


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


def pack_out_of_memory(k: int, device: torch.device, needed: float) -> UserError:
    """The one line a pack that does not fit gives."""
    return UserError(
        f"a pack of K={k} members does not fit in {device} memory: it needed at least "
        f"{_gib(needed)}; use a smaller --pack"
    )


def train_pack(
    arch: Arch | str,
    recipe: Recipe,
    images: Sequence[np.ndarray],
    seeds: Sequence[int],
    device: torch.device | str = "cpu",
    max_steps: int | None = None,
    on_step: Callable[[int, int], None] | None = None,
    checkpoint_steps: Collection[int] = (),
    on_checkpoint: Callable[[int, int, nn.Module, nn.Module], None] | None = None,
) -> list[TrainResult]:
    """Train K GANs of `arch` by `recipe` as one pack; member k is `train(arch, recipe,
    images[k], seeds[k], ...)` up to floating-point summation order.

    Args:
        arch: the architecture (networks), or its name.
        recipe: the training recipe, shared by all members (fp32).
        images: K arrays of (N, 28, 28) uint8 training images, one N for all.
        seeds: K trial seeds, one per member.
        device: where to train.
        max_steps: stop after this many steps (for quick runs).
        on_step: called as on_step(steps_done, steps_total) every 25 steps and at the end.
        checkpoint_steps: steps after which to call `on_checkpoint(k, steps, G, D)` for
            each member k, with its networks in eval mode (copies: training is unchanged).

    Returns:
        One TrainResult per member (networks in eval mode, per-epoch history); `seconds`
        is the pack's wall time.
    """
    _check_members(recipe, images, seeds)
    arch = get_arch(arch) if isinstance(arch, str) else arch
    device, k = torch.device(device), len(seeds)
    nets = [build(arch, recipe, torch.Generator().manual_seed(s)) for s in seeds]
    G = Stacked([g.to(device).train() for g, _ in nets])
    D = Stacked([d.to(device).train() for _, d in nets])
    rngs = [torch.Generator(device=device).manual_seed(s) for s in seeds]
    try:
        data = torch.stack([torch.from_numpy(np.ascontiguousarray(x)) for x in images]).to(device)
        result = _train(
            G, D, recipe, rngs, data, max_steps, on_step, checkpoint_steps, on_checkpoint
        )
    except torch.OutOfMemoryError:
        needed = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else 0
        raise pack_out_of_memory(k, device, needed) from None
    return result


def _train(G, D, recipe, rngs, data, max_steps, on_step, checkpoint_steps, on_checkpoint):
    k, n, device = len(rngs), data.shape[1], data.device
    step_fn = PackStep(G, D, recipe, rngs)
    batches = [_Batches(n, recipe, rng, device) for rng in rngs]
    n_total = total_steps(recipe, n, max_steps)
    rows = torch.arange(k, device=device).unsqueeze(1)
    histories: list[list[dict]] = [[] for _ in range(k)]
    steps, t0 = 0, time.perf_counter()
    for epoch in range(recipe.epochs):
        sums = torch.zeros(k, 4, device=device)
        epoch_steps = 0
        # each member's sampler draws its permutation (or indices) from its own generator
        # before the step's other draws, as the solo loop does
        for idx in zip(*(b.epoch() for b in batches), strict=True):
            if steps >= n_total:
                break
            real = to_unit_range(data[rows, torch.stack(idx)].flatten(0, 1))
            sums += step_fn(real.view(k, -1, *real.shape[1:]))
            steps += 1
            epoch_steps += 1
            if on_step and (steps % 25 == 0 or steps == n_total):
                on_step(steps, n_total)
            if on_checkpoint and steps in checkpoint_steps:
                for m in range(k):
                    on_checkpoint(m, steps, G.member(m).eval(), D.member(m).eval())
        if epoch_steps:
            means = (sums / epoch_steps).tolist()  # one sync per epoch
            for m in range(k):
                histories[m].append(epoch_row(epoch, epoch_steps, means[m]))
        if steps >= n_total:
            break
    seconds = time.perf_counter() - t0
    return [
        TrainResult(G.member(m).eval(), D.member(m).eval(), histories[m], steps, seconds)
        for m in range(k)
    ]


# --- a pack of trials ------------------------------------------------------------------------
PACK_FIELDS = ("arch", "protocol", "recipe", "max_steps", "eval_limit", "eval_at")
"""What the members of one pack share (their seeds and held-out triples differ)."""


def pack_group(cfg: TrialConfig) -> tuple:
    """The trials that can share a pack have equal groups."""
    return tuple(getattr(cfg, name) for name in PACK_FIELDS)


def run_pack(
    cfgs: Sequence[TrialConfig],
    data: FashionMNIST,
    store: ResultsStore,
    device: str | torch.device | None = None,
    force: bool = False,
    on_step: Callable[[int, int], None] | None = None,
    classifier=None,
) -> list[dict]:
    """Run trials of one pack group as one pack; each writes what `run_trial` writes
    (with the fakes' quality when a `classifier` of `fakedet.quality` is given).

    A member whose results exist is skipped (unless `force`); the others train together,
    each evaluated at its checkpoints and written as its own record (its key, files, rows).
    A member's `wall_seconds` is its share of the pack's wall time (the time / members).

    Returns:
        One summary per trial, in order, as `fakedet.trial.run_trial` returns it.
    """
    if len({pack_group(c) for c in cfgs}) > 1:
        raise ValueError(f"a pack's trials must share {', '.join(PACK_FIELDS)}")
    summaries: dict[str, dict] = {
        c.key: dict(status="skipped", key=c.key) for c in cfgs if not force and store.is_complete(c)
    }
    todo = [c for c in cfgs if c.key not in summaries]
    if todo:
        for cfg, summary in zip(
            todo, _run_members(todo, data, store, device, on_step, classifier), strict=True
        ):
            summaries[cfg.key] = summary
    return [summaries[c.key] for c in cfgs]


def _run_members(cfgs, data, store, device, on_step, classifier=None) -> list[dict]:
    t0 = time.perf_counter()
    for cfg in cfgs:  # a killed attempt's?
        store.remove_temporaries(*store.record_paths(cfg, TRIAL_FILES))
    device = pick_device(str(device) if device else None)
    splits = [make_split(data, c.heldout, c.seed, c.protocol) for c in cfgs]
    evaluators = [Evaluator(c, s, classifier) for c, s in zip(cfgs, splits, strict=True)]
    cfg0, n_train = cfgs[0], len(splits[0].train_images)
    per_epoch, checkpoints = cfg0.steps_per_epoch(n_train), cfg0.checkpoint_steps(n_train)

    def on_checkpoint(k: int, step: int, G, D) -> None:
        evaluators[k](G, D, step, checkpoints[step])

    results = train_pack(
        cfg0.arch, cfg0.recipe, [s.train_images for s in splits], [c.seed for c in cfgs],
        device, cfg0.max_steps, on_step, checkpoints, on_checkpoint,
    )  # fmt: skip
    during_training = sum(e.seconds for e in evaluators)
    for evaluate, r in zip(evaluators, results, strict=True):
        final_epoch = r.steps / per_epoch if per_epoch else 0.0
        evaluate(r.generator, r.discriminator, r.steps, final_epoch)
    eval_seconds = sum(e.seconds for e in evaluators)

    seconds = time.perf_counter() - t0
    summaries, n = [], len(cfgs)
    for cfg, r, evaluate in zip(cfgs, results, evaluators, strict=True):
        t_write = time.perf_counter()
        run = Run(str(device), n_train, seconds / n)
        record = trial_record(cfg, r, run, evaluate.evaluations, evaluate.held_y, evaluate.test_y)
        store.write_record(record)
        summaries.append(
            evaluate.summary(
                cfg.key,
                r.steps,
                seconds=seconds / n,
                train_seconds=(r.seconds - during_training) / n,
                eval_seconds=eval_seconds / n,
                write_seconds=time.perf_counter() - t_write,
                device=str(device),
                pack_size=n,
            )
        )
    return summaries
