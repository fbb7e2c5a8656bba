"""``deepgrad.autograd.functional`` against ``torch.autograd.functional``: values and the
nesting of the returned tuples."""

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad.autograd import functional as F

RNG = np.random.default_rng(0)
A = RNG.uniform(-1, 1, (3,))
B = RNG.uniform(-1, 1, (2, 3))
M = RNG.uniform(-1, 1, (3, 2))


def functional(lib):
    return deepgrad.autograd.functional if lib is deepgrad else torch.autograd.functional


def t(lib, array, requires_grad=False):
    return lib.tensor(array.copy(), requires_grad=requires_grad)


def assert_same_structure(actual, expected, rtol=1e-7, atol=1e-9, requires_grad=None):
    """Same nesting of tuples, same shapes and values (and requires_grad when asked)."""
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple), f"expected a tuple, got {type(actual)}"
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected, strict=True):
            assert_same_structure(a, e, rtol, atol, requires_grad)
        return
    assert isinstance(actual, deepgrad.Tensor), f"expected a Tensor, got {type(actual)}"
    assert tuple(actual.shape) == tuple(expected.shape)
    assert actual.dtype.name == str(expected.dtype).replace("torch.", "")
    np.testing.assert_allclose(actual.detach().numpy(), expected.detach().numpy(), rtol=rtol,
                               atol=atol)
    if requires_grad is not None:
        assert actual.requires_grad == expected.requires_grad == requires_grad


def both(fn):
    return fn(deepgrad), fn(torch)


def cubic(lib):
    """f(x, y) = x^3 - 3xy + y^3."""
    return lambda x, y: x * x * x - 3 * x * y + y * y * y


# ---------------------------------------------------------------- the acceptance test

def test_hessian_of_cubic_at_one_one_with_tuple_of_scalars():
    def run(lib):
        one = lib.tensor(1.0, dtype=lib.float64)
        return functional(lib).hessian(cubic(lib), (one, one.clone()))

    d, t_ = both(run)
    assert_same_structure(d, t_)
    values = [[float(h) for h in row] for row in d]
    assert values == [[6.0, -3.0], [-3.0, 6.0]]


def test_hessian_of_cubic_at_one_one_with_a_two_vector():
    def run(lib):
        e0 = lib.tensor([1.0, 0.0], dtype=lib.float64)
        e1 = lib.tensor([0.0, 1.0], dtype=lib.float64)

        def f(v):
            return cubic(lib)(v @ e0, v @ e1)  # x = v[0], y = v[1]

        return functional(lib).hessian(f, lib.tensor([1.0, 1.0], dtype=lib.float64))

    d, t_ = both(run)
    assert_same_structure(d, t_)
    np.testing.assert_array_equal(d.numpy(), [[6.0, -3.0], [-3.0, 6.0]])


def test_hessian_of_cubic_with_an_indexed_two_vector():
    def run(lib):
        f = cubic(lib)
        return functional(lib).hessian(lambda v: f(v[0], v[1]),
                                       lib.tensor([1.0, 1.0], dtype=lib.float64))

    d, t_ = both(run)
    assert_same_structure(d, t_)
    np.testing.assert_array_equal(d.numpy(), [[6.0, -3.0], [-3.0, 6.0]])


# ---------------------------------------------------------------- jacobian

def test_jacobian_single_input_single_output():
    def run(lib):
        return functional(lib).jacobian(lambda x: (x @ t(lib, M)).exp(), t(lib, B))

    assert_same_structure(*both(run))


def test_jacobian_tuple_inputs_single_output():
    def run(lib):
        return functional(lib).jacobian(lambda x, w: x * w.exp(), (t(lib, A), t(lib, A * 2)))

    assert_same_structure(*both(run))


def test_jacobian_single_input_tuple_outputs():
    def run(lib):
        return functional(lib).jacobian(lambda x: (x.exp(), (x * x).sum()), t(lib, A))

    assert_same_structure(*both(run))


def test_jacobian_tuple_inputs_tuple_outputs_is_nested():
    def run(lib):
        return functional(lib).jacobian(lambda x, y: (x @ y, x.exp()), (t(lib, B), t(lib, M)))

    assert_same_structure(*both(run))


def test_jacobian_of_unused_input_is_zero_or_strict_error():
    def run(lib):
        return functional(lib).jacobian(lambda x, y: x.exp(), (t(lib, A), t(lib, A)))

    assert_same_structure(*both(run))
    for lib in (deepgrad, torch):
        with pytest.raises(RuntimeError, match="independent of input 1"):
            functional(lib).jacobian(lambda x, y: x.exp(), (t(lib, A), t(lib, A)), strict=True)


