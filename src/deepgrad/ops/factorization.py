"""Matrix factorizations: cholesky, eigh, svd, qr (each with a backward written in deepgrad
ops, so twice differentiable) and eig/eigvals (forward only).

Backward formulas (real case; torch's conventions, the symmetric/skew projections
included so gradients match torch's element for element):
    cholesky: gA = L^{-T} Phi(L^T gL) L^{-1}, Phi = lower triangle, diagonal halved,
              mirrored to a symmetric matrix
    eigh:     gA = Q (diag(gw) + skew(Q^T gQ) / E) Q^T,  E_ij = w_j - w_i
    svd:      gA = U ((skew(U^T gU) S + S skew(V^T gV)) / E + diag(gS)) Vh (+ the terms for
              the part of a non-square A outside span(U) or span(V)),  E_ij = s_j^2 - s_i^2
    qr:       gA = (gQ + Q copyutl(gR R^T - Q^T gQ)) R^{-T}  (m >= n)
Eigenvalues (singular values) are assumed distinct where eigenvector (singular vector)
gradients are needed, as torch assumes.
"""

from __future__ import annotations

import warnings
from collections import namedtuple

from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import array_module
from .inverse import LinAlgError, Solve, _batch_prefix, check_matrix

__all__ = ["cholesky", "svd", "qr"]

EighResult = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
EigResult = namedtuple("linalg_eig", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("linalg_svd", ["U", "S", "Vh"])
QRResult = namedtuple("linalg_qr", ["Q", "R"])
LegacySVDResult = namedtuple("svd", ["U", "S", "V"])
LegacyQRResult = namedtuple("qr", ["Q", "R"])


def _constant(array) -> Tensor:
    return Tensor._make(array)


def _eye(like: Tensor, rows: int, cols: int | None = None, k: int = 0) -> Tensor:
    xp = array_module(like._data)
    return _constant(xp.eye(rows, cols, k, dtype=like._data.dtype))


def _tril(x: Tensor, k: int = 0) -> Tensor:
    """Lower triangle of the last two dims, as a product with a constant mask."""
    xp = array_module(x._data)
    rows, cols = x._data.shape[-2:]
    return x * _constant(xp.tri(rows, cols, k, dtype=x._data.dtype))


def _triu(x: Tensor, k: int = 0) -> Tensor:
    xp = array_module(x._data)
    rows, cols = x._data.shape[-2:]
    return x * _constant(1 - xp.tri(rows, cols, k - 1, dtype=x._data.dtype))


def _solve_right(x: Tensor, a: Tensor) -> Tensor:
    """x a^{-1}, via (a^{-T} x^T)^T."""
    return Solve.apply(a.mT, x.mT).mT


# ---------------------------------------------------------------- cholesky

class Cholesky(Function):
    raw = True

    @staticmethod
    def forward(ctx, a):
        xp = array_module(a)
        try:
            result = xp.linalg.cholesky(a)
        except xp.linalg.LinAlgError:
            raise _not_positive_definite(a) from None
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        (lower,) = ctx.saved_tensors
        phi = _tril(lower.mT @ grad_out)
        phi = 0.5 * (phi + _tril(phi, -1).mT)  # symmetric; diagonal halved
        grad_a = Solve.apply(lower.mT, phi)  # L^{-T} Phi
        return _solve_right(grad_a, lower)  # ... L^{-1}


def _not_positive_definite(a) -> LinAlgError:
    xp = array_module(a)
    flat = a.reshape((-1,) + a.shape[-2:])
    for i, matrix in enumerate(flat):
        for order in range(1, matrix.shape[-1] + 1):
            try:
                xp.linalg.cholesky(matrix[:order, :order])
            except xp.linalg.LinAlgError:
                return LinAlgError(
                    f"linalg.cholesky: {_batch_prefix(a.shape, i)}The factorization could not be "
                    "completed because the input is not positive-definite (the leading minor of "
                    f"order {order} is not positive-definite).")
    return LinAlgError("linalg.cholesky: The factorization could not be completed because the "
                       "input is not positive-definite.")


def linalg_cholesky(A: Tensor, *, upper: bool = False, out=None) -> Tensor:  # noqa: N803
    """Cholesky factor of a symmetric positive-definite matrix: A = L L^T (upper: A = U^T U).

    Only the lower triangle of A is read. Raises ``LinAlgError`` naming the first leading
    minor that is not positive-definite.

    Shape:
        (*, n, n) -> (*, n, n)

    Example:
        >>> deepgrad.linalg.cholesky(deepgrad.tensor([[4., 2.], [2., 2.]]))
        tensor([[2., 0.],
                [1., 1.]])
    """
    check_matrix("linalg.cholesky", A)
    lower = Cholesky.apply(A)
    return lower.mT if upper else lower


def cholesky(input: Tensor, upper: bool = False, *, out=None) -> Tensor:  # noqa: A002
    """``torch.cholesky`` (deprecated in torch for ``linalg.cholesky``; warns the same)."""
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be "
                  "removed in a future PyTorch release.", UserWarning, stacklevel=2)
    return linalg_cholesky(input, upper=upper)


