"""Diagonals and triangles: diagonal, diag_embed, diag, tril, triu.

``Diagonal`` (read a diagonal) and ``DiagonalAdjoint`` (write one into zeros: diag_embed)
are each other's backward; ``tril``/``triu`` are their own.
"""

from __future__ import annotations

from .. import _errors
from .._tensor import Tensor, wrap_dim
from ..autograd.function import Function
from ..backend import array_module

__all__ = ["diagonal", "diag_embed", "diag", "tril", "triu"]


class Diagonal(Function):
    """The diagonal at ``offset`` of the (dim1, dim2) planes, appended as the last dim."""

    raw = True

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.input_shape = x.shape
        ctx.params = (offset, dim1, dim2)
        result = array_module(x).diagonal(x, offset, dim1, dim2)
        if getattr(x.flags, "writeable", False) and not result.flags.writeable:
            # a view, as in torch, so ``x.diagonal().fill_(1)`` writes into x
            result.flags.writeable = True
        return result

    @staticmethod
    def backward(ctx, grad_out):
        return DiagonalAdjoint.apply(grad_out, ctx.input_shape, *ctx.params)


class DiagonalAdjoint(Function):
    """Zeros of ``shape`` with ``values`` on the diagonal at ``offset`` of (dim1, dim2)."""

    raw = True

    @staticmethod
    def forward(ctx, values, shape, offset, dim1, dim2):
        ctx.params = (offset, dim1, dim2)
        xp = array_module(values)
        result = xp.zeros(shape, values.dtype)
        view = xp.diagonal(result, offset, dim1, dim2)
        if not getattr(view.flags, "writeable", True):  # NumPy's diagonal is read-only
            view.flags.writeable = True
        view[...] = values
        return result

    @staticmethod
    def backward(ctx, grad_out):
        return Diagonal.apply(grad_out, *ctx.params)


def _two_dims(op: str, ndim: int, dim1: int, dim2: int) -> tuple:
    d1, d2 = wrap_dim(dim1, ndim, op), wrap_dim(dim2, ndim, op)
    if d1 == d2:
        raise RuntimeError(f"{op}: dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """The diagonal of each (dim1, dim2) plane as the last dim (a view); ``offset`` > 0 is
    above the main diagonal.

    Example:
        >>> deepgrad.tensor([[1, 2], [3, 4]]).diagonal()
        tensor([1, 4])
    """
    d1, d2 = _two_dims("diagonal", input._data.ndim, dim1, dim2)
    return Diagonal.apply(input, offset, d1, d2)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: A002
    """Matrices (in dims ``dim1``, ``dim2`` of the result) with the last dim of ``input`` on
    their diagonal at ``offset``.

    Example:
        >>> deepgrad.diag_embed(deepgrad.tensor([[1., 2.]])).shape
        deepgrad.Size([1, 2, 2])
    """
    shape = input._data.shape
    if not shape:
        raise RuntimeError("diag_embed: expected a tensor with at least 1 dimension")
    d1, d2 = _two_dims("diag_embed", len(shape) + 1, dim1, dim2)
    n = shape[-1] + abs(offset)
    out = list(shape[:-1])
    for d in sorted((d1, d2)):
        out.insert(d, n)
    return DiagonalAdjoint.apply(input, tuple(out), offset, d1, d2)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """A 1-d tensor -> the square matrix with it on diagonal ``diagonal``; a matrix -> its
    diagonal ``diagonal`` as a 1-d tensor.

    Example:
        >>> deepgrad.diag(deepgrad.tensor([1, 2]))
        tensor([[1, 0],
                [0, 2]])
    """
    ndim = input._data.ndim
    if ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if ndim == 2:
        return Diagonal.apply(input, diagonal, 0, 1)
    raise _errors.op_error(RuntimeError, "diag", f"Supports 1D or 2D tensors. Got {ndim}D",
                           input=input)


class Triangle(Function):
    """Keep the lower (``upper=False``) or upper triangle of the last two dims."""

    raw = True

    @staticmethod
    def forward(ctx, x, diagonal, upper):
        ctx.diagonal, ctx.upper = diagonal, upper
        xp = array_module(x)
        return xp.triu(x, diagonal) if upper else xp.tril(x, diagonal)

    @staticmethod
    def backward(ctx, grad_out):
        return Triangle.apply(grad_out, ctx.diagonal, ctx.upper)


def _triangle(op: str, input: Tensor, diagonal: int, upper: bool) -> Tensor:  # noqa: A002
    if input._data.ndim < 2:
        raise _errors.op_error(RuntimeError, op, "input tensor must have at least 2 dimensions",
                               input=input)
    return Triangle.apply(input, diagonal, upper)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """Zero the elements above diagonal ``diagonal`` of the last two dims.

    Example:
        >>> deepgrad.ones(2, 2).tril()
        tensor([[1., 0.],
                [1., 1.]])
    """
    return _triangle("tril", input, diagonal, False)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """Zero the elements below diagonal ``diagonal`` of the last two dims.

    Example:
        >>> deepgrad.ones(2, 2).triu()
        tensor([[1., 1.],
                [0., 1.]])
    """
    return _triangle("triu", input, diagonal, True)


def _triangle_inplace(upper: bool, name: str):
    def method(self, diagonal: int = 0):
        return self._inplace(lambda old: _triangle(name[:-1], old, diagonal, upper), op=name)

    method.__name__ = name
    return method


Tensor.diagonal = diagonal
Tensor.diag_embed = diag_embed
Tensor.diag = diag
Tensor.tril = tril
Tensor.triu = triu
Tensor.tril_ = _triangle_inplace(False, "tril_")
Tensor.triu_ = _triangle_inplace(True, "triu_")
