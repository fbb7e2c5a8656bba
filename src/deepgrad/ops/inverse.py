"""Inverses, determinants and linear solves: inv, det, slogdet, solve, solve_triangular,
matrix_power, with torch's error messages.

Every backward is written with deepgrad ops on the saved inputs and outputs (``Inv`` and
``Solve`` are themselves used in backward), so second derivatives work:
    inv:     gA = -A^{-T} gX A^{-T}
    det:     gA = g det(A) A^{-T}          (singular A: the adjugate, from an SVD)
    slogdet: gA = g_logabsdet A^{-T}
    solve:   gB = A^{-T} gX,  gA = -gB X^T
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import _errors
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import array_module

__all__ = ["det", "logdet", "slogdet", "inverse", "matrix_power"]

_TORCH_NAMES = {"float16": "Half", "int64": "Long", "int32": "Int", "int16": "Short",
                "int8": "Char", "uint8": "Byte", "bool": "Bool", "float32": "Float",
                "float64": "Double"}


class LinAlgError(RuntimeError):
    """A linear-algebra routine failed on its input (singular, not positive-definite, ...);
    a ``RuntimeError``, as ``torch.linalg.LinAlgError``."""


SlogdetResult = namedtuple("linalg_slogdet", ["sign", "logabsdet"])


def check_matrix(op: str, A: Tensor, square: bool = True, name: str = "A",  # noqa: N803
                 floating: bool = True) -> None:
    """torch's checks for linalg inputs: at least 2 dims, (square), float32/float64."""
    shape = A._data.shape
    if len(shape) < 2:
        raise _errors.op_error(RuntimeError, op, f"The input tensor {name} must have at least 2 "
                               "dimensions.", **{name: A})
    if square and shape[-1] != shape[-2]:
        raise _errors.op_error(RuntimeError, op, f"{name} must be batches of square matrices, "
                               f"but they are {shape[-2]} by {shape[-1]} matrices", **{name: A})
    kind = A._data.dtype
    if floating and (kind.kind != "f" or kind.itemsize < 4):
        dtype_name = _TORCH_NAMES.get(A.dtype.name, A.dtype.name)
        problem = ("Low precision dtypes not supported. Got " if kind.kind == "f" else
                   "Expected a floating point or complex tensor as input. Got ")
        raise _errors.op_error(RuntimeError, op, problem + dtype_name, **{name: A})


def _batch_prefix(shape: tuple, flat_index: int) -> str:
    if len(shape) <= 2:
        return ""
    return f"(Batch element {flat_index}): "


def _first_zero_pivot(matrix: np.ndarray):
    """1-based index of the first zero pivot of LU with partial pivoting (as LAPACK getrf
    reports it), or None. Runs only on the error path."""
    u = np.array(matrix, dtype=np.float64)
    n = u.shape[0]
    for k in range(n):
        p = k + int(np.argmax(np.abs(u[k:, k])))
        if u[p, k] == 0:
            return k + 1
        u[[k, p]] = u[[p, k]]
        u[k + 1:, k:] -= np.outer(u[k + 1:, k] / u[k, k], u[k, k:])
    return None


def _singular_error(op: str, a, problem) -> LinAlgError:
    """The LinAlgError torch raises for the first singular matrix of a batch."""
    host = np.asarray(a.get() if hasattr(a, "get") else a)
    flat = host.reshape((-1,) + host.shape[-2:])
    for i, matrix in enumerate(flat):
        pivot = _first_zero_pivot(matrix)
        if pivot is not None or i == len(flat) - 1:
            return LinAlgError(f"{op}: {_batch_prefix(host.shape, i)}{problem(pivot)}")
    return LinAlgError(f"{op}: {problem(None)}")


# ---------------------------------------------------------------- inverse

class Inv(Function):
    raw = True

    @staticmethod
    def forward(ctx, a):
        xp = array_module(a)
        try:
            result = xp.linalg.inv(a)
        except xp.linalg.LinAlgError:
            raise _singular_error("linalg.inv", a, lambda pivot: (
                f"The diagonal element {pivot} is zero, the inversion could not be completed "
                "because the input matrix is singular.")) from None
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        (inverse_,) = ctx.saved_tensors
        inverse_t = inverse_.mT
        return -(inverse_t @ grad_out @ inverse_t)


def inv(A: Tensor, *, out=None) -> Tensor:  # noqa: N803
    """Inverse of a square matrix (or of each matrix in a batch).

    Raises ``LinAlgError`` (a RuntimeError) naming the zero pivot when A is singular.

    Shape:
        (*, n, n) -> (*, n, n)

    Example:
        >>> deepgrad.linalg.inv(deepgrad.tensor([[2., 0.], [0., 4.]]))
        tensor([[0.5000, 0.0000],
                [0.0000, 0.2500]])
    """
    check_matrix("linalg.inv", A)
    return Inv.apply(A)


