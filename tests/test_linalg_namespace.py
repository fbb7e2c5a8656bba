"""deepgrad.linalg against torch.linalg: norms, inverses, solves and factorizations
(forward, gradients and second-order gradients on well-conditioned inputs) and their errors;
the adjugate inverse is compared here too (the other teaching methods are in
test_linalg_teaching.py).

Eigen- and singular vectors are unique only up to sign, so factorization cases compare
sign-invariant products (q_i q_i^T, u_i vh_i, q_i r_i) rather than the vectors themselves.
"""

import numpy as np
import pytest
import torch

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
    # cholesky and eigh read one triangle: torch's symmetric-projection gradient is not the
    # entrywise derivative of an unsymmetric input, so the numerical gradgradcheck is off.
    OpCase("cholesky", lambda lib, a: lib.linalg.cholesky(a), [((3, 3),), ((2, 4, 4),)],
           domain=spd, dtypes=BOTH, numeric_gradgrad=False),
    OpCase("cholesky_upper", lambda lib, a: lib.linalg.cholesky(a, upper=True), [((3, 3),)],
           domain=spd, numeric_gradgrad=False),
    OpCase("cholesky_of_gram", lambda lib, a: lib.linalg.cholesky(
        a @ a.mT + 3 * lib.eye(3, dtype=a.dtype)), [((3, 3),)]),
    OpCase("eigh", eigh_invariant, [((3, 3),), ((2, 4, 4),)], dtypes=BOTH),
    OpCase("eigh_upper", lambda lib, a: eigh_invariant(lib, a, "U"), [((3, 3),)]),
    OpCase("eigh_values_only", lambda lib, a: lib.linalg.eigh(sym(a)).eigenvalues, [((4, 4),)]),
    OpCase("eigvalsh", lambda lib, a: lib.linalg.eigvalsh(sym(a)), [((3, 3),), ((2, 3, 3),)]),
    OpCase("eigh_unsymmetrised", lambda lib, a: lib.linalg.eigh(a).eigenvalues, [((3, 3),)],
           domain=spd, numeric_gradgrad=False),
    OpCase("eigh_vectors_unsymmetrised", lambda lib, a: lib.einsum(
        "ij,kj->ikj", *[lib.linalg.eigh(a).eigenvectors] * 2), [((3, 3),)], domain=spd,
        numeric_gradgrad=False),
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
    OpCase("qr_r_only", lambda lib, a: (lambda r: r * r)(lib.linalg.qr(a, mode="r").R),
           [((4, 3),)], domain=full_rank, grad=False),
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


# ---------------------------------------------------------------- errors

def _both(fn, *arrays):
    """Run fn on torch and deepgrad; return (torch exception, deepgrad exception)."""
    errors = []
    for lib in (torch, deepgrad):
        with pytest.raises(Exception) as info:
            fn(lib, *[lib.tensor(a) for a in arrays])
        errors.append(info.value)
    return errors


@pytest.mark.parametrize("name,fn", [
    ("linalg.inv", lambda lib, a: lib.linalg.inv(a)),
    ("linalg.det", lambda lib, a: lib.linalg.det(a)),
    ("linalg.slogdet", lambda lib, a: lib.linalg.slogdet(a)),
    ("linalg.cholesky", lambda lib, a: lib.linalg.cholesky(a)),
    ("linalg.eigh", lambda lib, a: lib.linalg.eigh(a)),
    ("linalg.eigvalsh", lambda lib, a: lib.linalg.eigvalsh(a)),
    ("linalg.eig", lambda lib, a: lib.linalg.eig(a)),
    ("linalg.solve", lambda lib, a: lib.linalg.solve(a, a[:, 0])),
    ("linalg.matrix_power", lambda lib, a: lib.linalg.matrix_power(a, 2)),
])
def test_non_square_input_is_refused_naming_the_op_and_shape(name, fn):
    torch_error, error = _both(fn, np.ones((2, 3)))
    assert isinstance(torch_error, RuntimeError) and isinstance(error, RuntimeError)
    assert name in str(error) and "(2, 3)" in str(error), str(error)
    assert "2 by 3" in str(error) and "2 by 3" in str(torch_error)


@pytest.mark.parametrize("matrix", [
    np.zeros((3, 3)),
    np.array([[1.0, 2, 3], [2, 4, 6], [1, 0, 1]]),
    np.array([[1.0, 2], [2, 4]]),
    np.stack([np.eye(2), np.zeros((2, 2))]),
])
def test_singular_inverse_raises_torchs_linalg_error(matrix):
    torch_error, error = _both(lambda lib, a: lib.linalg.inv(a), matrix)
    assert isinstance(torch_error, torch.linalg.LinAlgError)
    assert isinstance(error, deepgrad.linalg.LinAlgError) and isinstance(error, RuntimeError)
    assert str(error) == str(torch_error)


