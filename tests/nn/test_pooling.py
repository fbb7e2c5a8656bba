"""Max/avg/adaptive pooling (functional and layers) against torch, gradients of every order."""

import itertools

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad.nn.modules import pooling as pooling_layers
from deepgrad.ops import pooling
from oracle import OpCase, assert_close, case_params, check_case


def _ties(rng, shape, dtype):
    """Mostly zeros and small integers: many equal maxima per window (ReLU outputs)."""
    return np.round(rng.uniform(-2, 2, shape)).clip(0)


def _max(k, s=None, p=0, d=1, ceil=False, indices=True):
    return lambda lib, x: lib.nn.functional.max_pool2d(x, k, s, p, d, ceil_mode=ceil,
                                                       return_indices=indices)


def _avg(k, s=None, p=0, ceil=False, include=True, divisor=None):
    return lambda lib, x: lib.nn.functional.avg_pool2d(x, k, s, p, ceil, include, divisor)


SHAPES = [((2, 3, 7, 8),), ((1, 2, 6, 6),), ((3, 5, 5),)]

CASES = [
    OpCase("max_2", _max(2), SHAPES),
    OpCase("max_2_ties", _max(2), [((2, 3, 8, 8),)], domain=_ties),
    OpCase("max_3_overlap_ties", _max(3, 1, 1), [((2, 3, 6, 7),)], domain=_ties),
    OpCase("max_3_s2_p1_ceil", _max(3, 2, 1, ceil=True), SHAPES),
    OpCase("max_2_ceil", _max(2, ceil=True), SHAPES),
    OpCase("max_rect", _max((2, 3), (1, 2), (1, 1)), SHAPES),
    OpCase("max_dilation", _max(2, 1, 1, 2), SHAPES),
    OpCase("max_dilation_ceil", _max(3, 2, 1, (2, 1), True), SHAPES),
    OpCase("max_1_stride_2", _max(1, 2), SHAPES),
    OpCase("max_values_only", _max(2, indices=False), SHAPES),
    OpCase("avg_2", _avg(2), SHAPES),
    OpCase("avg_3_s2_p1", _avg(3, 2, 1), SHAPES),
    OpCase("avg_3_s2_p1_no_pad_count", _avg(3, 2, 1, include=False), SHAPES),
    OpCase("avg_ceil", _avg(3, 2, 1, ceil=True), SHAPES),
    OpCase("avg_ceil_no_pad_count", _avg((2, 3), (2, 2), (1, 0), True, False), SHAPES),
    OpCase("avg_divisor", _avg(2, 1, divisor=3), SHAPES),
    OpCase("avg_overlap", _avg((3, 2), 1, (1, 0)), SHAPES),
    OpCase("max_pool1d", lambda lib, x: lib.nn.functional.max_pool1d(
        x, 3, 2, 1, ceil_mode=True, return_indices=True), [((2, 3, 10),), ((3, 9),)]),
    OpCase("max_pool1d_dilation", lambda lib, x: lib.nn.functional.max_pool1d(x, 2, 1, 1, 2),
           [((2, 3, 10),)], domain=_ties),
    OpCase("avg_pool1d", lambda lib, x: lib.nn.functional.avg_pool1d(
        x, 3, 2, 1, ceil_mode=True, count_include_pad=False), [((2, 3, 10),)]),
    OpCase("avg_pool1d_default", lambda lib, x: lib.nn.functional.avg_pool1d(x, 2),
           [((2, 3, 10),), ((3, 9),)]),
]
# Uneven adaptive windows are compositions (gathers and sums): their first gradient is
# constant in the input, so it does not require grad where torch's does (with a zero
# derivative); only the second-order check is skipped for them.
for size in [1, 2, 3, (2, 3), (None, 4), 5, 7, (8, 9)]:
    CASES += [
        OpCase(f"adaptive_avg_{size}",
               lambda lib, x, size=size: lib.nn.functional.adaptive_avg_pool2d(x, size),
               [((2, 3, 7, 8),), ((3, 5, 6),)], gradgrad=size == 1),
        OpCase(f"adaptive_max_{size}", lambda lib, x, size=size:
               lib.nn.functional.adaptive_max_pool2d(x, size, return_indices=True),
               [((2, 3, 7, 8),)], domain=_ties, gradgrad=size == 1),
    ]
