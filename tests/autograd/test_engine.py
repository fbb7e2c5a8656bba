"""The backward engine as a user sees it: accumulation, graph freeing, autograd.grad,
backward(inputs=...), hooks, version counters, in-place on the graph, gradient-shape checks.

Every expected value comes from running the same code on torch.
"""

import warnings

import numpy as np
import pytest
import torch

import deepgrad

LIBS = (deepgrad, torch)
X = np.array([0.5, -1.5, 2.0], dtype=np.float32)
Y = np.array([1.25, 0.75, -0.5], dtype=np.float32)


def np_of(t):
    return None if t is None else t.detach().numpy()


def both(fn):
    """Run ``fn(lib)`` with deepgrad and torch; return (deepgrad result, torch result)."""
    return fn(deepgrad), fn(torch)


def assert_same(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, (tuple, list)):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected, strict=True):
            assert_same(a, e, rtol, atol)
        return
    if expected is None:
        assert actual is None
        return
    if isinstance(expected, torch.Tensor):
        assert tuple(actual.shape) == tuple(expected.shape)
        np.testing.assert_allclose(np_of(actual), np_of(expected), rtol=rtol, atol=atol)
    else:
        assert actual == expected


def leaves(lib, *arrays):
    return [lib.tensor(a.copy(), requires_grad=True) for a in arrays]


# ---------------------------------------------------------------- accumulation, freeing

def test_leaf_grad_accumulates_over_two_backward_calls():
    def run(lib):
        x, y = leaves(lib, X, Y)
        (x * y).exp().sum().backward()
        first = x.grad.clone()
        (x * x * y).sum().backward()
        return first, x.grad, y.grad

    assert_same(*both(run))


def test_nonleaf_grad_is_none_unless_retain_grad():
    def run(lib):
        (x,) = leaves(lib, X)
        hidden = x * 2
        kept = hidden.exp()
        kept.retain_grad()
        (kept * hidden).sum().backward()
        return hidden.grad, kept.grad, kept.retains_grad, hidden.retains_grad, x.grad

    d, t = both(run)
    assert d[0] is None and t[0] is None
    assert_same(d[1:], t[1:])


def test_second_backward_without_retain_graph_raises_like_torch():
    for lib in LIBS:
        (x,) = leaves(lib, X)
        loss = (x * x).sum()
        loss.backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second"):
            loss.backward()


def test_retain_graph_allows_second_backward():
    def run(lib):
        x, y = leaves(lib, X, Y)
        loss = (x * y.exp()).sum()
        loss.backward(retain_graph=True)
        loss.backward()
        return x.grad, y.grad

    assert_same(*both(run))


def test_graph_without_saved_tensors_can_run_twice_like_torch():
    def run(lib):
        (x,) = leaves(lib, X)
        loss = (x + 1).sum()
        loss.backward()
        loss.backward()  # add and sum keep no tensors: torch allows this
        return x.grad

    assert_same(*both(run))


def test_saved_tensors_are_freed_after_backward():
    (x,) = leaves(deepgrad, X)
    y = x.exp()
    y.sum().backward()
    with pytest.raises(RuntimeError, match="after they have already been freed"):
        y.grad_fn.saved_tensors  # noqa: B018


def test_ten_thousand_op_chain_backprops_iteratively():
    def run(lib):
        x = lib.tensor(np.array([1.0, 2.0]), requires_grad=True)
        c = x
        for _ in range(10_000):
            c = c * 1.0001
        c.sum().backward()
        return x.grad

    d, t = both(run)
    np.testing.assert_allclose(d.numpy(), t.numpy(), rtol=1e-10)


def test_diamond_graph_sums_gradients():
    def run(lib):
        (x,) = leaves(lib, X)
        a = x.exp()
        b = x * 3
        c = a * b + a  # a is used twice, x reaches the loss along three paths
        (c * c).sum().backward()
        return x.grad

    assert_same(*both(run), rtol=1e-5)


