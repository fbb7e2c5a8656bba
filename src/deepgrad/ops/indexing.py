"""Indexing: ``x[key]``, ``x[key] = value``, narrow, select, take, masked_select, nonzero.

Every indexing op here and in ``ops/scatter.py`` is one of three primitives on a
NumPy-ready key:

- ``Index``: ``x[key]``.
- ``IndexAdjoint``: zeros of the input's shape with the gradient written at ``key``; integer
  array keys add with ``xp.add.at``, so repeated indices accumulate their gradients.
- ``IndexPut``: a copy of ``x`` with ``value`` written (or added) at ``key``; this is
  setitem, scatter, index_add, index_fill and masked_fill.

``Index`` and ``IndexAdjoint`` are each other's backward, so indexing is differentiable any
number of times.

A key is a tuple of *stages* applied one after another. torch applies integer indices before
array indices (``x[0, :, [1, 2]]`` of a (2, 3, 4) tensor has shape (3, 2) where NumPy gives
(2, 3)), so a key mixing both is split into a basic stage (a NumPy view) and an array stage.
"""

from __future__ import annotations

import operator

import numpy as np

from .._tensor import Tensor, wrap_dim
from ..autograd import grad_mode
from ..autograd.function import Function
from ..autograd.views import make_view
from ..backend import array_module

__all__ = ["narrow", "select", "take", "masked_select", "nonzero", "argwhere", "index_put"]

_mode = grad_mode.state
_ndarray = np.ndarray
_make = Tensor._make
_ALL = slice(None)


def add_at(xp, target, key, values) -> None:
    """``target[key] += values`` where repeated indices add up (unbuffered)."""
    if xp is np:
        np.add.at(target, key, values)
    else:  # CuPy spells it differently
        import cupyx  # noqa: PLC0415

        cupyx.scatter_add(target, key, values)


def _view(array, stages):
    for stage in stages[:-1]:
        array = array[stage]
    return array


class Index(Function):
    """``x[key]``; the gradient is ``IndexAdjoint``."""

    raw = True

    @staticmethod
    def forward(ctx, x, stages, accumulate):
        ctx.input_shape = x.shape
        ctx.stages = stages
        ctx.accumulate = accumulate
        for stage in stages:
            x = x[stage]
        return x

    @staticmethod
    def backward(ctx, grad_out):
        return IndexAdjoint.apply(grad_out, ctx.stages, ctx.input_shape, ctx.accumulate)


class IndexAdjoint(Function):
    """Zeros of ``shape`` with ``grad`` placed at ``key`` (added up where indices repeat)."""

    raw = True

    @staticmethod
    def forward(ctx, grad, stages, shape, accumulate):
        ctx.stages = stages
        ctx.accumulate = accumulate
        xp = array_module(grad)
        result = xp.zeros(shape, grad.dtype)
        if accumulate:
            add_at(xp, _view(result, stages), stages[-1], grad)
        else:
            _view(result, stages)[stages[-1]] = grad
        return result

    @staticmethod
    def backward(ctx, grad_out):
        return Index.apply(grad_out, ctx.stages, ctx.accumulate)


class IndexPut(Function):
    """A copy of ``x`` with ``value`` written at ``key`` (added when ``accumulate``).

    ``value`` is a tensor or a Python number; it broadcasts to the indexed shape.
    """

    raw = True

    @staticmethod
    def forward(ctx, x, value, stages, accumulate):
        ctx.stages = stages
        ctx.accumulate = accumulate
        ctx.value_shape = getattr(value, "shape", ())
        result = x.copy()
        target = _view(result, stages)
        if accumulate:
            add_at(array_module(x), target, stages[-1], value)
        else:
            target[stages[-1]] = value
        return result

    @staticmethod
    def backward(ctx, grad_out):
        need_x, need_value = ctx.needs_input_grad[:2]
        grad_x = grad_value = None
        if need_x:
            # overwritten positions got their value from ``value``, not from ``x``
            grad_x = grad_out if ctx.accumulate else IndexPut.apply(grad_out, 0, ctx.stages,
                                                                    False)
        if need_value:
            grad_value = reduce_to_shape(Index.apply(grad_out, ctx.stages, False),
                                         ctx.value_shape)
        return grad_x, grad_value


