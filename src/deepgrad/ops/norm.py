"""Norms and distances: ``linalg.vector_norm`` (one primitive with torch's gradient
conventions at 0 and at ties), ``linalg.matrix_norm`` and ``linalg.norm`` composed from it
and from singular values, the legacy ``torch.norm`` / ``Tensor.norm``, ``linalg.cond``, and
``cdist`` (a GEMM-based Euclidean primitive; other p through ``vector_norm``).
"""

from __future__ import annotations

import math

from .. import _errors
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import array_module
from .reduction import keepdim_shape, normalize_dims

__all__ = ["norm", "cdist"]

_INF = math.inf


class AbsPow(Function):
    """|x| ** exponent, with the derivative sign(x) * exponent * |x| ** (exponent - 1)
    (itself an AbsPow, so every order of derivative is available)."""

    raw = True

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.exponent = exponent
        ctx.save_for_backward(x)
        xp = array_module(x)
        with xp.errstate(divide="ignore"):
            return xp.abs(x) ** exponent

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        exponent = ctx.exponent
        sign = Tensor._make(array_module(x._data).sign(x._data))
        return grad_out * (exponent * sign) * AbsPow.apply(x, exponent - 1)


class VectorNorm(Function):
    """(sum |x|^p)^(1/p) over ``dims``; p = 0 counts non-zeros, p = +-inf is max/min |x|.

    Gradient conventions (torch's): 0 where the norm is 0; at ties of the inf-norms the
    gradient is shared evenly; for p < 1 entries equal to 0 get 0.
    """

    raw = True

    @staticmethod
    def forward(ctx, x, ord, dims, keepdim):  # noqa: A002
        xp = array_module(x)
        if ord == 2:
            result = xp.sqrt((x * x).sum(axis=dims, keepdims=keepdim))
        elif ord == 1:
            result = xp.abs(x).sum(axis=dims, keepdims=keepdim)
        elif ord == _INF:
            result = xp.abs(x).max(axis=dims, keepdims=keepdim)
        elif ord == -_INF:
            result = xp.abs(x).min(axis=dims, keepdims=keepdim)
        elif ord == 0:
            result = (x != 0).sum(axis=dims, keepdims=keepdim).astype(x.dtype)
        else:
            with xp.errstate(divide="ignore"):
                powers = xp.abs(x) ** ord
                result = powers.sum(axis=dims, keepdims=keepdim) ** (1 / ord)
        result = xp.asarray(result, dtype=x.dtype)
        ctx.ord, ctx.dims, ctx.keepdim = ord, dims, keepdim
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        x, result = ctx.saved_tensors
        ord = ctx.ord  # noqa: A001
        xp = array_module(x._data)
        if ord == 0:
            return Tensor._make(xp.zeros_like(x._data))
        if not ctx.keepdim:
            shape = keepdim_shape(x._data.shape, ctx.dims)
            grad_out = grad_out.reshape(shape)
            result = result.reshape(shape)
        if ord == 1:
            return grad_out * Tensor._make(xp.sign(x._data))
        if ord in (_INF, -_INF):  # share the gradient among the entries at the max (min)
            hits = (xp.abs(x._data) == result._data).astype(x._data.dtype)
            weights = xp.sign(x._data) * hits / hits.sum(axis=ctx.dims, keepdims=True)
            return grad_out * Tensor._make(weights)
        zero = result._data == 0
        if zero.any():  # no derivative where the norm is 0: torch's gradient there is 0
            mask = Tensor._make(zero.astype(x._data.dtype))
            scale = grad_out * (1 - mask) / _norm_power(result + mask, ord)
        else:
            scale = grad_out / _norm_power(result, ord)
        if ord == 2:
            return x * scale
        sign = Tensor._make(xp.sign(x._data))
        if ord < 1 and not x._data.all():
            # |0|^(p-1) is infinite for p < 1; torch gives those entries 0 (sign(0) = 0)
            x = x + Tensor._make((x._data == 0).astype(x._data.dtype))
        return AbsPow.apply(x, ord - 1) * sign * scale


