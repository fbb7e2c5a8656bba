"""Activations, functional and module, against torch: values, gradients, second-order
gradients, gradients at the kinks, in-place forms and module reprs."""

import numpy as np
import pytest
import torch

import deepgrad
from oracle import OpCase, assert_close, case_params, check_case

SHAPES = [((3, 4),), ((2, 3, 4),), ((),)]


def functional(name, **kwargs):
    return lambda lib, x: getattr(lib.nn.functional, name)(x, **kwargs)


CASES = [
    OpCase("relu", functional("relu"), SHAPES),
    OpCase("relu6", functional("relu6"), SHAPES, domain=(-3, 9)),
    OpCase("leaky_relu", functional("leaky_relu"), SHAPES),
    OpCase("leaky_relu_0.2", functional("leaky_relu", negative_slope=0.2), SHAPES),
    OpCase("elu", functional("elu"), SHAPES),
    OpCase("elu_alpha2", functional("elu", alpha=2.0), SHAPES),
    OpCase("selu", functional("selu"), SHAPES),
    OpCase("celu", functional("celu", alpha=0.5), SHAPES),
    OpCase("gelu", functional("gelu"), SHAPES, domain=(-4, 4)),
    OpCase("gelu_tanh", functional("gelu", approximate="tanh"), SHAPES, domain=(-4, 4)),
    OpCase("silu", functional("silu"), SHAPES, domain=(-4, 4)),
    OpCase("mish", functional("mish"), SHAPES, domain=(-4, 4)),
    OpCase("sigmoid", functional("sigmoid"), SHAPES, domain=(-6, 6)),
    OpCase("tanh", functional("tanh"), SHAPES),
    OpCase("softplus", functional("softplus"), SHAPES, domain=(-30, 30)),
    OpCase("softplus_beta", functional("softplus", beta=2.0, threshold=5.0), SHAPES,
           domain=(-5, 5)),
    OpCase("hardtanh", functional("hardtanh"), SHAPES),
    OpCase("hardtanh_bounds", functional("hardtanh", min_val=-0.5, max_val=1.5), SHAPES),
    # torch has no double backward for hardsigmoid, and in float64 its gradient uses a float32
    # 1/6 (relative error 3e-8): compared in float32 only
    OpCase("hardsigmoid", functional("hardsigmoid"), SHAPES, domain=(-5, 5), gradgrad=False,
           dtypes=("float32",)),
    OpCase("hardswish", functional("hardswish"), SHAPES, domain=(-5, 5)),
    OpCase("logsigmoid", functional("logsigmoid"), SHAPES, domain=(-30, 30)),
    OpCase("softsign", functional("softsign"), SHAPES),
    OpCase("tanhshrink", functional("tanhshrink"), SHAPES),
    OpCase("softshrink", functional("softshrink", lambd=0.7), SHAPES),
    OpCase("hardshrink", functional("hardshrink", lambd=0.7), SHAPES),
    OpCase("threshold", lambda lib, x: lib.nn.functional.threshold(x, 0.3, -2.0), SHAPES),
    OpCase("softmax", functional("softmax", dim=1), [((3, 4),), ((2, 3, 4),)]),
    OpCase("log_softmax", functional("log_softmax", dim=-1), [((3, 4),), ((2, 3, 4),)]),
    OpCase("softmin", functional("softmin", dim=0), [((3, 4),), ((2, 3, 4),)]),
    OpCase("glu", functional("glu", dim=1), [((3, 4),), ((2, 6, 3),)]),
    OpCase("prelu", lambda lib, x, w: lib.nn.functional.prelu(x, w),
           [((3, 4), (4,)), ((2, 4, 3), (4,)), ((3, 4), (1,))]),
    OpCase("softmax_huge", functional("softmax", dim=1), [((3, 5),)], domain=(-1e4, 1e4)),
]


@pytest.mark.parametrize("case,shapes,dtype", case_params(CASES))
def test_activation_matches_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


KINKS = np.array([-6.0, -3.0, -1.0, -0.7, -0.5, 0.0, 0.3, 0.5, 0.7, 1.0, 1.5, 3.0, 6.0, 20.0])


@pytest.mark.parametrize("name,kwargs", [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {}), ("elu", {"alpha": 2.0}), ("hardtanh", {}),
    ("hardtanh", {"min_val": -0.5, "max_val": 1.5}), ("hardsigmoid", {}), ("hardswish", {}),
    ("softshrink", {"lambd": 0.7}), ("hardshrink", {"lambd": 0.7}), ("softplus", {}),
    ("softplus", {"beta": 0.5, "threshold": 1.5}), ("celu", {"alpha": 0.5}),
    ("logsigmoid", {}), ("selu", {}),
])
def test_gradient_at_kinks_follows_torch(name, kwargs):
    """Exactly at the kinks (0, the bounds, the threshold) torch picks one side: we do too."""
    x_d = deepgrad.tensor(KINKS, requires_grad=True)
    x_t = torch.tensor(KINKS, requires_grad=True)
    getattr(deepgrad.nn.functional, name)(x_d, **kwargs).sum().backward()
    getattr(torch.nn.functional, name)(x_t, **kwargs).sum().backward()
    # (rtol 1e-7: torch's float64 hardsigmoid gradient uses a float32 1/6)
    np.testing.assert_allclose(x_d.grad.numpy(), x_t.grad.numpy(), rtol=1e-7, atol=1e-12)


