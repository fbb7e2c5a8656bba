"""conv1d/conv2d, unfold/fold and the Conv1d/Conv2d/LazyConv2d layers against torch."""

import itertools
import math

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad.ops import im2col, kernel_memory
from oracle import OpCase, assert_close, case_params, check_case

F = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")


def _conv2d(**kw):
    return lambda lib, x, w, b=None: lib.nn.functional.conv2d(x, w, b, **kw)


CONV_CASES = [
    OpCase("conv2d", _conv2d(), [((2, 3, 7, 8), (4, 3, 3, 3), (4,))], gradgrad=False),
    OpCase("conv2d_pad", _conv2d(padding=1), [((2, 3, 7, 8), (4, 3, 3, 3), (4,))],
           gradgrad=False),
    OpCase("conv2d_stride_pad_tuple", _conv2d(stride=2, padding=(1, 2)),
           [((2, 3, 9, 8), (5, 3, 3, 2), (5,))], gradgrad=False),
    OpCase("conv2d_same", _conv2d(padding="same"), [((2, 3, 7, 8), (4, 3, 3, 3), (4,)),
                                                     ((2, 3, 7, 8), (4, 3, 2, 4), (4,))],
           gradgrad=False),
    OpCase("conv2d_valid", _conv2d(padding="valid"), [((2, 3, 7, 8), (4, 3, 3, 3))],
           gradgrad=False),
    OpCase("conv2d_dilation", _conv2d(dilation=2, padding=2),
           [((2, 3, 9, 9), (4, 3, 3, 3), (4,))], gradgrad=False),
    OpCase("conv2d_dilation_stride", _conv2d(dilation=(2, 1), stride=(1, 2)),
           [((2, 3, 9, 9), (4, 3, 3, 3))], gradgrad=False),
    OpCase("conv2d_groups", _conv2d(groups=2, padding=1),
           [((2, 4, 6, 6), (6, 2, 3, 3), (6,))], gradgrad=False),
    OpCase("conv2d_depthwise", _conv2d(groups=4, stride=2),
           [((2, 4, 7, 7), (8, 1, 3, 3), (8,))], gradgrad=False),
    OpCase("conv2d_1x1", _conv2d(), [((2, 5, 4, 3), (3, 5, 1, 1), (3,))], gradgrad=False),
    OpCase("conv2d_1x1_stride_groups", _conv2d(stride=2, groups=5),
           [((2, 5, 5, 4), (10, 1, 1, 1))], gradgrad=False),
    OpCase("conv2d_1x1_pad", _conv2d(padding=1), [((2, 5, 4, 3), (3, 5, 1, 1))],
           gradgrad=False),
    OpCase("conv2d_unbatched", _conv2d(padding=1), [((3, 6, 5), (2, 3, 3, 3), (2,))],
           gradgrad=False),
    OpCase("conv2d_many_channels", _conv2d(padding=1), [((2, 16, 8, 8), (8, 16, 3, 3), (8,))],
           gradgrad=False),
    OpCase("conv1d", lambda lib, x, w, b: lib.nn.functional.conv1d(x, w, b, padding=1),
           [((2, 3, 10), (4, 3, 3), (4,))], gradgrad=False),
    OpCase("conv1d_stride_dilation_groups",
           lambda lib, x, w: lib.nn.functional.conv1d(x, w, stride=2, dilation=2, groups=3),
           [((2, 3, 11), (6, 1, 3))], gradgrad=False),
    OpCase("conv1d_same_unbatched",
           lambda lib, x, w: lib.nn.functional.conv1d(x, w, padding="same"),
           [((3, 10), (4, 3, 4))], gradgrad=False),
    OpCase("unfold", lambda lib, x: lib.nn.functional.unfold(x, 2), [((2, 3, 4, 5),)]),
    OpCase("unfold_all_options",
           lambda lib, x: lib.nn.functional.unfold(x, (2, 3), dilation=(1, 2), padding=1,
                                                   stride=(2, 1)), [((2, 3, 6, 7),)]),
    OpCase("unfold_unbatched", lambda lib, x: lib.nn.functional.unfold(x, 3, padding=1),
           [((2, 4, 4),)]),
    OpCase("fold", lambda lib, x: lib.nn.functional.fold(x, (4, 5), 2), [((2, 12, 12),)]),
    OpCase("fold_all_options",
           lambda lib, x: lib.nn.functional.fold(x, (6, 7), (2, 3), dilation=(1, 2), padding=1,
                                                 stride=(2, 1)), [((2, 18, 20),)]),
]