def _norm_power(result: Tensor, ord: float) -> Tensor:  # noqa: A002
    """norm^(p-1), the denominator of the p-norm's gradient."""
    return result if ord == 2 else AbsPow.apply(result, ord - 1)


def vector_norm(x: Tensor, ord: float = 2, dim=None, keepdim: bool = False, *,  # noqa: A002
                dtype=None, out=None) -> Tensor:
    """The vector p-norm over ``dim`` (all dims when None): (sum |x|^ord)^(1/ord).

    Args:
        x: floating-point tensor.
        ord: any real number, ``inf`` (max |x|), ``-inf`` (min |x|) or 0 (number of non-zeros).
        dim: int, tuple of ints, or None (the tensor is flattened).
        keepdim: keep reduced dims as size 1.
        dtype: cast ``x`` to this dtype first.

    Example:
        >>> deepgrad.linalg.vector_norm(deepgrad.tensor([3., -4.]))
        tensor(5.)
        >>> deepgrad.linalg.vector_norm(deepgrad.tensor([3., -4.]), ord=float("inf"))
        tensor(4.)
    """
    if isinstance(ord, str):
        raise TypeError("linalg_vector_norm(): argument 'ord' must be Number, not str")
    if dtype is not None:
        from .promotion import cast  # noqa: PLC0415

        x = cast(x, dtype.numpy)
    if x._data.dtype.kind != "f":
        raise _errors.op_error(RuntimeError, "linalg.vector_norm", "Expected a floating point "
                               f"or complex tensor as input. Got {x.dtype.name}", x=x)
    ndim = x._data.ndim
    dims = None if ndim == 0 or dim is None else normalize_dims("linalg.vector_norm", dim, ndim)
    if (ord < 0 or ord == _INF) and _reduces_empty(x._data.shape, dims):
        raise _errors.op_error(
            RuntimeError, "linalg.vector_norm", f"cannot compute the {_ord_name(ord)} norm on an "
            "empty tensor because the operation does not have an identity", x=x)
    return VectorNorm.apply(x, float(ord), dims, keepdim)


def _reduces_empty(shape, dims) -> bool:
    if dims is None:
        return 0 in shape
    return any(shape[d] == 0 for d in dims)


def _ord_name(ord) -> str:  # noqa: A002
    if ord in (_INF, -_INF):
        return "inf" if ord > 0 else "-inf"
    return f"{ord:g}"


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *,  # noqa: A002,N803
                dtype=None, out=None) -> Tensor:
    """A matrix norm over the two dims ``dim``.

    Args:
        A: (*, m, n) floating-point tensor.
        ord: "fro" (Frobenius), "nuc" (sum of singular values), 2 / -2 (largest / smallest
            singular value), 1 / -1 (max / min column sum of |A|), inf / -inf (max / min row
            sum of |A|).
        dim: the two matrix dims.
        keepdim: keep them as size 1.
        dtype: cast A to this dtype first.

    Example:
        >>> A = deepgrad.tensor([[1., -2.], [3., 4.]])
        >>> deepgrad.linalg.matrix_norm(A, ord=1)
        tensor(6.)
    """
    op = "linalg.matrix_norm"
    if A._data.ndim < 2:
        raise _errors.op_error(RuntimeError, op, "The input tensor A must have at least 2 "
                               "dimensions.", A=A)
    dim = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if len(dim) != 2:
        raise _errors.op_error(RuntimeError, op, f"dim must be a 2-tuple. Got "
                               f"{' '.join(str(d) for d in dim)}", A=A)
    ndim = A._data.ndim
    row, col = (normalize_dims(op, d, ndim)[0] for d in dim)
    if row == col:
        raise _errors.op_error(RuntimeError, op, f"dims must be different. Got {dim}", A=A)
    if dtype is not None:
        from .promotion import cast  # noqa: PLC0415

        A = cast(A, dtype.numpy)  # noqa: N806
    if ord == "fro":
        return vector_norm(A, 2, (row, col), keepdim)
    if ord in (1, -1, _INF, -_INF):
        # 1: max over columns of the column sums; inf: max over rows of the row sums
        inner, outer = (row, col) if ord in (1, -1) else (col, row)
        sums = vector_norm(A, 1, inner, keepdim=True)
        result = vector_norm(sums, _INF if ord > 0 else -_INF, outer, keepdim=True)
        return result if keepdim else result.squeeze((row, col))
    if ord in ("nuc", 2, -2):
        from .factorization import svdvals  # noqa: PLC0415

        order = [d for d in range(ndim) if d not in (row, col)] + [row, col]
        values = svdvals(A.permute(order) if order != list(range(ndim)) else A)
        if ord == "nuc":
            result = values.sum(-1)
        else:  # singular values are >= 0, so the +-inf vector norm is their max / min
            result = vector_norm(values, _INF if ord == 2 else -_INF, -1)
        if keepdim:
            for d in sorted((row, col)):
                result = result.unsqueeze(d)
        return result
    raise _errors.op_error(RuntimeError, op, f"Order {ord} not supported.", A=A)