def test_threshold_gradient_at_threshold():
    x_d = deepgrad.tensor([0.3, 0.30001], requires_grad=True)
    x_t = torch.tensor([0.3, 0.30001], requires_grad=True)
    deepgrad.nn.functional.threshold(x_d, 0.3, 9.0).sum().backward()
    torch.nn.functional.threshold(x_t, 0.3, 9.0).sum().backward()
    np.testing.assert_array_equal(x_d.grad.numpy(), x_t.grad.numpy())


@pytest.mark.parametrize("name,args", [
    ("relu", ()), ("relu6", ()), ("leaky_relu", (0.1,)), ("elu", (1.5,)), ("selu", ()),
    ("celu", (0.5,)), ("hardtanh", (-0.5, 0.5)), ("silu", ()), ("mish", ()),
    ("hardsigmoid", ()), ("hardswish", ()), ("threshold", (0.1, 5.0)),
])
def test_inplace_forms(name, args):
    x = np.random.default_rng(0).uniform(-4, 4, (3, 4)).astype(np.float32)
    expected = getattr(torch.nn.functional, name)(torch.tensor(x), *args)
    d = deepgrad.tensor(x)
    result = getattr(deepgrad.nn.functional, name)(d, *args, inplace=True)
    assert result is d
    assert_close(d, expected, 1e-6, 1e-6, name)
    # on a non-leaf, in place keeps the graph: gradients equal torch's
    x_d = deepgrad.tensor(x, requires_grad=True)
    x_t = torch.tensor(x, requires_grad=True)
    getattr(deepgrad.nn.functional, name)(x_d * 1, *args, inplace=True).sum().backward()
    getattr(torch.nn.functional, name)(x_t * 1, *args, inplace=True).sum().backward()
    assert_close(x_d.grad, x_t.grad, 1e-5, 1e-6, name + " grad")


MODULES = [
    ("ReLU", ()), ("ReLU", (True,)), ("ReLU6", ()), ("ReLU6", (True,)), ("LeakyReLU", ()),
    ("LeakyReLU", (0.2, True)), ("ELU", ()), ("ELU", (0.5, True)), ("CELU", (2.0,)),
    ("SELU", ()), ("GELU", ()), ("GELU", ("tanh",)), ("SiLU", ()), ("Mish", ()),
    ("Sigmoid", ()), ("Tanh", ()), ("Softmax", (1,)), ("LogSoftmax", (1,)), ("Softmin", (1,)),
    ("Softplus", ()), ("Softplus", (2.0, 10.0)), ("Hardtanh", ()), ("Hardtanh", (-2.0, 3.0)),
    ("Hardsigmoid", ()), ("Hardswish", ()), ("LogSigmoid", ()), ("Softsign", ()),
    ("Tanhshrink", ()), ("Softshrink", (0.3,)), ("Hardshrink", ()), ("Threshold", (0.1, 2.0)),
    ("GLU", (1,)), ("PReLU", ()), ("PReLU", (4, 0.1)),
]


@pytest.mark.parametrize("name,args", MODULES)
def test_modules_match_torch(name, args):
    t_module = getattr(torch.nn, name)(*args)
    d_module = getattr(deepgrad.nn, name)(*args)
    assert repr(d_module) == repr(t_module)
    assert list(d_module.state_dict()) == list(t_module.state_dict())
    for key, value in t_module.state_dict().items():
        assert_close(d_module.state_dict()[key], value, 0, 0, key)  # same default init
    x = np.random.default_rng(0).uniform(-3, 3, (2, 4, 3)).astype(np.float32)
    x_d, x_t = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_d, out_t = d_module(x_d * 1), t_module(x_t * 1)
    assert_close(out_d, out_t, 1e-5, 1e-6, name)
    out_d.sum().backward()
    out_t.sum().backward()
    assert_close(x_d.grad, x_t.grad, 1e-5, 1e-6, name + " grad")
    for (key, p_d), (_, p_t) in zip(d_module.named_parameters(), t_module.named_parameters(),
                                    strict=True):
        assert_close(p_d.grad, p_t.grad, 1e-5, 1e-6, key)


def test_errors_match_torch():
    F = deepgrad.nn.functional
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(deepgrad.ones(2), approximate="fast")
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(deepgrad.ones(2, 3))
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel"):
        F.prelu(deepgrad.ones(2, 3), deepgrad.ones(2))
    with pytest.raises(AssertionError, match="must be greater than min_val"):
        deepgrad.nn.Hardtanh(1.0, 0.5)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        deepgrad.nn.Softmax()(deepgrad.ones(2, 3))


def test_softmax_module_implicit_dim_matches_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    with pytest.warns(UserWarning):
        d = deepgrad.nn.Softmax()(deepgrad.tensor(x))
    with pytest.warns(UserWarning):
        t = torch.nn.Softmax()(torch.tensor(x))
    assert_close(d, t, 1e-6, 1e-7, "implicit dim")