def test_leaf_grads_are_not_aliased():
    a, b = leaves(deepgrad, X, Y)
    (a + b).sum().backward()  # add hands the same gradient to both inputs
    assert a.grad is not b.grad
    a.grad.add_(1)
    np.testing.assert_allclose(b.grad.numpy(), np.ones(3))
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())


def test_backward_with_gradient_argument_for_nonscalar():
    def run(lib):
        (x,) = leaves(lib, X)
        y = x.exp() * 2
        y.backward(lib.tensor(Y.copy()))
        return x.grad

    assert_same(*both(run))


def test_implicit_gradient_only_for_scalar_outputs():
    for lib in LIBS:
        (x,) = leaves(lib, X)
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
            (x * 2).backward()


def test_backward_on_tensor_without_grad_raises():
    for lib in LIBS:
        x = lib.tensor(X.copy())
        with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
            (x * 2).sum().backward()


def test_grad_output_shape_mismatch_message():
    for lib in LIBS:
        (x,) = leaves(lib, X)
        with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\]"):
            lib.autograd.grad((x * 2).sum(), x, lib.ones(1))


# ---------------------------------------------------------------- autograd.grad

def test_grad_wrt_leaf_and_nonleaf_inputs():
    def run(lib):
        (x,) = leaves(lib, X)
        h = x.exp()
        loss = (h * h * x).sum()
        return lib.autograd.grad(loss, [x, h])

    assert_same(*both(run))


def test_grad_leaves_dot_grad_untouched():
    (x,) = leaves(deepgrad, X)
    deepgrad.autograd.grad((x * x).sum(), x)
    assert x.grad is None


def test_grad_unused_input_raises_unless_allow_unused():
    for lib in LIBS:
        x, y = leaves(lib, X, Y)
        with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
            lib.autograd.grad((x * x).sum(), [x, y])

    def run(lib):
        x, y = leaves(lib, X, Y)
        return lib.autograd.grad((x * x).sum(), [x, y], allow_unused=True)

    assert_same(*both(run))

    def run_materialized(lib):
        x, y = leaves(lib, X, Y)
        return lib.autograd.grad((x * x).sum(), [x, y], materialize_grads=True)

    assert_same(*both(run_materialized))


def test_grad_input_not_requiring_grad_raises():
    for lib in LIBS:
        x = lib.tensor(X.copy())
        (y,) = leaves(lib, Y)
        with pytest.raises(RuntimeError, match="does not require grad"):
            lib.autograd.grad((x * y).sum(), [x])


def test_grad_with_grad_outputs_and_multiple_outputs():
    def run(lib):
        x, y = leaves(lib, X, Y)
        a, b = x * y, x.exp()
        return lib.autograd.grad([a, b], [x, y], [lib.tensor(Y.copy()), lib.tensor(X.copy())])

    assert_same(*both(run))


def test_create_graph_second_derivative():
    def run(lib):
        (x,) = leaves(lib, X)
        (g,) = lib.autograd.grad((x * x * x.exp()).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * lib.tensor(Y.copy())).sum(), x)
        return g, gg, g.requires_grad

    assert_same(*both(run), rtol=1e-5)


def test_backward_create_graph_then_grad_of_grad():
    def run(lib):
        (x,) = leaves(lib, X)
        (x * x * x).sum().backward(create_graph=True)
        first = x.grad
        (g2,) = lib.autograd.grad(first.sum(), x)
        return first, g2

    assert_same(*both(run))


def test_grad_is_grads_batched():
    def run(lib):
        (x,) = leaves(lib, X)
        y = x.exp() * 2
        vectors = lib.tensor(np.eye(3, dtype=np.float32))
        return lib.autograd.grad(y, x, vectors, is_grads_batched=True)

    assert_same(*both(run))


# ---------------------------------------------------------------- backward(inputs=...)

def test_backward_inputs_accumulates_only_there():
    def run(lib):
        x, y = leaves(lib, X, Y)
        h = x * y
        h.retain_grad()
        (h.exp() * y).sum().backward(inputs=[x])
        return x.grad, y.grad, h.grad

    d, t = both(run)
    assert d[1] is None and t[1] is None  # y is a leaf but not among inputs
    assert_same(d, t)  # h.grad (retain_grad) is still filled in, as torch does


