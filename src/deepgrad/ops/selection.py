"""Reductions that select elements: max/min, amax/amin, argmax/argmin, median, mode, sort,
argsort, topk, kthvalue. The gradient goes to the selected elements: to the index torch
picks for the ``(values, indices)`` forms, shared evenly between ties for amax/amin and
for the full ``max()``/``min()``/``median()``.
"""

from __future__ import annotations

from collections import namedtuple

from .._tensor import Tensor, wrap_dim
from ..autograd.function import Function
from ..backend import array_module
from .reduction import normalize_dims, restore_dims

__all__ = [
    "max", "min", "amax", "amin", "argmax", "argmin", "median", "mode", "sort", "argsort",
    "topk", "kthvalue",
]


def _return_type(name: str):
    """A ``(values, indices)`` namedtuple like ``torch.return_types.<name>``."""
    cls = namedtuple(name, ("values", "indices"))
    cls.__module__ = "deepgrad.return_types"
    return cls


_RESULTS = {name: _return_type(name)
            for name in ("max", "min", "median", "mode", "sort", "topk", "kthvalue")}


# ---------------------------------------------------------------- values at indices

class TakeAlongDim(Function):
    """``x`` at ``indices`` along ``dim`` (a gather); the gradient is put back in place."""

    raw = True

    @staticmethod
    def forward(ctx, x, indices, dim, keepdim):
        ctx.indices = indices
        ctx.dim = dim
        ctx.keepdim = keepdim
        ctx.input_shape = x.shape
        values = array_module(x).take_along_axis(x, indices, axis=dim)
        return values if keepdim else values.squeeze(dim)

    @staticmethod
    def backward(ctx, grad_out):
        if not ctx.keepdim:
            grad_out = grad_out.unsqueeze(ctx.dim)
        return PutAlongDim.apply(grad_out, ctx.indices, ctx.dim, ctx.input_shape)


class PutAlongDim(Function):
    """Zeros of ``shape`` with ``values`` at ``indices`` along ``dim`` (indices distinct
    within a slice, as those of sort, topk and max are)."""

    raw = True

    @staticmethod
    def forward(ctx, values, indices, dim, shape):
        ctx.indices = indices
        ctx.dim = dim
        xp = array_module(values)
        result = xp.zeros(shape, dtype=values.dtype)
        xp.put_along_axis(result, indices, values, axis=dim)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        return TakeAlongDim.apply(grad_out, ctx.indices, ctx.dim, True)


def _select(op: str, input: Tensor, indices, dim: int, keepdim: bool):  # noqa: A002
    """``(values, indices)`` namedtuple for indices chosen along ``dim`` (kept as size 1)."""
    values = TakeAlongDim.apply(input, indices, dim, keepdim)
    if not keepdim:
        indices = indices.squeeze(dim)
    return _RESULTS[op](values, Tensor._make(indices))


def _along_dim(op: str, input: Tensor, dim, keepdim: bool, choose):  # noqa: A002
    """Run ``choose(data, dim) -> indices (size 1 along dim)`` and select those values; a
    0-d input is treated as one element along dim 0, as torch does."""
    data = input._data
    dim = wrap_dim(dim, data.ndim, op)
    if data.ndim == 0:
        result = _select(op, input.reshape(1), choose(data.reshape(1), 0), 0, False)
        return result
    if data.shape[dim] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {dim} to have non-zero size.")
    return _select(op, input, choose(data, dim), dim, keepdim)


# ---------------------------------------------------------------- max, min, amax, amin