@pytest.mark.parametrize("case,shapes,dtype", case_params(CONV_CASES))
def test_conv_against_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


def _plan_cases():
    shapes = [((2, 3, 7, 8), (4, 3, 3)), ((1, 2, 5, 6), (3, 2, 3)), ((2, 3, 6, 5), (2, 1, 1))]
    for (x_shape, (o, kh, kw)), stride, pads, dilation in itertools.product(
            shapes, [(1, 1), (2, 1)], [(0, 0, 0, 0), (1, 1, 1, 1), (2, 1, 0, 1)],
            [(1, 1), (1, 2)]):
        yield x_shape, (o, x_shape[1], kh, kw), stride + pads + dilation + (1,)


@pytest.mark.parametrize("mode", ["pointwise", "shift", "columns"])
@pytest.mark.parametrize("keep", [False, True])
def test_every_kernel_plan_against_torch(mode, keep):
    """Each formulation of ops/im2col.py, forced on shapes where it applies, with the
    forward's columns rebuilt in backward or kept (lent) until then."""
    rng = np.random.default_rng(0)
    checked = 0
    for x_shape, w_shape, geometry in _plan_cases():
        plan = im2col.Plan(x_shape, w_shape, geometry, mode)
        plan.keep = keep
        if plan.Ho < 1 or plan.Wo < 1 or mode == "pointwise" and (
                w_shape[2:] != (1, 1) or any(geometry[2:6])) or mode == "shift" and (
                geometry[:2] != (1, 1) or not plan.shift_transposable()):
            continue
        x, w, b = (rng.standard_normal(s) for s in (x_shape, w_shape, w_shape[:1]))
        tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        sh, sw, pt, pb, pl, pr, dh, dw, _ = geometry
        expected = F.conv2d(F.pad(tx, (pl, pr, pt, pb)), tw, torch.tensor(b), (sh, sw), 0,
                            (dh, dw))
        grad = rng.standard_normal(expected.shape)
        expected.backward(torch.tensor(grad))
        np.testing.assert_allclose(im2col.forward(x, w, b, plan), expected.detach().numpy(),
                                   atol=1e-12)
        grad_input, grad_weight = im2col.backward(x, w, grad, plan, True, True)
        np.testing.assert_allclose(grad_input, tx.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(grad_weight.reshape(w_shape), tw.grad.numpy(), atol=1e-12)
        checked += 1
    assert checked >= 2


@pytest.mark.parametrize("chunk_bytes", [1, 2000, 1 << 19])
@pytest.mark.parametrize("path", ["rows", "columns", "wide", "shift"])
def test_chunked_forwards_match_torch(monkeypatch, chunk_bytes, path):
    """The chunked forwards (images per chunk from one to all, a short last chunk):
    channels-last rows, NCHW columns and columns over the padded width (stride 1 along the
    width), with stride, padding and dilation."""
    monkeypatch.setattr(im2col, "_CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(3)
    checked = 0
    for x_shape, w_shape, geometry in _plan_cases():
        x_shape = (5,) + x_shape[1:]
        plan = im2col.Plan(x_shape, w_shape, geometry, "shift" if path == "shift" else "columns")
        if plan.Ho < 1 or plan.Wo < 1 or path == "wide" and plan.sw != 1 or path == "shift" and (
                geometry[:2] != (1, 1) or not plan.shift_transposable()):
            continue
        x, w, b = (rng.standard_normal(s) for s in (x_shape, w_shape, w_shape[:1]))
        sh, sw, pt, pb, pl, pr, dh, dw, _ = geometry
        expected = F.conv2d(F.pad(torch.tensor(x), (pl, pr, pt, pb)), torch.tensor(w),
                            torch.tensor(b), (sh, sw), 0, (dh, dw)).numpy()
        run = {"rows": im2col._rows_forward, "columns": im2col._columns_forward,
               "wide": im2col._wide_forward, "shift": im2col._shift_forward}[path]
        np.testing.assert_allclose(run(x, w, b, plan), expected, atol=1e-12)
        np.testing.assert_allclose(run(x, w, None, plan), expected - b.reshape(-1, 1, 1),
                                   atol=1e-12)
        checked += 1
    assert checked >= 4


def test_large_shapes_choose_the_shift_plan_and_match_torch():
    x = np.random.default_rng(1).standard_normal((2, 32, 20, 20)).astype(np.float32)
    w = np.random.default_rng(2).standard_normal((8, 32, 3, 3)).astype(np.float32)
    assert im2col.Plan(x.shape, w.shape, (1, 1, 1, 1, 1, 1, 1, 1, 1)).mode == "shift"
    check_case(OpCase("conv_shift", _conv2d(padding=1), [(x, w)], gradgrad=False, atol=1e-4),
               (x, w), "float32")


def test_input_without_grad_gets_no_gradient_work():
    x = deepgrad.randn(2, 3, 6, 6)
    w = deepgrad.randn(4, 3, 3, 3, requires_grad=True)
    deepgrad.nn.functional.conv2d(x, w).sum().backward()
    assert x.grad is None and w.grad.shape == (4, 3, 3, 3)


def test_double_backward_raises_naming_the_op():
    x = deepgrad.randn(1, 2, 5, 5, requires_grad=True)
    w = deepgrad.randn(3, 2, 3, 3, requires_grad=True)
    out = deepgrad.nn.functional.conv2d(x, w)
    (grad,) = deepgrad.autograd.grad(out.pow(2).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="ConvolutionBackward0.*once_differentiable"):
        grad.sum().backward()


def test_grad_fn_name_matches_torch():
    x = deepgrad.randn(1, 2, 5, 5, requires_grad=True)
    out = deepgrad.nn.functional.conv2d(x, deepgrad.randn(3, 2, 3, 3))
    assert out.grad_fn.name() == "ConvolutionBackward0"


def test_wrong_channels_message_names_op_and_shapes():
    x, w = deepgrad.randn(1, 4, 32, 32), deepgrad.randn(6, 3, 5, 5)
    with pytest.raises(RuntimeError) as info:
        deepgrad.nn.functional.conv2d(x, w)
    message = str(info.value)
    assert message.startswith("conv2d: expected input with 3 channels")
    assert "input with shape (1, 4, 32, 32)" in message
    assert "weight with shape (6, 3, 5, 5)" in message


def test_kernel_bigger_than_padded_input():
    with pytest.raises(RuntimeError, match=r"conv2d: kernel size \(5, 5\).*bigger than the "
                                           r"padded input \(3, 3\).*\(1, 3, 3, 3\)"):
        deepgrad.nn.functional.conv2d(deepgrad.randn(1, 3, 3, 3), deepgrad.randn(6, 3, 5, 5),
                                      padding=0)


@pytest.mark.parametrize("call,message", [
    (lambda F: F.conv2d(deepgrad.randn(3, 8), deepgrad.randn(6, 3, 5, 5)),
     r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d"),
    (lambda F: F.conv1d(deepgrad.randn(1, 3, 8, 8), deepgrad.randn(6, 3, 3)),
     r"Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d"),
    (lambda F: F.conv2d(deepgrad.randn(1, 3, 8, 8), deepgrad.randn(6, 3, 3, 3),
                        padding="same", stride=2),
     "padding='same' is not supported for strided convolutions"),
    (lambda F: F.conv2d(deepgrad.randn(1, 3, 8, 8), deepgrad.randn(6, 3, 3, 3), padding="foo"),
     "Invalid padding string: 'foo'"),
    (lambda F: F.conv2d(deepgrad.randn(1, 3, 8, 8), deepgrad.randn(6, 3, 3, 3), stride=0),
     "non-positive stride is not supported"),
    (lambda F: F.conv2d(deepgrad.randn(1, 3, 8, 8), deepgrad.randn(6, 3, 3, 3), padding=-1),
     "negative padding is not supported"),
    (lambda F: F.conv2d(deepgrad.randn(1, 4, 8, 8), deepgrad.randn(6, 2, 3, 3), groups=0),
     "non-positive groups is not supported"),
    (lambda F: F.conv2d(deepgrad.randn(1, 3, 8, 8), deepgrad.randn(6, 3, 3, 3),
                        deepgrad.randn(5)), r"expected bias of shape \(6,\)"),
    (lambda F: F.conv2d(deepgrad.randn(1, 3, 8, 8).double(), deepgrad.randn(6, 3, 3, 3)),
     "same dtype, got float64, float32"),
    (lambda F: F.conv2d(deepgrad.randn(1, 3, 8, 8), deepgrad.randn(6, 3, 3, 3), stride=[1]),
     "expected stride to be a single integer value or a list of 2 values"),
    (lambda F: F.fold(deepgrad.randn(1, 8, 8), (4, 4), 2),
     "calculated number of sliding blocks 3 \\* 3 = 9, but got input.size\\(2\\)=8"),
    (lambda F: F.fold(deepgrad.randn(1, 5, 9), (4, 4), 2),
     "divisible by the product of kernel_size"),
    (lambda F: F.unfold(deepgrad.randn(1, 2, 3, 3), 4), "must be at least one"),
])
def test_errors(call, message):
    with pytest.raises(RuntimeError, match=message):
        call(deepgrad.nn.functional)


# ---------------------------------------------------------------- modules

def _copy_state(torch_module, module):
    module.load_state_dict({k: deepgrad.tensor(v.detach().numpy())
                            for k, v in torch_module.state_dict().items()})


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("Conv2d", (3, 6, 5), {}, (2, 3, 12, 12)),
    ("Conv2d", (3, 6, (3, 5)), {"stride": 2, "padding": (1, 2), "bias": False}, (2, 3, 9, 11)),
    ("Conv2d", (4, 6, 3), {"padding": "same", "dilation": 2, "groups": 2}, (2, 4, 8, 8)),
    ("Conv2d", (3, 4, 3), {"padding": 1, "padding_mode": "reflect"}, (2, 3, 6, 7)),
    ("Conv2d", (3, 4, 3), {"padding": (1, 2), "padding_mode": "replicate"}, (2, 3, 6, 7)),
    ("Conv2d", (3, 4, 3), {"padding": "same", "padding_mode": "circular"}, (2, 3, 6, 7)),
    ("Conv1d", (3, 5, 3), {"stride": 2, "padding": 1}, (2, 3, 11)),
    ("Conv1d", (4, 6, 2), {"padding": "same", "groups": 2, "padding_mode": "reflect"}, (2, 4, 9)),
])
def test_layer_matches_torch_with_copied_weights(name, args, kwargs, shape):
    torch_layer = getattr(torch.nn, name)(*args, **kwargs).double()
    layer = getattr(deepgrad.nn, name)(*args, **kwargs).double()
    assert repr(layer) == repr(torch_layer)
    assert [n for n, _ in layer.named_parameters()] == \
        [n for n, _ in torch_layer.named_parameters()]
    _copy_state(torch_layer, layer)
    x = np.random.default_rng(0).standard_normal(shape)
    tx, dx = torch.tensor(x, requires_grad=True), deepgrad.tensor(x, requires_grad=True)
    t_out, d_out = torch_layer(tx), layer(dx)
    assert_close(d_out, t_out, 1e-10, 1e-10, "output")
    weights = np.random.default_rng(1).standard_normal(tuple(t_out.shape))
    (t_out * torch.tensor(weights)).sum().backward()
    (d_out * deepgrad.tensor(weights)).sum().backward()
    assert_close(dx.grad, tx.grad, 1e-9, 1e-9, "input grad")
    for (n, p), (_, tp) in zip(layer.named_parameters(), torch_layer.named_parameters()):
        assert_close(p.grad, tp.grad, 1e-9, 1e-9, n)


def test_default_init_has_torch_bounds():
    deepgrad.manual_seed(0)
    layer = deepgrad.nn.Conv2d(16, 32, 3)
    bound = 1 / math.sqrt(16 * 9)  # kaiming_uniform_(a=sqrt(5)) and the bias: 1/sqrt(fan_in)
    for p in (layer.weight, layer.bias):
        values = np.abs(p.detach().numpy())
        assert values.max() <= bound and values.max() > 0.9 * bound
    assert layer.weight.shape == (32, 16, 3, 3) and layer.bias.shape == (32,)


def test_module_validation_matches_torch():
    for kwargs, message in [({"groups": 4}, "in_channels must be divisible by groups"),
                            ({"padding": "foo"}, "Invalid padding string 'foo'"),
                            ({"padding_mode": "edge"}, "padding_mode must be one of")]:
        with pytest.raises(ValueError, match=message):
            deepgrad.nn.Conv2d(6, 8, 3, **kwargs)
        with pytest.raises(ValueError, match=message):
            torch.nn.Conv2d(6, 8, 3, **kwargs)


def test_lazy_conv2d_infers_in_channels_and_becomes_conv2d():
    layer = deepgrad.nn.LazyConv2d(6, 5, padding=2)
    out = layer(deepgrad.randn(2, 3, 8, 8))
    assert type(layer) is deepgrad.nn.Conv2d and out.shape == (2, 6, 8, 8)
    assert layer.weight.shape == (6, 3, 5, 5) and layer.in_channels == 3
    assert repr(layer) == repr(torch.nn.Conv2d(3, 6, 5, padding=2))


def test_results_never_alias_scratch_buffers_or_inputs():
    """Kernels reuse scratch buffers across calls: a gradient waiting in the engine (a
    branching graph) must stay intact while another convolution's backward runs, and
    unfold must copy even a 1x1 window."""
    rng = np.random.default_rng(0)
    x, w1, w2 = (rng.standard_normal(s) for s in ((2, 3, 6, 6), (4, 3, 3, 3), (4, 3, 3, 3)))
    grads = []
    for lib in (torch, deepgrad):
        leaf = lib.tensor(x, requires_grad=True)
        shared = leaf * 2  # both convolutions send their input gradient here
        out = lib.nn.functional.conv2d(shared, lib.tensor(w1)) * 3 + \
            lib.nn.functional.conv2d(shared, lib.tensor(w2))
        out.sum().backward()
        grads.append(leaf.grad)
    assert_close(grads[1], grads[0], 1e-10, 1e-10, "branching gradient")
    source = deepgrad.ones(1, 1, 2, 2)
    blocks = deepgrad.nn.functional.unfold(source, 1)
    blocks.mul_(5)
    assert float(source.sum()) == 4.0


@pytest.mark.parametrize("kernel,padding", [(3, 1), (1, 0), (5, 0)])
def test_empty_batch(kernel, padding):
    grads = []
    for lib in (torch, deepgrad):
        x = lib.zeros(0, 32, 8, 8, requires_grad=True)
        w = lib.ones(4, 32, kernel, kernel, requires_grad=True)
        out = lib.nn.functional.conv2d(x, w, padding=padding)
        out.sum().backward()
        grads.append((out, x.grad, w.grad))
    for d, t in zip(grads[1], grads[0]):
        assert_close(d, t, 0, 0, "empty batch")


@pytest.mark.parametrize("threads", [1, 2])
def test_large_convolutions_split_over_threads_match_torch(monkeypatch, threads):
    """Copies and sums above 2 MB run as two halves on two threads (DEEPGRAD_KERNEL_THREADS);
    the result must not depend on it."""
    monkeypatch.setattr(kernel_memory, "_THREADS", threads)
    rng = np.random.default_rng(0)
    for x_shape, w_shape, kw in [((8, 32, 32, 32), (16, 32, 3, 3), {"padding": 1}),
                                 ((16, 16, 32, 32), (8, 16, 3, 3), {"stride": 2}),
                                 ((16, 2, 40, 40), (4, 2, 5, 5), {"padding": 2})]:
        x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
        tx, dx = torch.tensor(x, requires_grad=True), deepgrad.tensor(x, requires_grad=True)
        tw, dw = torch.tensor(w, requires_grad=True), deepgrad.tensor(w, requires_grad=True)
        t_out = torch.nn.functional.conv2d(tx, tw, **kw)
        d_out = deepgrad.nn.functional.conv2d(dx, dw, **kw)
        assert_close(d_out, t_out, 1e-10, 1e-10, f"{x_shape} output")
        t_out.sum().backward()
        d_out.sum().backward()
        assert_close(dx.grad, tx.grad, 1e-10, 1e-10, "input grad")
        assert_close(dw.grad, tw.grad, 1e-9, 1e-9, "weight grad")
        with deepgrad.no_grad():  # nothing kept: the chunked channels-last forward
            assert_close(deepgrad.nn.functional.conv2d(dx, dw, **kw), t_out, 1e-10, 1e-10,
                         f"{x_shape} no_grad output")
