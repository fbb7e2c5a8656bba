"""The course's hand methods for the inverse and the definiteness tests (mission.md §1).

- ``inv_adjugate``: A^{-1} = adj(A) / det(A), the adjugate being the transposed matrix of
  cofactors C_ij = (-1)^(i+j) det(M_ij). Built from deepgrad ops, so it is differentiable.
- ``inv_gauss_jordan``: row-reduce [A | I] to [I | A^{-1}] with elementary row operations
  and partial pivoting, optionally returning every step (operation, augmented matrix).
- ``is_positive_definite`` & co. and ``definiteness``: the signs of the eigenvalues of the
  symmetric part (x^T A x only sees (A + A^T) / 2), with a tolerance for round-off.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import backend
from ._tensor import Tensor
from .backend import array_module
from .ops.einsum import einsum
from .ops.factorization import eigvalsh
from .ops.inverse import LinAlgError, det


def _square(op: str, A: Tensor) -> None:  # noqa: N803
    shape = A._data.shape
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise RuntimeError(f"{op}: A must be a square matrix (or a batch of them); got A with "
                           f"shape {tuple(shape)}")


def _floating(A: Tensor) -> Tensor:  # noqa: N803
    """Integer matrices (common in exercises) become the default float dtype."""
    if A._data.dtype.kind == "f":
        return A
    return Tensor._make(A._data.astype(backend.get_default_dtype().numpy))


# ---------------------------------------------------------------- adjugate

def inv_adjugate(A: Tensor) -> Tensor:  # noqa: N803
    """Inverse by the adjugate (classical adjoint): A^{-1} = adj(A) / det(A).

    adj(A)_ij = C_ji, the cofactor C_ij = (-1)^(i+j) det(M_ij) and M_ij is A without row i
    and column j. It costs n^2 determinants, so it is for small matrices and for learning;
    use ``linalg.inv`` otherwise. Differentiable (it is made of deepgrad ops).

    Shape:
        (*, n, n) -> (*, n, n)

    Example:
        >>> deepgrad.linalg.inv_adjugate(deepgrad.tensor([[4., 7.], [2., 6.]]))
        tensor([[ 0.6000, -0.7000],
                [-0.2000,  0.4000]])
    """
    _square("inv_adjugate", A)
    A = _floating(A)  # noqa: N806
    n = A._data.shape[-1]
    xp = array_module(A._data)
    dtype = A._data.dtype
    determinant = det(A)
    if (determinant._data == 0).any():
        raise LinAlgError("inv_adjugate: det(A) = 0, so A is singular and has no inverse")
    # drop[i] is the (n-1, n) matrix that deletes row i: minors M_ij = drop[i] A drop[j]^T
    drop = xp.stack([xp.delete(xp.eye(n, dtype=dtype), i, axis=0) for i in range(n)])
    drop = Tensor._make(drop)
    minors = einsum("iab,...bc,jdc->...ijad", drop, A, drop)  # (*, n, n, n-1, n-1)
    signs = Tensor._make((-1.0) ** xp.add.outer(xp.arange(n), xp.arange(n)).astype(dtype))
    cofactors = det(minors) * signs  # (*, n, n)
    return cofactors.mT / determinant.unsqueeze(-1).unsqueeze(-1)


# ---------------------------------------------------------------- Gauss-Jordan

class Step(NamedTuple):
    """One elementary row operation of Gauss-Jordan elimination and the augmented matrix
    [left | right] right after it."""

    operation: str
    matrix: Tensor

    def __str__(self) -> str:
        array = self.matrix.numpy()
        n = array.shape[0]
        cells = [[_number(v) for v in row] for row in array]
        width = max(len(c) for row in cells for c in row)
        lines = [" ".join(c.rjust(width) for c in row[:n]) + " | "
                 + " ".join(c.rjust(width) for c in row[n:]) for row in cells]
        return self.operation + "\n" + "\n".join("  [" + line + "]" for line in lines)


def _number(value: float) -> str:
    value = 0.0 if value == 0 else float(value)  # no "-0"
    return f"{value:.4g}"


def inv_gauss_jordan(A: Tensor, return_steps: bool = False):  # noqa: N803
    """Inverse by Gauss-Jordan elimination: row-reduce [A | I] to [I | A^{-1}].

    For each column k: pick the row (k or below) with the largest |entry| as pivot and swap
    it up (partial pivoting, for numerical stability), divide the pivot row by the pivot,
    then subtract multiples of it from every other row to clear column k. Not
    differentiable (use ``linalg.inv`` for gradients).

    Args:
        A: a square (n, n) matrix; integer matrices are converted to the default float dtype.
        return_steps: also return the list of ``Step(operation, matrix)``: each elementary
            row operation as text (``"R1 <-> R3"``, ``"R2 <- R2 / 4"``,
            ``"R3 <- R3 - 0.5 * R2"``) and the augmented (n, 2n) matrix after it;
            ``print(step)`` shows both.

    Returns:
        The inverse, or ``(inverse, steps)`` with ``return_steps=True``.

    Raises:
        LinAlgError: when a column has no usable pivot (A is singular).

    Example:
        >>> inverse, steps = deepgrad.linalg.inv_gauss_jordan(
        ...     deepgrad.tensor([[2., 1.], [1., 1.]]), return_steps=True)
        >>> inverse
        tensor([[ 1., -1.],
                [-1.,  2.]])
        >>> print(steps[0])
        R1 <- R1 / 2
          [  1 0.5 | 0.5   0]
          [  1   1 |   0   1]
    """
    if A._data.ndim != 2 or A._data.shape[0] != A._data.shape[1]:
        raise RuntimeError("inv_gauss_jordan: A must be a square matrix; got A with shape "
                           f"{tuple(A._data.shape)}")
    A = _floating(A)  # noqa: N806
    dtype = A._data.dtype
    n = A._data.shape[0]
    augmented = np.concatenate([backend.move_array(A._data, backend.CPU).astype(np.float64),
                                np.eye(n)], axis=1)
    tolerance = n * np.finfo(dtype).eps * max(np.abs(augmented[:, :n]).max(initial=0.0), 1.0)
    steps = []

    def record(operation):
        if return_steps:
            steps.append(Step(operation, Tensor._make(augmented.astype(dtype))))

    for k in range(n):
        pivot_row = k + int(np.argmax(np.abs(augmented[k:, k])))
        pivot = augmented[pivot_row, k]
        if abs(pivot) <= tolerance:
            raise LinAlgError(f"inv_gauss_jordan: column {k + 1} has no non-zero pivot at or "
                              "below the diagonal, so A is singular and has no inverse")
        if pivot_row != k:
            augmented[[k, pivot_row]] = augmented[[pivot_row, k]]
            record(f"R{k + 1} <-> R{pivot_row + 1}")
        if pivot != 1:
            augmented[k] /= pivot
            record(f"R{k + 1} <- R{k + 1} / {_number(pivot)}")
        for i in range(n):
            factor = augmented[i, k]
            if i != k and factor != 0:
                augmented[i] -= factor * augmented[k]
                record(f"R{i + 1} <- R{i + 1} - {_number(factor)} * R{k + 1}")
    inverse = Tensor._make(augmented[:, n:].astype(dtype))
    if A.device.type != "cpu":
        inverse = inverse.to(A.device)
    return (inverse, steps) if return_steps else inverse


# ---------------------------------------------------------------- definiteness

def _eigenvalues(op: str, A: Tensor, tol):  # noqa: N803
    """Eigenvalues of the symmetric part and the tolerance below which |lambda| counts as 0:
    ``tol`` or n * eps * max |lambda|."""
    _square(op, A)
    A = _floating(A)  # noqa: N806
    values = eigvalsh((A + A.mT) * 0.5).detach()._data
    if tol is None:
        xp = array_module(values)
        n = values.shape[-1]
        largest = xp.abs(values).max(-1, keepdims=True) if n else 0.0
        tol = n * xp.finfo(values.dtype).eps * largest
    return values, tol


def _answer(mask):
    return bool(mask) if mask.ndim == 0 else Tensor._make(mask)


def is_positive_definite(A: Tensor, tol=None):  # noqa: N803
    """True when x^T A x > 0 for every x != 0: every eigenvalue of (A + A^T)/2 is > tol.

    Args:
        A: (*, n, n) matrix (or batch).
        tol: eigenvalues within ``tol`` of 0 count as 0 (default n * eps * max |lambda|).

    Returns:
        a Python bool for one matrix, a bool tensor of shape (*) for a batch.

    Example:
        >>> deepgrad.linalg.is_positive_definite(deepgrad.tensor([[2., -1.], [-1., 2.]]))
        True
    """
    values, tol = _eigenvalues("is_positive_definite", A, tol)
    return _answer((values > tol).all(-1))


def is_positive_semidefinite(A: Tensor, tol=None):  # noqa: N803
    """True when x^T A x >= 0 for every x: every eigenvalue is >= -tol (see
    ``is_positive_definite``).

    Example:
        >>> deepgrad.linalg.is_positive_semidefinite(deepgrad.tensor([[1., 1.], [1., 1.]]))
        True
    """
    values, tol = _eigenvalues("is_positive_semidefinite", A, tol)
    return _answer((values >= -tol).all(-1))


def is_negative_definite(A: Tensor, tol=None):  # noqa: N803
    """True when x^T A x < 0 for every x != 0: every eigenvalue is < -tol.

    Example:
        >>> deepgrad.linalg.is_negative_definite(-deepgrad.eye(2))
        True
    """
    values, tol = _eigenvalues("is_negative_definite", A, tol)
    return _answer((values < -tol).all(-1))


def is_negative_semidefinite(A: Tensor, tol=None):  # noqa: N803
    """True when x^T A x <= 0 for every x: every eigenvalue is <= tol.

    Example:
        >>> deepgrad.linalg.is_negative_semidefinite(deepgrad.zeros(2, 2))
        True
    """
    values, tol = _eigenvalues("is_negative_semidefinite", A, tol)
    return _answer((values <= tol).all(-1))


def definiteness(A: Tensor, tol=None):  # noqa: N803
    """Classify the quadratic form x^T A x by the eigenvalues of (A + A^T)/2.

    Returns:
        "positive definite" (all > 0), "negative definite" (all < 0), "positive
        semidefinite" (all >= 0, some 0), "negative semidefinite" (all <= 0, some 0) or
        "indefinite" (both signs); a nested list of these for a batch. The zero matrix is
        both semidefinite kinds and reports "positive semidefinite".

    Example:
        >>> deepgrad.linalg.definiteness(deepgrad.tensor([[1., 0.], [0., -3.]]))
        'indefinite'
    """
    values, tol = _eigenvalues("definiteness", A, tol)
    xp = array_module(values)
    positive, negative = values > tol, values < -tol
    labels = xp.where(positive.all(-1), "positive definite", xp.where(
        negative.all(-1), "negative definite", xp.where(
            ~negative.any(-1), "positive semidefinite", xp.where(
                ~positive.any(-1), "negative semidefinite", "indefinite"))))
    return labels.tolist()