class Extremum(Function):
    """max/min/amax/amin/median over dims, as one value per slice; the gradient is shared
    evenly by the elements equal to it (torch's convention for ties).

    ``kind`` "max", "min" and "median" reduce everything and, as torch, send the gradient
    of a nan result to the nans; "amax"/"amin" reduce ``dims`` and (as torch) do not.
    """

    raw = True

    @staticmethod
    def forward(ctx, x, dims, keepdim, kind):
        ctx.dims = dims
        ctx.keepdim = keepdim
        ctx.kind = kind
        if kind == "max" or kind == "amax":
            result = x.max(axis=dims, keepdims=keepdim)
        elif kind == "min" or kind == "amin":
            result = x.min(axis=dims, keepdims=keepdim)
        else:  # full median: the lower of the two middle values, nan if any
            xp = array_module(x)
            flat = x.reshape(-1)
            k = (flat.size - 1) // 2
            result = xp.partition(flat, k)[k] if flat.size else xp.asarray(xp.nan, x.dtype)
            if xp.isnan(flat).any():
                result = xp.asarray(xp.nan, x.dtype)
            result = xp.asarray(result, dtype=x.dtype)
        result = array_module(x).asarray(result)  # an array (not a numpy scalar): saved output
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        x, result = ctx.saved_tensors
        data = x._data
        xp = array_module(data)
        value = restore_dims(result, data.shape, ctx.dims, ctx.keepdim)._data
        if ctx.kind[0] != "a" and xp.isnan(value).all():
            mask = xp.isnan(data)  # a full reduction that met nan selects the nans
        else:
            mask = data == value
        count = mask.sum(axis=ctx.dims, keepdims=True)
        weights = Tensor._make((mask / count).astype(data.dtype, copy=False))
        return restore_dims(grad_out, data.shape, ctx.dims, ctx.keepdim) * weights


def _check_nonempty(op: str, data, dims) -> None:
    if dims is None:
        if data.size == 0:
            raise RuntimeError(
                f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument.")
        return
    for d in dims:
        if data.shape[d] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")


def _extreme(op: str, input: Tensor, dim, keepdim: bool, other):  # noqa: A002
    if isinstance(dim, Tensor) or other is not None:  # max(a, b): elementwise
        from . import piecewise  # noqa: PLC0415 - maximum/minimum live with the clamps

        return getattr(piecewise, "maximum" if op == "max" else "minimum")(
            input, dim if other is None else other)
    data = input._data
    if dim is None:
        _check_nonempty(op, data, None)
        return Extremum.apply(input, None, False, op)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}(): dim must be a single int (use amax/amin for several dims); "
                        f"got dim={dim!r}")
    arg = array_module(data).argmax if op == "max" else array_module(data).argmin
    return _along_dim(op, input, dim, keepdim, lambda a, d: arg(a, axis=d, keepdims=True))


def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001,A002
    """The largest element; with ``dim``, ``(values, indices)`` of the largest per slice;
    with a tensor in place of ``dim``, the elementwise ``maximum``.

    Ties: ``max()`` shares the gradient evenly between equal maxima; ``max(dim)`` gives it
    all to the returned index (the first maximum, as torch). nan counts as the maximum.

    Args:
        input: the tensor.
        dim: the dim to reduce (int), or None for all elements.
        keepdim: keep ``dim`` with size 1.

    Returns:
        A 0-d tensor, or a namedtuple ``(values, indices)`` when ``dim`` is given.

    Example:
        >>> deepgrad.tensor([[1., 5.], [3., 2.]]).max(1)
        max(values=tensor([5., 3.]), indices=tensor([1, 0]))
    """
    return _extreme("max", input, dim, keepdim, other)


def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001,A002
    """The smallest element; with ``dim``, ``(values, indices)``; with a tensor, ``minimum``.
    Same tie and nan conventions as :func:`max`.

    Example:
        >>> deepgrad.tensor([[1., 5.], [3., 2.]]).min(1).indices
        tensor([0, 1])
    """
    return _extreme("min", input, dim, keepdim, other)


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:  # noqa: A002
    """Largest value over ``dim`` (int or tuple; all dims by default). Equal maxima share
    the gradient evenly.

    Example:
        >>> deepgrad.amax(deepgrad.tensor([[1., 5.], [3., 2.]]), dim=0)
        tensor([3., 5.])
    """
    data = input._data
    dims = normalize_dims("amax", dim, data.ndim)
    _check_nonempty("amax", data, dims)
    return Extremum.apply(input, dims, keepdim, "amax")


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:  # noqa: A002
    """Smallest value over ``dim`` (int or tuple; all dims by default); ties as :func:`amax`.

    Example:
        >>> deepgrad.amin(deepgrad.tensor([[1., 5.], [3., 2.]]), dim=0)
        tensor([1., 2.])
    """
    data = input._data
    dims = normalize_dims("amin", dim, data.ndim)
    _check_nonempty("amin", data, dims)
    return Extremum.apply(input, dims, keepdim, "amin")


