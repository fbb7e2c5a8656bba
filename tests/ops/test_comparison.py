"""where, comparisons, logical and bitwise ops, isnan/isinf/isfinite, isclose/allclose/equal
against torch: values, result dtypes, promotion with Python numbers, operators."""

import operator

import numpy as np
import pytest
import torch

import deepgrad
from oracle import OpCase, assert_close, case_params, check_case

BINARY = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((), ()),
          ((0, 3), (3,))]

CASES = [
    OpCase("where", lambda lib, c, a, b: lib.where(c > 0, a, b),
           [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((3, 1), (4,), ()),
            ((), (2, 3), ()), ((), (), ()), ((0, 3), (3,), (1,))]),
    OpCase("where_scalar_other", lambda lib, c, a: lib.where(c > 0, a, 0.5),
           [((3, 4), (3, 4)), ((4,), (3, 1))]),
    OpCase("where_scalar_input", lambda lib, c, b: lib.where(c > 0, -1, b), [((3, 4), (4,))]),
    OpCase("where_method", lambda lib, c, a, b: a.where(c > 0, b), [((3, 4), (3, 4), (4,))]),
    OpCase("where_same_input", lambda lib, a: lib.where(a > 0, a * a, a), [((3, 4),)]),
    OpCase("where_nonzero", lambda lib, c: lib.where(c > 0), [((3, 4),), ((5,),)]),
]
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    _operator = getattr(operator, _name)  # a == b, a < b, ...
    CASES.append(OpCase(_name, lambda lib, a, b, n=_name: getattr(lib, n)(a.round(), b.round()),
                        BINARY, grad=False))
    CASES.append(OpCase(f"{_name}_operator", lambda lib, a, b, o=_operator: o(a, b),
                        [((3, 4), (4,)), ((), ())], grad=False))
    CASES.append(OpCase(f"{_name}_number", lambda lib, a, o=_operator: o(a.round(), 1.0),
                        [((3, 4),), ((),)], grad=False))
CASES += [
    OpCase("greater_aliases", lambda lib, a, b: (lib.greater(a, b), lib.less_equal(a, b),
                                                 lib.not_equal(a, b), lib.greater_equal(a, b),
                                                 lib.less(a, b)), BINARY[:2], grad=False),
    OpCase("logical", lambda lib, a, b: (lib.logical_and(a > 0, b), lib.logical_or(a, b > 0),
                                         lib.logical_xor(a > 0, b > 0), lib.logical_not(a > 0)),
           BINARY, grad=False),
    OpCase("bitwise_int", lambda lib, a, b: (a & b, a | b, a ^ b, ~a, lib.bitwise_and(a, 6)),
           [((3, 4), (3, 4)), ((3, 4), (4,)), ((), ())], int_inputs={0: 50, 1: 50}, grad=False),
    OpCase("bitwise_bool", lambda lib, a, b: ((a > 0) & (b > 0), (a > 0) | (b > 0),
                                              (a > 0) ^ (b > 0), ~(a > 0), (a > 0) | True),
           BINARY[:3], grad=False),
    OpCase("classify", lambda lib, x: (lib.isnan(x), lib.isinf(x), lib.isfinite(x),
                                       lib.isposinf(x), lib.isneginf(x)),
           [(np.array([0.0, np.nan, np.inf, -np.inf, 1.0]),)], grad=False),
    OpCase("isclose", lambda lib, a, b: lib.isclose(a, a + b * 1e-6) & ~lib.isclose(a, a + b),
           BINARY[:3], grad=False),
    OpCase("isclose_special", lambda lib, a, b: (lib.isclose(a, b), lib.isclose(a, b,
                                                                              equal_nan=True)),
           [(np.array([1.0, np.nan, np.inf, np.inf, 0.0]),
             np.array([1.0 + 1e-9, np.nan, np.inf, -np.inf, 1e-9]))], grad=False),
]


@pytest.mark.parametrize("case,shapes,dtype", case_params(CASES))
def test_against_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


def test_where_gradient_reaches_both_branches():
    grads = []
    for lib in (torch, deepgrad):
        a = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        b = lib.tensor(0.5, requires_grad=True)
        grads.append(lib.autograd.grad(lib.where(a > 0, a * 2, b).sum(), [a, b]))
    for t, d in zip(*grads, strict=True):
        assert d.tolist() == t.tolist()


def test_where_dtypes_as_torch():
    b = np.array([True, False])
    for fn in (lambda lib, c: lib.where(c, 1, 0), lambda lib, c: lib.where(c, 1.0, 0),
               lambda lib, c: lib.where(c, lib.tensor([1, 2]), 2.5),
               lambda lib, c: lib.where(c, lib.tensor([1, 2], dtype=lib.int32), 3),
               lambda lib, c: lib.where(c[:1], lib.ones(2, 1), lib.zeros(3)),
               lambda lib, c: lib.where(lib.tensor(True)),
               lambda lib, c: lib.where(c, lib.tensor(1.0, dtype=lib.float64), lib.ones(2))):
        actual, expected = fn(deepgrad, deepgrad.tensor(b)), fn(torch, torch.tensor(b))
        pairs = (x if isinstance(x, tuple) else (x,) for x in (actual, expected))
        for d, t in zip(*pairs, strict=True):
            assert_close(d, t, 0, 0, "where")


def test_where_condition_must_be_bool():
    with pytest.raises(RuntimeError, match="boolean"):
        deepgrad.where(deepgrad.tensor([1, 0]), 1.0, 0.0)


def test_where_bad_shape_names_the_op():
    with pytest.raises(RuntimeError, match=r"where.*\(2,\).*\(3,\)"):
        deepgrad.where(deepgrad.tensor([True, False]), deepgrad.ones(3), 0.0)


