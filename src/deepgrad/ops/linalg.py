"""Products and linear algebra: matmul family, norms, inv, det, solve, eigh, ... ."""

from __future__ import annotations

from .. import _errors
from .._tensor import Tensor
from ..autograd.function import Function


__all__ = ["matmul"]  # public torch-level names; extended below as ops are added

class MatMul(Function):
    """Matrix product of operands with at least 2 dims (1-d cases are reshaped by matmul).

    Batch dims broadcast; the gradient of a broadcast batch dim is summed back.
    """

    raw = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            grad_a = grad_out @ b.mT
            if grad_a.shape != a.shape:
                from .shape import sum_to_shape  # noqa: PLC0415

                grad_a = sum_to_shape(grad_a, a.shape)
        if need_b:
            grad_b = a.mT @ grad_out
            if grad_b.shape != b.shape:
                from .shape import sum_to_shape  # noqa: PLC0415

                grad_b = sum_to_shape(grad_b, b.shape)
        return grad_a, grad_b


def matmul(input: Tensor, other: Tensor, *, out=None) -> Tensor:  # noqa: A002
    """Matrix product with torch's rules: 1-d operands are promoted and squeezed back,
    batch dims broadcast.

    Shape:
        (n,) @ (n,) -> (); (m, n) @ (n,) -> (m,); (..., m, n) @ (..., n, p) -> (..., m, p)
    """
    a_nd, b_nd = input._data.ndim, other._data.ndim
    if a_nd == 0 or b_nd == 0:
        raise _errors.op_error(RuntimeError, "matmul", "both arguments need at least 1 dimension",
                               input=input, other=other)
    if input._data.shape[-1] != other._data.shape[0 if b_nd == 1 else -2]:
        raise _errors.op_error(
            RuntimeError, "matmul",
            f"mat1 and mat2 shapes cannot be multiplied ({input._data.shape[-1]} columns vs "
            f"{other._data.shape[0 if b_nd == 1 else -2]} rows)", input=input, other=other)
    if input._data.dtype != other._data.dtype:
        raise _errors.op_error(
            RuntimeError, "matmul",
            f"expected both operands to have the same dtype, but got {input.dtype.name} and "
            f"{other.dtype.name}", input=input, other=other)
    if a_nd >= 2 and b_nd >= 2:
        return MatMul.apply(input, other)
    a = input.unsqueeze(0) if a_nd == 1 else input
    b = other.unsqueeze(-1) if b_nd == 1 else other
    result = MatMul.apply(a, b)
    shape = result._data.shape
    shape = shape[:-2] + (() if a_nd == 1 else shape[-2:-1]) + (() if b_nd == 1 else shape[-1:])
    return result.reshape(shape)


Tensor.matmul = matmul
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)