def _arg(op: str, input: Tensor, dim, keepdim: bool) -> Tensor:  # noqa: A002
    data = input._data
    xp = array_module(data)
    if data.dtype.kind == "b":
        raise RuntimeError(f"{op}(): does not support bool input")
    find = xp.argmax if op == "argmax" else xp.argmin
    if dim is None:
        if data.size == 0:
            raise IndexError(
                f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")
        index = xp.asarray(find(data), dtype=xp.int64)
        return Tensor._make(index.reshape((1,) * data.ndim) if keepdim else index)
    dim = wrap_dim(dim, data.ndim, op)
    if data.ndim == 0:
        return Tensor._make(xp.zeros((), dtype=xp.int64))
    if data.shape[dim] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {dim} to have non-zero size.")
    return Tensor._make(find(data, axis=dim, keepdims=keepdim).astype(xp.int64, copy=False))


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """Index of the largest element (of the flattened input when ``dim`` is None); the
    first one on ties.

    Example:
        >>> deepgrad.tensor([[1., 5.], [3., 2.]]).argmax(1)
        tensor([1, 0])
    """
    return _arg("argmax", input, dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """Index of the smallest element (of the flattened input when ``dim`` is None).

    Example:
        >>> deepgrad.tensor([[1., 5.], [3., 2.]]).argmin()
        tensor(0)
    """
    return _arg("argmin", input, dim, keepdim)


# ---------------------------------------------------------------- median, mode

def _median_indices(data, dim):
    """Index of the lower median along ``dim`` (size 1 kept); a slice with nan picks its
    first nan, as torch."""
    xp = array_module(data)
    order = xp.argsort(data, axis=dim, kind="stable")
    k = (data.shape[dim] - 1) // 2
    indices = xp.take(order, [k], axis=dim)
    nan = xp.isnan(data) if data.dtype.kind == "f" else None
    if nan is not None and nan.any():
        has_nan = nan.any(axis=dim, keepdims=True)
        indices = xp.where(has_nan, xp.argmax(nan, axis=dim, keepdims=True), indices)
    return indices


def median(input: Tensor, dim: int | None = None, keepdim: bool = False):  # noqa: A002
    """The lower median of all elements (a 0-d tensor, nan if any is nan); with ``dim``, a
    namedtuple ``(values, indices)`` per slice.

    Example:
        >>> deepgrad.tensor([1., 4., 2., 3.]).median()
        tensor(2.)
    """
    if dim is None:
        return Extremum.apply(input, None, False, "median")
    return _along_dim("median", input, dim, keepdim, _median_indices)


def _mode_indices(data, dim):
    """Index of the most frequent value along ``dim`` (the smallest such value, at its last
    occurrence, as torch)."""
    xp = array_module(data)
    moved = xp.moveaxis(data, dim, -1)  # (..., n)
    order = xp.argsort(moved, axis=-1, kind="stable")
    ordered = xp.take_along_axis(moved, order, axis=-1)
    n = ordered.shape[-1]
    starts = xp.ones(ordered.shape, dtype=bool)
    starts[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
    # position of each run's start, carried forward: run length = position - start + 1
    positions = xp.broadcast_to(xp.arange(n), ordered.shape)
    run_start = xp.maximum.accumulate(xp.where(starts, positions, 0), axis=-1)
    lengths = positions - run_start + 1
    # the end of the longest run; argmax takes the first, i.e. the smallest value
    best = xp.argmax(lengths, axis=-1)[..., None]
    indices = xp.take_along_axis(order, best, axis=-1)  # stable sort: last occurrence
    return xp.moveaxis(indices, -1, dim)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False):  # noqa: A002
    """Most frequent value along ``dim`` and the index of its last occurrence.

    Example:
        >>> deepgrad.mode(deepgrad.tensor([3, 1, 3, 1, 2]))
        mode(values=tensor(1), indices=tensor(3))
    """
    return _along_dim("mode", input, dim, keepdim, _mode_indices)


# ---------------------------------------------------------------- sort, topk

def _argsort(data, dim: int, descending: bool):
    """Stable sort order along ``dim``; descending keeps equal elements in input order and
    puts nan first (ascending puts it last), as torch."""
    xp = array_module(data)
    if not descending:
        return xp.argsort(data, axis=dim, kind="stable")
    n = data.shape[dim]
    reverse = xp.argsort(xp.flip(data, axis=dim), axis=dim, kind="stable")
    return n - 1 - xp.flip(reverse, axis=dim)


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):  # noqa: A002
    """Sort along ``dim``: namedtuple ``(values, indices)``; values are differentiable (the
    gradient goes back to each value's source position). Always stable.

    Example:
        >>> deepgrad.tensor([3., 1., 2.]).sort()
        sort(values=tensor([1., 2., 3.]), indices=tensor([1, 2, 0]))
    """
    data = input._data
    dim = wrap_dim(dim, data.ndim, "sort")
    if data.ndim == 0:
        return _select("sort", input.reshape(1), _zero_index(data), 0, False)
    return _select("sort", input, _argsort(data, dim, descending), dim, True)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):  # noqa: A002
    """Indices that sort ``input`` along ``dim`` (int64).

    Example:
        >>> deepgrad.tensor([3., 1., 2.]).argsort(descending=True)
        tensor([0, 2, 1])
    """
    data = input._data
    dim = wrap_dim(dim, data.ndim, "argsort")
    if data.ndim == 0:
        return Tensor._make(_zero_index(data).reshape(()))
    return Tensor._make(_argsort(data, dim, descending))


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The ``k`` largest (or smallest) values along ``dim`` with their indices, in order.

    Args:
        input: the tensor.
        k: how many; at most the size of ``dim``.
        dim: the dim to select along.
        largest: the largest (True) or the smallest (False) values.
        sorted: accepted for torch compatibility; the values are always sorted.

    Example:
        >>> deepgrad.tensor([1., 4., 2., 3.]).topk(2)
        topk(values=tensor([4., 3.]), indices=tensor([1, 3]))
    """
    data = input._data
    dim = wrap_dim(dim, data.ndim, "topk")
    if data.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes")
    size = data.shape[dim] if data.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"topk: selected index k out of range; got k = {k} for a dim of "
                           f"size {size}")
    if data.ndim == 0:
        return _select("topk", input.reshape(1), _zero_index(data)[:k], 0, False)
    order = _argsort(data, dim, largest)
    return _select("topk", input, array_module(data).take(order, range(k), axis=dim), dim,
                   True)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):  # noqa: A002
    """The ``k``-th smallest value along ``dim`` (1-based) and its index.

    Example:
        >>> deepgrad.tensor([1., 4., 2., 3.]).kthvalue(2)
        kthvalue(values=tensor(2.), indices=tensor(2))
    """
    data = input._data
    size = data.shape[wrap_dim(dim, data.ndim, "kthvalue")] if data.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}; "
                           f"got k = {k} for a dim of size {size}")

    def choose(array, d):
        return array_module(array).take(_argsort(array, d, False), [k - 1], axis=d)

    return _along_dim("kthvalue", input, dim, keepdim, choose)


def _zero_index(data):
    return array_module(data).zeros((1,), dtype=array_module(data).int64)


Tensor.max = max
Tensor.min = min
Tensor.amax = amax
Tensor.amin = amin
Tensor.argmax = argmax
Tensor.argmin = argmin
Tensor.median = median
Tensor.mode = mode
Tensor.sort = sort
Tensor.argsort = argsort
Tensor.topk = topk
Tensor.kthvalue = kthvalue
