"""batch_norm and the BatchNorm1d/2d layers against torch: outputs, gradients, running
statistics, num_batches_tracked, state_dict."""

import numpy as np
import pytest
import torch

import deepgrad
from oracle import assert_close

TOL = {np.float32: (1e-5, 1e-5), np.float64: (1e-10, 1e-10)}


def _pair(array, requires_grad=False):
    return (torch.tensor(array, requires_grad=requires_grad),
            deepgrad.tensor(array, requires_grad=requires_grad))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (4, 3, 5, 6)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_functional_batch_norm(dtype, shape, training, affine):
    rng = np.random.default_rng(0)
    rtol, atol = TOL[dtype]
    tx, dx = _pair((rng.standard_normal(shape) * 3 + 1).astype(dtype), True)
    tw, dw = _pair(rng.standard_normal(shape[1]).astype(dtype), True)
    tb, db = _pair(rng.standard_normal(shape[1]).astype(dtype), True)
    trm, drm = _pair(rng.standard_normal(shape[1]).astype(dtype))
    trv, drv = _pair(rng.uniform(0.5, 2, shape[1]).astype(dtype))
    args = dict(training=training, momentum=0.3, eps=1e-3)
    t_out = torch.nn.functional.batch_norm(tx, trm, trv, tw if affine else None,
                                           tb if affine else None, **args)
    d_out = deepgrad.nn.functional.batch_norm(dx, drm, drv, dw if affine else None,
                                              db if affine else None, **args)
    assert_close(d_out, t_out, rtol, atol, "output")
    assert_close(drm, trm, rtol, atol, "running_mean")
    assert_close(drv, trv, rtol, atol, "running_var")
    weights = rng.standard_normal(shape).astype(dtype)
    (t_out * torch.tensor(weights)).sum().backward()
    (d_out * deepgrad.tensor(weights)).sum().backward()
    assert_close(dx.grad, tx.grad, rtol * 10, atol * 10, "input grad")
    if affine:
        assert_close(dw.grad, tw.grad, rtol * 10, atol * 10, "weight grad")
        assert_close(db.grad, tb.grad, rtol * 10, atol * 10, "bias grad")


def test_training_without_running_stats():
    x = np.random.default_rng(1).standard_normal((5, 4, 3))
    t_out = torch.nn.functional.batch_norm(torch.tensor(x), None, None, training=True)
    d_out = deepgrad.nn.functional.batch_norm(deepgrad.tensor(x), None, None, training=True)
    assert_close(d_out, t_out, 1e-12, 1e-12, "output")


def test_double_backward_raises_naming_the_op():
    x = deepgrad.randn(4, 3, requires_grad=True)
    out = deepgrad.nn.functional.batch_norm(x, None, None, training=True)
    (grad,) = deepgrad.autograd.grad(out.pow(3).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="NativeBatchNormBackward0.*once_differentiable"):
        grad.sum().backward()


@pytest.mark.parametrize("call,kind,message", [
    (lambda F: F.batch_norm(deepgrad.randn(1, 3), deepgrad.zeros(3), deepgrad.ones(3),
                            training=True), ValueError, "Expected more than 1 value per channel"),
    (lambda F: F.batch_norm(deepgrad.randn(2, 3), None, None), RuntimeError,
     "running_mean must be defined in evaluation mode"),
    (lambda F: F.batch_norm(deepgrad.randn(4, 3), deepgrad.zeros(4), deepgrad.ones(4)),
     RuntimeError, "running_mean should contain 3 elements not 4"),
    (lambda F: F.batch_norm(deepgrad.randn(4, 3), deepgrad.zeros(3), deepgrad.ones(3),
                            weight=deepgrad.ones(2)), RuntimeError,
     "weight should contain 3 elements not 2"),
    (lambda F: F.batch_norm(deepgrad.randn(3), None, None, training=True), RuntimeError,
     "batch_norm: expected an input with at least 2 dims"),
])
def test_errors(call, kind, message):
    with pytest.raises(kind, match=message):
        call(deepgrad.nn.functional)


# ---------------------------------------------------------------- layers

def _copy_state(torch_module, module):
    module.load_state_dict({k: deepgrad.tensor(v.detach().numpy())
                            for k, v in torch_module.state_dict().items()})


def _run_steps(name, kwargs, shape, steps=4, train=True):
    """Same inputs into both layers for several steps; compare everything after each."""
    torch_layer = getattr(torch.nn, name)(shape[1], **kwargs).double()
    layer = getattr(deepgrad.nn, name)(shape[1], **kwargs).double()
    assert repr(layer) == repr(torch_layer)
    torch_layer.train(train)
    layer.train(train)
    rng = np.random.default_rng(0)
    if torch_layer.affine:  # non-trivial affine parameters
        with torch.no_grad():
            torch_layer.weight.uniform_(0.5, 1.5)
            torch_layer.bias.uniform_(-1, 1)
    _copy_state(torch_layer, layer)
    for step in range(steps):
        x = rng.standard_normal(shape) * (step + 1) + step
        tx, dx = _pair(x, True)
        t_out, d_out = torch_layer(tx), layer(dx)
        assert_close(d_out, t_out, 1e-10, 1e-10, f"output step {step}")
        weights = rng.standard_normal(shape)
        (t_out * torch.tensor(weights)).sum().backward()
        (d_out * deepgrad.tensor(weights)).sum().backward()
        assert_close(dx.grad, tx.grad, 1e-9, 1e-9, f"input grad step {step}")
        for (n, p), (_, tp) in zip(layer.named_parameters(), torch_layer.named_parameters()):
            assert_close(p.grad, tp.grad, 1e-9, 1e-9, f"{n} grad step {step}")
        for (n, b), (tn, tb) in zip(layer.named_buffers(), torch_layer.named_buffers()):
            assert n == tn
            assert_close(b, tb, 1e-10, 1e-10, f"{n} step {step}")
    return torch_layer, layer


