"""User-defined ops (``deepgrad.autograd.Function``), each defined once for both libraries
and checked against torch."""

import numpy as np
import pytest
import torch

import deepgrad

X = np.array([0.5, -1.5, 2.0], dtype=np.float64)
Y = np.array([1.25, 0.75, -0.5], dtype=np.float64)


def np_of(t):
    return None if t is None else t.detach().numpy()


def assert_same(actual, expected, rtol=1e-7, atol=1e-9):
    if isinstance(expected, (tuple, list)):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected, strict=True):
            assert_same(a, e, rtol, atol)
    elif expected is None:
        assert actual is None
    elif isinstance(expected, torch.Tensor):
        assert tuple(actual.shape) == tuple(expected.shape)
        np.testing.assert_allclose(np_of(actual), np_of(expected), rtol=rtol, atol=atol)
    else:
        assert actual == expected


def both(fn):
    return fn(deepgrad), fn(torch)


def leaves(lib, *arrays):
    return [lib.tensor(a.copy(), requires_grad=True) for a in arrays]


def cube_function(lib):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale  # non-tensor state lives on ctx
            return x * x * x * scale

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out * 3 * x * x * ctx.scale, None

    return Cube


def test_save_for_backward_and_non_tensor_argument():
    def run(lib):
        (x,) = leaves(lib, X)
        y = cube_function(lib).apply(x, 2.5)
        (y * lib.tensor(Y.copy())).sum().backward()
        return y, x.grad

    assert_same(*both(run))


def test_custom_function_with_create_graph_gives_second_derivative():
    def run(lib):
        (x,) = leaves(lib, X)
        y = cube_function(lib).apply(x, 2.0)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * lib.tensor(Y.copy())).sum(), x)
        return g, gg

    assert_same(*both(run))


