"""Gather and scatter along a dim: gather, scatter, scatter_add, index_select, index_add,
index_fill, masked_fill, and their in-place forms.

Each builds a NumPy key and reuses the primitives of ``ops/indexing.py`` (``Index``,
``IndexPut``), so gradients accumulate at repeated indices and every op is differentiable
twice. ``gather``/``scatter`` turn their ``index`` into a full advanced key: ``index`` at
``dim`` and broadcast ``arange`` grids at every other dim.
"""

from __future__ import annotations

import numpy as np

from .. import _errors
from .._tensor import Tensor, wrap_dim
from ..autograd.function import Function
from ..backend import array_module
from .indexing import Index, IndexPut, add_at

__all__ = ["gather", "scatter", "scatter_add", "index_select", "index_add", "index_fill",
           "masked_fill"]

_ALL = slice(None)


def _index_array(op: str, index) -> object:
    array = index._data if isinstance(index, Tensor) else np.asarray(index)
    if array.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index")
    return array


def _check_bounds(op: str, positions, size: int, dim: int, kind=RuntimeError) -> None:
    if positions.size:
        high, low = int(positions.max()), int(positions.min())
        if high >= size or low < -size:
            bad = high if high >= size else low
            raise kind(f"{op}: index {bad} is out of bounds for dimension {dim} with size {size}")


def _grid_key(op: str, input: Tensor, dim: int, positions, limits=()) -> tuple:  # noqa: A002
    """The advanced key reading ``input[..., index[i][j][k], ...]`` at every index position:
    ``index`` at ``dim`` and a broadcast ``arange`` at every other dim."""
    shape = input._data.shape
    ndim = len(shape)
    d = wrap_dim(dim, ndim, op)
    if ndim == 1 and positions.ndim <= 1:  # torch lets 1-d and 0-d mix here
        _check_bounds(op, positions, shape[0], 0)
        return (positions,)
    if positions.ndim != ndim:
        raise _errors.op_error(
            RuntimeError, op, "Index tensor must have the same number of dimensions as input "
            "tensor", input=input, index=positions)
    for i in range(ndim):
        if (i != d and positions.shape[i] > shape[i]) or any(
                positions.shape[i] > other[i] for other in limits):
            raise _errors.op_error(
                RuntimeError, op, f"index must be no larger than input apart from dimension {d}"
                + (" and no larger than src" if limits else ""), input=input, index=positions)
    _check_bounds(op, positions, shape[d], d)
    xp = array_module(positions)
    key = []
    for i, size in enumerate(positions.shape):
        if i == d:
            key.append(positions)
        else:
            key.append(xp.arange(size).reshape((1,) * i + (size,) + (1,) * (ndim - i - 1)))
    return tuple(key)


def _one_element(input: Tensor) -> Tensor:  # noqa: A002
    """torch treats a 0-d input of these ops as a 1-element vector."""
    return input.reshape(1) if input._data.ndim == 0 else input


def _restore(result: Tensor, input: Tensor) -> Tensor:  # noqa: A002
    return result.reshape(()) if input._data.ndim == 0 else result


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:  # noqa: A002
    """``result[i][j][k] = input[i][index[i][j][k]][k]`` for ``dim=1`` (same for any dim).

    Args:
        input: source tensor.
        dim: axis along which to index.
        index: int64 tensor with ``input``'s number of dims; ``index.size(d) <=
            input.size(d)`` for ``d != dim``.

    Returns:
        A tensor shaped like ``index``. Its gradient adds up at repeated indices.

    Example:
        >>> deepgrad.tensor([[1., 2.], [3., 4.]]).gather(1, deepgrad.tensor([[0, 0], [1, 0]]))
        tensor([[1., 1.],
                [4., 3.]])
    """
    positions = _index_array("gather", index)
    key = _grid_key("gather", _one_element(input), dim, positions)
    return Index.apply(_one_element(input), (key,), True)


