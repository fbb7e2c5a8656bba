"""Trigonometric and hyperbolic functions and atan2 against torch: values, dtypes, first
and second order gradients."""

import numpy as np
import pytest
import torch

import deepgrad
from oracle import OpCase, assert_close, case_params, check_case

UNARY = [((3, 4),), ((),), ((0, 2),), ((2, 1, 3),)]
BINARY = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((), ())]


def signed(rng, shape, dtype):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)


def unary(name, domain=(-2.0, 2.0)):
    return OpCase(name, lambda lib, x: getattr(lib, name)(x), UNARY, domain=domain)


CASES = [
    unary("sin"),
    unary("cos"),
    unary("tan", (-1.2, 1.2)),
    unary("asin", (-0.9, 0.9)),
    unary("acos", (-0.9, 0.9)),
    unary("atan"),
    unary("sinh"),
    unary("cosh"),
    unary("tanh"),
    unary("asinh"),
    unary("acosh", (1.2, 3.0)),
    unary("atanh", (-0.9, 0.9)),
    unary("arcsin", (-0.9, 0.9)),
    OpCase("atan2", lambda lib, a, b: lib.atan2(a, b), BINARY, domain=signed),
    unary("arccos", (-0.9, 0.9)),
    unary("arctan"),
    unary("arcsinh"),
    unary("arccosh", (1.2, 3.0)),
    unary("arctanh", (-0.9, 0.9)),
    OpCase("arctan2", lambda lib, a, b: lib.arctan2(a, b), BINARY[:2], domain=signed),
    OpCase("methods", lambda lib, x: x.sin().cosh() * x.tanh().atan() + x.cos().sinh(),
           UNARY[:2]),
]


@pytest.mark.parametrize("case,shapes,dtype", case_params(CASES))
def test_against_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


FUNCTIONS = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh",
             "acosh", "atanh"]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_integer_and_bool_inputs_promote_as_torch(name):
    for values in (np.array([1, 2, 3]), np.array([True, False]),
                   np.array([1.0, 2.0], dtype=np.float16)):
        with np.errstate(all="ignore"):
            actual = getattr(deepgrad, name)(deepgrad.tensor(values))
        expected = getattr(torch, name)(torch.tensor(values))
        assert_close(actual, expected, 2e-3, 1e-3, f"{name} {values.dtype}")


@pytest.mark.parametrize("name", ["sin", "tanh", "atan"])
def test_inplace_variants(name):
    values = np.array([0.25, 1.5, 3.0], dtype=np.float32)
    d, t = deepgrad.tensor(values), torch.tensor(values)
    assert getattr(d, name + "_")() is d
    getattr(t, name + "_")()
    assert_close(d, t, 1e-6, 1e-7, name + "_")


def test_atan2_promotes_and_requires_tensors_as_torch():
    i = np.array([1, -2])
    assert_close(deepgrad.atan2(deepgrad.tensor(i), deepgrad.tensor(i[::-1].copy())),
                 torch.atan2(torch.tensor(i), torch.tensor(i[::-1].copy())), 1e-6, 0, "int")
    for lib in (torch, deepgrad):
        with pytest.raises(TypeError):
            lib.atan2(lib.tensor([1.0]), 2)