@pytest.mark.parametrize("left", ["int64", "int32", "uint8", "bool", "float16", "float32"])
@pytest.mark.parametrize("right", [2, 2.5, True, "int64", "float64", "0d-float64"])
def test_comparison_promotion_as_torch(left, right):
    a = np.array([1, 2, 3]).astype(left)

    def operand(lib):
        if isinstance(right, str):
            values = np.array(2.5) if right.startswith("0d") else np.array([2, 3, 4])
            return lib.tensor(values.astype(right.split("-")[-1]))
        return right

    for name in ("eq", "lt", "ge"):
        actual = getattr(deepgrad, name)(deepgrad.tensor(a), operand(deepgrad))
        assert_close(actual, getattr(torch, name)(torch.tensor(a), operand(torch)), 0, 0, name)
    for op in (operator.and_, operator.or_, operator.xor):
        def fn(lib, op=op):
            return op(lib.tensor(a), operand(lib))

        try:
            expected = fn(torch)
        except (RuntimeError, TypeError):
            with pytest.raises((RuntimeError, TypeError)):
                fn(deepgrad)
            continue
        assert_close(fn(deepgrad), expected, 0, 0, op)


def test_reflected_comparisons_and_operators():
    values = np.array([1, 2, 3])
    for fn in (lambda t: 2 < t, lambda t: 2 == t, lambda t: 2.5 >= t, lambda t: 6 & t,
               lambda t: True | (t > 1), lambda t: 1 ^ t):
        assert_close(fn(deepgrad.tensor(values)), fn(torch.tensor(values)), 0, 0, "reflected")


def test_comparison_with_numpy_arrays_and_scalars():
    values = np.array([1, 2, 3])
    for fn in (lambda t: t == np.array([1, 0, 3]), lambda t: t < np.float64(2.5),
               lambda t: t >= np.int32(2)):
        assert_close(fn(deepgrad.tensor(values)), fn(torch.tensor(values)), 0, 0, "numpy")


def test_equality_with_non_numbers_is_false_as_torch():
    t = deepgrad.ones(2)
    assert (t == None) is False  # noqa: E711 - the operator under test
    assert (t != "a") is True
    assert t in [t] and t != object()
    with pytest.raises(TypeError):
        t < None  # noqa: B015


def test_bitwise_errors_as_torch():
    f = deepgrad.ones(2)
    with pytest.raises(NotImplementedError):
        _ = f & 1
    with pytest.raises(TypeError):
        _ = ~f
    with pytest.raises(NotImplementedError):
        deepgrad.bitwise_not(f)


def test_logical_ops_require_tensors_and_check_shapes():
    with pytest.raises(TypeError):
        deepgrad.logical_and(deepgrad.ones(2), 1)
    with pytest.raises(RuntimeError, match=r"logical_or.*\(2, 3\).*\(3, 2\)"):
        deepgrad.logical_or(deepgrad.ones(2, 3), deepgrad.ones(3, 2))


def test_isclose_allclose_equal():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0 + 1e-7, 3.1])
    for kwargs in ({}, {"rtol": 0.1}, {"atol": 0.2, "rtol": 0}):
        assert deepgrad.allclose(deepgrad.tensor(a), deepgrad.tensor(b), **kwargs) == \
            torch.allclose(torch.tensor(a), torch.tensor(b), **kwargs)
    i = np.array([1, 2])
    assert deepgrad.isclose(deepgrad.tensor(i), deepgrad.tensor(i + 1), rtol=0.5).tolist() == \
        torch.isclose(torch.tensor(i), torch.tensor(i + 1), rtol=0.5).tolist()
    with pytest.raises(RuntimeError, match="did not match"):
        deepgrad.isclose(deepgrad.tensor(i), deepgrad.tensor(a[:2]))
    assert deepgrad.equal(deepgrad.tensor(i), deepgrad.tensor([1.0, 2.0]))
    assert not deepgrad.equal(deepgrad.ones(2), deepgrad.ones(3))
    assert not deepgrad.equal(deepgrad.ones(2), deepgrad.tensor([1.0, 0.0]))
    assert deepgrad.tensor(a).allclose(deepgrad.tensor(a))


def test_inplace_comparisons_and_bitwise():
    d, t = deepgrad.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 3.0])
    d.gt_(1.5), t.gt_(1.5)
    assert_close(d, t, 0, 0, "gt_")
    d, t = deepgrad.tensor([12, 10]), torch.tensor([12, 10])
    d &= 6
    t &= 6
    d |= 1
    t |= 1
    d ^= 3
    t ^= 3
    assert_close(d, t, 0, 0, "&= |= ^=")


def test_comparisons_are_outside_the_graph():
    x = deepgrad.tensor([1.0, -1.0], requires_grad=True)
    mask = x > 0
    assert mask.dtype == deepgrad.bool and not mask.requires_grad and mask.grad_fn is None


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("zero_first", [False, True])
def test_select_fast_path_is_bitwise_equal_to_numpy_where(dtype, zero_first):
    """The bit-masking path of ``select`` must give exactly ``np.where``'s values,
    including inf, nan and -0.0 in the kept branch."""
    from deepgrad.ops.comparison import select

    rng = np.random.default_rng(0)
    values = rng.standard_normal((7, 9)).astype(dtype)
    values.flat[:4] = [np.inf, -np.inf, np.nan, -0.0]
    condition = rng.random((7, 9)) < 0.5
    zero = np.zeros((), dtype)
    if zero_first:
        expected, got = np.where(condition, zero, values), select(condition, zero, values)
    else:
        expected, got = np.where(condition, values, zero), select(condition, values, zero)
    assert got.dtype == expected.dtype
    assert np.array_equal(got.view(np.uint8), expected.view(np.uint8))