def reduce_to_shape(grad: Tensor, shape: tuple) -> Tensor:
    """Sum a gradient back to the shape of a value that was broadcast to ``grad``'s shape
    (the value may also have extra leading size-1 dims, as setitem allows)."""
    from .shape import sum_to_shape  # noqa: PLC0415 - shape imports this module

    if len(shape) > grad.ndim:
        grad = grad.reshape((1,) * (len(shape) - grad.ndim) + tuple(grad.shape))
    return sum_to_shape(grad, shape) if grad.shape != tuple(shape) else grad


# ---------------------------------------------------------------- keys

def _index_array(item, xp):
    """A key item that is a tensor, array or sequence: an int (0-d integer), a bool array or
    an int64 array on ``xp``."""
    array = item._data if isinstance(item, Tensor) else item
    if not isinstance(array, _ndarray) and not hasattr(array, "__cuda_array_interface__"):
        array = np.asarray(array if type(array) is not range else list(array))
        if array.dtype == object:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or "
                             "byte Variables are valid indices")
        if array.size == 0 and array.dtype.kind == "f":  # x[[]]
            array = array.astype(np.int64)
    kind = array.dtype.kind
    if kind == "u" and array.dtype.itemsize == 1:  # torch's legacy byte masks
        array = array.astype(bool)
        kind = "b"
    if kind not in "biu":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if kind != "b" and array.ndim == 0:
        return int(array)  # torch treats a 0-d integer tensor as an integer
    if xp is not np and isinstance(array, _ndarray):
        array = xp.asarray(array)
    return array


def _as_tuple(key) -> tuple:
    if type(key) is tuple:
        return key
    # torch (like old NumPy) reads a short list holding sequences, tensors or slices as a tuple
    if type(key) is list and len(key) < 32 and any(
            isinstance(k, (Tensor, list, tuple, slice)) or k is None or k is Ellipsis
            for k in key):
        return tuple(key)
    return (key,)


def _check_step(step) -> None:
    step = operator.index(step)
    if step == 0:
        raise ValueError("slice step cannot be zero")
    if step < 0:
        raise ValueError("step must be greater than zero")


def parse_key(key, ndim: int, xp=np):
    """A torch indexing key on a tensor of ``ndim`` dims as ``(stages, accumulate)`` for
    ``Index``/``IndexPut``.

    ``accumulate`` is true when the key holds an integer array, so the gradient must add
    repeated indices instead of overwriting them.
    """
    items = []
    has_int = has_array = int_array = has_ellipsis = False
    for item in _as_tuple(key):
        kind = type(item)
        if kind is int:
            has_int = True
        elif kind is slice:
            if item.step is not None:
                _check_step(item.step)
        elif item is None or kind is bool:
            pass
        elif item is Ellipsis:
            has_ellipsis = True
        elif isinstance(item, (Tensor, list, tuple, range, _ndarray)) or hasattr(
                item, "__cuda_array_interface__"):
            item = _index_array(item, xp)
            if type(item) is int:
                has_int = True
            else:
                has_array = True
                int_array = int_array or item.dtype.kind != "b"
        elif hasattr(item, "__index__"):
            item = operator.index(item)
            has_int = True
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                f"are valid indices (got {kind.__name__})")
        items.append(item)
    if has_array and has_ellipsis:
        items = _expand_ellipsis(items, ndim)
    if has_int and has_array:
        return _split_stages(items), int_array
    if not has_ellipsis:
        items.append(Ellipsis)  # keeps a full integer key a 0-d view instead of a scalar
    return (tuple(items),), int_array


def _expand_ellipsis(items, ndim: int) -> list:
    """``...`` as explicit slices. NumPy counts an ellipsis between two index arrays as
    separating them even when it stands for no dims; torch does not."""
    used = 0
    for item in items:
        if type(item) is int or type(item) is slice:
            used += 1
        elif hasattr(item, "dtype"):
            used += item.ndim if item.dtype.kind == "b" else 1
    position = next(i for i, item in enumerate(items) if item is Ellipsis)
    return items[:position] + [_ALL] * max(ndim - used, 0) + items[position + 1:]


def _split_stages(items) -> tuple:
    """Integers first (a view), then the remaining key on the reduced tensor."""
    basic, advanced = [], []
    for item in items:
        if type(item) is int:
            basic.append(item)
        elif item is None or type(item) is bool:
            advanced.append(item)
        elif item is Ellipsis or type(item) is slice:
            basic.append(item)
            advanced.append(item if item is Ellipsis else _ALL)
        else:  # an array consumes one dim, a bool mask one per mask dim
            basic.extend([_ALL] * (item.ndim if item.dtype.kind == "b" else 1))
            advanced.append(item)
    if not any(item is Ellipsis for item in basic):
        basic.append(Ellipsis)
    return tuple(basic), tuple(advanced)


