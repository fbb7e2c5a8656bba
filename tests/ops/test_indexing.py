"""Indexing against torch: getitem/setitem with every key kind, gather/scatter/index_*,
masked ops, in-place forms; repeated indices accumulating gradients; setitem inside a graph;
torch's errors."""

import numpy as np
import pytest
import torch

import deepgrad
from oracle import OpCase, assert_close, case_params, check_case

MASK_3x4 = np.array([[True, False, True, False], [False, False, False, False],
                     [True, True, False, True]])
ROW_MASK = np.array([True, False, True])
GATHER_INDEX = np.array([[0, 0, 3], [2, 1, 2], [3, 3, 3]])  # repeats accumulate
SCATTER_INDEX = np.array([[3, 0], [1, 2]])  # distinct per row: torch leaves ties unspecified
REPEATED = np.array([2, 0, 2, 2])


def _key(lib, value):
    """An index array for ``lib`` (torch.tensor or deepgrad.tensor)."""
    return lib.tensor(value)


def _setitem(key, value_first=False):
    """``y = x * 1; y[key] = v; return y`` on a non-leaf inside a graph."""

    def fn(lib, x, v=None):
        y = x * 1
        k = key(lib) if callable(key) else key
        y[k] = v if v is not None else 0.5
        return y * 2

    return fn


def _inplace(method, *args):
    def fn(lib, x, *tensors):
        y = x * 1
        resolved = [a(lib) if callable(a) else a for a in args]
        getattr(y, method)(*resolved, *tensors)
        return y * 1

    return fn


GETITEM = [
    OpCase("int", lambda lib, x: x[1], [((3, 4),), ((3,),)]),
    OpCase("negative_int", lambda lib, x: x[-1, -2], [((3, 4),)]),
    OpCase("slice", lambda lib, x: x[1:], [((3, 4),), ((0, 2),)]),
    OpCase("slice_step", lambda lib, x: x[::2, 1:4:2], [((5, 4),)]),
    OpCase("slice_clamped", lambda lib, x: x[-10:10, 5:], [((3, 4),)]),
    OpCase("none_ellipsis", lambda lib, x: x[None, ..., None, 1], [((2, 3, 4),)]),
    OpCase("ellipsis_0d", lambda lib, x: x[...], [((),)]),
    OpCase("none_0d", lambda lib, x: x[None], [((),)]),
    OpCase("int_list_repeated", lambda lib, x: x[[2, 0, 2, 2]], [((3, 4),)]),
    OpCase("long_tensor", lambda lib, x: x[_key(lib, REPEATED)], [((3, 4),)]),
    OpCase("int_tensor_0d", lambda lib, x: x[_key(lib, np.array(1)), :, [0, 0]],
           [((2, 3, 4),)]),
    OpCase("int_then_array", lambda lib, x: x[0, :, [1, 2, 1]], [((2, 3, 4),)]),
    OpCase("array_then_int", lambda lib, x: x[:, [0, 0], 1], [((2, 3, 4),)]),
    OpCase("arrays_separated", lambda lib, x: x[[0, 1, 1], :, [3, 0, 3]], [((2, 3, 4),)]),
    OpCase("arrays_around_empty_ellipsis", lambda lib, x: x[:, [0, 1], ..., [0, 3]],
           [((5, 3, 4),)]),
    OpCase("arrays_around_ellipsis", lambda lib, x: x[[0, 1], ..., [0, 3]], [((2, 5, 4),)]),
    OpCase("arrays_broadcast", lambda lib, x: x[[[0], [1]], [1, 2, 2]], [((2, 3, 4),)]),
    OpCase("array_2d", lambda lib, x: x[_key(lib, np.array([[0, 2], [2, 2]]))], [((3, 2),)]),
    OpCase("empty_index", lambda lib, x: x[[]], [((3, 4),)]),
    OpCase("range_index", lambda lib, x: x[range(0, 3, 2), range(2)], [((3, 4),)]),
    OpCase("bool_mask", lambda lib, x: x[_key(lib, MASK_3x4)], [((3, 4),)]),
    OpCase("bool_rows", lambda lib, x: x[_key(lib, ROW_MASK), 1:], [((3, 4),)]),
    OpCase("bool_list", lambda lib, x: x[:, [True, False, True, True]], [((3, 4),)]),
    OpCase("bool_python", lambda lib, x: x[True], [((3,),)]),
    OpCase("nested_list_as_tuple", lambda lib, x: x[[[0, 2], [1, 3]]], [((3, 4),)]),
    OpCase("getitem_empty_tensor", lambda lib, x: x[:, 1:, [0]], [((0, 3, 2),)]),
    OpCase("getitem_chain", lambda lib, x: x[1:][0][[2, 2]], [((3, 4),)]),
]