def _scatter_parts(op: str, input: Tensor, dim: int, index, src):  # noqa: A002
    """The grid key and ``src`` cropped to ``index``'s shape (torch reads only that corner)."""
    positions = _index_array(op, index)
    if not isinstance(src, Tensor):
        return _grid_key(op, input, dim, positions), src
    if src._data.dtype != input._data.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype; got "
                           f"{input.dtype.name} and {src.dtype.name}")
    if input._data.ndim == 1 and src._data.ndim == 0:
        src = src.reshape(1)
    key = _grid_key(op, input, dim, positions, (src._data.shape,) if positions.ndim else ())
    if src._data.shape != positions.shape:
        src = src[tuple(slice(0, s) for s in positions.shape)] if positions.ndim else src[0]
    return key, src


class ScatterReduce(Function):
    """``scatter(..., reduce='add' | 'multiply')``: forward only, as in torch."""

    raw = True

    @staticmethod
    def forward(ctx, x, src, key, reduce):
        result = x.copy()
        xp = array_module(x)
        if reduce == "add":
            add_at(xp, result, key, src)
        else:
            xp.multiply.at(result, key, src)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        raise RuntimeError("derivative for scatter with reduce is not implemented")


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None,  # noqa: A002
            reduce: str | None = None) -> Tensor:
    """A copy of ``input`` with ``src`` (tensor) or ``value`` (number) written at ``index``
    along ``dim``: ``result[i][index[i][j]] = src[i][j]`` for ``dim=1``.

    Args:
        input: destination tensor.
        dim: axis along which to index.
        index: int64 tensor, no larger than ``src`` and (apart from ``dim``) ``input``.
        src: tensor of values, or a number (also accepted as ``value=``).
        reduce: None, ``'add'`` or ``'multiply'`` (no gradient, as torch).

    Example:
        >>> deepgrad.zeros(2, 3).scatter(1, deepgrad.tensor([[2], [0]]), 1.0)
        tensor([[0., 0., 1.],
                [1., 0., 0.]])
    """
    if src is None:
        src = value
    key, src = _scatter_parts("scatter", _one_element(input), dim, index, src)
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
        return _restore(ScatterReduce.apply(_one_element(input), src, key, reduce), input)
    return _restore(IndexPut.apply(_one_element(input), src, (key,), False), input)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeated indices
    add up): ``result[i][index[i][j]] += src[i][j]`` for ``dim=1``.

    Example:
        >>> deepgrad.zeros(3).scatter_add(0, deepgrad.tensor([0, 0, 2]), deepgrad.ones(3))
        tensor([2., 0., 1.])
    """
    key, src = _scatter_parts("scatter_add", _one_element(input), dim, index, src)
    return _restore(IndexPut.apply(_one_element(input), src, (key,), True), input)


def _dim_key(op: str, input: Tensor, dim: int, index, kind=RuntimeError):  # noqa: A002
    """``(dim, (slice(None),) * dim + (index,))`` for a 1-d (or 0-d) ``index``."""
    positions = _index_array(op, index)
    if positions.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    shape = input._data.shape
    d = wrap_dim(dim, len(shape), op)
    _check_bounds(op, positions, shape[d], d, kind)
    return d, (_ALL,) * d + (positions.reshape(-1),)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:  # noqa: A002
    """The slices of ``input`` at positions ``index`` (1-d) along ``dim``.

    Example:
        >>> deepgrad.tensor([[1, 2], [3, 4]]).index_select(0, deepgrad.tensor([1, 1]))
        tensor([[3, 4],
                [3, 4]])
    """
    _, key = _dim_key("index_select", _one_element(input), dim, index, IndexError)
    if input._data.ndim == 0 and key[-1].shape[0] != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                           f"{key[-1].shape[0]} value(s)")
    return _restore(Index.apply(_one_element(input), (key,), True), input)


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *,  # noqa: A002
              alpha=1) -> Tensor:
    """A copy of ``input`` with ``alpha * source`` added at positions ``index`` along ``dim``
    (repeated indices add up).

    Example:
        >>> deepgrad.zeros(3, 2).index_add(0, deepgrad.tensor([0, 0]), deepgrad.ones(2, 2))
        tensor([[2., 2.],
                [0., 0.],
                [0., 0.]])
    """
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_add_(): self ({input.dtype.name}) and source "
                           f"({source.dtype.name}) must have the same scalar type")
    if input._data.ndim == 0:
        if source._data.ndim:
            raise _errors.op_error(RuntimeError, "index_add", "source tensor shape must match "
                                   "self tensor shape, excluding the specified dimension",
                                   input=input, source=source)
        source = source.reshape(1)
    d, key = _dim_key("index_add", _one_element(input), dim, index)
    expected = list(_one_element(input)._data.shape)
    expected[d] = key[-1].shape[0]
    if list(source._data.shape) != expected:
        raise _errors.op_error(RuntimeError, "index_add", "source must have input's shape "
                               f"with dim {d} of the size of index", input=input, source=source)
    if alpha != 1:
        source = source * alpha
    return _restore(IndexPut.apply(_one_element(input), source, (key,), True), input)


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``value`` (number or 0-d tensor) at positions ``index``
    along ``dim``.

    Example:
        >>> deepgrad.zeros(2, 3).index_fill(1, deepgrad.tensor([0, 2]), -1.0)
        tensor([[-1.,  0., -1.],
                [-1.,  0., -1.]])
    """
    _, key = _dim_key("index_fill", _one_element(input), dim, index, IndexError)
    value = _fill_value("index_fill", input, value)
    return _restore(IndexPut.apply(_one_element(input), value, (key,), False), input)