def linalg_norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None,  # noqa: A002,N803
                out=None) -> Tensor:
    """A vector or matrix norm, chosen as torch does: a matrix norm when ``dim`` is a 2-tuple
    or (with ``dim=None`` and ``ord`` given) A is 2-d; otherwise a vector norm.

    Example:
        >>> A = deepgrad.tensor([[3., 0.], [0., 4.]])
        >>> deepgrad.linalg.norm(A), deepgrad.linalg.norm(A, ord=2)
        (tensor(5.), tensor(4.))
    """
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 2 or isinstance(ord, str):
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    ndim = A._data.ndim
    if ndim == 2 or ndim == 1 and isinstance(ord, str):  # string ord on 1-d: matrix_norm errs
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    raise _errors.op_error(RuntimeError, "linalg.norm", "If dim is not specified but ord is, "
                           f"the input must be 1D or 2D. Got {ndim}D.", A=A)


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, out=None,  # noqa: A002
         dtype=None) -> Tensor:
    """``torch.norm`` / ``Tensor.norm``: a number ``p`` is a vector norm over ``dim`` (all
    dims when None), "fro" the 2-norm of the entries, "nuc" the nuclear norm.

    Example:
        >>> deepgrad.tensor([[1., 2.], [2., 4.]]).norm()
        tensor(5.)
    """
    dims = [dim] if isinstance(dim, int) else dim
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            return vector_norm(input, 2, dims, keepdim, dtype=dtype)
        if dims is None:
            dims = list(range(input._data.ndim))
        return matrix_norm(input, p, dims, keepdim, dtype=dtype)
    return vector_norm(input, 2.0 if p is None else p, dims, keepdim, dtype=dtype)


def cond(A: Tensor, p=None, *, out=None) -> Tensor:  # noqa: N803
    """Condition number ||A|| ||A^{-1}|| in the ``p`` matrix norm; p = None or 2 (or -2) is
    the ratio of the largest to the smallest singular value (rectangular A allowed).

    Example:
        >>> deepgrad.linalg.cond(deepgrad.tensor([[1., 0.], [0., 4.]]))
        tensor(4.)
    """
    from .factorization import svdvals  # noqa: PLC0415
    from .inverse import check_matrix, inv  # noqa: PLC0415

    if p in (None, 2, -2):
        check_matrix("linalg.cond", A, square=False)
        values = svdvals(A)
        largest, smallest = vector_norm(values, _INF, -1), vector_norm(values, -_INF, -1)
        return largest / smallest if p != -2 else smallest / largest
    check_matrix("linalg.cond", A)
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


# ---------------------------------------------------------------- distances