def _index_error(error: IndexError, x: Tensor) -> IndexError:
    """NumPy's IndexError in torch's words."""
    message = str(error)
    ndim = x._data.ndim
    if message.startswith("too many indices"):
        if ndim == 0:
            return IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python "
                              "or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a "
                              "number")
        return IndexError(f"too many indices for tensor of dimension {ndim}")
    return IndexError(message.replace("axis", "dimension"))


def getitem(self: Tensor, key) -> Tensor:
    """``self[key]`` with torch's semantics: ints, slices (step > 0), None, ``...``, integer
    arrays/lists/tensors (advanced indexing) and bool masks.

    The gradient adds up at repeated indices. Basic keys (ints, slices, None, ``...``) give
    a view sharing memory with ``self``, as in torch.

    Example:
        >>> x = deepgrad.arange(12.).reshape(3, 4)
        >>> x[1:, [0, 0, 3]]
        tensor([[ 4.,  4.,  7.],
                [ 8.,  8., 11.]])
    """
    kind = type(key)
    # hot path (data loading, RNN time steps): no key analysis
    if kind is int:
        stages, accumulate = ((key, Ellipsis),), False
    elif kind is slice and key.step is None:
        stages, accumulate = (key,), False
    else:
        stages, accumulate = parse_key(key, self._data.ndim, array_module(self._data))
    try:
        if self._requires_grad and _mode.enabled:
            return Index.apply(self, stages, accumulate)
        data = self._data  # nothing to record: skip the graph machinery
        for stage in stages:
            data = data[stage]
        # a basic-index result shares memory: link it so in-place writes bump x's version
        return make_view(data, self) if data.base is not None else _make(data)
    except IndexError as error:
        raise _index_error(error, self) from None


def _index_put(old: Tensor, value, stages, accumulate) -> Tensor:
    if isinstance(value, Tensor) and value._data.dtype != old._data.dtype:
        value = value.to(old.dtype)
    return IndexPut.apply(old, value, stages, accumulate)


def _index_put_key(stages, value) -> bool:
    """Whether torch routes this write through index_put (array keys), which, unlike a copy
    into a view, refuses a value of another dtype; a bool mask with a 0-d value is a
    masked_fill and casts."""
    last = stages[-1]
    arrays = [k for k in last if hasattr(k, "dtype")] if type(last) is tuple else ()
    if not arrays:
        return False
    return not (len(arrays) == 1 and arrays[0].dtype.kind == "b" and value._data.ndim == 0)


def setitem(self: Tensor, key, value) -> None:
    """``self[key] = value``: ``value`` (number or tensor) broadcasts to the indexed shape.

    Inside a graph the write is recorded (``IndexPut``): the old tensor's gradient is zero
    at the overwritten positions and ``value`` gets the gradient of those positions. Without
    a graph to record the write goes straight into the array.
    """
    kind = type(key)
    if kind is int:
        stages = ((key, Ellipsis),)
    elif kind is slice and key.step is None:
        stages = (key,)
    else:
        stages = parse_key(key, self._data.ndim, array_module(self._data))[0]
    is_tensor = isinstance(value, Tensor)
    if is_tensor and value._data.dtype != self._data.dtype and _index_put_key(stages, value):
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{self.dtype.name} for the destination and {value.dtype.name} for "
                           "the source.")
    try:
        if _mode.enabled and (self._requires_grad or is_tensor and value._requires_grad):
            self._inplace(_index_put, value, stages, False, op="setitem")
            return
        array = value._data if is_tensor else value
        _view(self._data, stages)[stages[-1]] = array
    except IndexError as error:
        raise _index_error(error, self) from None
    except ValueError as error:  # NumPy's broadcast failure; torch raises RuntimeError
        if "read-only" in str(error):
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers "
                "to a single memory location. Please clone() the tensor before performing the "
                "operation.") from None
        raise RuntimeError(f"setitem: {error}") from None
    self._version += 1