def _fill_value(op: str, input: Tensor, value):  # noqa: A002
    if not isinstance(value, Tensor):
        return value
    if value._data.ndim:
        raise RuntimeError(f"{op}_ only supports a 0-dimensional value tensor, but got tensor "
                           f"with {value._data.ndim} dimension(s).")
    if value._data.dtype != input._data.dtype:
        value = value.to(input.dtype)
    return value


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``value`` (number or 0-d tensor) where ``mask`` is true
    (``mask`` and ``input`` broadcast).

    Example:
        >>> x = deepgrad.tensor([1., -2., 3.])
        >>> x.masked_fill(x < 0, 0.0)
        tensor([1., 0., 3.])
    """
    mask_array = mask._data
    if mask_array.dtype.kind != "b":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype.name}")
    value = _fill_value("masked_fill", input, value)
    shape = input._data.shape
    if mask_array.shape != shape:
        from .promotion import broadcast_shapes  # noqa: PLC0415

        shape = broadcast_shapes("masked_fill", shape, mask_array.shape, "input", "mask")
        if shape != input._data.shape:
            input = input.expand(shape)  # noqa: A001
        mask_array = array_module(mask_array).broadcast_to(mask_array, shape)
    return IndexPut.apply(input, value, ((mask_array,),), False)


def _inplace(function, name):
    def method(self, *args, **kwargs):
        return self._inplace(lambda old, *a: function(old, *a, **kwargs), *args, op=name)

    method.__name__ = name
    return method


Tensor.gather = gather
Tensor.scatter = scatter
Tensor.scatter_add = scatter_add
Tensor.index_select = index_select
Tensor.index_add = index_add
Tensor.index_fill = index_fill
Tensor.masked_fill = masked_fill
Tensor.scatter_ = _inplace(scatter, "scatter_")
Tensor.scatter_add_ = _inplace(scatter_add, "scatter_add_")
Tensor.index_add_ = _inplace(index_add, "index_add_")
Tensor.index_fill_ = _inplace(index_fill, "index_fill_")
Tensor.masked_fill_ = _inplace(masked_fill, "masked_fill_")
