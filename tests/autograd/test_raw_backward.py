"""The array-level first-order backward (``Function.raw_backward``): the engine takes it only
without create_graph and hooks, it gives the Tensor-level backward's gradients, and it keeps
the version-counter check. Expected values come from torch or from the Tensor path."""

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad.nn import functional as F  # noqa: N812


def _mlp_grads(lib, create_graph, hook=False):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((7, 4)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 3, 7))
    w1 = lib.tensor(rng.standard_normal((5, 4)).astype(np.float32), requires_grad=True)
    b1 = lib.tensor(rng.standard_normal(5).astype(np.float32), requires_grad=True)
    w2 = lib.tensor(rng.standard_normal((3, 5)).astype(np.float32), requires_grad=True)
    h = lib.relu(lib.nn.functional.linear(x, w1, b1))
    if hook:
        h.register_hook(lambda g: g * 2)
    loss = lib.nn.functional.cross_entropy(lib.nn.functional.linear(h, w2), y)
    grads = lib.autograd.grad(loss, (w1, b1, w2), create_graph=create_graph)
    return [g.detach().numpy() for g in grads]


@pytest.mark.parametrize("hook", [False, True])
def test_raw_and_tensor_paths_match_torch(hook):
    expected = _mlp_grads(torch, False, hook)
    for create_graph in (False, True):
        for got, want in zip(_mlp_grads(deepgrad, create_graph, hook), expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_engine_uses_raw_backward_only_without_create_graph():
    calls = []

    class Square(deepgrad.autograd.Function):
        raw = True

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            calls.append("tensor")
            (x,) = ctx.saved_tensors
            return grad * 2 * x

        @staticmethod
        def raw_backward(ctx, grad):
            calls.append("raw")
            (x,) = ctx.saved_arrays
            return grad * 2 * x

    x = deepgrad.tensor([1.0, -3.0], requires_grad=True)
    Square.apply(x).sum().backward()
    assert calls == ["raw"]
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -6.0])
    (g,) = deepgrad.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    assert calls == ["raw", "tensor"] and g.requires_grad
    y = Square.apply(x)
    y.grad_fn.register_prehook(lambda grads: None)  # a node hook forces the Tensor path
    y.sum().backward()
    assert calls == ["raw", "tensor", "tensor"]


@pytest.mark.parametrize("lib", [deepgrad, torch])
def test_raw_backward_still_detects_in_place_change_of_saved_output(lib):
    x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    h = lib.relu(x * 1)
    loss = (h * 1).sum()
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_raw_backward_detects_in_place_change_of_saved_input():
    x = deepgrad.ones(2, 3)
    w = deepgrad.ones(4, 3, requires_grad=True)
    loss = F.linear(x, w).sum()
    x.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
