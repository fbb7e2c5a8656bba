"""Products against torch: matmul and its forms, the fused add* products, einsum, tensordot,
kron, trace, cross and cdist (forward, gradients, second-order gradients), plus their
shape and dtype errors."""

import numpy as np
import pytest
import torch

import deepgrad
from oracle import OpCase, case_params, check_case

MATMUL_SHAPES = [
    ((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
    ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((1, 3, 4), (2, 4, 5)),
    ((3, 4), (2, 2, 4, 5)), ((0, 3), (3, 2)), ((2, 0), (0, 3)), ((2, 0, 3), (3, 4)),
]

CASES = [
    OpCase("matmul", lambda lib, a, b: lib.matmul(a, b), MATMUL_SHAPES),
    OpCase("matmul_operator", lambda lib, a, b: a @ b, [((3, 4), (4, 5)), ((4,), (4,))]),
    OpCase("mm", lambda lib, a, b: lib.mm(a, b), [((3, 4), (4, 5)), ((0, 4), (4, 2)),
                                                  ((3, 0), (0, 2))]),
    OpCase("mm_method", lambda lib, a, b: a.mm(b), [((2, 3), (3, 2))]),
    OpCase("bmm", lambda lib, a, b: lib.bmm(a, b),
           [((2, 3, 4), (2, 4, 5)), ((0, 3, 4), (0, 4, 5))]),
    OpCase("mv", lambda lib, a, b: lib.mv(a, b), [((3, 4), (4,)), ((0, 4), (4,))]),
    OpCase("dot", lambda lib, a, b: lib.dot(a, b), [((4,), (4,)), ((0,), (0,))]),
    OpCase("vdot", lambda lib, a, b: lib.vdot(a, b), [((5,), (5,))]),
    OpCase("dot_method", lambda lib, a, b: a.dot(b), [((3,), (3,))]),
    OpCase("inner", lambda lib, a, b: lib.inner(a, b), [((2, 3), (4, 3)), ((3,), (3,)),
                                                        ((), (2, 3)), ((2, 3, 4), (5, 4)),
                                                        ((2, 3), ())]),
    OpCase("outer", lambda lib, a, b: lib.outer(a, b), [((3,), (4,)), ((0,), (2,))]),
    OpCase("ger", lambda lib, a, b: lib.ger(a, b), [((3,), (4,))]),
    OpCase("addmm", lambda lib, c, a, b: lib.addmm(c, a, b), [((2, 3), (2, 4), (4, 3)),
                                                              ((3,), (2, 4), (4, 3)),
                                                              ((1, 1), (2, 4), (4, 3))]),
    OpCase("addmm_beta_alpha", lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=-2.0),
           [((2, 3), (2, 4), (4, 3)), ((3,), (2, 4), (4, 3))]),
    OpCase("addmm_beta0", lambda lib, c, a, b: lib.addmm(c, a, b, beta=0), [((2, 3), (2, 4),
                                                                            (4, 3))]),
    OpCase("addmv", lambda lib, c, a, b: lib.addmv(c, a, b, beta=2, alpha=0.5),
           [((2,), (2, 4), (4,)), ((), (2, 4), (4,))]),
    OpCase("addr", lambda lib, c, a, b: lib.addr(c, a, b, alpha=3), [((2, 3), (2,), (3,))]),
    OpCase("baddbmm", lambda lib, c, a, b: lib.baddbmm(c, a, b, beta=0.5, alpha=2),
           [((2, 3, 5), (2, 3, 4), (2, 4, 5)), ((3, 5), (2, 3, 4), (2, 4, 5))]),
    OpCase("addbmm", lambda lib, c, a, b: lib.addbmm(c, a, b), [((3, 5), (2, 3, 4), (2, 4, 5))]),
    OpCase("tensordot_2", lambda lib, a, b: lib.tensordot(a, b), [((2, 3, 4), (3, 4, 5))]),
    OpCase("tensordot_1", lambda lib, a, b: lib.tensordot(a, b, dims=1), [((2, 3), (3, 4))]),
    OpCase("tensordot_0", lambda lib, a, b: lib.tensordot(a, b, dims=0), [((2,), (3,))]),
    OpCase("tensordot_lists", lambda lib, a, b: lib.tensordot(a, b, dims=([1, 0], [0, 2])),
           [((3, 2, 4), (2, 5, 3))]),
    OpCase("kron", lambda lib, a, b: lib.kron(a, b), [((2, 3), (3, 2)), ((2,), (2, 3)),
                                                      ((2, 2, 2), (3,)), ((), (3,))]),
    OpCase("trace", lambda lib, a: lib.trace(a), [((3, 3),), ((2, 4),), ((4, 2),)]),
    OpCase("trace_method", lambda lib, a: a.trace(), [((3, 3),)]),
    OpCase("linalg_cross", lambda lib, a, b: lib.linalg.cross(a, b),
           [((4, 3), (4, 3)), ((3,), (3,)), ((2, 1, 3), (2, 4, 3))]),
    OpCase("cross_dim0", lambda lib, a, b: lib.cross(a, b, dim=0), [((3, 2), (3, 2)),
                                                                   ((3, 2), (3, 1))]),
    OpCase("linalg_cross_dim", lambda lib, a, b: lib.linalg.cross(a, b, dim=1),
           [((2, 3, 4), (1, 3, 4))]),
    # cdist: torch's small-input kernel has no double backward (deepgrad's has)
    OpCase("cdist_p2", lambda lib, a, b: lib.cdist(a, b), [((4, 3), (5, 3)),
                                                           ((2, 4, 3), (1, 5, 3))],
           gradgrad=False),
    OpCase("cdist_p2_mm", lambda lib, a, b: lib.cdist(a, b), [((30, 3), (5, 3))],
           rtol=1e-3, atol=1e-4),
    OpCase("cdist_p2_forced_mm", lambda lib, a, b: lib.cdist(
        a, b, compute_mode="use_mm_for_euclid_dist"), [((4, 3), (5, 3))], rtol=1e-3, atol=1e-4),
    OpCase("cdist_p1", lambda lib, a, b: lib.cdist(a, b, p=1), [((4, 3), (5, 3))],
           gradgrad=False),
    OpCase("cdist_p3", lambda lib, a, b: lib.cdist(a, b, p=3), [((4, 3), (5, 3))],
           gradgrad=False),
    OpCase("cdist_pinf", lambda lib, a, b: lib.cdist(a, b, p=float("inf")), [((4, 3), (5, 3))],
           gradgrad=False),
    OpCase("cdist_p0", lambda lib, a, b: lib.cdist(a, b, p=0), [((4, 3), (5, 3))],
           gradgrad=False),
]

EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 1), (3, 4)]),  # size-1 subscript broadcasts
    ("i,i->", [(3,), (3,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->ji", [(3, 3, 2)]),
    ("ij->", [(3, 2)]),
    ("ij->j", [(3, 2)]),
    ("ba", [(2, 3)]),
    ("...ij,...jk", [(2, 1, 2, 3), (5, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (5, 3, 4)]),
    ("i...i->...", [(2, 3, 2)]),
    ("bij,bjk,bkl->bil", [(2, 3, 4), (2, 4, 5), (2, 5, 6)]),
    ("i,j,k", [(2,), (3,), (4,)]),
    ("ij,jk->ik", [(2, 0), (0, 3)]),
    ("i j , j -> i", [(2, 2), (2,)]),
    ("ij...->...", [(2, 2)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ijk,ikl->jl", [(6, 8, 10), (6, 10, 7)]),  # large enough for a BLAS path
]
for _k, (_equation, _shapes) in enumerate(EINSUM):
    CASES.append(OpCase(f"einsum_{_k}", lambda lib, *ts, eq=_equation: lib.einsum(eq, *ts),
                        [tuple(_shapes)]))
CASES.append(OpCase("einsum_list", lambda lib, a, b: lib.einsum("ij,j", [a, b]),
                    [((2, 3), (3,))]))


@pytest.mark.parametrize("case,shapes,dtype", case_params(CASES))
def test_against_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


def test_dot_of_the_notes_example():
    """(1, 2, 3) . (2, 3, 4) = 20, integer in, integer out, as torch."""
    expected = torch.dot(torch.tensor([1, 2, 3]), torch.tensor([2, 3, 4]))
    result = deepgrad.dot(deepgrad.tensor([1, 2, 3]), deepgrad.tensor([2, 3, 4]))
    assert result.item() == expected.item()
    assert result.dtype.name == str(expected.dtype).replace("torch.", "")


@pytest.mark.parametrize("fn,a,b", [
    (lambda lib, a, b: lib.matmul(a, b), np.ones((2, 3), "i8"), np.ones((3, 4), "i8")),
    (lambda lib, a, b: lib.mv(a, b), np.ones((2, 3), "i8"), np.ones(3, "i8")),
    (lambda lib, a, b: lib.outer(a, b), np.arange(3), np.ones(2, "f4")),
    (lambda lib, a, b: lib.kron(a, b), np.ones((2, 3), "f4"), np.ones((3, 4), "f8")),
    (lambda lib, a, b: lib.einsum("i,j", a, b), np.arange(2), np.ones(2, "f4")),
    (lambda lib, a, b=None: lib.trace(a), np.arange(9).reshape(3, 3), None),
    (lambda lib, a, b=None: lib.trace(a), np.ones((3, 3), "i4"), None),
])
def test_dtypes_match_torch(fn, a, b):
    args = [a] if b is None else [a, b]
    expected = fn(torch, *[torch.tensor(x) for x in args])
    result = fn(deepgrad, *[deepgrad.tensor(x) for x in args])
    assert result.dtype.name == str(expected.dtype).replace("torch.", "")
    np.testing.assert_allclose(result.numpy(), expected.numpy())


@pytest.mark.parametrize("fn,shapes,words", [
    (lambda lib, a, b: lib.mm(a, b), [(2, 3), (4, 5)], ["mm", "(2, 3)", "(4, 5)"]),
    (lambda lib, a, b: lib.mm(a, b), [(3,), (3, 5)], ["mm", "(3,)", "(3, 5)"]),
    (lambda lib, a, b: lib.bmm(a, b), [(2, 2, 3), (2, 4, 5)], ["bmm", "(2, 2, 3)", "(2, 4, 5)"]),
    (lambda lib, a, b: lib.bmm(a, b), [(2, 2, 3), (3, 3, 5)], ["bmm", "(2, 2, 3)", "(3, 3, 5)"]),
    (lambda lib, a, b: lib.bmm(a, b), [(2, 3), (3, 5)], ["bmm", "(2, 3)", "(3, 5)"]),
    (lambda lib, a, b: lib.mv(a, b), [(2, 3), (4,)], ["mv", "(2, 3)", "(4,)"]),
    (lambda lib, a, b: lib.dot(a, b), [(2,), (4,)], ["dot", "(2,)", "(4,)"]),
    (lambda lib, a, b: lib.dot(a, b), [(2, 2), (2, 2)], ["dot", "(2, 2)"]),
    (lambda lib, a, b: lib.matmul(a, b), [(2, 3), (4, 5)], ["matmul", "(2, 3)", "(4, 5)"]),
    (lambda lib, a, b: lib.matmul(a, b), [(2, 2, 3), (3, 3, 5)],
     ["matmul", "(2, 2, 3)", "(3, 3, 5)"]),
    (lambda lib, a, b: lib.matmul(a, b), [(), (3,)], ["matmul", "()", "(3,)"]),
    (lambda lib, a, b: a @ b, [(3,), (4,)], ["matmul", "(3,)", "(4,)"]),
    (lambda lib, a, b: lib.inner(a, b), [(2, 3), (4, 5)], ["inner", "(2, 3)", "(4, 5)"]),
    (lambda lib, a, b: lib.outer(a, b), [(2, 2), (4,)], ["outer", "(2, 2)", "(4,)"]),
    (lambda lib, a, b: lib.tensordot(a, b, 1), [(2, 3), (4, 5)], ["tensordot", "(2, 3)"]),
    (lambda lib, a, b: lib.trace(a), [(2, 3, 3), (1,)], ["trace", "(2, 3, 3)"]),
    (lambda lib, a, b: lib.linalg.cross(a, b), [(2, 2), (2, 2)], ["cross", "(2, 2)"]),
    (lambda lib, a, b: lib.linalg.cross(a, b), [(2, 3), (4, 1, 3)], ["cross", "(4, 1, 3)"]),
    (lambda lib, a, b: lib.cdist(a, b), [(4, 3), (5, 2)], ["cdist", "(4, 3)", "(5, 2)"]),
    (lambda lib, a, b: lib.cdist(a, b), [(3,), (5, 3)], ["cdist", "(3,)", "(5, 3)"]),
    (lambda lib, a, b: lib.einsum("ij,jk", a, b), [(2, 3), (4, 4)], ["einsum", "subscript j"]),
    (lambda lib, a, b: lib.einsum("ij", a), [(2, 2, 2), (1,)], ["einsum", "operand 0"]),
    (lambda lib, a, b: lib.einsum("ij->ii", a), [(2, 2), (1,)], ["einsum", "more than once"]),
    (lambda lib, a, b: lib.einsum("ij->k", a), [(2, 2), (1,)], ["einsum", "subscript k"]),
    (lambda lib, a, b: lib.einsum("ij,j", a), [(2, 2), (1,)], ["einsum", "fewer operands"]),
    (lambda lib, a, b: lib.einsum("...ij,...jk", a, b), [(2, 3, 2, 3), (5, 3, 4)],
     ["einsum", "ellipsis"]),
])
def test_shape_errors(fn, shapes, words):
    """torch raises RuntimeError too; deepgrad's message names the op and the shapes."""
    with pytest.raises(RuntimeError):
        fn(torch, *[torch.ones(s) for s in shapes])
    with pytest.raises(RuntimeError) as info:
        fn(deepgrad, *[deepgrad.ones(s) for s in shapes])
    for word in words:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize("fn", [
    lambda lib, a, b: lib.mm(a, b), lambda lib, a, b: lib.matmul(a, b),
    lambda lib, a, b: lib.dot(a[0], b[:, 0]), lambda lib, a, b: lib.einsum("ij,jk", a, b),
    lambda lib, a, b: lib.tensordot(a, b, 1), lambda lib, a, b: lib.cdist(a, b.mT),
])
def test_mixed_float_dtypes_are_refused_as_torch(fn):
    a, b = np.ones((2, 3), np.float32), np.ones((3, 2), np.float64)
    with pytest.raises(RuntimeError):
        fn(torch, torch.tensor(a), torch.tensor(b))
    with pytest.raises(RuntimeError) as info:
        fn(deepgrad, deepgrad.tensor(a), deepgrad.tensor(b))
    assert "float" in str(info.value).lower() or "double" in str(info.value).lower()


def test_addmm_beta0_ignores_nan_and_checks_broadcast():
    nan = np.full((2, 3), np.nan, np.float32)
    a, b = np.ones((2, 4), np.float32), np.ones((4, 3), np.float32)
    expected = torch.addmm(torch.tensor(nan), torch.tensor(a), torch.tensor(b), beta=0)
    result = deepgrad.addmm(deepgrad.tensor(nan), deepgrad.tensor(a), deepgrad.tensor(b), beta=0)
    np.testing.assert_allclose(result.numpy(), expected.numpy())
    with pytest.raises(RuntimeError):
        deepgrad.addmm(deepgrad.ones(2, 4), deepgrad.tensor(a), deepgrad.tensor(b))


def test_cdist_gradient_is_zero_at_zero_distance():
    x = np.random.default_rng(0).standard_normal((4, 3))
    t = torch.tensor(x, requires_grad=True)
    d = deepgrad.tensor(x, requires_grad=True)
    torch.cdist(t, t).sum().backward()
    deepgrad.cdist(d, d).sum().backward()
    np.testing.assert_allclose(d.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_cross_without_dim_uses_first_size3_dim_and_warns():
    a, b = np.random.default_rng(1).standard_normal((2, 3, 2, 3))
    with pytest.warns(UserWarning):
        expected = torch.cross(torch.tensor(a), torch.tensor(b))
    with pytest.warns(UserWarning):
        result = deepgrad.cross(deepgrad.tensor(a), deepgrad.tensor(b))
    np.testing.assert_allclose(result.numpy(), expected.numpy(), rtol=1e-12)


def test_einsum_matches_matmul_gradient_on_a_bigger_product():
    """The BLAS-optimised path gives the same numbers as torch on a non-toy size."""
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((32, 48)), rng.standard_normal((48, 40))
    expected = torch.einsum("ij,jk->ik", torch.tensor(a), torch.tensor(b))
    result = deepgrad.einsum("ij,jk->ik", deepgrad.tensor(a), deepgrad.tensor(b))
    np.testing.assert_allclose(result.numpy(), expected.numpy(), rtol=1e-10)
