"""Linear, LazyLinear, Bilinear and F.linear against torch: outputs, gradients of inputs and
parameters, second order, default initialisation, errors."""

import numpy as np
import pytest
import torch

import deepgrad
from oracle import OpCase, assert_close, case_params, check_case

CASES = [
    OpCase("linear", lambda lib, x, w, b: lib.nn.functional.linear(x, w, b),
           [((5, 3), (4, 3), (4,)), ((2, 5, 3), (4, 3), (4,)), ((3,), (4, 3), (4,)),
            ((2, 2, 2, 3), (1, 3), (1,)), ((0, 3), (4, 3), (4,))]),
    OpCase("linear_no_bias", lambda lib, x, w: lib.nn.functional.linear(x, w),
           [((5, 3), (4, 3)), ((2, 5, 3), (4, 3))]),
    OpCase("linear_weight_only", lambda lib, x, w: lib.nn.functional.linear(x, w),
           [((5, 3), (4, 3))], no_grad_inputs=(0,)),
    OpCase("linear_input_only", lambda lib, x, w, b: lib.nn.functional.linear(x, w, b),
           [((5, 3), (4, 3), (4,))], no_grad_inputs=(1, 2)),
    OpCase("bilinear", lambda lib, a, b, w, c: lib.nn.functional.bilinear(a, b, w, c),
           [((5, 3), (5, 2), (4, 3, 2), (4,)), ((2, 5, 3), (2, 5, 2), (4, 3, 2), (4,))]),
]


@pytest.mark.parametrize("case,shapes,dtype", case_params(CASES))
def test_functional_matches_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


def copy_weights(module, torch_module):
    return module.load_state_dict(
        {k: deepgrad.tensor(v.detach().numpy()) for k, v in torch_module.state_dict().items()})


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(8, 5), (2, 3, 5), (5,)])
def test_linear_module_matches_torch(bias, shape):
    t_layer = torch.nn.Linear(5, 3, bias=bias)
    d_layer = deepgrad.nn.Linear(5, 3, bias=bias)
    copy_weights(d_layer, t_layer)
    assert repr(d_layer) == repr(t_layer)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    x_d, x_t = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_d, out_t = d_layer(x_d), t_layer(x_t)
    assert_close(out_d, out_t, 1e-5, 1e-6, "output")
    c = np.random.default_rng(1).standard_normal(out_t.shape).astype(np.float32)
    (out_d * deepgrad.tensor(c)).sum().backward()
    (out_t * torch.tensor(c)).sum().backward()
    assert_close(x_d.grad, x_t.grad, 1e-5, 1e-6, "input grad")
    assert_close(d_layer.weight.grad, t_layer.weight.grad, 1e-5, 1e-6, "weight grad")
    if bias:
        assert_close(d_layer.bias.grad, t_layer.bias.grad, 1e-5, 1e-6, "bias grad")


def test_linear_float64_and_dtype_argument():
    layer = deepgrad.nn.Linear(3, 2, dtype=deepgrad.float64)
    assert layer.weight.dtype == deepgrad.float64
    assert layer(deepgrad.ones(4, 3, dtype=deepgrad.float64)).dtype == deepgrad.float64


def test_linear_default_init_distribution():
    """torch: kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the
    weight, and the bias is U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    deepgrad.manual_seed(0)
    layer = deepgrad.nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    for p in (layer.weight, layer.bias):
        values = p.detach().numpy()
        assert values.min() >= -bound and values.max() <= bound
        assert values.max() > 0.98 * bound and values.min() < -0.98 * bound
    weight = layer.weight.detach().numpy()
    assert abs(weight.mean()) < 0.01 * bound
    assert abs(weight.std() - bound / np.sqrt(3)) < 0.01 * bound
    deepgrad.manual_seed(0)
    again = deepgrad.nn.Linear(400, 300)
    np.testing.assert_array_equal(again.weight.detach().numpy(), weight)  # manual_seed repeats


def test_lazy_linear_infers_in_features():
    layer = deepgrad.nn.LazyLinear(4)
    assert "UninitializedParameter" in repr(layer.weight)
    out = layer(deepgrad.ones(2, 7))
    assert out.shape == (2, 4)
    assert type(layer) is deepgrad.nn.Linear
    assert layer.in_features == 7 and layer.weight.shape == (4, 7)
    assert isinstance(layer.weight, deepgrad.nn.Parameter)
    assert repr(layer) == repr(torch.nn.Linear(7, 4))
    bound = 1 / np.sqrt(7)
    assert np.abs(layer.weight.detach().numpy()).max() <= bound
    assert not layer._forward_pre_hooks


def test_lazy_linear_load_state_dict_materializes():
    source = deepgrad.nn.Linear(6, 3)
    lazy = deepgrad.nn.LazyLinear(3)
    lazy.load_state_dict(source.state_dict())
    assert lazy.weight.shape == (3, 6)
    np.testing.assert_array_equal(lazy.weight.detach().numpy(), source.weight.detach().numpy())
    x = deepgrad.ones(2, 6)
    np.testing.assert_allclose(lazy(x).detach().numpy(), source(x).detach().numpy())


def test_bilinear_module_matches_torch():
    t_layer = torch.nn.Bilinear(3, 2, 4)
    d_layer = deepgrad.nn.Bilinear(3, 2, 4)
    copy_weights(d_layer, t_layer)
    assert repr(d_layer) == repr(t_layer)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal((5, 2)).astype(
        np.float32)
    out_d = d_layer(deepgrad.tensor(a), deepgrad.tensor(b))
    out_t = t_layer(torch.tensor(a), torch.tensor(b))
    assert_close(out_d, out_t, 1e-5, 1e-6, "bilinear")
    out_d.sum().backward()
    out_t.sum().backward()
    assert_close(d_layer.weight.grad, t_layer.weight.grad, 1e-5, 1e-6, "bilinear weight grad")


def test_linear_errors():
    F = deepgrad.nn.functional
    with pytest.raises(RuntimeError) as error:
        F.linear(deepgrad.ones(4, 3), deepgrad.ones(2, 5))
    assert str(error.value) == ("linear: mat1 and mat2 shapes cannot be multiplied (4x3 and 5x2); "
                                "got input with shape (4, 3) and weight with shape (2, 5)")
    with pytest.raises(RuntimeError, match="one dtype"):
        F.linear(deepgrad.ones(4, 3, dtype=deepgrad.float64), deepgrad.ones(2, 3))
    with pytest.raises(RuntimeError, match="bias must have shape"):
        F.linear(deepgrad.ones(4, 3), deepgrad.ones(2, 3), deepgrad.ones(3))


def test_linear_gradient_only_where_needed():
    x = deepgrad.ones(4, 3)
    w = deepgrad.ones(2, 3, requires_grad=True)
    b = deepgrad.ones(2)
    deepgrad.nn.functional.linear(x, w, b).sum().backward()
    assert w.grad is not None and x.grad is None and b.grad is None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("rows", "features", "outputs"), [(300, 2, 100), (64, 3, 128)])
def test_bias_folded_into_the_gemm_matches_torch(rows, features, outputs, dtype):
    """Few input features and a large output take the bias-column GEMM (ops/dense.py)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, features))
    w = rng.standard_normal((outputs, features))
    b = rng.standard_normal(outputs)
    check_case(OpCase("linear_bias_column",
                      lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), [(x, w, b)]),
               (x, w, b), dtype)