def test_jacobian_create_graph_is_differentiable():
    def run(lib):
        x = t(lib, A, requires_grad=True)
        jac = functional(lib).jacobian(lambda v: v.exp() * v, x, create_graph=True)
        (grad,) = lib.autograd.grad((jac * t(lib, np.eye(3) + 1)).sum(), x)
        return jac, grad

    d, t_ = both(run)
    assert d[0].requires_grad
    assert_same_structure(d, t_)


def test_jacobian_results_are_detached_without_create_graph():
    x = t(deepgrad, A, requires_grad=True)
    jac = F.jacobian(lambda v: v.exp(), x)
    assert not jac.requires_grad and jac.grad_fn is None


def test_jacobian_vectorize_and_forward_mode_give_the_same_values():
    def run(lib, **kwargs):
        return functional(lib).jacobian(lambda x, y: (x @ y, x.exp()), (t(lib, B), t(lib, M)),
                                        **kwargs)

    expected = run(torch)
    assert_same_structure(run(deepgrad, vectorize=True), expected)
    assert_same_structure(run(deepgrad, strategy="forward-mode"), expected)


def test_jacobian_rejects_non_tensor_inputs():
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        F.jacobian(lambda x: x, [1.0, 2.0])


# ---------------------------------------------------------------- hessian

def test_hessian_single_input():
    def run(lib):
        return functional(lib).hessian(lambda x: ((x @ t(lib, M)).exp()).sum(), t(lib, B))

    assert_same_structure(*both(run))


def test_hessian_tuple_of_tensors():
    def run(lib):
        return functional(lib).hessian(lambda x, y: (x.exp() * y * y).sum(),
                                       (t(lib, A), t(lib, A[::-1])))

    assert_same_structure(*both(run))


def test_hessian_requires_scalar_output():
    for lib in (deepgrad, torch):
        with pytest.raises(RuntimeError, match="should contain a single element"):
            functional(lib).hessian(lambda x: x * x, t(lib, A))


def test_hessian_create_graph():
    def run(lib):
        x = t(lib, A, requires_grad=True)
        hess = functional(lib).hessian(lambda v: (v * v * v.exp()).sum(), x, create_graph=True)
        (grad,) = lib.autograd.grad(hess.sum(), x)
        return hess, grad

    assert_same_structure(*both(run))


# ---------------------------------------------------------------- vector products

@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp(create_graph):
    def run(lib):
        out, grads = functional(lib).vjp(lambda x, y: x @ y, (t(lib, B), t(lib, M)),
                                         t(lib, np.ones((2, 2))), create_graph=create_graph)
        return out, grads

    d, t_ = both(run)
    assert_same_structure(d, t_)


def test_vjp_single_input_and_default_v_for_scalar_output():
    def run(lib):
        return functional(lib).vjp(lambda x: (x * x).sum(), t(lib, A))

    assert_same_structure(*both(run))


def test_vjp_v_validation():
    for lib in (deepgrad, torch):
        with pytest.raises(RuntimeError, match="v can only be None"):
            functional(lib).vjp(lambda x: x * 2, t(lib, A))
        with pytest.raises(RuntimeError, match="v has invalid size"):
            functional(lib).vjp(lambda x: x * 2, t(lib, A), t(lib, np.ones(2)))


@pytest.mark.parametrize("create_graph", [False, True])
def test_jvp_by_double_vjp(create_graph):
    def run(lib):
        return functional(lib).jvp(lambda x, y: (x @ y, (x * x).sum()),
                                    (t(lib, B), t(lib, M)), (t(lib, B * 0 + 1), t(lib, M)),
                                    create_graph=create_graph)

    assert_same_structure(*both(run))


def test_jvp_of_linear_function():
    def run(lib):
        return functional(lib).jvp(lambda x: x * 3 + 1, t(lib, A), t(lib, A[::-1]))

    assert_same_structure(*both(run))


@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_hvp_and_vhp(name):
    def run(lib):
        fn = getattr(functional(lib), name)
        return fn(lambda x, y: (x.exp() * y * x).sum(), (t(lib, A), t(lib, A[::-1])),
                  (t(lib, np.ones(3)), t(lib, A)))

    assert_same_structure(*both(run))


@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_hvp_and_vhp_single_input(name):
    def run(lib):
        fn = getattr(functional(lib), name)
        return fn(lambda x: ((x @ t(lib, M)).exp()).sum(), t(lib, B), t(lib, B[::-1].copy()))

    assert_same_structure(*both(run))


def test_functions_are_exported():
    for name in ("jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"):
        assert callable(getattr(deepgrad.autograd.functional, name))
