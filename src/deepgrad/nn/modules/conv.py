"""Convolution layers: ``Conv1d``, ``Conv2d`` and their lazy forms ``LazyConv1d``,
``LazyConv2d`` (in_channels taken from the first input)."""

from __future__ import annotations

import math

from ... import _creation
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops.conv import conv1d, conv2d
from ...ops.padding import pad
from .. import init
from ..parameter import Parameter, UninitializedParameter
from .lazy import LazyModuleMixin
from .module import Module

__all__ = ["Conv1d", "Conv2d", "LazyConv1d", "LazyConv2d"]

_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}


def _ntuple(value, n: int) -> tuple:
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return (value,) * n


class _ConvNd(Module):
    """Shared parameters, init and repr of Conv1d/Conv2d (torch's ``_ConvNd``)."""

    _dims = 2
    _function = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__()
        n = self._dims
        kernel_size, stride, dilation = (_ntuple(v, n) for v in (kernel_size, stride, dilation))
        if not isinstance(padding, str):
            padding = _ntuple(padding, n)
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in {"same", "valid"}:
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{{'same', 'valid'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.groups, self.padding_mode = dilation, groups, padding_mode
        self.transposed, self.output_padding = False, (0,) * n
        # F.pad widths for the non-zero padding modes: last dim first, (left, right) each
        if isinstance(padding, str):
            widths = [0, 0] * n
            if padding == "same":
                for d, k, i in zip(dilation, kernel_size, range(n - 1, -1, -1), strict=True):
                    total = d * (k - 1)
                    widths[2 * i], widths[2 * i + 1] = total // 2, total - total // 2
        else:
            widths = [p for p in reversed(padding) for _ in range(2)]
        self._reversed_padding_repeated_twice = widths
        self.weight = Parameter(_creation.empty((out_channels, in_channels // groups,
                                                 *kernel_size), device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(_creation.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: weight kaiming_uniform_(a=sqrt(5)), bias U(-1/sqrt(fan_in), ..)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:  # noqa: A002
        function = type(self)._function
        if self.padding_mode != "zeros":
            padded = pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return function(padded, weight, bias, self.stride, 0, self.dilation, self.groups)
        return function(input, weight, bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        params = self._parameters  # direct dict access: this runs once per layer per step
        return self._conv_forward(input, params["weight"], params["bias"])

    def extra_repr(self) -> str:
        text = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.padding):
            text += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            text += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            text += ", output_padding={output_padding}"
        if self.groups != 1:
            text += ", groups={groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += ", padding_mode={padding_mode}"
        return text.format(**self.__dict__)


class Conv1d(_ConvNd):
    """1-d convolution over (N, C_in, L) inputs.

    Args:
        in_channels, out_channels: channels of input and output.
        kernel_size: window length.
        stride, padding, dilation, groups: as ``deepgrad.nn.functional.conv1d``; padding
            may be an int, 'same' or 'valid'.
        bias: learn an additive bias (default True).
        padding_mode: 'zeros' (default), 'reflect', 'replicate' or 'circular'.

    Shape:
        (N, C_in, L) -> (N, C_out, L_out), L_out = (L + 2p - d(k-1) - 1) // stride + 1.

    Attributes:
        weight: (out_channels, in_channels / groups, kernel_size), kaiming_uniform_(a=sqrt(5)).
        bias: (out_channels,), U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    Example:
        >>> deepgrad.nn.Conv1d(16, 33, 3, stride=2)(deepgrad.randn(20, 16, 50)).shape
        deepgrad.Size([20, 33, 24])
    """

    _dims = 1
    _function = staticmethod(conv1d)


class Conv2d(_ConvNd):
    """2-d convolution over (N, C_in, H, W) inputs (im2col + one GEMM).

    Args:
        in_channels, out_channels: channels of input and output.
        kernel_size: int or (kh, kw).
        stride, padding, dilation, groups: as ``deepgrad.nn.functional.conv2d``; padding
            may be an int, a tuple, 'same' or 'valid'.
        bias: learn an additive bias (default True).
        padding_mode: 'zeros' (default), 'reflect', 'replicate' or 'circular'.

    Shape:
        (N, C_in, H, W) -> (N, C_out, H_out, W_out),
        H_out = (H + 2p - d(kh-1) - 1) // stride + 1.

    Attributes:
        weight: (out_channels, in_channels / groups, kh, kw), kaiming_uniform_(a=sqrt(5)).
        bias: (out_channels,), U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    Example:
        >>> conv = deepgrad.nn.Conv2d(1, 6, 5, padding=2)
        >>> conv(deepgrad.randn(8, 1, 28, 28)).shape
        deepgrad.Size([8, 6, 28, 28])
    """

    _dims = 2
    _function = staticmethod(conv2d)


class _LazyConvMixin(LazyModuleMixin):
    """in_channels from the first input's channel dim, then initialise as torch."""

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor, *args, **kwargs) -> None:  # noqa: A002
        if self.has_uninitialized_params():
            dims = self._dims
            if input.dim() not in (dims + 1, dims + 2):
                raise RuntimeError(
                    f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to "
                    f"{type(self).__name__}, but got input of size: {input.shape}")
            with no_grad():
                self.in_channels = input.shape[1] if input.dim() == dims + 2 else input.shape[0]
                if self.in_channels % self.groups != 0:
                    raise ValueError("in_channels must be divisible by groups")
                self.weight.materialize((self.out_channels, self.in_channels // self.groups,
                                         *self.kernel_size))
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()

    def _lazy_init(self, out_channels: int, bias: bool, device, dtype) -> None:
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)


class LazyConv1d(_LazyConvMixin, Conv1d):
    """A ``Conv1d`` whose in_channels comes from the first input; it then becomes a
    ``Conv1d``.

    Example:
        >>> conv = deepgrad.nn.LazyConv1d(4, 3)
        >>> conv(deepgrad.randn(2, 5, 10)).shape, type(conv).__name__
        (deepgrad.Size([2, 4, 8]), 'Conv1d')
    """

    cls_to_become = Conv1d

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode, device, dtype)
        self._lazy_init(out_channels, bias, device, dtype)


class LazyConv2d(_LazyConvMixin, Conv2d):
    """A ``Conv2d`` whose in_channels comes from the first input; it then becomes a
    ``Conv2d``.

    Example:
        >>> conv = deepgrad.nn.LazyConv2d(6, 5)
        >>> conv(deepgrad.randn(2, 3, 32, 32)).shape, type(conv).__name__
        (deepgrad.Size([2, 6, 28, 28]), 'Conv2d')
    """

    cls_to_become = Conv2d

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode, device, dtype)
        self._lazy_init(out_channels, bias, device, dtype)
