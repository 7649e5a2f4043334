"""The Keras layers and initialisation the ported DCGANs need, in PyTorch.

TensorFlow's 'same' padding (asymmetric for stride 2), Keras BatchNorm defaults, dropout
whose masks come from an explicit generator, Glorot-uniform initialisation, and Keras'
way of counting parameters.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding (before, after) for one spatial dimension."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow 'same' padding (extra row/column at the bottom/right)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, bias: bool = True):
        super().__init__(cin, cout, kernel, stride, padding=0, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.kernel_size[0], self.stride[0]
        top, bottom = _same_pad(x.shape[-2], k, s)
        left, right = _same_pad(x.shape[-1], k, s)
        return super().forward(F.pad(x, (left, right, top, bottom)))


class SameConvTranspose2d(nn.ConvTranspose2d):
    """ConvTranspose2d with TensorFlow 'same' padding: output = input * stride.

    The full transposed convolution is cropped as TensorFlow crops it (its forward conv
    pads `total // 2` before), which differs from PyTorch's symmetric `padding` when
    kernel - stride is odd.
    """

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, bias: bool = True):
        if kernel < stride:
            raise ValueError("'same' transposed conv needs kernel >= stride")
        super().__init__(cin, cout, kernel, stride, padding=0, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.kernel_size[0], self.stride[0]
        start = (k - s) // 2
        h, w = x.shape[-2] * s, x.shape[-1] * s
        return super().forward(x)[..., start : start + h, start : start + w]


class KerasBatchNorm(nn.BatchNorm2d):
    """BatchNorm with Keras defaults (momentum 0.99 = PyTorch 0.01, eps 1e-3)."""

    def __init__(self, features: int):
        super().__init__(features, eps=1e-3, momentum=0.01)

    def _check_input_dim(self, input):  # also accepts (N, C) after a Dense layer
        if input.dim() not in (2, 4):
            raise ValueError(f"expected 2D or 4D input (got {input.dim()}D input)")


class SeededDropout(nn.Module):
    """Dropout that draws its masks from an explicit `torch.Generator` when one is set.

    `nn.Dropout` can only use the global RNG; the trainer draws each mask from the
    trial's generator before the pass and sets it as `keep`, so that a trial is
    reproducible from its seed alone (or sets `rng`, and the layer draws it).
    """

    def __init__(self, p: float):
        super().__init__()
        self.p = p
        self.rng: torch.Generator | None = None
        self.keep: torch.Tensor | None = None
        """A uniform draw of x's shape made beforehand (the trainer's); else one is drawn."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = self.keep
        if keep is None:
            keep = torch.rand(x.shape, generator=self.rng, device=x.device, dtype=x.dtype)
        return x * (keep >= self.p).to(x.dtype) / (1 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Reshape(nn.Module):
    def __init__(self, *shape: int):
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], *self.shape)


def keras_init_(module: nn.Module, rng: torch.Generator | None = None) -> nn.Module:
    """Keras default initialisation: Glorot uniform kernels, zero biases, BN gamma=1 beta=0."""
    for m in module.modules():
        if isinstance(m, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
            nn.init.xavier_uniform_(m.weight, generator=rng)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            m.reset_parameters()
    return module


def keras_param_count(module: nn.Module) -> int:
    """Parameters as Keras counts them: weights plus BatchNorm moving mean and variance."""
    n = sum(p.numel() for p in module.parameters())
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            n += m.running_mean.numel() + m.running_var.numel()
    return n