# ---------------------------------------------------------------- symmetric eigenproblem

class Eigh(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, uplo):
        eigenvalues, eigenvectors = array_module(a).linalg.eigh(a, UPLO=uplo)
        ctx.save_for_backward(eigenvalues, eigenvectors)
        ctx.set_materialize_grads(False)
        return eigenvalues, eigenvectors

    @staticmethod
    def backward(ctx, grad_values, grad_vectors):
        w, q = ctx.saved_tensors
        n = w._data.shape[-1]
        inner = None
        if grad_vectors is not None:
            projected = q.mT @ grad_vectors
            # E_ij = w_j - w_i, with 1 on the diagonal where the skew part is 0 anyway
            gaps = w.unsqueeze(-2) - w.unsqueeze(-1) + _eye(w, n)
            inner = 0.5 * (projected - projected.mT) / gaps
        if grad_values is not None:
            diagonal = grad_values.unsqueeze(-2) * _eye(w, n)
            inner = diagonal if inner is None else inner + diagonal
        return q @ inner @ q.mT


def eigh(A: Tensor, UPLO: str = "L", *, out=None) -> EighResult:  # noqa: N803
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix.

    Only the triangle named by ``UPLO`` ("L" or "U") is read. Eigenvectors are unique up to
    sign; their gradient assumes distinct eigenvalues.

    Returns:
        namedtuple ``(eigenvalues (*, n), eigenvectors (*, n, n))``, A = Q diag(w) Q^T.

    Example:
        >>> w, Q = deepgrad.linalg.eigh(deepgrad.tensor([[2., 1.], [1., 2.]]))
        >>> w
        tensor([1., 3.])
    """
    check_matrix("linalg.eigh", A)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"linalg.eigh: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return EighResult(*Eigh.apply(A, UPLO))


def eigvalsh(A: Tensor, UPLO: str = "L", *, out=None) -> Tensor:  # noqa: N803
    """Eigenvalues (ascending) of a symmetric matrix; see ``eigh``.

    Example:
        >>> deepgrad.linalg.eigvalsh(deepgrad.tensor([[2., 1.], [1., 2.]]))
        tensor([1., 3.])
    """
    check_matrix("linalg.eigvalsh", A)
    return eigh(A, UPLO)[0]


def eig(A: Tensor, *, out=None) -> EigResult:  # noqa: N803
    """Eigenvalues and eigenvectors of a general square matrix, as complex tensors (torch
    always returns complex here). Forward only.

    Example:
        >>> deepgrad.linalg.eig(deepgrad.tensor([[0., -1.], [1., 0.]])).eigenvalues.tolist()
        [1j, -1j]
    """
    check_matrix("linalg.eig", A)
    xp = array_module(A._data)
    values, vectors = xp.linalg.eig(A._data)
    complex_dtype = xp.complex64 if A._data.dtype == xp.float32 else xp.complex128
    return EigResult(_constant(values.astype(complex_dtype)),
                     _constant(vectors.astype(complex_dtype)))


def eigvals(A: Tensor, *, out=None) -> Tensor:  # noqa: N803
    """Eigenvalues of a general square matrix, complex (see ``eig``). Forward only."""
    check_matrix("linalg.eigvals", A)
    return eig(A).eigenvalues


# ---------------------------------------------------------------- singular values

class SVD(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, full_matrices):
        u, s, vh = array_module(a).linalg.svd(a, full_matrices=full_matrices)
        ctx.full = full_matrices
        ctx.save_for_backward(u, s, vh)
        ctx.set_materialize_grads(False)
        return u, s, vh

    @staticmethod
    def backward(ctx, grad_u, grad_s, grad_vh):
        u, s, vh = ctx.saved_tensors
        m, n = u._data.shape[-2], vh._data.shape[-1]
        k = s._data.shape[-1]
        if ctx.full:  # only the first k singular vectors are determined by A
            if m > k:
                u = u @ _eye(s, m, k)
                grad_u = grad_u @ _eye(s, m, k) if grad_u is not None else None
            if n > k:
                vh = _eye(s, k, n) @ vh
                grad_vh = _eye(s, k, n) @ grad_vh if grad_vh is not None else None
        return _svd_backward(grad_u, grad_s, grad_vh, u, s, vh, m, n, k)


def _svd_backward(grad_u, grad_s, grad_vh, u, s, vh, m, n, k):
    if grad_u is None and grad_vh is None:  # singular values only: U diag(gS) Vh
        if grad_s is None:
            return None
        return u @ (grad_s.unsqueeze(-1) * vh) if m >= n else (u * grad_s.unsqueeze(-2)) @ vh
    s_row, s_col = s.unsqueeze(-2), s.unsqueeze(-1)
    squares = s * s
    gaps = squares.unsqueeze(-2) - squares.unsqueeze(-1) + _eye(s, k)  # E_ij = s_j^2 - s_i^2
    if grad_u is not None:
        uhgu = u.mT @ grad_u
        uhgu = uhgu - uhgu.mT
    if grad_vh is not None:
        vhgv = vh @ grad_vh.mT
        vhgv = vhgv - vhgv.mT
    if grad_u is not None and grad_vh is not None:
        inner = (uhgu * s_row + s_col * vhgv) / gaps
    elif grad_u is not None:
        inner = uhgu * (s_row / gaps)
    else:
        inner = s_col * (vhgv / gaps)
    if grad_s is not None:
        inner = inner + grad_s.unsqueeze(-2) * _eye(s, k)
    if m > n and grad_u is not None:  # plus (I - U U^T) gU S^{-1}, outside span(U)
        grad_a = u @ inner
        scaled = grad_u / s_row
        grad_a = grad_a + scaled - u @ (u.mT @ scaled)
        return grad_a @ vh
    if m < n and grad_vh is not None:  # plus S^{-1} gVh (I - V V^T)
        grad_a = inner @ vh
        scaled = grad_vh / s_col
        grad_a = grad_a + scaled - (scaled @ vh.mT) @ vh
        return u @ grad_a
    return u @ (inner @ vh) if m >= n else (u @ inner) @ vh


def linalg_svd(A: Tensor, full_matrices: bool = True, *, driver=None, out=None) -> SVDResult:  # noqa: N803
    """Singular value decomposition A = U diag(S) Vh, singular values descending.

    Args:
        A: (*, m, n) tensor.
        full_matrices: full square U (m, m) and Vh (n, n), or the reduced (m, k), (k, n)
            with k = min(m, n).
        driver: accepted for compatibility (CUDA only in torch).

    Returns:
        namedtuple ``(U, S, Vh)``. Singular vectors are unique up to sign; their gradient
        assumes distinct singular values.

    Example:
        >>> deepgrad.linalg.svd(deepgrad.tensor([[3., 0.], [0., 4.]])).S
        tensor([4., 3.])
    """
    check_matrix("linalg.svd", A, square=False)
    return SVDResult(*SVD.apply(A, full_matrices))


def svdvals(A: Tensor, *, driver=None, out=None) -> Tensor:  # noqa: N803
    """Singular values, descending; differentiable everywhere they are (U diag(gS) Vh).

    Example:
        >>> deepgrad.linalg.svdvals(deepgrad.tensor([[3., 0.], [0., 4.]]))
        tensor([4., 3.])
    """
    check_matrix("linalg.svdvals", A, square=False)
    return SVD.apply(A, False)[1]


def svd(input: Tensor, some: bool = True, compute_uv: bool = True, *, out=None):  # noqa: A002
    """``torch.svd``: returns ``(U, S, V)`` (V, not Vh); ``some=False`` gives full U and V;
    ``compute_uv=False`` returns zero-filled U (m, m) and V (n, n)."""
    if not compute_uv:
        xp = array_module(input._data)
        m, n = input._data.shape[-2:]
        batch = input._data.shape[:-2]
        s = svdvals(input)
        return LegacySVDResult(_constant(xp.zeros(batch + (m, m), input._data.dtype)), s,
                               _constant(xp.zeros(batch + (n, n), input._data.dtype)))
    u, s, vh = linalg_svd(input, full_matrices=not some)
    return LegacySVDResult(u, s, vh.mT)


# ---------------------------------------------------------------- QR

class QR(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, mode):
        q, r = array_module(a).linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
        ctx.mode = mode
        ctx.save_for_backward(q, r)
        ctx.set_materialize_grads(False)
        return q, r

    @staticmethod
    def backward(ctx, grad_q, grad_r):
        q, r = ctx.saved_tensors
        m, n = q._data.shape[-2], r._data.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("linalg.qr: The QR decomposition is not differentiable when "
                               "mode='complete' and nrows > ncols.")
        if m >= n:
            return _qr_backward_tall(grad_q, grad_r, q, r)
        # m < n: A = Q [R1 R2], with A1 = Q R1 a square QR and R2 = Q^T A2
        head, tail = _eye(r, n, m), _eye(r, n, n - m, -m)  # column selectors (n, m), (n, n-m)
        r1 = r @ head
        grad_r2 = grad_r @ tail if grad_r is not None else None
        grad_r1 = grad_r @ head if grad_r is not None else None
        a2 = q @ (r @ tail)
        if grad_r2 is not None:
            grad_q = a2 @ grad_r2.mT if grad_q is None else grad_q + a2 @ grad_r2.mT
        grad_a1 = _qr_backward_tall(grad_q, grad_r1, q, r1)
        grad_a = grad_a1 @ head.mT
        if grad_r2 is not None:
            grad_a = grad_a + (q @ grad_r2) @ tail.mT
        return grad_a


def _qr_backward_tall(grad_q, grad_r, q, r):
    """gA = (gQ + Q copyutl(M)) R^{-T}, M = gR R^T - Q^T gQ (copyutl mirrors the upper
    triangle onto the lower one)."""
    if grad_r is not None:
        m = grad_r @ r.mT
        if grad_q is not None:
            m = m - q.mT @ grad_q
    else:
        m = -(q.mT @ grad_q)
    mirrored = _triu(m) + _triu(m, 1).mT
    b = q @ mirrored
    if grad_q is not None:
        b = b + grad_q
    return _solve_right(b, r.mT)


def linalg_qr(A: Tensor, mode: str = "reduced", *, out=None) -> QRResult:  # noqa: N803
    """QR decomposition A = Q R with Q orthonormal columns and R upper triangular.

    Args:
        A: (*, m, n) tensor.
        mode: "reduced" (Q (m, k), R (k, n)), "complete" (Q (m, m), R (m, n)) or "r" (only R;
            Q is an empty tensor, and R is not differentiable).

    Example:
        >>> Q, R = deepgrad.linalg.qr(deepgrad.tensor([[3., 0.], [4., 5.]]))
        >>> (Q @ R).round()
        tensor([[3., 0.],
                [4., 5.]])
    """
    check_matrix("linalg.qr", A, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    if mode == "r":
        xp = array_module(A._data)
        r = xp.linalg.qr(A._data, mode="r")
        return QRResult(_constant(xp.zeros((0,), A._data.dtype)), _constant(r))
    return QRResult(*QR.apply(A, mode))


def qr(input: Tensor, some: bool = True, *, out=None) -> LegacyQRResult:  # noqa: A002
    """``torch.qr`` (deprecated in torch for ``linalg.qr``; warns the same)."""
    warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a "
                  "future PyTorch release.", UserWarning, stacklevel=2)
    return LegacyQRResult(*linalg_qr(input, "reduced" if some else "complete"))


Tensor.cholesky = cholesky
Tensor.svd = svd
Tensor.qr = qr