def inverse(input: Tensor, *, out=None) -> Tensor:  # noqa: A002
    """``torch.inverse``: the same as ``linalg.inv``."""
    return inv(input)


# ---------------------------------------------------------------- determinants

class Det(Function):
    raw = True

    @staticmethod
    def forward(ctx, a):
        xp = array_module(a)
        result = xp.asarray(xp.linalg.det(a))  # an array, not a NumPy scalar, even when 0-d
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        a, result = ctx.saved_tensors
        scale = (grad_out * result).unsqueeze(-1).unsqueeze(-1)
        if (result._data != 0).all():
            return scale * Inv.apply(a).mT
        # Singular: d det / dA is the adjugate's transpose, from A = U S Vh; not differentiated
        # again (torch handles this case more carefully).
        xp = array_module(a._data)
        u, s, vh = xp.linalg.svd(a._data)
        n = s.shape[-1]
        others = xp.stack([xp.prod(xp.delete(s, i, axis=-1), axis=-1) for i in range(n)], -1)
        sign = xp.linalg.det(u) * xp.linalg.det(vh)
        adjugate_t = sign[..., None, None] * (u * others[..., None, :]) @ vh
        return grad_out.unsqueeze(-1).unsqueeze(-1) * Tensor._make(adjugate_t)


def det(A: Tensor, *, out=None) -> Tensor:  # noqa: N803
    """Determinant of a square matrix (or of each matrix in a batch).

    Shape:
        (*, n, n) -> (*)

    Example:
        >>> deepgrad.linalg.det(deepgrad.tensor([[1., 2.], [3., 4.]]))
        tensor(-2.)
    """
    check_matrix("linalg.det", A)
    return Det.apply(A)


class Slogdet(Function):
    raw = True

    @staticmethod
    def forward(ctx, a):
        xp = array_module(a)
        sign, logabsdet = xp.linalg.slogdet(a)
        sign, logabsdet = xp.asarray(sign), xp.asarray(logabsdet)
        ctx.save_for_backward(a)
        return sign, logabsdet  # sign has no gradient (piecewise constant), as torch

    @staticmethod
    def backward(ctx, grad_sign, grad_logabsdet):
        (a,) = ctx.saved_tensors
        if grad_logabsdet is None:
            return None
        return grad_logabsdet.unsqueeze(-1).unsqueeze(-1) * Inv.apply(a).mT


def slogdet(A: Tensor, *, out=None) -> SlogdetResult:  # noqa: N803
    """Sign and natural log of the absolute value of the determinant; finite where ``det``
    would under- or overflow. Only ``logabsdet`` passes a gradient back.

    Returns:
        namedtuple ``(sign, logabsdet)``, each of shape (*).

    Example:
        >>> deepgrad.linalg.slogdet(deepgrad.tensor([[1., 2.], [3., 4.]]))
        linalg_slogdet(sign=tensor(-1.), logabsdet=tensor(0.6931))
    """
    check_matrix("linalg.slogdet", A)
    return SlogdetResult(*Slogdet.apply(A))


def logdet(input: Tensor) -> Tensor:  # noqa: A002
    """log(det(input)): nan where the determinant is negative, -inf where it is 0.

    Example:
        >>> deepgrad.logdet(deepgrad.eye(3) * 2)
        tensor(2.0794)
    """
    check_matrix("logdet", input)
    sign, logabsdet = Slogdet.apply(input)
    if (sign._data > 0).all():
        return logabsdet
    xp = array_module(sign._data)
    # log(sign): 0 for +1, nan for -1 (sign 0 already gives logabsdet = -inf)
    offset = xp.where(sign._data < 0, xp.nan, 0).astype(sign._data.dtype)
    return logabsdet + Tensor._make(offset)


# ---------------------------------------------------------------- solves

class Solve(Function):
    """X with A X = B for matrices B (vector right-hand sides are reshaped by ``solve``);
    batch dims broadcast and their gradients are summed back."""

    raw = True

    @staticmethod
    def forward(ctx, a, b):
        xp = array_module(a)
        try:
            result = xp.linalg.solve(a, b)
        except xp.linalg.LinAlgError:
            raise _singular_error("torch.linalg.solve", a, lambda pivot: (
                "The solver failed because the input matrix is singular.")) from None
        ctx.shapes = a.shape, b.shape
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        from .shape import sum_to_shape  # noqa: PLC0415

        a, result = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        grad_b = Solve.apply(a.mT, grad_out)  # A^{-T} gX, (broadcast batch, n, k)
        grad_a = None
        if ctx.needs_input_grad[0]:
            grad_a = -(grad_b @ result.mT)
            if grad_a.shape != a_shape:
                grad_a = sum_to_shape(grad_a, a_shape)
        if not ctx.needs_input_grad[1]:
            grad_b = None
        elif grad_b.shape != b_shape:
            grad_b = sum_to_shape(grad_b, b_shape)
        return grad_a, grad_b


