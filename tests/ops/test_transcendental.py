"""Powers, exp/log, sigmoid and erf against torch: values, dtypes, first and second order
gradients, torch's gradient conventions."""

import numpy as np
import pytest
import torch

import deepgrad
from oracle import OpCase, assert_close, case_params, check_case

UNARY = [((3, 4),), ((),), ((0, 2),), ((2, 1, 3),)]
BINARY = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((), ())]
POSITIVE = (0.5, 2.0)


def signed(rng, shape, dtype):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)


def unary(name, domain=(-2.0, 2.0), **kwargs):
    return OpCase(name, lambda lib, x: getattr(lib, name)(x), UNARY, domain=domain, **kwargs)


CASES = [
    OpCase("pow_2", lambda lib, x: x ** 2, UNARY),
    OpCase("pow_3", lambda lib, x: lib.pow(x, 3), UNARY),
    OpCase("pow_half", lambda lib, x: x ** 0.5, UNARY, domain=POSITIVE),
    OpCase("pow_negative", lambda lib, x: x ** -1.5, UNARY, domain=POSITIVE),
    OpCase("pow_zero", lambda lib, x: x ** 0, UNARY),
    OpCase("pow_one", lambda lib, x: x.pow(1), UNARY),
    OpCase("pow_tensor", lambda lib, a, b: a ** b, BINARY + [((0, 3), (3,))], domain=POSITIVE),
    OpCase("rpow", lambda lib, x: 2.5 ** x, UNARY),
    OpCase("pow_0d_tensor_exponent", lambda lib, a, e: lib.pow(a, e), [((3, 4), ())],
           domain=POSITIVE),
    OpCase("float_power", lambda lib, a, b: lib.float_power(a, b), BINARY[:2], domain=POSITIVE),
    OpCase("square", lambda lib, x: lib.square(x), UNARY),
    OpCase("reciprocal", lambda lib, x: lib.reciprocal(x), UNARY, domain=signed),
    unary("sqrt", POSITIVE),
    unary("rsqrt", POSITIVE),
    unary("exp"),
    unary("exp2"),
    unary("expm1"),
    unary("log", POSITIVE),
    unary("log2", POSITIVE),
    unary("log10", POSITIVE),
    unary("log1p", (-0.5, 2.0)),
    unary("sigmoid", (-6.0, 6.0)),
    unary("erf", (-3.0, 3.0)),
    unary("erfc", (-3.0, 3.0)),
    unary("erfinv", (-0.95, 0.95)),
    OpCase("erf_tails", lambda lib, x: lib.erf(x) + lib.erfc(x * 3), [((50,),)],
           domain=(-4.0, 4.0)),
    OpCase("methods", lambda lib, x: x.exp().log1p().sin().tanh().sigmoid() * x.cosh().sqrt(),
           UNARY[:2]),
]


@pytest.mark.parametrize("case,shapes,dtype", case_params(CASES))
def test_against_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


FUNCTIONS = ["sqrt", "rsqrt", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p",
             "sigmoid", "erf", "erfc", "erfinv", "reciprocal", "square"]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_integer_and_bool_inputs_promote_as_torch(name):
    for values in (np.array([1, 2, 3]), np.array([True, False]),
                   np.array([1.0, 2.0], dtype=np.float16)):
        with np.errstate(all="ignore"):
            actual = getattr(deepgrad, name)(deepgrad.tensor(values))
        expected = getattr(torch, name)(torch.tensor(values))
        assert_close(actual, expected, 2e-3, 1e-3, f"{name} {values.dtype}")


@pytest.mark.parametrize("name", ["exp", "sqrt", "sigmoid", "log", "erf", "reciprocal"])
def test_inplace_variants(name):
    values = np.array([0.25, 1.5, 3.0], dtype=np.float32)
    d, t = deepgrad.tensor(values), torch.tensor(values)
    assert getattr(d, name + "_")() is d
    getattr(t, name + "_")()
    assert_close(d, t, 1e-6, 1e-7, name + "_")
    i = deepgrad.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):  # exp_ of an int tensor, as torch
        getattr(i, name + "_")()


def test_erf_matches_torch_across_the_range_in_float64():
    x = np.concatenate([np.linspace(-30.0, 30.0, 6001), [0.0, 1.0, -1.0, 8.0, -8.0, 1e-300,
                                                          np.inf, -np.inf, np.nan]])
    for name in ("erf", "erfc"):
        actual = getattr(deepgrad, name)(deepgrad.tensor(x))
        expected = getattr(torch, name)(torch.tensor(x))
        assert_close(actual, expected, 1e-13, 1e-300, name)