def test_backward_inputs_nonleaf():
    def run(lib):
        (x,) = leaves(lib, X)
        h = x.exp()
        (h * h).sum().backward(inputs=[h])
        return h.grad, x.grad

    assert_same(*both(run))


def test_backward_inputs_empty_raises():
    for lib in LIBS:
        (x,) = leaves(lib, X)
        with pytest.raises(RuntimeError, match="cannot be empty"):
            (x * 2).sum().backward(inputs=[])


# ---------------------------------------------------------------- hooks

def test_leaf_hook_modifies_gradient_and_handle_removes_it():
    def run(lib):
        (x,) = leaves(lib, X)
        seen = []
        handle = x.register_hook(lambda g: seen.append(g.clone()) or g * 10)
        (x * x).sum().backward()
        first = x.grad.clone()
        handle.remove()
        x.grad = None
        (x * x).sum().backward()
        return first, x.grad, seen[0], len(seen)

    assert_same(*both(run))


def test_nonleaf_hook_modifies_gradient_flowing_on():
    def run(lib):
        (x,) = leaves(lib, X)
        h = x.exp()
        h.register_hook(lambda g: g * 3)
        h.register_hook(lambda g: g + 1)
        (h * h).sum().backward()
        return x.grad

    assert_same(*both(run))


def test_retain_grad_sees_gradient_after_hooks():
    def run(lib):
        (x,) = leaves(lib, X)
        h = x * 3
        h.retain_grad()  # registered first, but torch runs it after the user's hooks
        h.register_hook(lambda g: g * 10)
        (h * h).sum().backward()
        return h.grad, x.grad

    assert_same(*both(run))


def test_hooks_apply_in_autograd_grad():
    def run(lib):
        (x,) = leaves(lib, X)
        x.register_hook(lambda g: g * 2)
        h = x.exp()
        h.register_hook(lambda g: g - 1)
        (gx,) = lib.autograd.grad((h * h).sum(), [x], retain_graph=True)
        (gh,) = lib.autograd.grad((h * h).sum(), [h])  # captured after h's hook
        return gx, gh

    assert_same(*both(run))


def test_hook_on_tensor_without_grad_raises():
    for lib in LIBS:
        with pytest.raises(RuntimeError, match="doesn't require gradient"):
            lib.tensor(X.copy()).register_hook(lambda g: g)


# ---------------------------------------------------------------- in place and versions

def test_modifying_a_saved_tensor_in_place_raises_at_backward():
    for lib in LIBS:
        (x,) = leaves(lib, X)
        h = x * 2
        out = h * h  # saves h
        h.mul_(3)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


def test_modifying_a_saved_output_in_place_raises_at_backward():
    for lib in LIBS:
        (x,) = leaves(lib, X)
        y = x.exp()  # exp saves its output
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_in_place_on_leaf_requiring_grad_raises():
    for lib in LIBS:
        (x,) = leaves(lib, X)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            x.add_(1)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            x *= 2


def test_in_place_on_leaf_under_no_grad_is_allowed():
    def run(lib):
        (x,) = leaves(lib, X)
        with lib.no_grad():
            x.mul_(2)
        (x * x).sum().backward()
        return x, x.grad, x.is_leaf

    assert_same(*both(run))


def test_iadd_on_nonleaf_keeps_the_graph():
    def run(lib):
        x, y = leaves(lib, X, Y)
        h = x * 2
        h += y * y
        h *= x
        h.sum().backward()
        return h, x.grad, y.grad

    assert_same(*both(run))


def test_version_counter_increments():
    def run(lib):
        x = lib.tensor(X.copy())
        versions = [x._version]
        x.add_(1)
        versions.append(x._version)
        x *= 2
        versions.append(x._version)
        return versions

    d, t = both(run)
    assert d == t


# ---------------------------------------------------------------- engine checks