def index_put(input: Tensor, indices, values, accumulate: bool = False) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``values`` written at ``input[indices]`` (``indices`` a
    tuple of index tensors); with ``accumulate`` repeated indices add up.

    Example:
        >>> deepgrad.zeros(3).index_put((deepgrad.tensor([0, 0]),), deepgrad.tensor(1.0),
        ...                             accumulate=True)
        tensor([2., 0., 0.])
    """
    if not isinstance(indices, (tuple, list)) or not all(
            i is None or isinstance(i, Tensor) for i in indices):
        raise TypeError("index_put(): indices must be a tuple of Tensors")
    stages = parse_key(tuple(indices), input._data.ndim, array_module(input._data))[0]
    if values._data.dtype != input._data.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{input.dtype.name} for the destination and {values.dtype.name} "
                           "for the source.")
    try:
        return IndexPut.apply(input, values, stages, accumulate)
    except IndexError as error:
        raise _index_error(error, input) from None


Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem
Tensor.index_put = index_put
Tensor.index_put_ = lambda self, indices, values, accumulate=False: self._inplace(
    index_put, indices, values, accumulate, op="index_put_")


# ---------------------------------------------------------------- narrow, select, take

def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:  # noqa: A002
    """The slice ``start:start+length`` of ``input`` along ``dim`` (a view).

    Args:
        input: the tensor.
        dim: dimension to narrow.
        start: first index (negative counts from the end); int or 0-d tensor.
        length: number of elements kept.

    Example:
        >>> deepgrad.arange(6).narrow(0, 2, 3)
        tensor([2, 3, 4])
    """
    shape = input._data.shape
    if not shape:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, len(shape), "narrow")
    size = shape[d]
    start = operator.index(start)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    start %= max(size, 1)
    if length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    key = (_ALL,) * d + (slice(start, start + length),)
    return Index.apply(input, (key,), False)


def select(input: Tensor, dim: int, index: int) -> Tensor:  # noqa: A002
    """``input`` at position ``index`` of ``dim``, which is removed (a view).

    Example:
        >>> deepgrad.tensor([[1, 2], [3, 4]]).select(1, 0)
        tensor([1, 3])
    """
    shape = input._data.shape
    if not shape:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, len(shape), "select")
    index = operator.index(index)
    if not -shape[d] <= index < shape[d]:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(shape)} at dimension {d}")
    return Index.apply(input, ((_ALL,) * d + (index, Ellipsis),), False)


def take(input: Tensor, index: Tensor) -> Tensor:  # noqa: A002
    """Elements of ``input`` read as 1-d at the positions ``index``; result has its shape.

    Example:
        >>> deepgrad.tensor([[4., 3.], [5., 6.]]).take(deepgrad.tensor([0, 3]))
        tensor([4., 6.])
    """
    flat = input.reshape(-1)
    positions = index._data
    size = flat._data.shape[0]
    xp = array_module(positions)
    if positions.size and (positions.max() >= size or positions.min() < -size):
        bad = int(positions.max() if positions.max() >= size else positions.min())
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {size} "
                         "elements.")
    return Index.apply(flat, ((xp.asarray(positions),),), True)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:  # noqa: A002
    """The elements of ``input`` where ``mask`` is true, as a 1-d tensor (both broadcast).

    Example:
        >>> x = deepgrad.tensor([1., -2., 3.])
        >>> x.masked_select(x > 0)
        tensor([1., 3.])
    """
    if mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_select: expected BoolTensor for mask but got "
                           f"{mask.dtype.name}")
    from .promotion import broadcast_shapes  # noqa: PLC0415

    shape = broadcast_shapes("masked_select", input._data.shape, mask._data.shape,
                             "input", "mask")
    if input._data.shape != shape:
        input = input.expand(shape)  # noqa: A001
    mask_array = mask._data
    if mask_array.shape != shape:
        mask_array = array_module(mask_array).broadcast_to(mask_array, shape)
    return Index.apply(input, ((mask_array,),), False)


def nonzero(input: Tensor, *, as_tuple: bool = False):  # noqa: A002
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or with ``as_tuple`` a
    tuple of ``ndim`` 1-d index tensors (usable as an indexing key).

    Example:
        >>> deepgrad.tensor([[0, 1], [2, 0]]).nonzero()
        tensor([[0, 1],
                [1, 0]])
    """
    x = input._data
    xp = array_module(x)
    if as_tuple:
        if x.ndim == 0:
            x = x.reshape(1)
        return tuple(Tensor._make(i.astype(np.int64)) for i in xp.nonzero(x))
    return Tensor._make(xp.argwhere(x).astype(np.int64))


def argwhere(input: Tensor) -> Tensor:  # noqa: A002
    """Same as ``nonzero(input)``."""
    return nonzero(input)


Tensor.narrow = narrow
Tensor.select = select
Tensor.take = take
Tensor.masked_select = masked_select
Tensor.nonzero = nonzero
Tensor.argwhere = argwhere
