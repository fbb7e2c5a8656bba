"""softmax, log_softmax and logsumexp against torch, including logits of magnitude 1e4."""

import warnings

import numpy as np
import pytest
import torch

import deepgrad
from oracle import OpCase, assert_close, case_params, check_case


def fixed(values):
    """A case input of fixed values, in the dtype under test: ``(shapes, domain)``."""
    array = np.array(values)
    return {"shapes": [(array.shape,)], "domain": lambda rng, shape, dtype: array.astype(dtype)}


def huge_logits(rng, shape, dtype):
    return rng.uniform(-1e4, 1e4, size=shape)


DIMS = [0, 1, -1, -3]
LSE_DIMS = [0, -1, (0, 2), (2, 1, 0)]

CASES = [
    *[OpCase(f"{name}-dim{d}", lambda lib, x, name=name, d=d: getattr(lib, name)(x, d),
             [((2, 3, 4),)]) for name in ("softmax", "log_softmax") for d in DIMS],
    *[OpCase(f"{name}-0d-dim{d}", lambda lib, x, name=name, d=d: getattr(lib, name)(x, d),
             [((),)]) for name in ("softmax", "log_softmax") for d in (0, -1)],
    *[OpCase(f"{name}-empty-dim{d}", lambda lib, x, name=name, d=d: getattr(lib, name)(x, d),
             [((0, 3),)]) for name in ("softmax", "log_softmax") for d in (0, 1)],
    OpCase("softmax_method", lambda lib, x: x.softmax(-1), [((4, 5),)]),
    OpCase("log_softmax_method", lambda lib, x: x.log_softmax(dim=0), [((4, 5),)]),
    OpCase("softmax_dtype", lambda lib, x: lib.softmax(x, 1, dtype=lib.float64), [((3, 4),)]),
    OpCase("log_softmax_dtype", lambda lib, x: x.log_softmax(1, dtype=lib.float64),
           [((3, 4),)]),
    OpCase("softmax_dtype_positional", lambda lib, x: lib.softmax(x, 1, lib.float64),
           [((3, 4),)]),
    OpCase("log_softmax_dtype_positional", lambda lib, x: lib.log_softmax(x, 0, lib.float64),
           [((3, 4),)]),
    OpCase("softmax_functional", lambda lib, x: lib.nn.functional.softmax(x, dim=1)
           if lib is torch else deepgrad.softmax(x, dim=1), [((3, 4),)]),
    # logits of magnitude 1e4: finite and equal to torch (the max is subtracted first)
    OpCase("softmax_huge", lambda lib, x: lib.softmax(x, 1), [((3, 5),)], domain=huge_logits),
    OpCase("log_softmax_huge", lambda lib, x: lib.log_softmax(x, 1), [((3, 5),)],
           domain=huge_logits),
    OpCase("softmax_pm1e4", lambda lib, x: lib.softmax(x, 1),
           **fixed([[1e4, -1e4, 0.0], [1e4, 1e4, -1e4]])),
    OpCase("log_softmax_pm1e4", lambda lib, x: lib.log_softmax(x, 1),
           **fixed([[1e4, -1e4, 0.0], [1e4, 1e4, -1e4]])),
    OpCase("log_softmax_neg_inf", lambda lib, x: lib.log_softmax(x, 1),
           **fixed([[0.0, -np.inf, 1.0], [2.0, 0.5, 1.0]])),
    *[OpCase(f"logsumexp-dim{d}-keep{k}", lambda lib, x, d=d, k=k: lib.logsumexp(x, d, k),
             [((2, 3, 4),)]) for d in LSE_DIMS for k in (False, True)],
    OpCase("logsumexp_0d", lambda lib, x: lib.logsumexp(x, 0), [((),)]),
    OpCase("logsumexp_empty", lambda lib, x: x.logsumexp(1), [((0, 3),)]),
    OpCase("logsumexp_empty_dim", lambda lib, x: lib.logsumexp(x, 0), [((0, 3),)]),
    OpCase("logsumexp_huge", lambda lib, x: lib.logsumexp(x, 1, keepdim=True), [((3, 5),)],
           domain=huge_logits),
    OpCase("logsumexp_inf", lambda lib, x: lib.logsumexp(x, 1),
           **fixed([[-np.inf, -np.inf], [0.0, -np.inf]]), grad=False),
]


