"""K networks of one architecture that train as one: the trainer's view of G (or D).

`Members(modules)` runs the K members on a (K, N, ...) batch with dropout masks drawn
beforehand and returns (K, N, ...). For K = 1 that is the module itself (a solo trial);
for K > 1 the members' parameters and buffers are stacked (`torch.func.stack_module_state`)
and every pass runs once for all of them (`torch.func.vmap` over `functional_call`:
convolutions become grouped convolutions, linear layers batched matrix products). The
networks are tiny, so on a GPU one trial is bound by kernel launches, not arithmetic.

Adam and RMSprop are elementwise, so one optimizer over the stacked parameters is K
independent optimizers; a member's BatchNorm statistics are its own (stacked buffers).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from fakedet.layers import SeededDropout


def _dropouts(module: nn.Module) -> list[SeededDropout]:
    return [m for m in module.modules() if isinstance(m, SeededDropout)]


class Members:
    """K networks of one architecture as one trainable object.

    `self(x, keeps)`: x is (K, N, ...), keeps a tuple with one (K, N, ...) uniform draw
    per dropout layer (in layer order); the output is (K, N, ...).
    """

    def __init__(self, modules: Sequence[nn.Module], runner: nn.Module | None = None):
        """`runner`: for K = 1, a module that runs the single member (e.g. compiled)."""
        self.modules = list(modules)
        self.k = len(self.modules)
        self.template = copy.deepcopy(self.modules[0]).to("meta")
        if self.k == 1:
            self.runner = runner or self.modules[0]
            self.dropouts = _dropouts(self.modules[0])
            self.params = dict(self.modules[0].named_parameters())
            self.buffers = dict(self.modules[0].named_buffers())
        else:
            self.params, self.buffers = stack_module_state(self.modules)
            self.dropouts = _dropouts(self.template)
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
        if self.k > 1:
            return self._batched(self.params, self.buffers, x, keeps)
        for layer, keep in zip(self.dropouts, keeps, strict=True):
            layer.keep = keep[0]
        try:
            return self.runner(x[0]).unsqueeze(0)
        finally:
            for layer in self.dropouts:
                layer.keep = None

    def dropout_shapes(
        self, n: int, sample: tuple[int, ...], dtype: torch.dtype = torch.float32
    ) -> list[tuple[int, ...]]:
        """The input shape of each dropout layer for a batch of n inputs of shape `sample`
        (a pass on the meta device in `dtype`, the dtype the training passes compute in)."""
        model = self.template if dtype == torch.float32 else copy.deepcopy(self.template)
        shapes = []
        hooks = [
            layer.register_forward_pre_hook(lambda _, args: shapes.append(tuple(args[0].shape)))
            for layer in _dropouts(model)
        ]
        try:
            training = model.training
            model.to(dtype).eval()  # no masks needed on the meta device
            with torch.no_grad():
                model(torch.empty(n, *sample, device="meta", dtype=dtype))
            model.train(training)
        finally:
            for h in hooks:
                h.remove()
        return shapes

    def train(self, mode: bool = True) -> None:
        if self.k == 1:
            self.modules[0].train(mode)
        else:
            self.template.train(mode)

    def requires_grad_(self, flag: bool) -> None:
        for p in self.params.values():
            p.requires_grad_(flag)

    def parameters(self) -> list[torch.Tensor]:
        return list(self.params.values())

    @torch.no_grad()
    def member(self, k: int) -> nn.Module:
        """Member k as its own module (the module it started from, updated)."""
        module = self.modules[k]
        if self.k == 1:
            return module
        for name, t in module.named_parameters():
            t.copy_(self.params[name][k])
        for name, t in module.named_buffers():
            t.copy_(self.buffers[name][k])
        return module

    # --- checkpoints ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, torch.Tensor]:
        """Parameters and buffers ((K, ...) stacked for K > 1), copied to the CPU."""
        tensors = {**self.params, **self.buffers}
        return {name: t.detach().cpu().clone() for name, t in tensors.items()}

    @torch.no_grad()
    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Copy `state_dict()`'s tensors into place (the optimizer's tensors stay its own)."""
        for name, t in {**self.params, **self.buffers}.items():
            t.copy_(state[name])
