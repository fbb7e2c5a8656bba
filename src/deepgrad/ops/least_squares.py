"""Pseudo-inverse, rank and least squares: pinv (with torch's closed-form backward, which
needs no SVD gradient and so is fine with repeated singular values), matrix_rank, lstsq.
"""

from __future__ import annotations

from collections import namedtuple

from .. import _errors
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import array_module
from .factorization import svdvals
from .inverse import check_matrix

__all__ = ["pinverse"]

LstsqResult = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


def _constant(array) -> Tensor:
    return Tensor._make(array)


def _tolerance(A: Tensor, s_max, atol, rtol):  # noqa: N803
    """torch's cut-off max(atol, rtol * s_max); rtol defaults to eps * max(m, n), or to 0
    where a positive atol is given. ``s_max`` has shape (*, 1)."""
    xp = array_module(A._data)
    m, n = A._data.shape[-2:]
    atol = 0.0 if atol is None else _per_matrix(xp, atol)
    if rtol is None:
        default = xp.finfo(A._data.dtype).eps * max(m, n)
        rtol = xp.where(xp.asarray(atol) > 0, 0.0, default)
    else:
        rtol = _per_matrix(xp, rtol)
    return xp.maximum(atol, rtol * s_max)


def _per_matrix(xp, value):
    """A float, or a tensor of batch shape (*) as an array of shape (*, 1)."""
    data = value._data if isinstance(value, Tensor) else xp.asarray(value)
    return data[..., None] if data.ndim else data


class Pinv(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian):
        xp = array_module(a)
        if hermitian:
            w, q = xp.linalg.eigh(a)
            magnitude = xp.abs(w)
            keep = magnitude > _tolerance(Tensor._make(a), magnitude.max(-1, keepdims=True),
                                          atol, rtol)
            w_inv = xp.where(keep, 1 / xp.where(keep, w, 1), 0).astype(a.dtype)
            result = (q * w_inv[..., None, :]) @ xp.swapaxes(q, -1, -2)
        else:
            u, s, vh = xp.linalg.svd(a, full_matrices=False)
            keep = s > _tolerance(Tensor._make(a), s[..., :1], atol, rtol)
            s_inv = xp.where(keep, 1 / xp.where(keep, s, 1), 0).astype(a.dtype)
            result = (xp.swapaxes(vh, -1, -2) * s_inv[..., None, :]) @ xp.swapaxes(u, -1, -2)
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        a, pinv_a = ctx.saved_tensors
        m, n = a._data.shape[-2:]
        pinv_t, grad_t = pinv_a.mT, grad_out.mT
        if m <= n:
            k = grad_t @ pinv_a
            k_pinv_t = k @ pinv_t
            return (-(pinv_a @ k).mT + k_pinv_t - (a @ pinv_a) @ k_pinv_t
                    + (pinv_t @ pinv_a) @ (grad_t - k @ a))
        k = pinv_a @ grad_t
        pinv_t_k = pinv_t @ k
        return (-(k @ pinv_a).mT + ((grad_t - a @ k) @ pinv_a) @ pinv_t + pinv_t_k
                - (pinv_t_k @ pinv_a) @ a)


def pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False, out=None) -> Tensor:  # noqa: N803
    """Moore-Penrose pseudo-inverse: singular values below max(atol, rtol * s_max) count as 0.

    Args:
        A: (*, m, n) tensor.
        atol, rtol: absolute / relative cut-offs (rtol defaults to eps * max(m, n) unless a
            positive atol is given).
        hermitian: A is symmetric (uses eigh; only the lower triangle is read).

    Shape:
        (*, m, n) -> (*, n, m)

    Example:
        >>> deepgrad.linalg.pinv(deepgrad.tensor([[1., 0.], [0., 0.]]))
        tensor([[1., 0.],
                [0., 0.]])
    """
    check_matrix("linalg.pinv", A, square=hermitian)
    return Pinv.apply(A, atol, rtol, hermitian)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:  # noqa: A002
    """``torch.pinverse``: ``linalg.pinv`` with ``rtol=rcond``."""
    return pinv(input, rtol=rcond)


def matrix_rank(A: Tensor, tol=None, hermitian: bool = False, *, atol=None, rtol=None,  # noqa: N803
                out=None) -> Tensor:
    """Number of singular values above max(atol, rtol * s_max), as int64 (``tol`` is the
    older spelling of ``atol``).

    Example:
        >>> deepgrad.linalg.matrix_rank(deepgrad.tensor([[1., 2.], [2., 4.]]))
        tensor(1)
    """
    check_matrix("linalg.matrix_rank", A, square=hermitian)
    if tol is not None:
        atol, rtol = tol, 0.0
    xp = array_module(A._data)
    if hermitian:
        s = xp.abs(xp.linalg.eigvalsh(A._data))
        s_max = s.max(-1, keepdims=True) if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,))
    else:
        s = xp.linalg.svd(A._data, compute_uv=False)
        s_max = s[..., :1] if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,))
    tolerance = _tolerance(A, s_max, atol, rtol)
    return _constant((s > tolerance).sum(-1).astype(xp.int64))


def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None) -> LstsqResult:  # noqa: N803
    """Least-squares solution of A X = B (min ||A X - B||), via the pseudo-inverse.

    Returns:
        namedtuple ``(solution, residuals, rank, singular_values)``. As torch's default CPU
        driver ``"gelsy"``: ``residuals`` and ``singular_values`` are empty and ``rank`` is
        computed; with ``"gelsd"``/``"gelss"`` the singular values are filled in and, for
        full-rank tall A, the residuals (squared norms of each column of A X - B).

    Example:
        >>> A = deepgrad.tensor([[1., 0.], [0., 1.], [0., 0.]])
        >>> deepgrad.linalg.lstsq(A, deepgrad.tensor([[1.], [2.], [3.]])).solution
        tensor([[1.],
                [2.]])
    """
    check_matrix("linalg.lstsq", A, square=False)
    driver = driver or "gelsy"
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, "
                           f"gelsy, gelsd, gelss), but got {driver}")
    if A._data.dtype != B._data.dtype:
        raise _errors.op_error(RuntimeError, "torch.linalg.lstsq", "Expected A and B to have "
                               "the same dtype", A=A, B=B)
    vector = B._data.ndim == A._data.ndim - 1
    rhs = B.unsqueeze(-1) if vector else B
    if rhs._data.shape[-2] != A._data.shape[-2]:
        raise _errors.op_error(RuntimeError, "torch.linalg.lstsq", "A and B must have the same "
                               "number of rows", A=A, B=B)
    xp = array_module(A._data)
    m, n = A._data.shape[-2:]
    if rcond is None:
        rcond = float(xp.finfo(A._data.dtype).eps) * max(m, n)
    solution = pinv(A, rtol=rcond) @ rhs
    empty = _constant(xp.zeros((0,), A._data.dtype))
    rank = matrix_rank(A, rtol=rcond) if driver != "gels" else _constant(
        xp.zeros((0,), xp.int64))
    values = svdvals(A).detach() if driver in ("gelsd", "gelss") else empty
    residuals = empty
    if driver != "gelsy" and m > n and bool((rank._data == n).all()):
        error = A @ solution - rhs
        residuals = (error * error).sum(-2)
    return LstsqResult(solution.squeeze(-1) if vector else solution, residuals, rank, values)


Tensor.pinverse = pinverse