class WrongShape(deepgrad.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out.sum()  # shape () instead of (3,)


def test_gradient_shape_check_names_op_and_both_shapes():
    (x,) = leaves(deepgrad, X)
    with pytest.raises(RuntimeError) as info:
        WrongShape.apply(x).sum().backward()
    message = str(info.value)
    assert "WrongShapeBackward0" in message
    assert "()" in message and "(3,)" in message and "input 0" in message


class TooManyGrads(deepgrad.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out * 2, grad_out


def test_wrong_number_of_gradients_raises():
    (x,) = leaves(deepgrad, X)
    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients"):
        TooManyGrads.apply(x).sum().backward()


def test_grad_fn_and_next_functions_describe_the_graph():
    (x,) = leaves(deepgrad, X)
    y = (x * 2).exp()
    assert y.grad_fn.name().endswith("Backward0")
    (parent, nr) = y.grad_fn.next_functions[0]
    assert nr == 0 and parent.name() == "MulBackward0"
    assert y.is_leaf is False and x.is_leaf is True


# ---------------------------------------------------------------- views and in place

def test_in_place_on_a_view_rebases_the_base_graph():
    def run(lib):
        (x,) = leaves(lib, X)
        y = x * 2
        y[0:2].mul_(3)  # changes y through a view
        (y * lib.tensor(Y.copy())).sum().backward()
        return y, x.grad

    assert_same(*both(run))


def test_in_place_on_a_transposed_view_of_a_view():
    def run(lib):
        x = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        y = x * 2
        v = y.t()[1:]  # (2, 2) view of a view
        v.add_(v.exp())
        w = lib.tensor(np.arange(6.0).reshape(2, 3) - 2)
        (y * w).sum().backward()
        return y, x.grad

    assert_same(*both(run))


def test_in_place_on_a_view_with_a_value_requiring_grad():
    def run(lib):
        (v,) = leaves(lib, Y)
        y = lib.zeros(3, 1)
        y.t().add_(v * 3)  # y did not require grad before
        (y * y).sum().backward()
        return y, y.requires_grad, y.is_leaf, v.grad

    assert_same(*both(run))


def test_in_place_on_a_view_of_a_leaf_requiring_grad_raises():
    for lib in LIBS:
        (x,) = leaves(lib, X)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            x.view(3).add_(1)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            x[1:].mul_(2)


def test_views_share_the_version_counter():
    def run(lib):
        x = lib.tensor(X.copy())
        v = x.view(3)
        d = x.detach()
        v.add_(1)
        after_view = (x._version, v._version, d._version)
        x.mul_(2)
        return after_view, (x._version, v._version, d._version)

    d, t = both(run)
    assert d == t


def test_saved_tensor_modified_through_a_view_raises():
    for lib in LIBS:
        (x,) = leaves(lib, X)
        y = x.exp()  # saves its output
        y[0:1].mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_saved_view_modified_through_its_base_raises():
    for lib in LIBS:
        (x,) = leaves(lib, X)
        y = x * 2
        v = y[1:]
        out = v * v  # saves the view
        with lib.no_grad():
            y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


def test_saved_tensor_modified_through_detach_raises():
    for lib in LIBS:
        (x,) = leaves(lib, X)
        y = x * 2
        out = y * y
        y.detach().zero_() if hasattr(y, "zero_") else y.detach().mul_(0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


def test_in_place_on_a_detached_alias_does_not_rebase():
    def run(lib):
        (x,) = leaves(lib, X)
        (w,) = leaves(lib, Y)
        y = x * 2
        alias = y.detach()
        alias.add_(w)  # not a view: y's graph is unchanged, alias gets its own graph
        (y.sum() + (alias * alias).sum()).backward()
        return y, x.grad, w.grad, alias.requires_grad

    assert_same(*both(run))


def test_no_grad_getitem_view_shares_the_version_counter():
    def run(lib):
        x = lib.tensor(X.copy())
        x[1:].add_(1)
        return x._version

    d, t = both(run)
    assert d == t


# ---------------------------------------------------------------- anomaly mode, dict inputs

def test_detect_anomaly_names_the_node_that_returned_nan():
    messages = []
    for lib in LIBS:
        (x,) = leaves(lib, X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns that anomaly mode is slow
            with lib.autograd.detect_anomaly():
                with pytest.raises(RuntimeError, match="returned nan values") as info:
                    (x * float("nan")).sum().backward()
        messages.append(str(info.value).splitlines()[0])
    assert messages[0] == messages[1]


def test_without_anomaly_mode_nan_gradients_pass_silently():
    for lib in LIBS:
        (x,) = leaves(lib, X)
        (x * float("nan")).sum().backward()
        assert np.isnan(np_of(x.grad)).all()


def test_set_detect_anomaly_switches_and_restores():
    for lib in LIBS:
        with lib.autograd.set_detect_anomaly(True):
            assert lib.is_anomaly_enabled() if lib is torch else \
                deepgrad.autograd.anomaly_mode.is_anomaly_enabled()
        lib.autograd.set_detect_anomaly(False)
    assert not deepgrad.autograd.anomaly_mode.is_anomaly_enabled()


def test_grad_with_dict_inputs_returns_a_dict():
    def run(lib):
        x, y = leaves(lib, X, Y)
        out = lib.autograd.grad((x * y.exp()).sum(), {"x": x, "y": y})
        return sorted(out), out["x"], out["y"]

    d, t = both(run)
    assert d[0] == t[0]
    assert_same(d[1:], t[1:])


def test_post_accumulate_grad_hook():
    def run(lib):
        (x,) = leaves(lib, X)
        seen = []
        handle = x.register_post_accumulate_grad_hook(
            lambda p: seen.append((p is x, p.grad.clone(), lib.is_grad_enabled())))
        (x * x).sum().backward()
        (x * 3).sum().backward()
        handle.remove()
        (x * 3).sum().backward()
        return [s[0] for s in seen], [s[2] for s in seen], [s[1] for s in seen], x.grad

    d, t = both(run)
    assert d[0] == t[0] and d[1] == t[1]
    assert_same(d[2:], t[2:])


def test_post_accumulate_grad_hook_only_on_leaves_requiring_grad():
    for lib in LIBS:
        (x,) = leaves(lib, X)
        with pytest.raises(RuntimeError, match="cannot be registered on non-leaf tensors"):
            (x * 2).register_post_accumulate_grad_hook(lambda p: None)
        with pytest.raises(RuntimeError, match="doesn't require gradient"):
            lib.tensor(X.copy()).register_post_accumulate_grad_hook(lambda p: None)


def test_node_prehook_and_hook():
    def run(lib):
        (x,) = leaves(lib, X)
        y = (x * 2).exp()
        seen = []
        pre = y.grad_fn.register_prehook(lambda go: seen.append(go[0].clone()) or (go[0] * 10,))
        post = y.grad_fn.register_hook(
            lambda gi, go: seen.append((gi[0].clone(), go[0].clone())) or (gi[0] + 1,))
        y.sum().backward(retain_graph=True)
        first = x.grad.clone()
        pre.remove()
        post.remove()
        x.grad = None
        y.sum().backward()
        return seen[0], seen[1], first, x.grad

    assert_same(*both(run))


def test_next_functions_show_leaves_as_accumulate_grad():
    for lib in LIBS:
        (x,) = leaves(lib, X)
        y = (x * 2).exp()
        mul = y.grad_fn.next_functions[0][0]
        accumulate, nr = mul.next_functions[0]
        assert nr == 0 and accumulate.variable is x
        assert accumulate.name() == "torch::autograd::AccumulateGrad"
        assert accumulate.next_functions == ()


def test_backward_inputs_accumulate_in_place_without_recording():
    def run(lib):
        (x,) = leaves(lib, X)
        (x * x).sum().backward(inputs=[x])
        first = x.grad
        (x * 3).sum().backward(inputs=[x])
        return first is x.grad, x.grad.requires_grad, x.grad

    assert_same(*both(run))


def test_mul_saves_only_the_operand_backward_reads():
    """z = h * c with a constant c saves only c, so changing h in place afterwards is fine
    (as torch); changing c is still caught."""
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        c = lib.ones(3) * 3
        h = x * 2
        z = h * c
        h.add_(1)
        z.sum().backward()
        return x.grad

    assert_same(*both(run))