CASES += [
    OpCase("adaptive_avg_pool1d", lambda lib, x: lib.nn.functional.adaptive_avg_pool1d(x, 3),
           [((2, 3, 10),)], gradgrad=False),
    OpCase("adaptive_max_pool1d",
           lambda lib, x: (lib.nn.functional if lib is torch else pooling).adaptive_max_pool1d(
               x, 4, return_indices=True),
           [((2, 3, 10),)], domain=_ties, gradgrad=False),
]


@pytest.mark.parametrize("case,shapes,dtype", case_params(CASES))
def test_pooling_against_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


def test_every_max_pool_option_against_torch():
    """All combinations of kernel, stride, padding, dilation, ceil_mode (values, indices,
    gradient), on inputs with ties."""
    rng = np.random.default_rng(0)
    x = np.round(rng.uniform(-2, 3, (2, 2, 7, 8))).clip(0)
    checked = 0
    for k, s, p, d, ceil in itertools.product([1, 2, 3], [None, 1, 2, 3], [0, 1], [1, 2],
                                              [False, True]):
        if p > (d * (k - 1) + 1) // 2:
            continue
        tx, dx = torch.tensor(x, requires_grad=True), deepgrad.tensor(x, requires_grad=True)
        t_out, t_idx = torch.nn.functional.max_pool2d(tx, k, s, p, d, ceil, True)
        d_out, d_idx = deepgrad.nn.functional.max_pool2d(dx, k, s, p, d, ceil, True)
        assert_close(d_out, t_out, 0, 0, f"max {k} {s} {p} {d} {ceil}")
        assert_close(d_idx, t_idx, 0, 0, "indices")
        weights = rng.standard_normal(tuple(t_out.shape))
        (t_out * torch.tensor(weights)).sum().backward()
        (d_out * deepgrad.tensor(weights)).sum().backward()
        assert_close(dx.grad, tx.grad, 1e-12, 1e-12, "grad")
        checked += 1
    assert checked > 60


def test_nan_wins_the_window_as_in_torch():
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = x[0, 1, 2, 3] = np.nan
    for lib in (torch, deepgrad):
        t = lib.tensor(x, requires_grad=True)
        out, idx = lib.nn.functional.max_pool2d(t, 2, return_indices=True)
        out.sum().backward()
        if lib is torch:
            expected = (out.detach().numpy(), idx.numpy(), t.grad.numpy())
        else:
            np.testing.assert_array_equal(out.detach().numpy(), expected[0])
            np.testing.assert_array_equal(idx.numpy(), expected[1])
            np.testing.assert_array_equal(t.grad.numpy(), expected[2])


def test_infinite_gradient_stays_at_the_maximum():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    grad = np.array([[[[np.inf, 1.0], [2.0, -np.inf]]]])
    results = []
    for lib in (torch, deepgrad):
        t = lib.tensor(x, requires_grad=True)
        lib.nn.functional.max_pool2d(t, 2).backward(lib.tensor(grad))
        results.append(t.grad.numpy())
    np.testing.assert_array_equal(results[1], results[0])


def test_integer_inputs():
    x = np.arange(30).reshape(1, 1, 5, 6) * 7 % 11
    for fn in (lambda lib, t: lib.nn.functional.max_pool2d(t, 2, return_indices=True),
               lambda lib, t: lib.nn.functional.avg_pool2d(t, 2)):
        expected, actual = fn(torch, torch.tensor(x)), fn(deepgrad, deepgrad.tensor(x))
        for e, a in zip(expected if isinstance(expected, tuple) else (expected,),
                        actual if isinstance(actual, tuple) else (actual,)):
            assert_close(a, e, 0, 0, "int pooling")