@pytest.mark.parametrize("name,kwargs,shape", [
    ("BatchNorm2d", {}, (4, 3, 5, 6)),
    ("BatchNorm2d", {"momentum": None}, (4, 3, 5, 6)),
    ("BatchNorm2d", {"affine": False, "eps": 1e-3}, (4, 3, 2, 2)),
    ("BatchNorm2d", {"track_running_stats": False}, (4, 3, 2, 2)),
    ("BatchNorm1d", {"momentum": 0.5}, (8, 5)),
    ("BatchNorm1d", {}, (4, 5, 7)),
    ("BatchNorm1d", {"momentum": None, "affine": False}, (4, 5, 7)),
])
@pytest.mark.parametrize("train", [True, False])
def test_layer_steps_match_torch(name, kwargs, shape, train):
    _run_steps(name, kwargs, shape, train=train)


def test_eval_after_training_uses_running_stats():
    torch_layer, layer = _run_steps("BatchNorm2d", {"momentum": None}, (4, 3, 5, 6))
    assert int(layer.num_batches_tracked) == 4
    torch_layer.eval()
    layer.eval()
    x = np.random.default_rng(5).standard_normal((2, 3, 5, 6))
    assert_close(layer(deepgrad.tensor(x)), torch_layer(torch.tensor(x)), 1e-10, 1e-10, "eval")


def test_state_dict_matches_torch():
    torch_layer, layer = torch.nn.BatchNorm2d(4), deepgrad.nn.BatchNorm2d(4)
    t_state, d_state = torch_layer.state_dict(), layer.state_dict()
    assert list(d_state) == list(t_state) == ["weight", "bias", "running_mean", "running_var",
                                              "num_batches_tracked"]
    for key in t_state:
        assert_close(d_state[key], t_state[key], 0, 0, key)
    assert d_state["num_batches_tracked"].dtype == deepgrad.int64
    no_stats = deepgrad.nn.BatchNorm1d(4, affine=False, track_running_stats=False)
    assert list(no_stats.state_dict()) == []
    assert no_stats.running_mean is None


def test_old_checkpoint_without_counter_loads():
    """Checkpoints from before num_batches_tracked existed load strictly, as in torch."""
    for lib in (torch, deepgrad):
        layer = lib.nn.BatchNorm2d(3)
        state = {k: v for k, v in layer.state_dict().items() if k != "num_batches_tracked"}
        result = layer.load_state_dict(state)
        assert not result.missing_keys and not result.unexpected_keys


def test_input_dims_checked():
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        deepgrad.nn.BatchNorm2d(3)(deepgrad.randn(2, 3, 4))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        deepgrad.nn.BatchNorm1d(3)(deepgrad.randn(2, 3, 4, 4))


def test_lazy_batch_norm_infers_features():
    layer = deepgrad.nn.LazyBatchNorm2d()
    out = layer(deepgrad.randn(4, 5, 3, 3))
    assert type(layer) is deepgrad.nn.BatchNorm2d and out.shape == (4, 5, 3, 3)
    assert layer.num_features == 5 and layer.running_mean.shape == (5,)
    assert int(layer.num_batches_tracked) == 1
    assert repr(layer) == repr(torch.nn.BatchNorm2d(5))


def test_default_parameters_and_buffers():
    layer = deepgrad.nn.BatchNorm2d(3)
    np.testing.assert_array_equal(layer.weight.detach().numpy(), np.ones(3, np.float32))
    np.testing.assert_array_equal(layer.bias.detach().numpy(), np.zeros(3, np.float32))
    np.testing.assert_array_equal(layer.running_var.numpy(), np.ones(3, np.float32))
    assert layer.weight.dtype == deepgrad.float32


@pytest.mark.parametrize("training", [True, False])
def test_empty_batch(training):
    results = []
    for lib in (torch, deepgrad):
        x = lib.zeros(0, 3, 4, 4, requires_grad=True)
        weight = lib.ones(3, requires_grad=True)
        running_mean = lib.zeros(3)
        out = lib.nn.functional.batch_norm(x, running_mean, lib.ones(3), weight,
                                           training=training)
        out.sum().backward()
        results.append((out, x.grad, weight.grad, running_mean))
    for d, t in zip(results[1], results[0]):
        assert_close(d, t, 0, 0, "empty batch")