SETITEM = [
    OpCase("setitem_int", _setitem(1), [((3, 4), (4,)), ((3, 4), ())]),
    OpCase("setitem_slice", _setitem(slice(None, None, 2)), [((3, 4), (1, 4))]),
    OpCase("setitem_tuple", _setitem((slice(1, None), 2)), [((3, 4), (2,))]),
    OpCase("setitem_array", _setitem(lambda lib: [2, 0]), [((3, 4), (2, 4))]),
    OpCase("setitem_mixed", _setitem((0, slice(None), [1, 3])), [((2, 3, 4), (3, 2))]),
    OpCase("setitem_mask", _setitem(lambda lib: _key(lib, MASK_3x4)), [((3, 4), ())]),
    OpCase("setitem_scalar", _setitem((Ellipsis, 0)), [((3, 4),)]),
    OpCase("setitem_extra_leading", _setitem(1), [((3, 4), (1, 1, 4))]),
    OpCase("setitem_repeated_index_scalar", _setitem(lambda lib: [0, 0, 2]), [((3, 4),)]),
]

GATHER_SCATTER = [
    OpCase("gather", lambda lib, x: x.gather(1, _key(lib, GATHER_INDEX)), [((3, 4),)]),
    OpCase("gather_smaller", lambda lib, x: lib.gather(x, 0, _key(lib, GATHER_INDEX[:2, :2])),
           [((4, 4),)]),
    OpCase("gather_1d_0d", lambda lib, x: x.gather(0, _key(lib, np.array(2))), [((3,),)]),
    OpCase("gather_0d", lambda lib, x: x.gather(0, _key(lib, np.array([0, 0]))), [((),)]),
    OpCase("scatter_src", lambda lib, x, s: x.scatter(1, _key(lib, SCATTER_INDEX), s),
           [((2, 4), (2, 2))]),
    OpCase("scatter_src_larger", lambda lib, x, s: x.scatter(1, _key(lib, SCATTER_INDEX), s),
           [((2, 4), (3, 3))], grad=False),  # torch's backward fails on a larger src
    OpCase("scatter_value", lambda lib, x: lib.scatter(x, 1, _key(lib, SCATTER_INDEX), 0.5),
           [((2, 4),)]),
    OpCase("scatter_add", lambda lib, x, s: x.scatter_add(1, _key(lib, GATHER_INDEX), s),
           [((3, 4), (3, 3))]),
    OpCase("scatter_add_0d", lambda lib, x, s: x.scatter_add(0, _key(lib, np.array(0)), s),
           [((), ())]),
    OpCase("index_select", lambda lib, x: x.index_select(1, _key(lib, REPEATED)),
           [((2, 3),), ((0, 3),)]),
    OpCase("index_select_0d", lambda lib, x: lib.index_select(x, 0, _key(lib, np.array([0]))),
           [((),)]),
    OpCase("index_add", lambda lib, x, s: x.index_add(0, _key(lib, REPEATED), s, alpha=2),
           [((3, 2), (4, 2))]),
    OpCase("index_fill", lambda lib, x: x.index_fill(1, _key(lib, np.array([0, 2])), -1.0),
           [((2, 3),)]),
    OpCase("index_fill_tensor", lambda lib, x, v: x.index_fill(0, _key(lib, np.array([1])), v),
           [((2, 3), ())]),
    OpCase("masked_fill", lambda lib, x: x.masked_fill(_key(lib, MASK_3x4), 2.0),
           [((3, 4),)]),
    OpCase("masked_fill_value_grad", lambda lib, x, v: lib.masked_fill(x, _key(lib, MASK_3x4),
                                                                         v), [((3, 4), ())]),
    OpCase("masked_fill_broadcast", lambda lib, x: x.masked_fill(_key(lib, MASK_3x4), 0.0),
           [((4,),), ((1, 4),)]),
    OpCase("masked_fill_0d", lambda lib, x: x.masked_fill(_key(lib, np.array(True)), 3.0),
           [((),), ((2, 2),)]),
    OpCase("masked_select", lambda lib, x: x.masked_select(_key(lib, MASK_3x4)),
           [((3, 4),), ((4,),)]),
    OpCase("take", lambda lib, x: x.take(_key(lib, np.array([[11, 0], [-1, 11]]))),
           [((3, 4),)]),
    OpCase("index_put", lambda lib, x, v: x.index_put((_key(lib, REPEATED),), v,
                                                      accumulate=True), [((3, 2), (4, 2))]),
    OpCase("index_put_replace", lambda lib, x, v: lib.index_put(
        x, (_key(lib, np.array([2, 0])), _key(lib, np.array([1, 1]))), v), [((3, 2), ())]),
    OpCase("index_put_", _inplace("index_put_", lambda lib: (_key(lib, np.array([1, 0])),)),
           [((3, 2), (2,))]),
    OpCase("narrow", lambda lib, x: x.narrow(1, 1, 2), [((3, 4),)]),
    OpCase("narrow_negative", lambda lib, x: lib.narrow(x, -1, -3, 3), [((3, 4),)]),
    OpCase("select", lambda lib, x: x.select(-1, -1), [((3, 4),), ((3, 0, 2),)]),
    OpCase("masked_fill_", _inplace("masked_fill_", lambda lib: _key(lib, MASK_3x4), 0.5),
           [((3, 4),)]),
    OpCase("scatter_", _inplace("scatter_", 1, lambda lib: _key(lib, SCATTER_INDEX)),
           [((2, 4), (2, 2))]),
    OpCase("scatter_add_", _inplace("scatter_add_", 1, lambda lib: _key(lib, GATHER_INDEX)),
           [((3, 4), (3, 3))]),
    OpCase("index_add_", _inplace("index_add_", 0, lambda lib: _key(lib, REPEATED)),
           [((3, 2), (4, 2))]),
    OpCase("index_fill_", _inplace("index_fill_", 1, lambda lib: _key(lib, np.array([1])),
                                   7.0), [((3, 2),)]),
]