def test_saved_output_keeps_its_graph_for_double_backward():
    def make(lib):
        class Exp(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                result = x.exp()
                ctx.save_for_backward(result)
                return result

            @staticmethod
            def backward(ctx, grad_out):
                (result,) = ctx.saved_tensors
                return grad_out * result

        return Exp

    def run(lib):
        (x,) = leaves(lib, X)
        y = make(lib).apply(x)
        (g,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return y, g, gg

    assert_same(*both(run))


def test_needs_input_grad_reports_which_inputs_need_gradients():
    def make(lib, record):
        class Mul(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b, k):
                ctx.save_for_backward(a, b)
                return a * b * k

            @staticmethod
            def backward(ctx, grad_out):
                a, b = ctx.saved_tensors
                record.append(tuple(ctx.needs_input_grad))
                grad_a = grad_out * b if ctx.needs_input_grad[0] else None
                grad_b = grad_out * a if ctx.needs_input_grad[1] else None
                return grad_a, grad_b, None

        return Mul

    def run(lib):
        record = []
        (a,) = leaves(lib, X)
        b = lib.tensor(Y.copy())
        make(lib, record).apply(a, b, 3.0).sum().backward()
        return record, a.grad, b.grad

    d, t = both(run)
    assert d[0] == t[0] == [(True, False, False)]
    assert_same(d[1:], t[1:])


def test_multiple_outputs_and_returning_none_gradients():
    def make(lib):
        class SumProd(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                ctx.save_for_backward(a, b)
                return a + b, a * b

            @staticmethod
            def backward(ctx, grad_sum, grad_prod):
                a, b = ctx.saved_tensors
                return grad_sum + grad_prod * b, None  # deliberately no gradient for b

        return SumProd

    def run(lib):
        a, b = leaves(lib, X, Y)
        s, p = make(lib).apply(a, b)
        (s * 2 + p * p).sum().backward()
        return s, p, a.grad, b.grad

    assert_same(*both(run))


def test_unused_output_gets_zero_gradient_by_default():
    def make(lib, seen):
        class Pair(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, grad_a, grad_b):
                seen.append(grad_b)
                return grad_a * 2 + grad_b * 3

        return Pair

    def run(lib):
        seen = []
        (x,) = leaves(lib, X)
        first, _ = make(lib, seen).apply(x)
        first.sum().backward()
        return seen[0], x.grad

    assert_same(*both(run))


def test_set_materialize_grads_false_passes_none():
    def make(lib, seen):
        class Pair(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, grad_a, grad_b):
                seen.append(grad_b)
                return grad_a * 2 if grad_b is None else grad_a * 2 + grad_b * 3

        return Pair

    def run(lib):
        seen = []
        (x,) = leaves(lib, X)
        first, _ = make(lib, seen).apply(x)
        first.sum().backward()
        return seen[0], x.grad

    assert_same(*both(run))


def test_mark_non_differentiable():
    def make(lib, seen):
        class DoubleWithMask(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                doubled = x * 2
                flags = lib.tensor(X > 0)  # bool outputs are never differentiable
                mask = lib.tensor((X > 0).astype(np.float64))
                ctx.mark_non_differentiable(mask)
                return doubled, mask, flags

            @staticmethod
            def backward(ctx, grad_doubled, grad_mask, grad_flags):
                seen.append(grad_mask)
                return grad_doubled * 2

        return DoubleWithMask

    def run(lib):
        seen = []
        (x,) = leaves(lib, X)
        doubled, mask, flags = make(lib, seen).apply(x)
        doubled.sum().backward()
        return (doubled, mask, mask.requires_grad, flags.requires_grad, x.grad, seen[0],
                mask.grad_fn is None)

    assert_same(*both(run))


def once_function(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out * 2 * x

    return Square


def test_once_differentiable_first_order_matches_torch():
    def run(lib):
        (x,) = leaves(lib, X)
        once_function(lib).apply(x).exp().sum().backward()
        return x.grad

    assert_same(*both(run))


def test_once_differentiable_double_backward_raises_clearly():
    square = once_function(deepgrad)
    (x,) = leaves(deepgrad, X)
    (g,) = deepgrad.autograd.grad(square.apply(x).exp().sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="SquareBackward0.*once_differentiable"):
        deepgrad.autograd.grad(g.sum(), x)
    # also when the incoming gradient does not itself depend on x
    (g,) = deepgrad.autograd.grad(square.apply(x).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()


def test_once_differentiable_is_importable_from_autograd():
    assert deepgrad.autograd.once_differentiable is deepgrad.autograd.function.once_differentiable


def test_modifying_a_saved_input_in_place_raises():
    for lib in (deepgrad, torch):
        (x,) = leaves(lib, X)
        h = x * 1
        y = cube_function(lib).apply(h, 1.0)
        with lib.no_grad():
            h.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_no_graph_when_no_input_requires_grad_or_under_no_grad():
    cube = cube_function(deepgrad)
    plain = cube.apply(deepgrad.tensor(X.copy()), 1.0)
    assert plain.grad_fn is None and not plain.requires_grad
    (x,) = leaves(deepgrad, X)
    with deepgrad.no_grad():
        y = cube.apply(x, 1.0)
    assert y.grad_fn is None and not y.requires_grad


def test_forward_runs_without_recording():
    def make(lib, seen):
        class Probe(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                inner = x * 2
                seen.append((lib.is_grad_enabled(), inner.requires_grad))
                return inner

            @staticmethod
            def backward(ctx, grad_out):
                return grad_out * 2

        return Probe

    def run(lib):
        seen = []
        (x,) = leaves(lib, X)
        y = make(lib, seen).apply(x)
        return seen, y.requires_grad

    d, t = both(run)
    assert d == t


def test_setup_context_style():
    def make(lib):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(x, k):
                return x * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, k = inputs
                ctx.k = k

            @staticmethod
            def backward(ctx, grad_out):
                return grad_out * ctx.k, None

        return Scale

    def run(lib):
        (x,) = leaves(lib, X)
        y = make(lib).apply(x, 4.0)
        y.sum().backward()
        return y, x.grad

    assert_same(*both(run))


def add_one_in_place(lib):
    class AddOne(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out * 2

    return AddOne


def test_mark_dirty_returns_the_input_and_rebases_its_graph():
    def run(lib):
        (a,) = leaves(lib, X)
        h = a * 3
        out = add_one_in_place(lib).apply(h)
        (h * h).sum().backward()
        plain = lib.tensor(X.copy())
        same = add_one_in_place(lib).apply(plain)
        return out is h, h._version, a.grad, same is plain, plain, same.requires_grad

    assert_same(*both(run))


def test_mark_dirty_on_a_leaf_requiring_grad_raises():
    for lib in (deepgrad, torch):
        (a,) = leaves(lib, X)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            add_one_in_place(lib).apply(a)
