"""Reductions over ``dim`` (int or tuple) with ``keepdim``: sum, mean, max, var, ... ."""

from __future__ import annotations

from .._tensor import Tensor, wrap_dim
from ..autograd.function import Function
from ..backend import array_module


__all__ = ["sum"]  # public torch-level names; extended below as ops are added

def normalize_dims(op: str, dim, ndim: int):
    """``dim`` (None, int, or sequence) as a sorted tuple of non-negative dims, or None."""
    if dim is None:
        return None
    if isinstance(dim, int):
        return (wrap_dim(dim, ndim, op),)
    dims = tuple(sorted(wrap_dim(d, ndim, op) for d in dim))
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{op}: dim {dims} appears multiple times in the list of dims")
    return dims if dims else None


def keepdim_shape(shape: tuple, dims) -> tuple:
    """``shape`` with the reduced dims set to 1 (for broadcasting a gradient back)."""
    if dims is None:
        return (1,) * len(shape)
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


class Sum(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.input_shape = x.shape
        ctx.dims = dims
        ctx.keepdim = keepdim
        return x.sum(axis=dims, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad_out):
        if not ctx.keepdim:
            grad_out = grad_out.reshape(keepdim_shape(ctx.input_shape, ctx.dims))
        return grad_out.expand(ctx.input_shape)


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001,A002
    """Sum over ``dim`` (all dims by default). Bool and integer inputs sum to int64.

    Example:
        >>> deepgrad.tensor([[1., 2.], [3., 4.]]).sum(0)
        tensor([4., 6.])
    """
    dims = normalize_dims("sum", dim, input._data.ndim)
    if dtype is not None:
        dtype = dtype.numpy
    elif input._data.dtype.kind in "biu":
        dtype = array_module(input._data).int64
    return Sum.apply(input, dims, keepdim, dtype)


Tensor.sum = sum