@pytest.mark.parametrize("case,shapes,dtype", case_params(GETITEM + SETITEM + GATHER_SCATTER))
def test_against_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


def _grads(fn, array):
    out = []
    for lib in (torch, deepgrad):
        x = lib.tensor(array, requires_grad=True)
        y = fn(lib, x)
        weights = lib.tensor(np.arange(1, y.numel() + 1, dtype=array.dtype).reshape(
            tuple(y.shape)))
        (y * weights).sum().backward()
        out.append(x.grad)
    return out


@pytest.mark.parametrize("fn", [
    lambda lib, x: x[[1, 1, 1, 0]],
    lambda lib, x: x[lib.tensor([[2, 2], [2, 0]]), 1:],
    lambda lib, x: x[:, [3, 3, 3]] + x[[0, 0]].sum(),
    lambda lib, x: x.gather(0, lib.tensor([[1, 1, 1, 1], [1, 1, 1, 1]])),
    lambda lib, x: x.index_select(0, lib.tensor([2, 2, 2, 1])),
    lambda lib, x: x.take(lib.tensor([5, 5, 5, 0])),
    lambda lib, x: lib.zeros(2, 4, dtype=x.dtype).scatter_add(0, lib.tensor([[1, 0, 1, 0]]),
                                                               x[:1]),
], ids=["list", "tensor_2d", "two_reads", "gather", "index_select", "take", "scatter_add"])
def test_repeated_indices_accumulate_gradients(fn):
    expected, got = _grads(fn, np.arange(12.0).reshape(3, 4))
    assert_close(got, expected, 1e-12, 1e-12, "accumulated gradient")
    assert expected.abs().max() > 0


def test_setitem_on_non_leaf_in_graph_values_and_grads():
    rng = np.random.default_rng(0)
    x_array, v_array = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    results = []
    for lib in (torch, deepgrad):
        x = lib.tensor(x_array, requires_grad=True)
        v = lib.tensor(v_array, requires_grad=True)
        y = x.sin() * 2
        y[[0, 2]] = v * 3  # overwritten rows get no gradient from y
        y[1, 1:3] = 0.0
        z = (y * y).sum()
        z.backward()
        results.append((y.detach(), x.grad, v.grad))
    names = ("value", "x.grad", "v.grad")
    for got, expected, what in zip(results[1], results[0], names, strict=True):
        assert_close(got, expected, 1e-12, 1e-12, what)