class Cdist(Function):
    """Euclidean distances between the rows of two batches of matrices.

    The matrix-product form ``|x|^2 + |y|^2 - 2 x y^T`` (torch's choice above 25 rows) is
    clamped at 1e-30 before the square root, as torch; the gradient is 0 where a distance
    is 0 (or clamped), where the true derivative does not exist.
    """

    raw = True

    @staticmethod
    def forward(ctx, x1, x2, use_mm):
        xp = array_module(x1)
        if use_mm:  # (..., P, R) from one GEMM instead of a (..., P, R, M) difference tensor
            squared = ((x1 * x1).sum(-1)[..., :, None] + (x2 * x2).sum(-1)[..., None, :]
                       - 2 * (x1 @ xp.swapaxes(x2, -1, -2)))
            result = xp.sqrt(xp.maximum(squared, 1e-30))
            ctx.floor = 1e-15
        else:
            diff = x1[..., :, None, :] - x2[..., None, :, :]
            result = xp.sqrt((diff * diff).sum(-1))
            ctx.floor = 0.0
        ctx.save_for_backward(x1, x2, result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        x1, x2, dist = ctx.saved_tensors
        zero = dist._data <= ctx.floor
        if zero.any():  # no derivative at distance 0: torch's gradient there is 0
            mask = Tensor._make(zero.astype(dist._data.dtype))
            ratio = grad_out * (1 - mask) / (dist + mask)
        else:
            ratio = grad_out / dist  # (..., P, R)
        grad_x1 = grad_x2 = None
        if ctx.needs_input_grad[0]:
            grad_x1 = ratio.sum(-1, keepdim=True) * x1 - ratio @ x2
        if ctx.needs_input_grad[1]:
            grad_x2 = ratio.sum(-2).unsqueeze(-1) * x2 - ratio.mT @ x1
        return grad_x1, grad_x2


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """p-norm distances between each row of ``x1`` and each row of ``x2``.

    Args:
        x1: (*B, P, M) tensor.
        x2: (*B, R, M) tensor of the same dtype; batch dims broadcast.
        p: the norm's order (>= 0); p=2 uses a GEMM when P or R exceeds 25 (torch's default
            ``compute_mode``), ``"use_mm_for_euclid_dist"`` always, ``"donot_use_mm_for_
            euclid_dist"`` never.

    Shape:
        (*B, P, M), (*B, R, M) -> (*B, P, R)

    Example:
        >>> deepgrad.cdist(deepgrad.zeros(1, 2), deepgrad.tensor([[3., 4.]]))
        tensor([[5.]])
    """
    if x1._data.ndim < 2 or x2._data.ndim < 2:
        raise _errors.op_error(RuntimeError, "cdist", "only supports at least 2D tensors",
                               x1=x1, x2=x2)
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise _errors.op_error(RuntimeError, "cdist", "X1 and X2 must have the same number of "
                               "columns", x1=x1, x2=x2)
    if x1._data.dtype != x2._data.dtype:
        from .linalg import _check_dtypes  # noqa: PLC0415

        _check_dtypes("cdist", "x1", x1, "x2", x2)
    if x1._data.dtype.kind != "f":
        raise _errors.op_error(RuntimeError, "cdist", "only supports floating-point dtypes",
                               x1=x1, x2=x2)
    if p < 0:
        raise RuntimeError(f"cdist: only supports non-negative p values, got p={p}")
    batch1, batch2 = x1._data.shape[:-2], x2._data.shape[:-2]
    if batch1 != batch2:
        from .promotion import broadcast_shapes  # noqa: PLC0415

        batch = broadcast_shapes("cdist", batch1, batch2, "x1", "x2")
        x1 = x1.expand(batch + x1._data.shape[-2:])
        x2 = x2.expand(batch + x2._data.shape[-2:])
    if p == 2:
        rows1, rows2 = x1._data.shape[-2], x2._data.shape[-2]
        if compute_mode == "use_mm_for_euclid_dist_if_necessary":
            use_mm = rows1 > 25 or rows2 > 25
        elif compute_mode in ("use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"):
            use_mm = compute_mode == "use_mm_for_euclid_dist"
        else:
            raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
        return Cdist.apply(x1, x2, use_mm)
    return vector_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, -1)


Tensor.norm = norm