def test_singular_solve_and_not_positive_definite_cholesky_match_torch():
    singular = np.stack([np.eye(3), np.zeros((3, 3))])
    torch_error, error = _both(lambda lib, a: lib.linalg.solve(a, a[..., 0]), singular)
    assert isinstance(error, deepgrad.linalg.LinAlgError) and str(error) == str(torch_error)
    indefinite = np.stack([np.eye(3), np.diag([1.0, 2.0, -1.0])])
    torch_error, error = _both(lambda lib, a: lib.linalg.cholesky(a), indefinite)
    assert isinstance(error, deepgrad.linalg.LinAlgError) and str(error) == str(torch_error)


@pytest.mark.parametrize("fn,arrays,words", [
    (lambda lib, a: lib.linalg.inv(a), [np.eye(3, dtype=np.int64)], ["linalg.inv", "floating"]),
    (lambda lib, a: lib.linalg.det(a), [np.ones(3)], ["linalg.det", "at least 2 dimensions"]),
    (lambda lib, a, b: lib.linalg.solve(a, b), [np.eye(3), np.ones(4)],
     ["linalg.solve", "Incompatible shapes", "(3, 3)", "(4,)"]),
    (lambda lib, a, b: lib.linalg.solve(a, b), [np.eye(3), np.ones(3, np.float32)],
     ["linalg.solve", "same dtype"]),
    (lambda lib, a, b: lib.linalg.solve(a, b, left=False), [np.eye(3), np.ones((3, 2))],
     ["XA = B", "3x2"]),
    (lambda lib, a: lib.linalg.vector_norm(a), [np.arange(3)], ["vector_norm", "floating"]),
    (lambda lib, a: lib.linalg.vector_norm(a, float("inf")), [np.ones((0, 3))],
     ["vector_norm", "inf", "empty"]),
    (lambda lib, a: lib.linalg.matrix_norm(a, 3), [np.ones((3, 3))], ["matrix_norm", "Order 3"]),
    (lambda lib, a: lib.linalg.matrix_norm(a), [np.ones(3)], ["matrix_norm", "2 dimensions"]),
    (lambda lib, a: lib.linalg.matrix_norm(a, dim=(0, 0)), [np.ones((3, 3))],
     ["matrix_norm", "different"]),
    (lambda lib, a: lib.linalg.norm(a, ord=2), [np.ones((2, 3, 4))], ["linalg.norm", "3D"]),
    (lambda lib, a: lib.linalg.norm(a, ord="fro"), [np.ones(3)], ["matrix_norm", "2 dim"]),
    (lambda lib, a: lib.linalg.norm(a, ord="fro", dim=1), [np.ones((2, 3))],
     ["matrix_norm", "2-tuple"]),
    (lambda lib, a: lib.linalg.eigh(a, UPLO="X"), [np.eye(2)], ["eigh", "UPLO"]),
    (lambda lib, a: lib.linalg.qr(a, mode="thin"), [np.eye(2)], ["qr", "mode"]),
])
def test_errors_match_torch(fn, arrays, words):
    torch_error, error = _both(fn, *arrays)
    assert type(torch_error).__mro__[-3] is type(error).__mro__[-3] or isinstance(
        error, type(torch_error)), (torch_error, error)
    for word in words:
        assert word in str(error), (word, str(error))


# ---------------------------------------------------------------- results and semantics

def test_result_tuples_have_torchs_field_names():
    a = np.random.default_rng(0).standard_normal((3, 3)) + 3 * np.eye(3)
    for lib in (torch, deepgrad):
        t = lib.tensor(a, requires_grad=True)
        sign, logabsdet = lib.linalg.slogdet(t)
        assert lib.linalg.slogdet(t).logabsdet is not None
        assert logabsdet.requires_grad
        assert lib.linalg.eigh(t).eigenvectors.shape == (3, 3)
        assert lib.linalg.svd(t).Vh.shape == (3, 3)
        assert lib.linalg.qr(t).R.shape == (3, 3)
        assert lib.linalg.lstsq(t, t).solution.shape == (3, 3)


