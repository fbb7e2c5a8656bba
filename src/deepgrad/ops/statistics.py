"""Spread of values over ``dim``: var, std, var_mean and std_mean (norms live in
``ops/norm.py``, with the linalg family).

Backward formulas follow torch's (``var_backward``, ``std_backward``) written with deepgrad
ops, so second derivatives match torch's too, including std's subgradient 0 at a constant.
"""

from __future__ import annotations

import math

from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import array_module
from .reduction import mean, normalize_dims, reduced_count, restore_dims

__all__ = ["var", "std", "var_mean", "std_mean"]


# ---------------------------------------------------------------- var, std

def _variance(x, dims, keepdim, correction, count):
    """Sum of squared deviations over ``dims`` divided by max(0, count - correction)."""
    xp = array_module(x)
    if count == 0:  # no elements: nan, as torch (and no numpy warning)
        return xp.full(x.sum(axis=dims, keepdims=keepdim).shape, xp.nan, dtype=x.dtype)
    centered = x - x.mean(axis=dims, keepdims=True)
    centered *= centered
    total = centered.sum(axis=dims, keepdims=keepdim)
    denominator = count - correction
    if denominator > 0:
        return total / x.dtype.type(denominator)
    with xp.errstate(divide="ignore", invalid="ignore"):  # n <= correction: inf or nan
        return total / x.dtype.type(0)


def _var_backward(x: Tensor, grad: Tensor, dims, correction, count) -> Tensor:
    """Gradient of var given its (keepdim-shaped) output gradient: 2 (x - mean) / (n - c).

    torch does not clamp n - c here (unlike the forward), so neither do we.
    """
    denominator = count - correction
    scale = 2.0 / denominator if denominator else math.inf
    return (grad * scale) * (x - mean(x, dims, keepdim=True))


class Var(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dims, keepdim, correction, count):
        ctx.save_for_backward(x)
        ctx.dims, ctx.keepdim, ctx.correction, ctx.count = dims, keepdim, correction, count
        return _variance(x, dims, keepdim, correction, count)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        grad = restore_dims(grad_out, x.shape, ctx.dims, ctx.keepdim)
        return _var_backward(x, grad, ctx.dims, ctx.correction, ctx.count)


class Std(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dims, keepdim, correction, count):
        ctx.dims, ctx.keepdim, ctx.correction, ctx.count = dims, keepdim, correction, count
        xp = array_module(x)
        # an array (not a numpy scalar), so the saved value is recognised as the output
        result = xp.asarray(xp.sqrt(_variance(x, dims, keepdim, correction, count)))
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        x, result = ctx.saved_tensors
        grad = restore_dims(grad_out, x.shape, ctx.dims, ctx.keepdim)
        result = restore_dims(result, x.shape, ctx.dims, ctx.keepdim)
        zero = result._data == 0
        if zero.any():
            # d std = d var / (2 std), and 0 where std is 0 (torch's masked_fill)
            keep = Tensor._make((~zero).astype(result._data.dtype))
            grad = grad / ((result + Tensor._make(zero.astype(result._data.dtype))) * 2) * keep
        else:
            grad = grad / (result * 2)
        return _var_backward(x, grad, ctx.dims, ctx.correction, ctx.count)


def _parse_var_args(op, input, dim, unbiased, correction):  # noqa: A002
    """torch's var/std overloads: ``var(x, unbiased)``, ``var(x, dim, unbiased, keepdim)``,
    ``var(x, dim, *, correction, keepdim)``. Returns (dims, correction, count)."""
    if isinstance(dim, bool):  # var(input, unbiased)
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}(): pass either unbiased or correction, not both")
    if correction is None:
        correction = 0 if unbiased is False else 1
    data = input._data
    if data.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: std and var only support floating point and complex dtypes; "
                           f"got input with dtype {input.dtype.name}")
    dims = normalize_dims(op, dim, data.ndim)
    return dims, correction, reduced_count(data.shape, dims)


def var(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,  # noqa: A002
        correction=None) -> Tensor:
    """Variance over ``dim``: sum of squared deviations / max(0, n - correction).

    Args:
        input: a floating-point tensor.
        dim: int, tuple of ints, or None for all dims (``var(x, False)`` sets ``unbiased``).
        unbiased: Bessel's correction (n - 1) when True (the default), n when False.
        keepdim: keep the reduced dims with size 1.
        correction: the value subtracted from n (overrides ``unbiased``); 1 by default.

    Returns:
        The variance; nan for a single element with correction 1, as torch.

    Example:
        >>> deepgrad.tensor([[1., 2., 3.], [2., 4., 6.]]).var(1)
        tensor([1., 4.])
    """
    dims, correction, count = _parse_var_args("var", input, dim, unbiased, correction)
    return Var.apply(input, dims, keepdim, correction, count)


def std(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,  # noqa: A002
        correction=None) -> Tensor:
    """Standard deviation over ``dim``: ``sqrt(var(...))`` with :func:`var`'s arguments; its
    gradient is 0 where the deviation is 0 (torch's subgradient).

    Example:
        >>> deepgrad.tensor([[1., 2., 3.], [2., 4., 6.]]).std(1)
        tensor([1., 2.])
    """
    dims, correction, count = _parse_var_args("std", input, dim, unbiased, correction)
    return Std.apply(input, dims, keepdim, correction, count)


def var_mean(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,  # noqa: A002
             correction=None) -> tuple:
    """``(var(input, ...), mean(input, ...))`` over the same dims.

    Example:
        >>> deepgrad.var_mean(deepgrad.tensor([1., 2., 3.]))
        (tensor(1.), tensor(2.))
    """
    dims, correction, count = _parse_var_args("var_mean", input, dim, unbiased, correction)
    return Var.apply(input, dims, keepdim, correction, count), mean(input, dims, keepdim)


def std_mean(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,  # noqa: A002
             correction=None) -> tuple:
    """``(std(input, ...), mean(input, ...))`` over the same dims.

    Example:
        >>> deepgrad.std_mean(deepgrad.tensor([1., 2., 3.]))
        (tensor(1.), tensor(2.))
    """
    dims, correction, count = _parse_var_args("std_mean", input, dim, unbiased, correction)
    return Std.apply(input, dims, keepdim, correction, count), mean(input, dims, keepdim)


Tensor.var = var
Tensor.std = std