def solve(A: Tensor, B: Tensor, *, left: bool = True, out=None) -> Tensor:  # noqa: N803
    """Solution X of ``A X = B`` (``X A = B`` with ``left=False``) for square invertible A.

    B is a batch of vectors when it is 1-d or has shape A.shape[:-1]; otherwise a batch of
    matrices. Batch dims broadcast.

    Shape:
        A (*, n, n), B (*, n) or (*, n, k) -> X with B's shape (batch dims broadcast)

    Example:
        >>> A = deepgrad.tensor([[3., 1.], [1., 2.]])
        >>> deepgrad.linalg.solve(A, deepgrad.tensor([9., 8.]))
        tensor([2., 3.])
    """
    check_matrix("linalg.solve", A)
    if A._data.dtype != B._data.dtype:
        raise _errors.op_error(
            RuntimeError, "linalg.solve",
            f"Expected A and B to have the same dtype, but found A of type "
            f"{_TORCH_NAMES[A.dtype.name]} and B of type {_TORCH_NAMES[B.dtype.name]} instead",
            A=A, B=B)
    given = {"A": A, "B": B}  # for error messages, before any reshaping
    a_shape, b_shape = A._data.shape, B._data.shape
    vector = len(b_shape) == 1 or (len(b_shape) == len(a_shape) - 1 and b_shape == a_shape[:-1])
    if vector:
        B = B.unsqueeze(-1)  # noqa: N806
    elif len(b_shape) < 2:
        raise _errors.op_error(RuntimeError, "linalg.solve", "The input tensor B must have at "
                               "least 1 dimension.", **given)
    n = a_shape[-1]
    rows, cols = B._data.shape[-2:]
    if not left and vector and n == 1:
        raise _errors.op_error(
            RuntimeError, "linalg.solve", "Vector broadcasting of the left hand side is not "
            "supported for left=False. In this case linalg.solve is equivalent to B / "
            "A.squeeze(-1)", **given)
    if (cols if not left else rows) != n:
        raise _errors.op_error(
            RuntimeError, "linalg.solve", f"Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {rows}x{cols})", **given)
    if not left:
        A, B = A.mT, B.mT  # noqa: N806 - X A = B  <=>  A^T X^T = B^T
    result = Solve.apply(A, B)
    if vector:
        return result.squeeze(-1)
    return result if left else result.mT


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,  # noqa: N803
                     unitriangular: bool = False, out=None) -> Tensor:
    """Solution of a triangular system ``A X = B`` (``X A = B`` with ``left=False``).

    Only the triangle named by ``upper`` of A is read (and receives gradient); with
    ``unitriangular`` its diagonal is taken to be ones.

    Shape:
        A (*, n, n), B (*, n, k) -> (*, n, k)

    Example:
        >>> L = deepgrad.tensor([[2., 0.], [1., 1.]])
        >>> deepgrad.linalg.solve_triangular(L, deepgrad.tensor([[2.], [2.]]), upper=False)
        tensor([[1.],
                [1.]])
    """
    check_matrix("linalg.solve_triangular", A)
    check_matrix("linalg.solve_triangular", B, square=False, name="B")
    n = A._data.shape[-1]
    xp = array_module(A._data)
    dtype = A._data.dtype
    mask = xp.triu(xp.ones((n, n), dtype), 1 if unitriangular else 0) if upper else xp.tril(
        xp.ones((n, n), dtype), -1 if unitriangular else 0)
    triangle = A * Tensor._make(mask)
    if unitriangular:
        triangle = triangle + Tensor._make(xp.eye(n, dtype=dtype))
    return solve(triangle, B, left=left)


def matrix_power(A: Tensor, n: int, *, out=None) -> Tensor:  # noqa: N803
    """A to the integer power n by repeated squaring; n = 0 gives the identity, n < 0 the
    power of the inverse.

    Example:
        >>> deepgrad.linalg.matrix_power(deepgrad.tensor([[1., 1.], [0., 1.]]), 3)
        tensor([[1., 3.],
                [0., 1.]])
    """
    check_matrix("linalg.matrix_power", A, floating=n < 0)
    if n == 0:
        xp = array_module(A._data)
        identity = xp.broadcast_to(xp.eye(A._data.shape[-1], dtype=A._data.dtype), A._data.shape)
        return A * 0 + Tensor._make(identity) if A._requires_grad else Tensor._make(
            identity.copy())
    if n < 0:
        A = inv(A)  # noqa: N806
        n = -n
    result = None
    power = A
    while n:
        if n & 1:
            result = power if result is None else result @ power
        n >>= 1
        if n:
            power = power @ power
    return result


Tensor.det = det
Tensor.logdet = logdet
Tensor.slogdet = slogdet
Tensor.inverse = inverse
Tensor.matrix_power = matrix_power
