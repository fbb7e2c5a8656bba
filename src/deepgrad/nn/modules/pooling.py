"""Pooling layers: ``MaxPool1d/2d``, ``AvgPool1d/2d``, ``AdaptiveAvgPool1d/2d``,
``AdaptiveMaxPool1d/2d``; thin modules over ``deepgrad.ops.pooling``."""

from __future__ import annotations

from ..._tensor import Tensor
from ...ops import pooling as P
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"]


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                f", dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """1-d max pooling (see ``deepgrad.nn.functional.max_pool1d``).

    Args:
        kernel_size, stride (default kernel_size), padding, dilation, return_indices,
        ceil_mode: as the functional form.

    Shape:
        (N, C, L) -> (N, C, L_out).

    Example:
        >>> deepgrad.nn.MaxPool1d(2)(deepgrad.randn(4, 3, 10)).shape
        deepgrad.Size([4, 3, 5])
    """

    def forward(self, input: Tensor):  # noqa: A002
        return P.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """2-d max pooling (see ``deepgrad.nn.functional.max_pool2d``).

    Args:
        kernel_size, stride (default kernel_size), padding, dilation, return_indices,
        ceil_mode: as the functional form.

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out).

    Example:
        >>> deepgrad.nn.MaxPool2d(2)(deepgrad.randn(4, 3, 28, 28)).shape
        deepgrad.Size([4, 3, 14, 14])
    """

    def forward(self, input: Tensor):  # noqa: A002
        return P.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class _AvgPoolNd(Module):
    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """1-d average pooling (see ``deepgrad.nn.functional.avg_pool1d``).

    Args:
        kernel_size, stride (default kernel_size), padding, ceil_mode, count_include_pad:
        as the functional form.

    Example:
        >>> deepgrad.nn.AvgPool1d(2)(deepgrad.randn(4, 3, 10)).shape
        deepgrad.Size([4, 3, 5])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


def _single(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


class AvgPool2d(_AvgPoolNd):
    """2-d average pooling (see ``deepgrad.nn.functional.avg_pool2d``).

    Args:
        kernel_size, stride (default kernel_size), padding, ceil_mode, count_include_pad,
        divisor_override: as the functional form.

    Example:
        >>> deepgrad.nn.AvgPool2d(2)(deepgrad.randn(4, 3, 28, 28)).shape
        deepgrad.Size([4, 3, 14, 14])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class _AdaptivePool(Module):
    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    """Average pooling to a fixed output length.

    Example:
        >>> deepgrad.nn.AdaptiveAvgPool1d(5)(deepgrad.randn(2, 3, 12)).shape
        deepgrad.Size([2, 3, 5])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePool):
    """Average pooling to a fixed output size (a None entry keeps the input's size).

    Example:
        >>> deepgrad.nn.AdaptiveAvgPool2d((1, 1))(deepgrad.randn(2, 64, 7, 7)).shape
        deepgrad.Size([2, 64, 1, 1])
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return P.adaptive_avg_pool2d(input, self.output_size)


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """Max pooling to a fixed output length.

    Example:
        >>> deepgrad.nn.AdaptiveMaxPool1d(5)(deepgrad.randn(2, 3, 12)).shape
        deepgrad.Size([2, 3, 5])
    """

    def forward(self, input: Tensor):  # noqa: A002
        return P.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """Max pooling to a fixed output size (a None entry keeps the input's size).

    Example:
        >>> deepgrad.nn.AdaptiveMaxPool2d(3)(deepgrad.randn(2, 3, 7, 7)).shape
        deepgrad.Size([2, 3, 3, 3])
    """

    def forward(self, input: Tensor):  # noqa: A002
        return P.adaptive_max_pool2d(input, self.output_size, self.return_indices)
