"""Elementwise arithmetic against torch: the op table (values, dtypes, first and second order
gradients, broadcasting, 0-d and empty shapes), torch's dtype promotion, in-place variants,
reflected operators, ``out=`` and error messages."""

import numpy as np
import pytest
import torch

import deepgrad
from oracle import OpCase, assert_close, case_params, check_case

BINARY = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((), ()),
          ((0, 3), (3,))]
UNARY = [((3, 4),), ((),), ((0, 2),), ((2, 1, 3),)]
POSITIVE = (0.5, 2.0)


def signed(rng, shape, dtype):
    """Magnitudes in [0.5, 2] with random signs: away from 0, where these ops have kinks/poles."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)


CASES = [
    OpCase("add", lambda lib, a, b: a + b, BINARY),
    OpCase("add_alpha", lambda lib, a, b: lib.add(a, b, alpha=2.5), BINARY[:3]),
    OpCase("radd", lambda lib, a: 1.5 + a, UNARY),
    OpCase("sub", lambda lib, a, b: a - b, BINARY),
    OpCase("sub_alpha", lambda lib, a, b: lib.sub(a, b, alpha=0.5), BINARY[:3]),
    OpCase("subtract", lambda lib, a, b: lib.subtract(a, b), BINARY[:2]),
    OpCase("rsub", lambda lib, a: 2 - a, UNARY),
    OpCase("mul", lambda lib, a, b: a * b, BINARY),
    OpCase("multiply", lambda lib, a, b: lib.multiply(a, b), BINARY[:2]),
    OpCase("rmul", lambda lib, a: 3 * a, UNARY),
    OpCase("mul_self", lambda lib, a: a * a, UNARY[:2]),
    OpCase("div", lambda lib, a, b: a / b, BINARY, domain=signed),
    OpCase("divide", lambda lib, a, b: lib.divide(a, b), BINARY[:2], domain=signed),
    OpCase("true_divide", lambda lib, a, b: lib.true_divide(a, b), BINARY[:2], domain=signed),
    OpCase("rdiv", lambda lib, a: 3.0 / a, UNARY, domain=signed),
    OpCase("div_scalar", lambda lib, a: a / 4, UNARY),
    OpCase("div_trunc", lambda lib, a, b: lib.div(a * 3, b, rounding_mode="trunc"), BINARY,
           domain=signed),
    OpCase("div_floor", lambda lib, a, b: lib.div(a * 3, b, rounding_mode="floor"), BINARY,
           domain=signed),
    OpCase("floor_divide", lambda lib, a, b: (a * 3) // b, BINARY, domain=signed, grad=False),
    OpCase("rfloordiv", lambda lib, a: 5.0 // a, UNARY, domain=signed, grad=False),
    OpCase("remainder", lambda lib, a, b: lib.remainder(a * 3, b), BINARY, domain=signed),
    OpCase("mod_scalar", lambda lib, a: (a * 3) % 1.5, UNARY, domain=signed),
    # torch has no derivative for a number % tensor; deepgrad's (-floor(5 / a)) is checked by hand
    OpCase("rmod", lambda lib, a: 5.0 % a, UNARY, domain=signed, grad=False),
    OpCase("fmod", lambda lib, a, b: lib.fmod(a * 3, b), BINARY, domain=signed),
    OpCase("fmod_scalar", lambda lib, a: lib.fmod(a * 3, -1.5), UNARY, domain=signed),
    OpCase("neg", lambda lib, a: -a, UNARY),
    OpCase("negative", lambda lib, a: lib.negative(a), UNARY[:1]),
    OpCase("positive", lambda lib, a: +a * 2, UNARY[:1]),
    OpCase("lerp_small_weight", lambda lib, a, b: lib.lerp(a, b, 0.3), BINARY),
    OpCase("lerp_large_weight", lambda lib, a, b: lib.lerp(a, b, 0.8), BINARY[:3]),
    OpCase("lerp_tensor_weight", lambda lib, a, b, w: lib.lerp(a, b, w),
           [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((), (), ())], domain=(-1, 1)),
    OpCase("addcmul", lambda lib, a, b, c: lib.addcmul(a, b, c, value=0.5),
           [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((), (), ())]),
    OpCase("addcdiv", lambda lib, a, b, c: lib.addcdiv(a, b, c, value=2),
           [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((), (), ())], domain=signed),
    OpCase("chain", lambda lib, a, b: (a * b - a / (b * b + 1)) % 0.7, BINARY[:3]),
]


@pytest.mark.parametrize("case,shapes,dtype", case_params(CASES))
def test_against_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


# ---------------------------------------------------------------- dtype promotion

def _sample(dtype):
    """Small positive values in ``dtype`` (nonzero so every division is defined)."""
    values = np.array([[1, 2, 3], [4, 5, 6]])
    if dtype == "bool":
        return np.array([[True, False, True], [True, True, False]])
    return values.astype(dtype)


DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
OPS = {
    "add": lambda lib, a, b: lib.add(a, b),
    "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / b,
    "sub": lambda lib, a, b: a - b,
    "floor_divide": lambda lib, a, b: a // b,
    "remainder": lambda lib, a, b: a % b,
    "fmod": lambda lib, a, b: lib.fmod(a, b),
    "div_trunc": lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"),
}


def _outcome(fn, lib, *args):
    """The result, or the exception class when the op refuses the operands."""
    try:
        return fn(lib, *args)
    except (RuntimeError, TypeError, NotImplementedError) as error:
        return type(error)


def _same(actual, expected, what):
    if isinstance(expected, type):
        assert isinstance(actual, type), f"{what}: torch raised {expected.__name__}, not deepgrad"
        assert issubclass(actual, RuntimeError) == issubclass(expected, RuntimeError), (
            f"{what}: deepgrad raised {actual.__name__}, torch {expected.__name__}")
        return
    assert not isinstance(actual, type), f"{what}: deepgrad raised {actual.__name__}, torch did not"
    assert_close(actual, expected, 1e-3, 1e-3, what)


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("left", DTYPES)
def test_promotion_table_tensor_tensor(op, left):
    for right in DTYPES:
        for right_shape in (None, ()):  # dimensioned vs 0-d right operand
            a = _sample(left)
            b = _sample(right) if right_shape is None else _sample(right)[0, 1]
            expected = _outcome(OPS[op], torch, torch.tensor(a), torch.tensor(b))
            actual = _outcome(OPS[op], deepgrad, deepgrad.tensor(a), deepgrad.tensor(b))
            _same(actual, expected, f"{op} {left} {right} {right_shape}")


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("scalar", [2, 2.5, True, np.float64(2.5), np.float32(2.5), np.int32(2)],
                         ids=["int", "float", "bool", "np.float64", "np.float32", "np.int32"])
def test_promotion_table_python_scalars(op, scalar):
    for dtype in DTYPES:
        for reflected in (False, True):
            a = _sample(dtype)

            def fn(lib, t, fn=OPS[op], reflected=reflected):
                return fn(lib, scalar, t) if reflected else fn(lib, t, scalar)

            expected = _outcome(fn, torch, torch.tensor(a))
            actual = _outcome(fn, deepgrad, deepgrad.tensor(a))
            _same(actual, expected, f"{op} {dtype} {scalar!r} reflected={reflected}")


def test_promotion_rules_spelled_out():
    i = deepgrad.tensor([1, 2])
    f = deepgrad.tensor([1.0, 2.0])
    assert (i / i).dtype == deepgrad.float32  # int / int -> default float
    assert (f * 2.5).dtype == deepgrad.float32  # a Python float keeps float32
    assert (i + 1.5).dtype == deepgrad.float32  # int tensor + Python float -> default float
    assert (i + 1).dtype == deepgrad.int64
    assert (f.half() + deepgrad.tensor(1.0, dtype=deepgrad.float64)).dtype == deepgrad.float16
    assert (i == 1.0).dtype == deepgrad.bool
    assert deepgrad.tensor([1, 2], dtype=deepgrad.int32).add(7).dtype == deepgrad.int32


def test_default_dtype_float64_is_respected():
    previous = deepgrad.get_default_dtype()
    deepgrad.set_default_dtype(deepgrad.float64)
    try:
        assert (deepgrad.tensor([1, 2]) / 2).dtype == deepgrad.float64
        assert (deepgrad.tensor([1, 2]) * 0.5).dtype == deepgrad.float64
    finally:
        deepgrad.set_default_dtype(previous)


# ---------------------------------------------------------------- semantics

def test_integer_division_and_remainder_match_python():
    a, b = np.array([7, -7, 7, -7, 0]), np.array([2, 2, -2, -2, 3])
    for op in ("floor_divide", "remainder", "fmod"):
        assert_close(getattr(deepgrad, op)(deepgrad.tensor(a), deepgrad.tensor(b)),
                     getattr(torch, op)(torch.tensor(a), torch.tensor(b)), 0, 0, op)
    for mode in ("trunc", "floor"):
        assert_close(deepgrad.div(deepgrad.tensor(a), deepgrad.tensor(b), rounding_mode=mode),
                     torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode), 0, 0, mode)


def test_integer_division_by_zero_raises():
    for fn in (lambda lib: lib.tensor([1]) // 0, lambda lib: lib.tensor([1]) % 0,
               lambda lib: lib.fmod(lib.tensor([1]), 0)):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            fn(torch)
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            fn(deepgrad)


def test_float_division_by_zero_gives_inf_and_nan_as_torch():
    a = np.array([1.0, -1.0, 0.0], dtype=np.float32)
    with np.errstate(all="ignore"):
        for fn in (lambda lib, x: x / 0, lambda lib, x: x // 0.0, lambda lib, x: x % 0.0):
            assert_close(fn(deepgrad, deepgrad.tensor(a)), fn(torch, torch.tensor(a)), 0, 0, "")


def test_floor_divide_has_no_derivative_as_torch():
    x = deepgrad.tensor([3.0, 5.0], requires_grad=True)
    y = x // 2
    assert y.requires_grad  # torch: output requires grad, backward raises
    with pytest.raises(RuntimeError, match="floor_divide"):
        y.sum().backward()


def test_number_remainder_tensor_gradient():
    # torch raises "derivative for aten::remainder is not implemented" here; deepgrad gives it
    x = deepgrad.tensor([1.5, -2.0, 3.0], requires_grad=True)
    (5.0 % x).sum().backward()
    assert x.grad.tolist() == (-torch.floor(5.0 / torch.tensor([1.5, -2.0, 3.0]))).tolist()


def test_rounding_div_gradient_is_zero():
    x = deepgrad.tensor([3.0, 5.0], requires_grad=True)
    deepgrad.div(x, 2, rounding_mode="floor").sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_bad_rounding_mode():
    with pytest.raises(ValueError, match="rounding_mode"):
        deepgrad.div(deepgrad.ones(2), 2, rounding_mode="round")


def test_bool_negation_and_subtraction_refused_as_torch():
    b = deepgrad.tensor([True, False])
    with pytest.raises(RuntimeError, match="Negation"):
        _ = -b
    with pytest.raises(RuntimeError, match="two bool tensors"):
        _ = b - b
    with pytest.raises(RuntimeError, match="bool tensor"):
        _ = b - 1
    with pytest.raises(RuntimeError, match="bool"):
        _ = +b
    assert (b + b).dtype == deepgrad.bool and (b * b).tolist() == [True, False]


def test_lerp_dtype_checks_as_torch():
    f = deepgrad.ones(2)
    with pytest.raises(RuntimeError, match="end"):
        deepgrad.lerp(f, f.double(), 0.5)
    with pytest.raises(RuntimeError, match="weight"):
        deepgrad.lerp(f, f, deepgrad.ones(2, dtype=deepgrad.float64))
    # a 0-d weight of another float dtype is accepted, as in torch
    assert deepgrad.lerp(f, f, deepgrad.tensor(0.5, dtype=deepgrad.float64)).dtype == f.dtype


def test_lerp_is_exact_at_the_ends():
    a, b = deepgrad.tensor([0.1, 1e8]), deepgrad.tensor([0.3, -3.7])
    assert deepgrad.lerp(a, b, 1.0).tolist() == b.tolist()
    assert deepgrad.lerp(a, b, 0.0).tolist() == a.tolist()


def test_addcdiv_refuses_integer_division():
    i = deepgrad.tensor([1, 2])
    with pytest.raises(RuntimeError, match="Integer division"):
        deepgrad.addcdiv(deepgrad.ones(2), i, i)


# ---------------------------------------------------------------- in place

def _pair(values, dtype=np.float32):
    return deepgrad.tensor(np.array(values, dtype=dtype)), torch.tensor(np.array(values, dtype))


@pytest.mark.parametrize("name,args", [
    ("add_", (2.0,)), ("sub_", (0.5,)), ("mul_", (3.0,)), ("div_", (4.0,)),
    ("floor_divide_", (0.7,)), ("remainder_", (0.7,)), ("fmod_", (0.7,)), ("neg_", ()),
    ("true_divide_", (3.0,)), ("lerp_", ("tensor", 0.25)), ("addcmul_", ("tensor", "tensor")),
    ("addcdiv_", ("tensor", "tensor")),
])
def test_inplace_methods_match_torch(name, args):
    d, t = _pair([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]])
    other = np.array([2.0, 0.5, -1.5], dtype=np.float32)
    d_args = [deepgrad.tensor(other) if a == "tensor" else a for a in args]
    t_args = [torch.tensor(other) if a == "tensor" else a for a in args]
    d_version = d._version
    assert getattr(d, name)(*d_args) is d
    getattr(t, name)(*t_args)
    assert_close(d, t, 1e-6, 1e-6, name)
    assert d._version > d_version


def test_add_and_sub_inplace_with_alpha_and_value_keywords():
    d, t = _pair([1.0, 2.0])
    d.add_(deepgrad.tensor([1.0, 1.0]), alpha=-0.5).sub_(1, alpha=2)
    t.add_(torch.tensor([1.0, 1.0]), alpha=-0.5).sub_(1, alpha=2)
    assert_close(d, t, 0, 0, "alpha")
    d.addcmul_(deepgrad.tensor([1.0, 2.0]), deepgrad.tensor([3.0, 4.0]), value=0.1)
    t.addcmul_(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0]), value=0.1)
    assert_close(d, t, 1e-7, 0, "addcmul_ value")


@pytest.mark.parametrize("statement", ["x += 2", "x -= 2", "x *= 2", "x /= 2", "x //= 2",
                                       "x %= 2", "x **= 2"])
def test_augmented_assignment_is_in_place(statement):
    d, t = _pair([5.0, -7.0, 0.5])
    scope_d, scope_t = {"x": d}, {"x": t}
    exec(statement, {}, scope_d)  # noqa: S102 - the statement under test
    exec(statement, {}, scope_t)  # noqa: S102
    assert scope_d["x"] is d
    assert_close(d, t, 1e-6, 0, statement)


def test_integer_inplace_with_float_raises_as_torch():
    d, t = _pair([1, 2], np.int64)
    with pytest.raises(RuntimeError, match="can't be cast"):
        t += 1.5
    with pytest.raises(RuntimeError, match="can't be cast"):
        d += 1.5
    with pytest.raises(RuntimeError, match="can't be cast"):
        d /= 2
    d += 2  # an int keeps int
    assert d.tolist() == [3, 4] and d.dtype == deepgrad.int64


def test_inplace_on_leaf_requiring_grad_raises():
    x = deepgrad.tensor([1.0, 2.0], requires_grad=True)
    for fn in (lambda: x.add_(1), lambda: x.mul_(2), lambda: x.neg_(), lambda: x.lerp_(x, 0.5)):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            fn()
    with deepgrad.no_grad():  # an optimizer step: a plain write
        x.sub_(1).mul_(2)
    assert x.tolist() == [0.0, 2.0] and x.requires_grad and x.grad_fn is None


def test_inplace_on_non_leaf_keeps_the_graph():
    rows = []
    for lib in (torch, deepgrad):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = x * 2
        y.mul_(w).add_(x, alpha=3).addcmul_(x, w, value=0.5)
        y.pow_(2)
        grads = (lib.autograd.grad if lib is torch else deepgrad.autograd.grad)(
            y.sum(), [x, w])
        rows.append([g.detach().numpy() for g in grads])
    for mine, theirs in zip(rows[1], rows[0], strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6)


def test_inplace_output_shape_error_names_both_shapes():
    x = deepgrad.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"add_.*\[2, 3\].*\[4, 2, 3\]"):
        x.add_(deepgrad.ones(4, 2, 3))


def test_out_argument():
    out = deepgrad.zeros(2)
    result = deepgrad.add(deepgrad.tensor([1.0, 2.0]), 1, out=out)
    assert result is out and out.tolist() == [2.0, 3.0]
    out = deepgrad.zeros(5)  # resized, as torch
    deepgrad.mul(deepgrad.tensor([1.0, 2.0]), 3, out=out)
    assert out.tolist() == [3.0, 6.0]
    with pytest.raises(RuntimeError, match="out="):
        deepgrad.add(deepgrad.ones(2, requires_grad=True), 1, out=deepgrad.zeros(2))


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "remainder", "fmod",
                                "floor_divide", "pow", "atan2", "maximum", "minimum", "eq",
                                "lt", "bitwise_and", "logical_and"])
def test_bad_shapes_name_op_and_both_shapes(op):
    a = deepgrad.ones(2, 3) if op not in ("bitwise_and",) else deepgrad.ones(2, 3).long()
    b = deepgrad.ones(3, 2) if op not in ("bitwise_and",) else deepgrad.ones(3, 2).long()
    with pytest.raises(RuntimeError) as info:
        getattr(deepgrad, op)(a, b)
    message = str(info.value)
    assert message.startswith(op) and "(2, 3)" in message and "(3, 2)" in message, message
    with pytest.raises(RuntimeError):
        getattr(torch, op)(torch.ones(2, 3).to(a.dtype.name and getattr(torch, a.dtype.name)),
                           torch.ones(3, 2).to(getattr(torch, b.dtype.name)))


def test_bad_shapes_with_gradients_also_raise_before_any_graph():
    a = deepgrad.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"mul.*\(2, 3\).*\(4,\)"):
        a * deepgrad.ones(4)