def test_erf_float32_and_float16():
    x = np.linspace(-6.0, 6.0, 1001)
    for dtype in (np.float32, np.float16):
        for name in ("erf", "erfc"):
            actual = getattr(deepgrad, name)(deepgrad.tensor(x.astype(dtype)))
            expected = getattr(torch, name)(torch.tensor(x.astype(dtype)))
            assert_close(actual, expected, 1e-3 if dtype == np.float16 else 1e-5, 1e-7, name)


def test_erfinv_matches_torch_up_to_the_poles():
    x = np.concatenate([np.linspace(-1.0, 1.0, 4001), 1 - np.logspace(-16, -2, 50),
                        [1.5, -2.0, np.nan, 0.0]])
    for dtype, rtol in ((np.float64, 1e-9), (np.float32, 1e-6)):
        with np.errstate(invalid="ignore"):
            actual = deepgrad.erfinv(deepgrad.tensor(x.astype(dtype)))
        assert_close(actual, torch.erfinv(torch.tensor(x.astype(dtype))), rtol, 0, str(dtype))
    # the inverse is exact to float64 precision, also where 1 - x is tiny
    near_one = 1 - np.logspace(-16, -4, 30)
    back = deepgrad.erfc(deepgrad.erfinv(deepgrad.tensor(near_one))).numpy()
    np.testing.assert_allclose(back, 1 - near_one, rtol=1e-13)


def test_sigmoid_is_stable_far_from_zero():
    x = np.array([-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0])
    for dtype in (np.float32, np.float64):
        actual = deepgrad.sigmoid(deepgrad.tensor(x.astype(dtype)))
        expected = torch.sigmoid(torch.tensor(x.astype(dtype)))
        assert_close(actual, expected, 1e-6, 1e-37, f"sigmoid {dtype}")  # torch flushes denormals


def _grads(fn, *values):
    """Gradient of fn(*inputs).sum() w.r.t. each float64 input, in deepgrad and torch."""
    out = []
    for lib in (deepgrad, torch):
        xs = [lib.tensor(np.array(v, dtype=np.float64), requires_grad=True) for v in values]
        grads = lib.autograd.grad(fn(lib, *xs).sum(), xs, allow_unused=True)
        out.append([None if g is None else g.detach().numpy() for g in grads])
    return out


def _assert_same_grads(fn, *values):
    mine, theirs = _grads(fn, *values)
    for m, t in zip(mine, theirs, strict=True):
        np.testing.assert_array_equal(np.isnan(m), np.isnan(t))
        np.testing.assert_allclose(m, t, rtol=1e-12)


def test_pow_gradient_conventions_at_zero():
    _assert_same_grads(lambda lib, x: x ** 0, [0.0, 2.0])  # d/dx x**0 = 0, also at 0
    _assert_same_grads(lambda lib, x: x ** 0.5, [0.0, 2.0])  # inf at 0
    _assert_same_grads(lambda lib, x: x ** 2, [0.0, -3.0])
    # tensor exponent: zero where e == 0; exponent's grad zero where base == 0 and e >= 0
    _assert_same_grads(lambda lib, x, e: x ** e, [0.0, 0.0, 2.0, 3.0], [0.0, 2.0, 0.5, 0.0])
    _assert_same_grads(lambda lib, e: 0 ** e, [0.0, 2.0, -1.0])
    _assert_same_grads(lambda lib, e: 2 ** e, [0.0, 2.0, -1.0])


def test_integer_powers_as_torch():
    i = np.array([1, 2, 3, -2])
    for fn in (lambda lib, x: x ** 2, lambda lib, x: 2 ** x, lambda lib, x: x ** 2.5,
               lambda lib, x: 2.0 ** x, lambda lib, x: x ** lib.tensor([3, 0, -1, -1]),
               lambda lib, x: lib.pow(x, True)):
        with np.errstate(all="ignore"):
            actual = fn(deepgrad, deepgrad.tensor(i))
        assert_close(actual, fn(torch, torch.tensor(i)), 1e-6, 0, "int pow")
    assert deepgrad.tensor([1, 2], dtype=deepgrad.int32).pow(2).dtype == deepgrad.int32
    for lib in (torch, deepgrad):
        with pytest.raises(RuntimeError, match="negative integer powers"):
            lib.tensor([1, 2]) ** -1


def test_float32_erf_is_within_a_few_ulp_of_torch_everywhere():
    """float32 erf is one branch-free rational function (ops/transcendental.py)."""
    x = np.concatenate([np.linspace(-6, 6, 200001, dtype=np.float32),
                        np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 3.9999,
                                  4.0, 4.0001], np.float32)])
    got = deepgrad.erf(deepgrad.tensor(x)).numpy()
    want = torch.erf(torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=5e-7, atol=5e-7)
    np.testing.assert_array_equal(np.signbit(got[:-10]), np.signbit(want[:-10]))