def test_setitem_on_a_saved_tensor_is_detected_at_backward():
    for lib in (torch, deepgrad):
        x = lib.ones(3, requires_grad=True)
        y = x.exp()  # exp saves its result for backward
        y[0] = 2.0
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_setitem_leaf_requiring_grad_raises_but_no_grad_writes():
    x = deepgrad.zeros(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 1.0
    with deepgrad.no_grad():
        x[0] = 1.0
        x[1:, [0, 3]] = deepgrad.tensor([5.0, 6.0])
    t = torch.zeros(3, 4, requires_grad=True)
    with torch.no_grad():
        t[0] = 1.0
        t[1:, [0, 3]] = torch.tensor([5.0, 6.0])
    assert_close(x.detach(), t.detach(), 0, 0, "no_grad setitem")
    assert x.grad_fn is None and x.requires_grad


def test_setitem_writes_in_place_and_bumps_version():
    x = deepgrad.zeros(3, 4)
    data = x._data
    version = x._version
    x[1] = 2.0
    assert x._data is data and x._version == version + 1
    row = x[2]  # a view, as in torch
    row[1] = 7.0
    assert x[2, 1].item() == 7.0


@pytest.mark.parametrize("key,value", [
    ((0,), 1.7), ((slice(None), 1), np.array([4.5, 5, 6])), (([2, 0],), 9), ((Ellipsis,), 3.9),
    ((np.array([True, False, True]),), -2.5),
])
def test_setitem_casts_and_broadcasts_like_torch(key, value):
    arrays = []
    for lib in (torch, deepgrad):
        x = lib.zeros(3, 3, dtype=lib.int64)
        k = tuple(lib.tensor(k) if isinstance(k, np.ndarray) else k for k in key)
        x[k] = lib.tensor(value) if isinstance(value, np.ndarray) else value
        arrays.append(x)
    assert_close(arrays[1], arrays[0], 0, 0, "int tensor setitem")


def test_setitem_value_dtype_is_cast_in_graph():
    results = []
    for lib in (torch, deepgrad):
        x = lib.zeros(3, dtype=lib.float32, requires_grad=True)
        v = lib.tensor([1.5, 2.5], dtype=lib.float64, requires_grad=True)
        y = x * 1
        y[1:] = v  # a copy into a view casts
        (y * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        results.append((y.detach(), x.grad, v.grad))
        with pytest.raises(RuntimeError, match="Index put requires the source and destination"):
            y[[0, 2]] = v  # index_put does not
        y[lib.tensor([True, False, True])] = v[0]  # a 0-d value under a mask is a masked_fill
    for got, expected in zip(results[1], results[0], strict=True):
        assert_close(got, expected, 1e-6, 1e-6, "cast setitem")


def test_setitem_shape_mismatch_raises_runtime_error():
    x = deepgrad.zeros(3, 4)
    with pytest.raises(RuntimeError):
        x[:, 0] = deepgrad.ones(2, 3)


@pytest.mark.parametrize("key,kind,message", [
    (5, IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    ((0, 7), IndexError, "index 7 is out of bounds for dimension 1 with size 4"),
    ([0, -5], IndexError, "index -5 is out of bounds for dimension 0 with size 3"),
    (slice(None, None, -1), ValueError, "step must be greater than zero"),
    (slice(None, None, 0), ValueError, "slice step cannot be zero"),
    ((0, 1, 2), IndexError, "too many indices for tensor of dimension 2"),
    (1.5, IndexError, "only integers, slices"),
    (np.array([0.0]), IndexError, "tensors used as indices must be long, int, byte or bool"),
])
def test_index_errors_like_torch(key, kind, message):
    t = torch.zeros(3, 4)
    with pytest.raises(kind, match=message.split(" for ")[0]):
        t[torch.tensor(key) if isinstance(key, np.ndarray) else key]
    x = deepgrad.zeros(3, 4)
    with pytest.raises(kind, match=message):
        x[deepgrad.tensor(key) if isinstance(key, np.ndarray) else key]
    with pytest.raises(kind):
        x[deepgrad.tensor(key) if isinstance(key, np.ndarray) else key] = 1.0


def test_index_0d_tensor_error():
    with pytest.raises(IndexError, match="invalid index of a 0-dim tensor"):
        deepgrad.tensor(1.0)[0]


@pytest.mark.parametrize("call", [
    lambda lib, x: x.gather(1, lib.tensor([[5]])),
    lambda lib, x: x.gather(1, lib.tensor([0, 1])),
    lambda lib, x: x.gather(1, lib.tensor([[0.0]])),
    lambda lib, x: x.index_select(0, lib.tensor([4])),
    lambda lib, x: x.index_select(0, lib.tensor([[0]])),
    lambda lib, x: x.select(1, 5),
    lambda lib, x: x.narrow(1, 2, 5),
    lambda lib, x: x.take(lib.tensor([12])),
    lambda lib, x: x.scatter(1, lib.tensor([[5]]), 1.0),
    lambda lib, x: x.scatter(0, lib.tensor([[2, 1, 0, 1, 1]]), lib.ones(2, 5)),
    lambda lib, x: x.scatter(0, lib.tensor([[2]]), lib.ones(1, 1, dtype=lib.float64)),
    lambda lib, x: x.index_add(0, lib.tensor([1]), lib.ones(4)),
    lambda lib, x: x.index_add(0, lib.tensor([1]), lib.ones(1, 4, dtype=lib.float64)),
    lambda lib, x: x.masked_fill(lib.ones(3, 4, dtype=lib.int64), 1.0),
    lambda lib, x: x.masked_fill(lib.ones(3, 4, dtype=lib.bool), lib.ones(1)),
    lambda lib, x: x.masked_fill_(lib.ones(2, 3, 4, dtype=lib.bool), 1.0),
    lambda lib, x: x[lib.tensor([True, False])],
    lambda lib, x: x[[0, 1], [0, 1, 2]],
], ids=lambda c: "")
def test_errors_match_torch_class(call):
    with pytest.raises(Exception) as expected:
        call(torch, torch.zeros(3, 4))
    with pytest.raises(Exception) as got:
        call(deepgrad, deepgrad.zeros(3, 4))
    assert issubclass(got.type, expected.type) or issubclass(expected.type, got.type), (
        f"deepgrad raised {got.type.__name__}: {got.value}; torch {expected.type.__name__}")


@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_reduce_forward_and_no_backward(reduce):
    index = np.array([[0, 0, 2]])
    results = []
    for lib in (torch, deepgrad):
        x = lib.tensor(np.arange(1.0, 10.0).reshape(3, 3), requires_grad=True)
        src = lib.full((1, 3), 2.0, dtype=x.dtype)
        y = (x * 1).scatter(1, lib.tensor(index), src, reduce=reduce)
        results.append(y)
        with pytest.raises(RuntimeError, match="derivative for.*scatter"):
            y.sum().backward()
    assert_close(results[1].detach(), results[0].detach(), 0, 0, "scatter reduce")


@pytest.mark.parametrize("array", [np.array([[0, 1.5], [2, 0]]), np.array(3), np.array(0),
                                   np.zeros((0, 2)), np.array([True, False, True])])
def test_nonzero_like_torch(array):
    assert_close(deepgrad.tensor(array).nonzero(), torch.tensor(array).nonzero(), 0, 0, "")
    assert_close(deepgrad.argwhere(deepgrad.tensor(array)),
                 torch.argwhere(torch.tensor(array)), 0, 0, "")
    got = deepgrad.nonzero(deepgrad.tensor(array), as_tuple=True)
    expected = torch.nonzero(torch.tensor(array), as_tuple=True)
    assert len(got) == len(expected)
    for d, t in zip(got, expected, strict=True):
        assert_close(d, t, 0, 0, "as_tuple")
    if array.ndim:
        assert_close(deepgrad.tensor(array)[got], torch.tensor(array)[expected], 0, 0, "key")


def test_nonzero_has_no_gradient():
    x = deepgrad.tensor([0.0, 1.0], requires_grad=True)
    assert not x.nonzero().requires_grad


def test_getitem_simple_keys_are_views():
    x = deepgrad.zeros(3, 4)
    x[1][2:].add_(1)
    x[0, ...].add_(2)
    x[2:, 0].add_(3)
    x[[0]].add_(100)  # advanced indexing copies, as in torch
    t = torch.zeros(3, 4)
    t[1][2:].add_(1)
    t[0, ...].add_(2)
    t[2:, 0].add_(3)
    t[[0]].add_(100)
    assert_close(x, t, 0, 0, "views")


def test_second_order_through_getitem_setitem():
    """Hessian-vector style: differentiate a gradient that went through indexing."""
    results = []
    for lib in (torch, deepgrad):
        x = lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
        y = x * x
        y[0, [1, 1]] = 0.0
        z = (y[[2, 2, 1]] ** 3).sum() if lib is torch else _cube(y[[2, 2, 1]]).sum()
        (g,) = lib.autograd.grad(z, [x], create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), [x])
        results.append((g.detach(), h))
    assert_close(results[1][0], results[0][0], 1e-10, 1e-10, "gradient")
    assert_close(results[1][1], results[0][1], 1e-10, 1e-10, "second order")


def _cube(t):
    return t * t * t
