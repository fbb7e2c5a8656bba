"""Normalisation layers other than batch norm: ``LayerNorm``, ``GroupNorm``,
``LocalResponseNorm``."""

from __future__ import annotations

import numbers

from ... import _creation
from ..._tensor import Tensor
from ...ops.normalization import group_norm, layer_norm, local_response_norm
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["LayerNorm", "GroupNorm", "LocalResponseNorm"]


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` dims of each sample.

    Args:
        normalized_shape: int or tuple, the trailing shape to normalise over.
        eps: added to the variance.
        elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros) of that shape.
        bias: learn the bias (when affine).

    Example:
        >>> deepgrad.nn.LayerNorm(10)(deepgrad.randn(4, 5, 10)).shape
        deepgrad.Size([4, 5, 10])
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine="
                f"{self.elementwise_affine}, bias={self.bias is not None}")


def _affine_parameters(module, shape, affine, bias, device, dtype) -> None:
    """Register ``weight``/``bias`` of ``shape`` (or None), as LayerNorm and GroupNorm do."""
    module.register_parameter(
        "weight", Parameter(_creation.empty(shape, device=device, dtype=dtype)) if affine else None)
    module.register_parameter(
        "bias", Parameter(_creation.empty(shape, device=device, dtype=dtype))
        if affine and bias else None)


def _reset_affine(module) -> None:
    """torch's reset: weight ones, bias zeros."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class GroupNorm(Module):
    """Normalise groups of channels of each sample.

    Args:
        num_groups: number of groups; must divide num_channels.
        num_channels: C of the (N, C, *) input.
        eps: added to the variance.
        affine: learn per-channel ``weight`` (ones) and ``bias`` (zeros).
        bias: learn the bias (when affine).

    Example:
        >>> deepgrad.nn.GroupNorm(3, 6)(deepgrad.randn(20, 6, 10, 10)).shape
        deepgrad.Size([20, 6, 10, 10])
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _affine_parameters(self, num_channels, affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class LocalResponseNorm(Module):
    """Local response normalisation across neighbouring channels (AlexNet).

    Args:
        size: number of neighbouring channels.
        alpha, beta, k: ``x / (k + alpha * mean(x**2 over the window)) ** beta``.

    Example:
        >>> deepgrad.nn.LocalResponseNorm(2)(deepgrad.randn(1, 4, 3, 3)).shape
        deepgrad.Size([1, 4, 3, 3])
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