@pytest.mark.parametrize("case,shapes,dtype", case_params(CASES))
def test_against_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_finite_at_1e4(name):
    logits = np.array([[1e4, -1e4, 0.0, 1e4 - 1.0]], dtype=np.float32)
    result = getattr(deepgrad, name)(deepgrad.tensor(logits), 1)
    assert np.isfinite(result.numpy()).all()
    assert_close(result, getattr(torch, name)(torch.tensor(logits), 1), 1e-6, 1e-6, name)


def test_logsumexp_integer_input_gives_default_float():
    array = np.array([[1, 2], [3, 4]])
    assert_close(deepgrad.logsumexp(deepgrad.tensor(array), 1),
                 torch.logsumexp(torch.tensor(array), 1), 1e-6, 1e-6, "logsumexp int")


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_integer_input_raises(name):
    with pytest.raises(NotImplementedError):
        getattr(torch, name)(torch.tensor([1, 2]), 0)
    with pytest.raises(NotImplementedError, match=name):
        getattr(deepgrad, name)(deepgrad.tensor([1, 2]), 0)
    assert_close(getattr(deepgrad, name)(deepgrad.tensor([1, 2]), 0, dtype=deepgrad.float64),
                 getattr(torch, name)(torch.tensor([1, 2]), 0, dtype=torch.float64),
                 1e-12, 1e-12, name)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_dim_out_of_range_names_op(name):
    with pytest.raises(IndexError, match=rf"^{name}: Dimension out of range"):
        getattr(deepgrad, name)(deepgrad.ones(2, 3), 2)
    with pytest.raises(IndexError, match=name):
        getattr(deepgrad, name)(deepgrad.tensor(1.0), 1)


def test_logsumexp_repeated_dims_raise():
    with pytest.raises(RuntimeError, match="logsumexp: dim 1 appears multiple times"):
        deepgrad.logsumexp(deepgrad.ones(2, 3), (1, -1))


@pytest.mark.parametrize("shape,dim", [((2, 3), 1), ((4,), 0), ((2, 3, 4), 0), ((), 0)])
def test_implicit_dim_as_functional_softmax(shape, dim):
    array = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.nn.functional.softmax(torch.tensor(array))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        actual = deepgrad.softmax(deepgrad.tensor(array))
    assert_close(actual, expected, 1e-6, 1e-6, "implicit dim")
    assert_close(actual, torch.softmax(torch.tensor(array), dim), 1e-6, 1e-6, "dim")


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_double_backward_through_incoming_gradient(name):
    # the oracle differentiates the first gradient w.r.t. the input; here the incoming
    # gradient v also requires grad, which exercises the other half of the gradient nodes
    rng = np.random.default_rng(3)
    x_array = rng.standard_normal((3, 4))
    v_array = rng.standard_normal((3,) if name == "logsumexp" else (3, 4))
    w_array = rng.standard_normal((3, 4))
    results = []
    for lib in (torch, deepgrad):
        x = lib.tensor(x_array, requires_grad=True)
        v = lib.tensor(v_array, requires_grad=True)
        (grad_x,) = lib.autograd.grad(getattr(lib, name)(x, 1), x, grad_outputs=v,
                                      create_graph=True)
        results.append((grad_x, *lib.autograd.grad((grad_x * lib.tensor(w_array)).sum(),
                                                   [v, x])))
    for expected, actual, what in zip(*results, ("grad", "d/dv", "d/dx"), strict=True):
        assert_close(actual, expected, 1e-9, 1e-10, f"{name} {what}")
