"""Dropout layers and functions: torch's scaling, masks from deepgrad's RNG (reproducible
with manual_seed), channel-wise variants, eval mode, errors and reprs."""

import numpy as np
import pytest
import torch

import deepgrad

F = deepgrad.nn.functional


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_scales_kept_and_drops_fraction_p(p):
    deepgrad.manual_seed(0)
    x = deepgrad.ones(200, 500, requires_grad=True)
    out = F.dropout(x, p)
    values = out.detach().numpy()
    kept = values != 0
    np.testing.assert_allclose(values[kept], 1 / (1 - p), rtol=1e-6)
    assert abs((~kept).mean() - p) < 0.01
    (out * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * values, rtol=1e-6)  # gradient = same mask


def test_dropout_manual_seed_reproduces_mask_and_generator_state_advances():
    deepgrad.manual_seed(7)
    first = F.dropout(deepgrad.ones(1000)).numpy()
    second = F.dropout(deepgrad.ones(1000)).numpy()
    deepgrad.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(deepgrad.ones(1000)).numpy(), first)
    assert not np.array_equal(first, second)


def test_dropout_identity_cases():
    x = deepgrad.ones(4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    layer = deepgrad.nn.Dropout(0.5).eval()
    assert layer(x) is x
    y = deepgrad.ones(3, requires_grad=True)
    z = F.dropout(y, 1.0)
    z.sum().backward()
    assert not z.detach().numpy().any() and not y.grad.numpy().any()


def test_dropout_inplace():
    deepgrad.manual_seed(1)
    x = deepgrad.ones(100)
    result = F.dropout(x, 0.5, inplace=True)
    assert result is x
    assert set(np.unique(x.numpy())) <= {0.0, 2.0}
    leaf = deepgrad.ones(100, requires_grad=True)
    out = F.dropout(leaf * 1, 0.5, inplace=True)
    out.sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), out.detach().numpy())


@pytest.mark.parametrize("name,shape,channel_dims", [
    ("dropout1d", (4, 6, 10), 2), ("dropout1d", (6, 10), 1), ("dropout2d", (4, 6, 5, 5), 2),
    ("dropout3d", (2, 6, 3, 3, 3), 2), ("dropout3d", (6, 3, 3, 3), 1),
])
def test_channel_dropout_zeroes_whole_channels(name, shape, channel_dims):
    deepgrad.manual_seed(0)
    out = getattr(F, name)(deepgrad.ones(*shape), 0.5).numpy()
    per_channel = out.reshape(shape[:channel_dims] + (-1,))
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert 0 < (per_channel == 0).all(-1).mean() < 1


def test_channel_dropout_errors_and_warnings():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(deepgrad.ones(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(deepgrad.ones(2, 3, 4))
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        F.dropout2d(deepgrad.ones(2, 3))


def test_p_validation_matches_torch():
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError) as d_error:
            F.dropout(deepgrad.ones(2), p)
        with pytest.raises(ValueError) as t_error:
            torch.nn.functional.dropout(torch.ones(2), p)
        assert str(d_error.value) == str(t_error.value)
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            deepgrad.nn.Dropout(p)


@pytest.mark.parametrize("name,args", [("Dropout", ()), ("Dropout", (0.3, True)),
                                       ("Dropout1d", (0.1,)), ("Dropout2d", (0.3, True)),
                                       ("Dropout3d", ()), ("AlphaDropout", (0.2,))])
def test_module_repr_and_train_eval(name, args):
    d_layer, t_layer = getattr(deepgrad.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(d_layer) == repr(t_layer)
    shape = {"Dropout2d": (2, 3, 4, 4), "Dropout3d": (2, 3, 4, 4, 4)}.get(name, (2, 3, 4))
    x = deepgrad.ones(*shape)
    d_layer.eval()
    np.testing.assert_array_equal(d_layer(x).numpy(), x.numpy())
    d_layer.train()
    assert d_layer(deepgrad.ones(*x.shape)).shape == x.shape


def test_alpha_dropout_keeps_mean_and_variance():
    deepgrad.manual_seed(0)
    x = deepgrad.randn(200_000)
    out = F.alpha_dropout(x, 0.2, training=True).numpy()
    t = torch.nn.functional.alpha_dropout(torch.randn(200_000), 0.2, training=True).numpy()
    assert abs(out.mean() - t.mean()) < 0.02 and abs(out.std() - t.std()) < 0.02
    assert abs(out.mean()) < 0.02 and abs(out.std() - 1) < 0.02
    # torch's formula: kept elements become a * x + alpha * a * p, dropped ones alpha * a * (p - 1)
    alpha, p = 1.7580993408473766, 0.2
    a = 1 / np.sqrt((alpha * alpha * p + 1) * (1 - p))
    kept = np.isclose(out, a * x.numpy() + alpha * a * p, rtol=1e-5, atol=1e-6)
    dropped = np.isclose(out, alpha * a * (p - 1), rtol=1e-5, atol=1e-6)
    assert np.all(kept | dropped) and abs(dropped.mean() - p) < 0.01
    assert F.alpha_dropout(x, 0.2) is x  # training defaults to False, as torch