@pytest.mark.parametrize("threads", [1, 2])
def test_no_grad_forward_matches(monkeypatch, threads):
    """The values-only max pool, also split over two kernel threads (inputs above 2 MB)."""
    from deepgrad.ops import kernel_memory

    monkeypatch.setattr(kernel_memory, "_THREADS", threads)
    rng = np.random.default_rng(3)
    for shape in [(2, 3, 9, 9), (33, 8, 45, 45)]:
        x = rng.standard_normal(shape).astype(np.float32)
        x[0, 0, 0, :3] = np.nan
        for args in [(2,), (3, 2, 1), (3, 2, 1, 2, True), ((1, 3), (1, 2)), ((3, 1), 1)]:
            with deepgrad.no_grad():
                actual = deepgrad.nn.functional.max_pool2d(deepgrad.tensor(x), *args)
            expected = torch.nn.functional.max_pool2d(torch.tensor(x), *args)
            assert_close(actual, expected, 0, 0, f"{shape} {args}")


def test_grad_fn_names_match_torch():
    x = deepgrad.randn(1, 2, 4, 4, requires_grad=True)
    F = deepgrad.nn.functional
    assert F.max_pool2d(x, 2).grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    assert F.avg_pool2d(x, 2).grad_fn.name() == "AvgPool2DBackward0"


@pytest.mark.parametrize("call,message", [
    (lambda F, x: F.max_pool2d(x, 3, padding=2), "pad should be at most half of effective "
                                                 "kernel size, but got pad=2, kernel_size=3"),
    (lambda F, x: F.avg_pool2d(x, 3, padding=2), "pad should be at most half"),
    (lambda F, x: F.max_pool2d(x[..., :2, :2], 3), r"Given input size: \(3x2x2\). Calculated "
                                                   r"output size: \(3x0x0\). Output size is too"),
    (lambda F, x: F.max_pool2d(x[0, 0], 2), "non-empty 3D or 4D"),
    (lambda F, x: F.max_pool2d(x, 0), "must be greater than zero"),
    (lambda F, x: F.avg_pool2d(x, 2, divisor_override=0), "divisor must be not zero"),
])
def test_errors(call, message):
    with pytest.raises(RuntimeError, match=message):
        call(deepgrad.nn.functional, deepgrad.randn(1, 3, 8, 8))


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("MaxPool2d", (2,), {}, (2, 3, 8, 8)),
    ("MaxPool2d", ((2, 3), 1, 1), {"dilation": 2, "ceil_mode": True}, (2, 3, 8, 9)),
    ("MaxPool2d", (3, 2), {"return_indices": True}, (2, 3, 9, 9)),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}, (2, 3, 10)),
    ("AvgPool2d", (3, 2, 1), {"ceil_mode": True, "count_include_pad": False}, (2, 3, 8, 9)),
    ("AvgPool2d", (2,), {"divisor_override": 3}, (2, 3, 8, 8)),
    ("AvgPool1d", (3,), {"stride": 2, "padding": 1}, (2, 3, 10)),
    ("AdaptiveAvgPool2d", ((1, 1),), {}, (2, 3, 7, 7)),
    ("AdaptiveAvgPool2d", (3,), {}, (2, 3, 7, 8)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("AdaptiveMaxPool2d", ((3, None),), {"return_indices": True}, (2, 3, 7, 8)),
    ("AdaptiveMaxPool1d", (4,), {}, (2, 3, 10)),
])
def test_layers_match_torch(name, args, kwargs, shape):
    torch_layer = getattr(torch.nn, name)(*args, **kwargs)
    layer = getattr(pooling_layers, name)(*args, **kwargs)
    assert repr(layer) == repr(torch_layer)
    x = np.random.default_rng(0).standard_normal(shape)
    tx, dx = torch.tensor(x, requires_grad=True), deepgrad.tensor(x, requires_grad=True)
    t_out, d_out = torch_layer(tx), layer(dx)
    if isinstance(t_out, tuple):
        assert_close(d_out[1], t_out[1], 0, 0, "indices")
        t_out, d_out = t_out[0], d_out[0]
    assert_close(d_out, t_out, 1e-12, 1e-12, "output")
    t_out.sum().backward()
    d_out.sum().backward()
    assert_close(dx.grad, tx.grad, 1e-12, 1e-12, "grad")


def test_empty_batch():
    for fn in (lambda lib, x: lib.nn.functional.max_pool2d(x, 2),
               lambda lib, x: lib.nn.functional.avg_pool2d(x, 3, 1, 1)):
        expected = fn(torch, torch.zeros(0, 3, 6, 6))
        assert_close(fn(deepgrad, deepgrad.zeros(0, 3, 6, 6)), expected, 0, 0, "empty")