def test_eig_returns_complex_eigenpairs_like_torch():
    a = np.random.default_rng(1).standard_normal((4, 4))
    for dtype in (np.float32, np.float64):
        expected = torch.linalg.eig(torch.tensor(a.astype(dtype)))
        values, vectors = deepgrad.linalg.eig(deepgrad.tensor(a.astype(dtype)))
        assert values.dtype.name == str(expected.eigenvalues.dtype).replace("torch.", "")
        assert vectors.dtype.name == str(expected.eigenvectors.dtype).replace("torch.", "")
        np.testing.assert_allclose(np.sort_complex(values.numpy()),
                                   np.sort_complex(expected.eigenvalues.numpy()), rtol=1e-4)
        v = vectors.numpy()
        np.testing.assert_allclose(a @ v, v * values.numpy(), atol=1e-4)
    eigenvalues = deepgrad.linalg.eigvals(deepgrad.tensor([[0.0, -1.0], [1.0, 0.0]]))
    np.testing.assert_allclose(np.sort_complex(eigenvalues.numpy()), [-1j, 1j], atol=1e-7)


@pytest.mark.parametrize("driver", [None, "gelsd", "gelss", "gels"])
def test_lstsq_outputs_per_driver_match_torch(driver):
    rng = np.random.default_rng(2)
    a, b = full_rank(rng, (6, 3), np.float64), rng.standard_normal((6, 2))
    expected = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    result = deepgrad.linalg.lstsq(deepgrad.tensor(a), deepgrad.tensor(b), driver=driver)
    for name in ("solution", "residuals", "rank", "singular_values"):
        r, e = getattr(result, name), getattr(expected, name)
        assert tuple(r.shape) == tuple(e.shape), name
        np.testing.assert_allclose(r.numpy(), e.numpy(), rtol=1e-8, err_msg=name)


def test_legacy_svd_and_qr():
    a = full_rank(np.random.default_rng(3), (4, 3), np.float64)
    u, s, v = deepgrad.svd(deepgrad.tensor(a), compute_uv=False)
    tu, ts, tv = torch.svd(torch.tensor(a), compute_uv=False)
    assert u.shape == tu.shape and v.shape == tv.shape and not u.numpy().any()
    np.testing.assert_allclose(s.numpy(), ts.numpy(), rtol=1e-10)
    with pytest.warns(UserWarning):
        q, r = deepgrad.qr(deepgrad.tensor(a), some=False)
    assert q.shape == (4, 4) and r.shape == (4, 3)
    np.testing.assert_allclose((q @ r).numpy(), a, atol=1e-12)


def test_matrix_rank_tolerances_match_torch():
    a = np.diag([10.0, 1.0, 1e-3, 1e-9])
    for kwargs in ({}, {"tol": 1e-2}, {"atol": 0.5}, {"rtol": 1e-2}, {"atol": 1e-2, "rtol": 0.5},
                   {"hermitian": True}):
        expected = torch.linalg.matrix_rank(torch.tensor(a), **kwargs)
        result = deepgrad.linalg.matrix_rank(deepgrad.tensor(a), **kwargs)
        assert result.item() == expected.item() and result.dtype.name == "int64", kwargs


def test_det_gradient_of_a_singular_matrix_matches_torch():
    """d det / dA is the transposed adjugate, non-zero for a rank n-1 matrix."""
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    t, d = torch.tensor(a, requires_grad=True), deepgrad.tensor(a, requires_grad=True)
    torch.linalg.det(t).backward()
    deepgrad.linalg.det(d).backward()
    np.testing.assert_allclose(d.grad.numpy(), t.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("shapes", [[(3, 4), (4, 5), (5, 2)], [(4,), (4, 5), (5, 2), (2,)],
                                    [(10, 100), (100, 5), (5, 50)], [(3,), (3,)]])
def test_multi_dot_matches_torch(shapes):
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s) for s in shapes]
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    d = [deepgrad.tensor(a, requires_grad=True) for a in arrays]
    expected, result = torch.linalg.multi_dot(t), deepgrad.linalg.multi_dot(d)
    np.testing.assert_allclose(result.detach().numpy(), expected.detach().numpy(), rtol=1e-10)
    expected.sum().backward()
    result.sum().backward()
    for x, y in zip(d, t, strict=True):
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-10)


def test_vecdot_and_diagonal_match_torch():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(
        deepgrad.linalg.vecdot(deepgrad.tensor(x), deepgrad.tensor(y)).numpy(),
        torch.linalg.vecdot(torch.tensor(x), torch.tensor(y)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        deepgrad.linalg.diagonal(deepgrad.tensor(x), offset=1).numpy(),
        torch.linalg.diagonal(torch.tensor(x), offset=1).numpy())
