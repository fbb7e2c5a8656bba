"""nn.utils against torch: clip_grad_norm_ (total norm, torch's coefficient with 1e-6, every
norm type), clip_grad_value_, parameters_to_vector and vector_to_parameters."""

import math

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad.nn import utils


def make_pairs(seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (2, 2, 2)]
    d_params, t_params = [], []
    for shape in shapes:
        value = rng.standard_normal(shape).astype(np.float32)
        grad = (rng.standard_normal(shape) * scale).astype(np.float32)
        d = deepgrad.nn.Parameter(deepgrad.tensor(value))
        t = torch.nn.Parameter(torch.tensor(value))
        d.grad, t.grad = deepgrad.tensor(grad), torch.tensor(grad)
        d_params.append(d)
        t_params.append(t)
    return d_params, t_params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    d_params, t_params = make_pairs()
    d_total = utils.clip_grad_norm_(d_params, max_norm, norm_type=norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(t_params, max_norm, norm_type=norm_type)
    np.testing.assert_allclose(d_total.numpy(), t_total.numpy(), rtol=1e-6)
    assert d_total.dtype == deepgrad.float32 and d_total.shape == ()
    for d, t in zip(d_params, t_params, strict=True):
        np.testing.assert_allclose(d.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clip_grad_norm_generator_single_tensor_and_missing_grads():
    d_params, t_params = make_pairs(1)
    d_params[1].grad = None
    t_params[1].grad = None
    d_total = utils.clip_grad_norm_((p for p in d_params), 0.1)
    t_total = torch.nn.utils.clip_grad_norm_((p for p in t_params), 0.1)
    np.testing.assert_allclose(d_total.numpy(), t_total.numpy(), rtol=1e-6)
    single_d, single_t = make_pairs(2)
    utils.clip_grad_norm_(single_d[0], 0.2)
    torch.nn.utils.clip_grad_norm_(single_t[0], 0.2)
    np.testing.assert_allclose(single_d[0].grad.numpy(), single_t[0].grad.numpy(), rtol=1e-6)
    with pytest.warns(UserWarning, match="empty generator"):
        total = utils.clip_grad_norm_((p for p in []), 1.0)
    assert total.item() == 0.0


def test_clip_grad_norm_nonfinite():
    d_params, _ = make_pairs()
    d_params[0].grad._data[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        utils.clip_grad_norm_(d_params, 1.0, error_if_nonfinite=True)
    assert math.isinf(utils.clip_grad_norm_(d_params, 1.0).item())


def test_clip_grad_value_matches_torch():
    d_params, t_params = make_pairs(scale=3.0)
    utils.clip_grad_value_(d_params, 1.5)
    torch.nn.utils.clip_grad_value_(t_params, 1.5)
    for d, t in zip(d_params, t_params, strict=True):
        np.testing.assert_array_equal(d.grad.numpy(), t.grad.numpy())


def test_parameters_to_vector_and_back():
    t_model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    d_model = deepgrad.nn.Sequential(deepgrad.nn.Linear(3, 4), deepgrad.nn.Linear(4, 2))
    d_model.load_state_dict({k: deepgrad.tensor(v.detach().numpy())
                             for k, v in t_model.state_dict().items()})
    d_vec = utils.parameters_to_vector(d_model.parameters())
    t_vec = torch.nn.utils.parameters_to_vector(t_model.parameters())
    np.testing.assert_array_equal(d_vec.detach().numpy(), t_vec.detach().numpy())
    (d_vec * deepgrad.arange(26.0)).sum().backward()  # differentiable, like torch's cat
    np.testing.assert_array_equal(d_model[0].bias.grad.numpy(), np.arange(12.0, 16.0))
    new = np.arange(26, dtype=np.float32)
    utils.vector_to_parameters(deepgrad.tensor(new), d_model.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), t_model.parameters())
    for (name, d), (_, t) in zip(d_model.state_dict().items(), t_model.state_dict().items(),
                                 strict=True):
        np.testing.assert_array_equal(d.numpy(), t.numpy(), err_msg=name)
    assert isinstance(d_model[0].weight, deepgrad.nn.Parameter)
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        utils.vector_to_parameters([1.0], d_model.parameters())
