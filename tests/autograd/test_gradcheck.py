"""``gradcheck`` / ``gradgradcheck``: pass on correct ops, fail (with a useful message) on a
wrong backward, and agree with torch's verdicts."""

import sys
import warnings

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)
A = RNG.uniform(-1, 1, (2, 3))
M = RNG.uniform(-1, 1, (3, 2))


def leaf(lib, array):
    return lib.tensor(array.copy(), requires_grad=True)


def verdicts(check, make_fn, *arrays, **kwargs):
    """The check's verdict (True / False) for deepgrad and torch on the same function."""
    out = []
    for lib in (deepgrad, torch):
        checker = getattr(lib.autograd, check)
        out.append(checker(make_fn(lib), tuple(leaf(lib, a) for a in arrays),
                           raise_exception=False, **kwargs))
    return out


def wrong_double(lib):
    class WrongDouble(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out * 3  # should be 2

    return WrongDouble


def first_order_only(lib):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            # right first derivative, but x is detached: the second derivative is lost
            return grad_out * 3 * x.detach() * x.detach()

    return Cube


@pytest.mark.parametrize("name,make_fn,arrays", [
    ("exp_mul", lambda lib: lambda x: (x * x).exp(), (A,)),
    ("matmul", lambda lib: lambda x, w: x @ w, (A, M)),
    ("two_outputs", lambda lib: lambda x: (x.exp(), (x * 3).sum()), (A,)),
    ("div", lambda lib: lambda x, w: x / (w.T * w.T + 1), (A, M)),
])
def test_gradcheck_and_gradgradcheck_pass_on_correct_ops(name, make_fn, arrays):
    assert verdicts("gradcheck", make_fn, *arrays) == [True, True]
    assert verdicts("gradgradcheck", make_fn, *arrays) == [True, True]


def test_gradcheck_fails_on_a_wrong_backward_like_torch():
    assert verdicts("gradcheck", lambda lib: wrong_double(lib).apply, A) == [False, False]


def test_gradcheck_failure_message_names_function_input_element_and_values():
    x = leaf(deepgrad, np.array([0.5, -1.0, 2.0]))
    from deepgrad.autograd.gradcheck import GradcheckError  # the module, as in torch

    with pytest.raises(GradcheckError) as info:
        gradcheck(wrong_double(deepgrad).apply, (x,))
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert "WrongDouble" in message  # the function and its grad_fn
    assert "input 0" in message
    assert "element (0,)" in message
    assert "analytical 3" in message and "numerical 2" in message


def test_gradcheck_reports_the_failing_input_index():
    def make(lib):
        wrong = wrong_double(lib)
        return lambda x, w: x.exp() + wrong.apply(w)

    x, w = leaf(deepgrad, np.array([0.1, 0.2])), leaf(deepgrad, np.array([0.3, 0.4]))
    with pytest.raises(RuntimeError, match="with respect to input 1"):
        gradcheck(make(deepgrad), (x, w))
    assert verdicts("gradcheck", make, np.array([0.1, 0.2]), np.array([0.3, 0.4])) == [
        False, False]


def test_gradgradcheck_fails_when_backward_is_not_differentiable_like_torch():
    make = lambda lib: first_order_only(lib).apply  # noqa: E731
    assert verdicts("gradcheck", make, A) == [True, True]
    assert verdicts("gradgradcheck", make, A) == [False, False]


def test_gradgradcheck_with_explicit_grad_outputs():
    for lib in (deepgrad, torch):
        x = leaf(lib, A)
        vector = lib.tensor(RNG.uniform(-1, 1, (2, 3)), requires_grad=True)
        assert lib.autograd.gradgradcheck(lambda t: t * t * t.exp(), (x,), (vector,))


def test_gradgradcheck_through_once_differentiable_raises_clearly():
    class Square(deepgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @deepgrad.autograd.once_differentiable
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out * 2 * x

    assert gradcheck(Square.apply, (leaf(deepgrad, A),))
    with pytest.raises(RuntimeError, match="once_differentiable"):
        gradgradcheck(Square.apply, (leaf(deepgrad, A),))


def test_float32_inputs_warn_like_torch():
    messages = []
    for lib in (deepgrad, torch):
        x = lib.tensor(A.astype(np.float32), requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.autograd.gradcheck(lambda t: t * 2, (x,), raise_exception=False)
        messages.append([str(w.message) for w in caught if "double precision" in str(w.message)])
    assert messages[0] == messages[1] and len(messages[0]) == 1


def test_no_input_requiring_grad_is_a_value_error_like_torch():
    for lib in (deepgrad, torch):
        with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
            lib.autograd.gradcheck(lambda t: t * 2, (lib.tensor(A.copy()),))


def test_non_reentrant_backward_is_detected():
    calls = []

    class Drifting(deepgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_out):
            calls.append(1)
            return grad_out * (2 + 1e-3 * len(calls))

    with pytest.raises(RuntimeError, match="not reentrant"):
        gradcheck(Drifting.apply, (leaf(deepgrad, A),), atol=1e-2)


def test_non_tensor_inputs_pass_through():
    x = leaf(deepgrad, A)
    assert gradcheck(lambda t, k: t * k, (x, 3.0))


def test_gradcheck_names_are_callable_functions():
    assert callable(deepgrad.autograd.gradcheck)
    assert callable(deepgrad.autograd.gradgradcheck)
    module = sys.modules["deepgrad.autograd.gradcheck"]
    assert module.gradcheck is deepgrad.autograd.gradcheck
    assert deepgrad.autograd.gradcheck(lambda t: t.exp(), leaf(deepgrad, A))


def test_forward_ad_check_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="forward-mode AD"):
        gradcheck(lambda t: t * 2, (leaf(deepgrad, A),), check_forward_ad=True)
