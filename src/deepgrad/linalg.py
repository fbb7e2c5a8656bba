"""``deepgrad.linalg``: torch.linalg's functions, plus the course's hand methods.

Norms (``norm``, ``vector_norm``, ``matrix_norm``, ``cond``), inverses and solves (``inv``,
``det``, ``slogdet``, ``solve``, ``solve_triangular``, ``matrix_power``, ``pinv``,
``lstsq``), factorizations (``cholesky``, ``eigh``, ``eigvalsh``, ``eig``, ``eigvals``,
``svd``, ``svdvals``, ``qr``), ``matrix_rank``, and products (``matmul``, ``multi_dot``,
``vecdot``, ``cross``, ``diagonal``). The differentiable primitives live in ``deepgrad.ops``
(inverse.py, factorization.py, least_squares.py, norm.py); this module is the namespace.

Teaching methods (deepgrad/linalg_teaching.py): ``inv_adjugate``, ``inv_gauss_jordan`` (with
the row operations shown), and the definiteness tests ``is_positive_definite``,
``is_positive_semidefinite``, ``is_negative_definite``, ``is_negative_semidefinite``,
``definiteness``.
"""

from __future__ import annotations

from ._tensor import Tensor
from .linalg_teaching import (
    definiteness,
    inv_adjugate,
    inv_gauss_jordan,
    is_negative_definite,
    is_negative_semidefinite,
    is_positive_definite,
    is_positive_semidefinite,
)
from .ops.einsum import linalg_cross as cross
from .ops.factorization import eig, eigh, eigvals, eigvalsh, svdvals
from .ops.factorization import linalg_cholesky as cholesky
from .ops.factorization import linalg_qr as qr
from .ops.factorization import linalg_svd as svd
from .ops.inverse import LinAlgError, det, inv, matrix_power, slogdet, solve, solve_triangular
from .ops.least_squares import lstsq, matrix_rank, pinv
from .ops.linalg import matmul
from .ops.norm import cond, matrix_norm, vector_norm
from .ops.norm import linalg_norm as norm

__all__ = [
    "LinAlgError", "norm", "vector_norm", "matrix_norm", "cond", "inv", "det", "slogdet",
    "solve", "solve_triangular", "matrix_power", "pinv", "lstsq", "cholesky", "eigh",
    "eigvalsh", "eig", "eigvals", "svd", "svdvals", "qr", "matrix_rank", "matmul",
    "multi_dot", "vecdot", "cross", "diagonal", "inv_adjugate", "inv_gauss_jordan",
    "is_positive_definite", "is_positive_semidefinite", "is_negative_definite",
    "is_negative_semidefinite", "definiteness",
]


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """Dot products of vectors along ``dim`` (broadcasting the other dims).

    Shape:
        (*, n), (*, n) -> (*)

    Example:
        >>> deepgrad.linalg.vecdot(deepgrad.tensor([1., 2., 3.]), deepgrad.tensor([2., 3., 4.]))
        tensor(20.)
    """
    return (x * y).sum(dim)


def multi_dot(tensors, *, out=None) -> Tensor:
    """Product of a chain of matrices, multiplied in the cheapest order (fewest scalar
    multiplications); the first may be a 1-d row vector and the last a 1-d column vector.

    Example:
        >>> a, b, c = deepgrad.ones(10, 100), deepgrad.ones(100, 5), deepgrad.ones(5, 50)
        >>> deepgrad.linalg.multi_dot([a, b, c]).shape   # computed as (a @ b) @ c
        deepgrad.Size([10, 50])
    """
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first_vector, last_vector = tensors[0].ndim == 1, tensors[-1].ndim == 1
    if first_vector:
        tensors[0] = tensors[0].unsqueeze(0)
    if last_vector:
        tensors[-1] = tensors[-1].unsqueeze(-1)
    for i, t in enumerate(tensors):
        if t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    dims = [tensors[0].shape[0]] + [t.shape[1] for t in tensors]
    result = _chain(tensors, _chain_order(dims), 0, len(tensors) - 1)
    if first_vector:
        result = result.squeeze(0)
    if last_vector:
        result = result.squeeze(-1)
    return result


def _chain_order(dims):
    """split[i][j]: where the optimal product of matrices i..j splits (matrix-chain DP)."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(tensors, split, i, j):
    if i == j:
        return tensors[i]
    k = split[i][j]
    return matmul(_chain(tensors, split, i, k), _chain(tensors, split, k + 1, j))


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: N803
    """``torch.diagonal`` with the matrix dims (-2, -1) as defaults.

    Example:
        >>> deepgrad.linalg.diagonal(deepgrad.eye(3) * 2)
        tensor([2., 2., 2.])
    """
    from .ops.diagonal import diagonal as _diagonal  # noqa: PLC0415

    return _diagonal(A, offset, dim1, dim2)
