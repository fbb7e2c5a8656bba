"""Views after in-place ops: a sibling view, a view of a view, or a view of a base that was
itself modified in place, must see the base's new graph (torch regenerates the view's
grad_fn). Every expected value is torch's."""

import numpy as np
import pytest
import torch

import deepgrad

WEIGHTS = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], np.float32)


def _sibling_view(lib):
    w = lib.tensor(WEIGHTS, requires_grad=True)
    base = w * 1
    a, b = base[0:3], base[2:5]
    a.mul_(10)
    return w, (b * lib.tensor([1.0, 2.0, 3.0])).sum(), b


def _base_in_place(lib):
    w = lib.tensor(WEIGHTS, requires_grad=True)
    base = (w * 1).reshape(2, 3)
    row = base[1]
    base.exp_()  # the view's gradient must go through the exp
    return w, (row * lib.tensor([1.0, 2.0, 3.0])).sum(), row


def _view_of_view(lib):
    w = lib.tensor(WEIGHTS, requires_grad=True)
    base = w * 2
    outer = base[1:5]
    inner = outer[1:3]
    outer[0:2].add_(w[0:2] * w[0:2])
    return w, (inner * inner).sum(), inner


def _copy_into_plain_base(lib):
    w = lib.tensor(WEIGHTS[:2], requires_grad=True)
    base = lib.zeros(4)  # no grad until a view receives one
    left, middle = base[0:2], base[1:3]
    left.copy_(w * 3)
    return w, (middle * lib.tensor([5.0, 7.0])).sum(), middle


def _transposed_sibling(lib):
    w = lib.tensor(WEIGHTS, requires_grad=True)
    base = (w + 0).reshape(2, 3)
    column = base.t()[1]
    base[0].mul_(w[3:6])
    return w, (column * lib.tensor([2.0, 3.0])).sum(), column


CASES = [_sibling_view, _base_in_place, _view_of_view, _copy_into_plain_base,
         _transposed_sibling]


@pytest.mark.parametrize("case", CASES, ids=lambda f: f.__name__.strip("_"))
def test_stale_views_follow_the_base_like_torch(case):
    results = []
    for lib in (deepgrad, torch):
        w, loss, view = case(lib)
        loss.backward()
        results.append((view.detach().numpy(), w.grad.numpy(), view.requires_grad))
    (d_view, d_grad, d_req), (t_view, t_grad, t_req) = results
    np.testing.assert_allclose(d_view, t_view)
    np.testing.assert_allclose(d_grad, t_grad, rtol=1e-6)
    assert d_req == t_req


@pytest.mark.parametrize("case", CASES, ids=lambda f: f.__name__.strip("_"))
def test_second_order_through_a_refreshed_view(case):
    grads = []
    for lib in (deepgrad, torch):
        w, loss, _ = case(lib)
        (g,) = lib.autograd.grad(loss, w, create_graph=True)
        if not g.requires_grad:  # linear in w: no second derivative in either library
            grads.append(None)
            continue
        (gg,) = lib.autograd.grad((g * g).sum(), w)
        grads.append(gg.numpy())
    assert (grads[0] is None) == (grads[1] is None)
    if grads[1] is not None:
        np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5)
