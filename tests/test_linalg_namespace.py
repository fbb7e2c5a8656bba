"""deepgrad.linalg against torch.linalg: norms, inverses, solves and factorizations
(forward, gradients and second-order gradients in float64 on well-conditioned inputs), their
errors, and the course's teaching methods (adjugate and Gauss-Jordan inverses, definiteness).

Eigen- and singular vectors are unique only up to sign, so factorization cases compare
sign-invariant products (q_i q_i^T, u_i vh_i, q_i r_i) rather than the vectors themselves.
"""


import numpy as np
import pytest

import deepgrad
from oracle import OpCase, case_params, check_case

INF = float("inf")


def well_conditioned(rng, shape, dtype):
    """Uniform entries; square matrices get n on the diagonal (diagonally dominant)."""
    x = rng.uniform(-1.0, 1.0, size=shape)
    if len(shape) >= 2 and shape[-1] == shape[-2]:
        x = x + shape[-1] * np.eye(shape[-1])
    return x.astype(dtype)


def spd(rng, shape, dtype):
    """Symmetric positive-definite: B B^T + n I."""
    b = rng.uniform(-1.0, 1.0, size=shape)
    return (b @ np.swapaxes(b, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def full_rank(rng, shape, dtype):
    """Rectangular matrices with well-separated singular values."""
    x = rng.uniform(-1.0, 1.0, size=shape)
    if len(shape) >= 2:
        k = min(shape[-2:])
        x[..., range(k), range(k)] += np.arange(2, 2 * k + 2, 2)
    return x.astype(dtype)


def sym(a):
    return a + a.mT


def eigh_invariant(lib, a, uplo="L"):
    w, q = lib.linalg.eigh(sym(a), UPLO=uplo)
    return w, lib.einsum("...ij,...kj->...ikj", q, q)


def svd_invariant(lib, a, full_matrices=False):
    u, s, vh = lib.linalg.svd(a, full_matrices=full_matrices)
    if full_matrices:  # only the first k singular vectors are determined by a
        m, n, k = a.shape[-2], a.shape[-1], min(a.shape[-2:])
        u = u @ lib.eye(m, k, dtype=a.dtype)
        vh = lib.eye(k, n, dtype=a.dtype) @ vh
    return s, lib.einsum("...ij,...jk->...ijk", u, vh)


def qr_invariant(lib, a, mode="reduced"):
    q, r = lib.linalg.qr(a, mode=mode)
    return lib.einsum("...ij,...jk->...ijk", q, r)


F64 = ("float64",)
BOTH = ("float32", "float64")

CASES = [
    # ---- norms (the piecewise-linear ones, 0/1/inf, have a constant gradient: no gradgrad)
    OpCase("vector_norm_2", lambda lib, x: lib.linalg.vector_norm(x), [((3, 4),), ((5,),),
                                                                        ((),), ((0, 3),)],
           dtypes=BOTH),
    OpCase("vector_norm_dim", lambda lib, x: lib.linalg.vector_norm(x, 2, dim=1, keepdim=True),
           [((3, 4),), ((2, 3, 4),)], dtypes=BOTH),
    OpCase("vector_norm_dims", lambda lib, x: lib.linalg.vector_norm(x, 3, dim=(0, 2)),
           [((2, 3, 4),)]),
    OpCase("vector_norm_1", lambda lib, x: lib.linalg.vector_norm(x, 1, dim=-1), [((3, 4),)],
           gradgrad=False),
    OpCase("vector_norm_inf", lambda lib, x: lib.linalg.vector_norm(x, INF, dim=0), [((3, 4),)],
           gradgrad=False),
    OpCase("vector_norm_-inf", lambda lib, x: lib.linalg.vector_norm(x, -INF), [((3, 4),)],
           gradgrad=False),
    OpCase("vector_norm_0", lambda lib, x: lib.linalg.vector_norm(x, 0, dim=1), [((3, 4),)],
           gradgrad=False),
    OpCase("vector_norm_p", lambda lib, x: lib.linalg.vector_norm(x, 2.5, dim=1), [((3, 4),)]),
    OpCase("vector_norm_half", lambda lib, x: lib.linalg.vector_norm(x, 0.5), [((6,),)],
           domain=(0.2, 2.0)),
    OpCase("vector_norm_neg", lambda lib, x: lib.linalg.vector_norm(x, -1.5), [((6,),)],
           domain=(0.2, 2.0)),
    OpCase("vector_norm_dtype", lambda lib, x: lib.linalg.vector_norm(x, dtype=lib.float64),
           [((3,),)], dtypes=("float32",)),
    OpCase("matrix_norm_fro", lambda lib, a: lib.linalg.matrix_norm(a), [((3, 4),), ((2, 3, 3),)],
           dtypes=BOTH),
    OpCase("matrix_norm_nuc", lambda lib, a: lib.linalg.matrix_norm(a, "nuc"),
           [((3, 4),), ((2, 4, 3),)], domain=full_rank),
    OpCase("matrix_norm_2", lambda lib, a: lib.linalg.matrix_norm(a, 2, keepdim=True),
           [((3, 4),)], domain=full_rank),
    OpCase("matrix_norm_-2", lambda lib, a: lib.linalg.matrix_norm(a, -2), [((4, 3),)],
           domain=full_rank),
    OpCase("matrix_norm_1", lambda lib, a: lib.linalg.matrix_norm(a, 1), [((3, 4),), ((2, 3, 4),)],
           gradgrad=False),
    OpCase("matrix_norm_-1", lambda lib, a: lib.linalg.matrix_norm(a, -1), [((3, 4),)],
           gradgrad=False),
    OpCase("matrix_norm_inf", lambda lib, a: lib.linalg.matrix_norm(a, INF, keepdim=True),
           [((3, 4),)], gradgrad=False),
    OpCase("matrix_norm_-inf", lambda lib, a: lib.linalg.matrix_norm(a, -INF), [((3, 4),)],
           gradgrad=False),
    OpCase("matrix_norm_dims", lambda lib, a: lib.linalg.matrix_norm(a, 1, dim=(2, 0)),
           [((3, 4, 5),)], gradgrad=False),
    OpCase("norm_default", lambda lib, a: lib.linalg.norm(a), [((3, 4),), ((2, 3, 4),)]),
    OpCase("norm_matrix_ord", lambda lib, a: lib.linalg.norm(a, ord=INF), [((3, 4),)],
           gradgrad=False),
    OpCase("norm_vector_ord", lambda lib, a: lib.linalg.norm(a, ord=1), [((4,),)], gradgrad=False),
    OpCase("norm_dim", lambda lib, a: lib.linalg.norm(a, ord=3, dim=1), [((3, 4),)]),
    OpCase("norm_dims_fro", lambda lib, a: lib.linalg.norm(a, dim=(0, 2), keepdim=True),
           [((2, 3, 4),)]),
    OpCase("torch_norm", lambda lib, a: lib.norm(a), [((3, 4),)], dtypes=BOTH),
    OpCase("torch_norm_p", lambda lib, a: lib.norm(a, p=1, dim=1), [((3, 4),)], gradgrad=False),
    OpCase("tensor_norm", lambda lib, a: a.norm(dim=0, keepdim=True), [((3, 4),)]),
    OpCase("torch_norm_nuc", lambda lib, a: lib.norm(a, p="nuc"), [((3, 4),)], domain=full_rank),
    OpCase("cond", lambda lib, a: lib.linalg.cond(a), [((3, 3),), ((4, 3),)], domain=full_rank),
    # torch's own backward of cond(A, "fro") fails (an in-place op in its graph): forward only
    OpCase("cond_fro", lambda lib, a: lib.linalg.cond(a, "fro"), [((3, 3),)],
           domain=well_conditioned, grad=False),
    # ---- inverses, determinants, solves
    OpCase("inv", lambda lib, a: lib.linalg.inv(a), [((3, 3),), ((2, 4, 4),), ((0, 0),)],
           domain=well_conditioned, dtypes=BOTH),
    OpCase("inverse", lambda lib, a: lib.inverse(a), [((3, 3),)], domain=well_conditioned),
    OpCase("tensor_inverse", lambda lib, a: a.inverse(), [((3, 3),)], domain=well_conditioned),
    OpCase("det", lambda lib, a: lib.linalg.det(a), [((3, 3),), ((2, 4, 4),), ((1, 1),)],
           domain=well_conditioned, dtypes=BOTH),
    OpCase("det_random", lambda lib, a: lib.det(a), [((3, 3),)]),
    OpCase("tensor_det", lambda lib, a: a.det(), [((3, 3),)], domain=well_conditioned),
    OpCase("slogdet", lambda lib, a: tuple(lib.linalg.slogdet(a)), [((3, 3),), ((2, 3, 3),)]),
    OpCase("logdet", lambda lib, a: lib.logdet(a), [((3, 3),)], domain=well_conditioned),
    OpCase("solve_vector", lambda lib, a, b: lib.linalg.solve(a, b),
           [((3, 3), (3,)), ((2, 3, 3), (2, 3)), ((2, 3, 3), (3,))], domain=well_conditioned,
           dtypes=BOTH),
    OpCase("solve_matrix", lambda lib, a, b: lib.linalg.solve(a, b),
           [((3, 3), (3, 2)), ((2, 3, 3), (3, 3)), ((2, 3, 3), (4, 1, 3, 2)),
            ((1, 3, 3), (2, 3, 1))], domain=well_conditioned),
    OpCase("solve_left_false", lambda lib, a, b: lib.linalg.solve(a, b, left=False),
           [((3, 3), (2, 3)), ((2, 3, 3), (4, 3))], domain=well_conditioned),
    OpCase("solve_triangular_lower", lambda lib, a, b: lib.linalg.solve_triangular(
        a, b, upper=False), [((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 4))], domain=well_conditioned),
    OpCase("solve_triangular_upper_right", lambda lib, a, b: lib.linalg.solve_triangular(
        a, b, upper=True, left=False), [((3, 3), (2, 3))], domain=well_conditioned),
    OpCase("solve_triangular_unit", lambda lib, a, b: lib.linalg.solve_triangular(
        a, b, upper=True, unitriangular=True), [((3, 3), (3, 2))], domain=well_conditioned),
    OpCase("matrix_power_3", lambda lib, a: lib.linalg.matrix_power(a, 3),
           [((3, 3),), ((2, 2, 2),)]),
    OpCase("matrix_power_-2", lambda lib, a: lib.linalg.matrix_power(a, -2), [((3, 3),)],
           domain=well_conditioned),
    OpCase("matrix_power_0", lambda lib, a: a.matrix_power(0), [((3, 3),)]),
    OpCase("pinv_tall", lambda lib, a: lib.linalg.pinv(a), [((4, 3),), ((2, 4, 3),)],
           domain=full_rank),
    OpCase("pinv_wide", lambda lib, a: lib.linalg.pinv(a), [((3, 5),)], domain=full_rank),
    OpCase("pinv_hermitian", lambda lib, a: lib.linalg.pinv(sym(a), hermitian=True),
           [((3, 3),)], domain=well_conditioned),
    OpCase("pinverse", lambda lib, a: lib.pinverse(a), [((4, 3),)], domain=full_rank),
    OpCase("lstsq", lambda lib, a, b: lib.linalg.lstsq(a, b).solution,
           [((5, 3), (5, 2)), ((2, 5, 3), (2, 5, 1)), ((4, 4), (4,))], domain=full_rank),
    # ---- factorizations
    OpCase("cholesky", lambda lib, a: lib.linalg.cholesky(a), [((3, 3),), ((2, 4, 4),)],
           domain=spd, dtypes=BOTH),
    OpCase("cholesky_upper", lambda lib, a: lib.linalg.cholesky(a, upper=True), [((3, 3),)],
           domain=spd),
    OpCase("cholesky_of_gram", lambda lib, a: lib.linalg.cholesky(
        a @ a.mT + 3 * lib.eye(3, dtype=a.dtype)), [((3, 3),)]),
    OpCase("eigh", eigh_invariant, [((3, 3),), ((2, 4, 4),)], dtypes=BOTH),
    OpCase("eigh_upper", lambda lib, a: eigh_invariant(lib, a, "U"), [((3, 3),)]),
    OpCase("eigh_values_only", lambda lib, a: lib.linalg.eigh(sym(a)).eigenvalues, [((4, 4),)]),
    OpCase("eigvalsh", lambda lib, a: lib.linalg.eigvalsh(sym(a)), [((3, 3),), ((2, 3, 3),)]),
    OpCase("eigh_unsymmetrised", lambda lib, a: lib.linalg.eigh(a).eigenvalues, [((3, 3),)],
           domain=spd),
    OpCase("svd", svd_invariant, [((4, 3),), ((3, 5),), ((3, 3),), ((2, 4, 3),)],
           domain=full_rank, dtypes=BOTH, rtol=1e-3, atol=1e-4),
    OpCase("svd_full", lambda lib, a: svd_invariant(lib, a, True), [((4, 3),), ((3, 5),)],
           domain=full_rank),
    OpCase("svdvals", lambda lib, a: lib.linalg.svdvals(a), [((4, 3),), ((3, 5),)],
           domain=full_rank),
    OpCase("svdvals_of_orthogonal", lambda lib, a: lib.linalg.svdvals(
        lib.linalg.qr(a).Q), [((3, 3),)], domain=well_conditioned, gradgrad=False),
    OpCase("torch_svd", lambda lib, a: (lambda u, s, v: (s, lib.einsum(
        "ij,kj->ijk", u, v)))(*lib.svd(a)), [((4, 3),)], domain=full_rank),
    OpCase("qr", qr_invariant, [((4, 3),), ((3, 3),), ((3, 5),), ((2, 4, 3),)],
           domain=full_rank, dtypes=BOTH, rtol=1e-3, atol=1e-4),
    OpCase("qr_complete_wide", lambda lib, a: qr_invariant(lib, a, "complete"), [((3, 5),)],
           domain=full_rank),
    OpCase("qr_r_only", lambda lib, a: lib.linalg.qr(a, mode="r").R.abs(), [((4, 3),)],
           domain=full_rank, grad=False),
    OpCase("matrix_rank", lambda lib, a: lib.linalg.matrix_rank(a), [((4, 3),), ((2, 3, 3),),
                                                                     ((3, 3),)], grad=False),
    OpCase("matrix_rank_low", lambda lib, a: lib.linalg.matrix_rank(a @ a.mT),
           [((4, 2),), ((2, 5, 3),)], grad=False),
    OpCase("matrix_rank_hermitian", lambda lib, a: lib.linalg.matrix_rank(
        a @ a.mT, hermitian=True), [((4, 2),)], grad=False),
    OpCase("matrix_rank_atol", lambda lib, a: lib.linalg.matrix_rank(a, atol=1.0, rtol=0.0),
           [((4, 4),)], grad=False),
    OpCase("eigvals", lambda lib, a: lib.linalg.eigvals(a), [((3, 3),)], grad=False,
           domain=spd),
    # ---- teaching methods against torch's inverse
    OpCase("inv_adjugate", lambda lib, a: (lib.linalg.inv_adjugate(a) if lib is deepgrad else
                                           lib.linalg.inv(a)),
           [((1, 1),), ((2, 2),), ((3, 3),), ((2, 4, 4),)], domain=well_conditioned),
]


@pytest.mark.parametrize("case,shapes,dtype", case_params(CASES))
def test_against_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)
