"""nn.init: statistics of every initialiser against the formulas torch documents (and
against torch's own samples), exact fills, gains, fans, errors, reproducibility."""

import math

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad.nn import init

SHAPE = (300, 400)  # fan_in 400, fan_out 300


def fresh(shape=SHAPE, requires_grad=True):
    return deepgrad.nn.Parameter(deepgrad.empty(*shape), requires_grad=requires_grad)


def stats(t):
    values = t.detach().numpy()
    return values.min(), values.max(), values.mean(), values.std()


def test_uniform_and_normal():
    deepgrad.manual_seed(0)
    w = fresh()
    assert init.uniform_(w, -0.3, 0.5) is w
    low, high, mean, std = stats(w)
    assert -0.3 <= low and high < 0.5
    assert abs(mean - 0.1) < 0.005 and abs(std - 0.8 / math.sqrt(12)) < 0.005
    init.normal_(w, 1.0, 0.2)
    _, _, mean, std = stats(w)
    assert abs(mean - 1.0) < 0.005 and abs(std - 0.2) < 0.005
    assert w.requires_grad and w.grad_fn is None  # filled under no_grad, still a leaf


@pytest.mark.filterwarnings("ignore:mean is more than 2 std")  # the far-tail cases, both libs
def test_trunc_normal_matches_torch_statistics():
    deepgrad.manual_seed(0)
    torch.manual_seed(0)
    for mean, std, a, b in ((0.0, 1.0, -2.0, 2.0), (0.5, 0.02, 0.47, 0.6), (0.0, 1.0, -0.5, 3),
                            (0.0, 1.0, 2.0, 3.0), (0.0, 1.0, 5.0, 6.0), (0.0, 1.0, -7.0, -6.5)):
        # 20k samples: torch's own sampler is slow in the tails (erfinv on every element)
        d = init.trunc_normal_(fresh((100, 200)), mean, std, a, b)
        t = torch.nn.init.trunc_normal_(torch.empty(100, 200), mean, std, a, b)
        low, high, d_mean, d_std = stats(d)
        assert a <= low and high <= b
        assert abs(d_mean - t.mean().item()) < 0.01 * (b - a)
        assert abs(d_std - t.std().item()) < 0.01 * (b - a)


@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier(gain):
    deepgrad.manual_seed(0)
    bound = gain * math.sqrt(6.0 / (400 + 300))
    low, high, mean, std = stats(init.xavier_uniform_(fresh(), gain=gain))
    assert -bound <= low and high <= bound and high > 0.99 * bound
    assert abs(std - bound / math.sqrt(3)) < 0.01 * bound
    _, _, mean, std = stats(init.xavier_normal_(fresh(), gain=gain))
    expected = gain * math.sqrt(2.0 / (400 + 300))
    assert abs(mean) < 0.01 * expected and abs(std - expected) < 0.01 * expected


@pytest.mark.parametrize("mode,fan", [("fan_in", 128 * 9), ("fan_out", 64 * 9)])
@pytest.mark.parametrize("nonlinearity,a", [("relu", 0), ("leaky_relu", 0), ("leaky_relu", 0.2),
                                            ("leaky_relu", math.sqrt(5)), ("tanh", 0),
                                            ("linear", 0), ("selu", 0)])
def test_kaiming(mode, fan, nonlinearity, a):
    deepgrad.manual_seed(0)
    shape = (64, 128, 3, 3)  # conv weight: the receptive field multiplies the fans
    gain = torch.nn.init.calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    w = init.kaiming_uniform_(fresh(shape), a=a, mode=mode, nonlinearity=nonlinearity)
    low, high, _, measured = stats(w)
    bound = math.sqrt(3.0) * std
    assert -bound <= low and high <= bound and high > 0.999 * bound
    assert abs(measured - std) < 0.01 * std
    w = init.kaiming_normal_(fresh(shape), a=a, mode=mode, nonlinearity=nonlinearity)
    _, _, mean, measured = stats(w)
    assert abs(mean) < 0.01 * std and abs(measured - std) < 0.01 * std


def test_kaiming_zero_element_warns():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_uniform_(deepgrad.empty(0, 3))


@pytest.mark.parametrize("shape", [(5, 8), (8, 5), (6, 2, 3)])
def test_orthogonal(shape):
    deepgrad.manual_seed(0)
    w = init.orthogonal_(fresh(shape), gain=2.0).detach().numpy().reshape(shape[0], -1) / 2.0
    rows, cols = w.shape
    product = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(product, np.eye(min(rows, cols)), atol=1e-5)


def test_exact_fills_match_torch():
    pairs = [
        (lambda t: init.constant_(t, 0.25), lambda t: torch.nn.init.constant_(t, 0.25), (3, 4)),
        (init.ones_, torch.nn.init.ones_, (3, 4)),
        (init.zeros_, torch.nn.init.zeros_, (3, 4)),
        (init.eye_, torch.nn.init.eye_, (3, 5)),
        (init.dirac_, torch.nn.init.dirac_, (4, 3, 3, 3)),
        (lambda t: init.dirac_(t, groups=2), lambda t: torch.nn.init.dirac_(t, groups=2),
         (4, 2, 3)),
    ]
    for d_fill, t_fill, shape in pairs:
        d = d_fill(fresh(shape))
        t = t_fill(torch.nn.Parameter(torch.empty(shape)))
        np.testing.assert_array_equal(d.detach().numpy(), t.detach().numpy())
        assert isinstance(d, deepgrad.nn.Parameter)


def test_calculate_gain_and_fans_match_torch():
    for nonlinearity, param in (("linear", None), ("conv2d", None), ("sigmoid", None),
                                ("tanh", None), ("relu", None), ("leaky_relu", None),
                                ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None)):
        assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(
            nonlinearity, param)
    for shape in ((3, 4), (8, 3, 5, 5), (2, 6, 7)):
        assert init._calculate_fan_in_and_fan_out(deepgrad.empty(*shape)) == (
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape)))
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(deepgrad.empty(3))
    with pytest.raises(ValueError, match=r"Mode fan_avg not supported, please use one of "
                                         r"\['fan_in', 'fan_out'\]"):
        init.kaiming_uniform_(deepgrad.empty(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(deepgrad.empty(2, 2, 2))


def test_generator_and_seed_reproduce():
    g1, g2 = deepgrad.Generator().manual_seed(3), deepgrad.Generator().manual_seed(3)
    a = init.kaiming_normal_(fresh((20, 30)), generator=g1).detach().numpy()
    b = init.kaiming_normal_(fresh((20, 30)), generator=g2).detach().numpy()
    np.testing.assert_array_equal(a, b)
    deepgrad.manual_seed(11)
    c = init.xavier_uniform_(fresh((20, 30))).detach().numpy()
    deepgrad.manual_seed(11)
    np.testing.assert_array_equal(init.xavier_uniform_(fresh((20, 30))).detach().numpy(), c)


def test_layer_default_inits_have_torch_distribution():
    deepgrad.manual_seed(0)
    bilinear = deepgrad.nn.Bilinear(50, 40, 300)
    bound = 1 / math.sqrt(50)
    low, high, _, std = stats(bilinear.weight)
    assert -bound <= low and high <= bound and abs(std - bound / math.sqrt(3)) < 0.01 * bound
    prelu = deepgrad.nn.PReLU(3, init=0.1)
    np.testing.assert_array_equal(prelu.weight.detach().numpy(), np.full(3, 0.1, np.float32))
