"""Reductions over ``dim`` (int, tuple or None) with ``keepdim``: sum, mean, nansum, nanmean,
prod, all, any, count_nonzero, and the scans cumsum and cumprod.

Sibling families reuse the dim helpers here: ``selection`` (max, min, argmax, sort, topk,
median), ``statistics`` (var, std, norm) and ``softmax`` (softmax, log_softmax, logsumexp).
"""

from __future__ import annotations

import operator

from .._tensor import Tensor, wrap_dim
from ..autograd import grad_mode
from ..autograd.function import Function
from ..backend import array_module
from .gemv_sum import sum_dims
from .promotion import cast
from .shape import broadcast_view

__all__ = [
    "sum", "mean", "nansum", "nanmean", "prod", "all", "any", "count_nonzero", "cumsum",
    "cumprod",
]

_mode = grad_mode.state
_INTEGRAL = "biu"  # numpy kinds that sum/prod/cumsum promote to int64, as torch


def normalize_dims(op: str, dim, ndim: int):
    """``dim`` (None, int or sequence) as a sorted tuple of non-negative dims, or None for
    "all dims" (also for an empty sequence and for a valid dim of a 0-d tensor)."""
    if dim is None:
        return None
    if isinstance(dim, int):
        d = wrap_dim(dim, ndim, op)
        return (d,) if ndim else None
    if not isinstance(dim, (tuple, list)):
        return normalize_dims(op, operator.index(dim), ndim)
    dims = sorted(wrap_dim(operator.index(d), ndim, op) for d in dim)
    for previous, d in zip(dims, dims[1:], strict=False):
        if previous == d:
            raise RuntimeError(f"{op}: dim {d} appears multiple times in the list of dims")
    return tuple(dims) if dims and ndim else None


def keepdim_shape(shape: tuple, dims) -> tuple:
    """``shape`` with the reduced dims set to 1 (for broadcasting a gradient back)."""
    if dims is None:
        return (1,) * len(shape)
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def reduced_count(shape: tuple, dims) -> int:
    """How many elements each reduced value is computed from."""
    count = 1
    for i, s in enumerate(shape):
        if dims is None or i in dims:
            count *= s
    return count


def restore_dims(grad: Tensor, shape: tuple, dims, keepdim: bool) -> Tensor:
    """A reduction's output gradient reshaped to broadcast against the input (``keepdim``)."""
    if keepdim:
        return grad
    return grad.reshape(keepdim_shape(shape, dims))


def _with_dtype(input: Tensor, dtype) -> Tensor:  # noqa: A002
    """``input`` cast to ``dtype`` first, as torch's reductions do (gradient flows through)."""
    if dtype is None:
        return input
    return cast(input, dtype.numpy)


# ---------------------------------------------------------------- sum, mean

class Sum(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.input_shape = x.shape
        ctx.dims = dims
        ctx.keepdim = keepdim
        if dtype is None and dims is not None:
            fast = sum_dims(x, dims, keepdim)
            if fast is not None:
                return fast
        return x.sum(axis=dims, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad_out):
        return ReduceGrad.apply(grad_out, ctx.input_shape, ctx.dims, ctx.keepdim, None)

    @staticmethod
    def raw_backward(ctx, grad_out):
        return _spread(grad_out, ctx.input_shape, ctx.dims, ctx.keepdim, None)


class ReduceGrad(Function):
    """The gradient of sum (``count`` None) or mean: the output gradient broadcast back over
    the reduced dims (divided by ``count``). Its own gradient is that sum or mean again, so
    one node serves every order of derivative."""

    raw = True

    @staticmethod
    def forward(ctx, grad, shape, dims, keepdim, count):
        ctx.dims, ctx.keepdim, ctx.count = dims, keepdim, count
        return _spread(grad, shape, dims, keepdim, count)

    @staticmethod
    def backward(ctx, grad_out):
        if not ctx.count:  # sum (or the mean of an empty input: the sum of nothing, 0)
            return Sum.apply(grad_out, ctx.dims, ctx.keepdim, None)
        return Mean.apply(grad_out, ctx.dims, ctx.keepdim, ctx.count)


def _spread(grad, shape, dims, keepdim, count):
    """A sum's (or, with ``count``, a mean's) output gradient as a read-only broadcast view
    over the input's shape."""
    if not keepdim:
        grad = grad.reshape(keepdim_shape(shape, dims))
    if count:  # (count 0: the input, so the result, is empty)
        grad = grad / grad.dtype.type(count)
    return broadcast_view(grad, shape)


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001,A002
    """Sum over ``dim`` (all dims by default). Bool and integer inputs sum to int64.

    Args:
        input: the tensor.
        dim: int, tuple of ints, or None for all dims.
        keepdim: keep the reduced dims with size 1.
        dtype: cast ``input`` to this dtype before summing.

    Returns:
        ``input.shape`` without the reduced dims (or with them as 1 if ``keepdim``).

    Example:
        >>> deepgrad.tensor([[1., 2.], [3., 4.]]).sum(0)
        tensor([4., 6.])
    """
    dims = normalize_dims("sum", dim, input._data.ndim)
    int_dtype = None
    if dtype is not None:
        input = _with_dtype(input, dtype)
    if input._data.dtype.kind in _INTEGRAL and dtype is None:
        int_dtype = array_module(input._data).int64
    return Sum.apply(input, dims, keepdim, int_dtype)


class Mean(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dims, keepdim, count):
        ctx.input_shape = x.shape
        ctx.dims = dims
        ctx.keepdim = keepdim
        ctx.count = count
        if count == 0:  # the mean of nothing is nan, as torch (numpy would also warn)
            shape = x.sum(axis=dims, keepdims=keepdim).shape
            return array_module(x).full(shape, float("nan"), dtype=x.dtype)
        if x.dtype.itemsize < 4:  # float16: numpy's mean accumulates in float32
            return x.mean(axis=dims, keepdims=keepdim)
        result = None if dims is None else sum_dims(x, dims, keepdim)
        if result is None:
            result = x.sum(axis=dims, keepdims=keepdim)
        if result.ndim:
            result /= x.dtype.type(count)
            return result
        return result / x.dtype.type(count)

    @staticmethod
    def backward(ctx, grad_out):
        return ReduceGrad.apply(grad_out, ctx.input_shape, ctx.dims, ctx.keepdim, ctx.count)

    @staticmethod
    def raw_backward(ctx, grad_out):
        return _spread(grad_out, ctx.input_shape, ctx.dims, ctx.keepdim, ctx.count)


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """Arithmetic mean over ``dim`` (all dims by default); the mean of no elements is nan.

    Args:
        input: a floating-point tensor (integer input needs ``dtype=``).
        dim: int, tuple of ints, or None for all dims.
        keepdim: keep the reduced dims with size 1.
        dtype: cast ``input`` to this dtype first.

    Example:
        >>> deepgrad.tensor([[1., 2.], [3., 4.]]).mean(1)
        tensor([1.5000, 3.5000])
    """
    input = _with_dtype(input, dtype)
    data = input._data
    if data.dtype.kind not in "fc":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype.name}")
    dims = normalize_dims("mean", dim, data.ndim)
    return Mean.apply(input, dims, keepdim, reduced_count(data.shape, dims))


class NanSum(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.save_for_backward(x)
        ctx.dims = dims
        ctx.keepdim = keepdim
        return array_module(x).nansum(x, axis=dims, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        data = x._data
        grad_out = restore_dims(grad_out, data.shape, ctx.dims, ctx.keepdim)
        # nan entries were skipped: they get no gradient (a constant mask)
        keep = ~array_module(data).isnan(data)
        return grad_out * Tensor._make(keep.astype(data.dtype))


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """Sum over ``dim`` treating nan as zero; integer inputs sum to int64.

    Example:
        >>> deepgrad.nansum(deepgrad.tensor([1., float("nan"), 2.]))
        tensor(3.)
    """
    input = _with_dtype(input, dtype)
    dims = normalize_dims("nansum", dim, input._data.ndim)
    int_dtype = None
    if input._data.dtype.kind in _INTEGRAL:
        int_dtype = array_module(input._data).int64
    return NanSum.apply(input, dims, keepdim, int_dtype)


def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """Mean over ``dim`` of the non-nan elements (torch's composition: nansum / count).

    Example:
        >>> deepgrad.nanmean(deepgrad.tensor([1., float("nan"), 2.]))
        tensor(1.5000)
    """
    if input._data.dtype.kind not in "fc":
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {input.dtype.name}")
    data = input._data
    dims = normalize_dims("nanmean", dim, data.ndim)
    count = (~array_module(data).isnan(data)).sum(axis=dims, keepdims=keepdim)
    return nansum(input, dim, keepdim, dtype=dtype) / Tensor._make(count)


# ---------------------------------------------------------------- prod

class Prod(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dim, keepdim, dtype):
        ctx.dim = dim
        ctx.keepdim = keepdim
        # an array, not a numpy scalar, so the saved value is recognised as the output
        result = array_module(x).asarray(x.prod(axis=dim, keepdims=keepdim, dtype=dtype))
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        x, result = ctx.saved_tensors
        data = x._data
        if data.ndim == 0:
            return grad_out
        dims = None if ctx.dim is None else (ctx.dim,)
        grad_out = restore_dims(grad_out, data.shape, dims, ctx.keepdim)
        if not (data == 0).any():
            result = restore_dims(result, data.shape, dims, ctx.keepdim)
            return grad_out * (result / x)
        # With zeros, result / x is 0/0: use the exact product of the other elements.
        if ctx.dim is None:
            return grad_out * omitted_products(x.reshape(-1), 0).reshape(data.shape)
        return grad_out * omitted_products(x, ctx.dim)


def omitted_products(x: Tensor, dim: int) -> Tensor:
    """For each element, the product of the other elements of its slice along ``dim``."""
    data = x._data
    xp = array_module(data)
    n = data.shape[dim]
    if not _mode.enabled:
        # first-order only: exclusive products from the left and from the right, O(n)
        before = [slice(None)] * data.ndim
        after = list(before)
        before[dim], after[dim] = slice(0, n - 1), slice(1, n)
        ones = xp.ones(keepdim_shape(data.shape, (dim,)), dtype=data.dtype)
        left = xp.cumprod(xp.concatenate([ones, data[tuple(before)]], axis=dim), axis=dim)
        tail = xp.flip(data[tuple(after)], axis=dim)
        right = xp.cumprod(xp.concatenate([ones, tail], axis=dim), axis=dim)
        return Tensor._make(left * xp.flip(right, axis=dim))
    # Differentiable (create_graph): row k of an (n, n) matrix holds the slice with element k
    # replaced by 1, so its product is the product of the others. O(n^2) memory, only here.
    last = x.transpose(dim, -1)  # (..., n)
    eye = xp.eye(n, dtype=data.dtype)
    rows = last.unsqueeze(-2) * Tensor._make(1 - eye) + Tensor._make(eye)  # (..., n, n)
    return prod(rows, -1).transpose(dim, -1)


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """Product of all elements, or over one ``dim``; bool and integer inputs give int64.

    The gradient is exact when the input holds zeros (the product of the other elements).

    Args:
        input: the tensor.
        dim: one dim (torch's prod takes no tuple), or None for all elements.
        keepdim: keep the reduced dim with size 1.
        dtype: cast ``input`` to this dtype first.

    Example:
        >>> deepgrad.tensor([[1., 2.], [3., 4.]]).prod(1)
        tensor([ 2., 12.])
    """
    input = _with_dtype(input, dtype)
    data = input._data
    if dim is not None:
        if isinstance(dim, (tuple, list)):
            raise TypeError(f"prod(): dim must be a single int (torch.prod reduces one dim); "
                            f"got dim={dim!r}")
        dim = wrap_dim(dim, data.ndim, "prod") if data.ndim else None
    else:
        keepdim = False  # torch's prod(input) has no keepdim
    int_dtype = array_module(data).int64 if data.dtype.kind in _INTEGRAL else None
    return Prod.apply(input, dim, keepdim, int_dtype)


# ---------------------------------------------------------------- logical reductions

def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001,A002
    """True where every element over ``dim`` is nonzero (uint8 input gives uint8, as torch).

    Example:
        >>> deepgrad.tensor([[1, 0], [1, 1]]).all(1)
        tensor([False,  True])
    """
    data = input._data
    dims = normalize_dims("all", dim, data.ndim)
    result = array_module(data).all(data, axis=dims, keepdims=keepdim)
    return Tensor._make(result.astype(data.dtype) if data.dtype.kind == "u" else result)


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001,A002
    """True where some element over ``dim`` is nonzero (uint8 input gives uint8, as torch).

    Example:
        >>> deepgrad.tensor([[1, 0], [0, 0]]).any(1)
        tensor([ True, False])
    """
    data = input._data
    dims = normalize_dims("any", dim, data.ndim)
    result = array_module(data).any(data, axis=dims, keepdims=keepdim)
    return Tensor._make(result.astype(data.dtype) if data.dtype.kind == "u" else result)


def count_nonzero(input: Tensor, dim=None) -> Tensor:  # noqa: A002
    """Number of nonzero elements over ``dim`` (int64).

    Example:
        >>> deepgrad.count_nonzero(deepgrad.tensor([[0, 1], [2, 3]]), dim=0)
        tensor([1, 2])
    """
    data = input._data
    xp = array_module(data)
    dims = normalize_dims("count_nonzero", dim, data.ndim)
    return Tensor._make(xp.asarray(xp.count_nonzero(data, axis=dims), dtype=xp.int64))


# ---------------------------------------------------------------- scans

class Cumsum(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dim, dtype):
        ctx.dim = dim
        if x.ndim == 0:
            return x.astype(dtype) if dtype is not None else x.copy()
        return array_module(x).cumsum(x, axis=dim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad_out):
        return ReverseCumsum.apply(grad_out, ctx.dim)


class ReverseCumsum(Function):
    """Sums from each position to the end: cumsum's adjoint (and cumsum is its adjoint)."""

    raw = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        if x.ndim == 0:
            return x.copy()
        xp = array_module(x)
        return xp.flip(xp.cumsum(xp.flip(x, axis=dim), axis=dim), axis=dim)

    @staticmethod
    def backward(ctx, grad_out):
        return Cumsum.apply(grad_out, ctx.dim, None)


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:  # noqa: A002
    """Running sum along ``dim``; bool and integer inputs give int64.

    Example:
        >>> deepgrad.tensor([1., 2., 3.]).cumsum(0)
        tensor([1., 3., 6.])
    """
    input = _with_dtype(input, dtype)
    data = input._data
    dim = wrap_dim(dim, data.ndim, "cumsum")
    int_dtype = array_module(data).int64 if data.dtype.kind in _INTEGRAL else None
    return Cumsum.apply(input, dim, int_dtype)


class Cumprod(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dim, dtype):
        ctx.dim = dim
        if x.ndim == 0:
            result = x.astype(dtype) if dtype is not None else x.copy()
        else:
            result = array_module(x).cumprod(x, axis=dim, dtype=dtype)
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        x, result = ctx.saved_tensors
        data, dim = x._data, ctx.dim
        if data.ndim == 0 or data.shape[dim] <= 1:
            return grad_out
        if not (data == 0).any():
            # d result_i / d x_k = result_i / x_k for i >= k
            return ReverseCumsum.apply(result * grad_out, dim) / x
        # With zeros: row k of an (n, n) matrix is the slice with x_k replaced by 1; its
        # cumprod at i >= k is d result_i / d x_k. O(n^2) memory, only with zeros.
        xp = array_module(data)
        n = data.shape[dim]
        eye = xp.eye(n, dtype=data.dtype)
        last = x.transpose(dim, -1)  # (..., n)
        rows = last.unsqueeze(-2) * Tensor._make(1 - eye) + Tensor._make(eye)  # (..., k, i)
        upper = Tensor._make(xp.triu(xp.ones((n, n), dtype=data.dtype)))  # i >= k
        weighted = cumprod(rows, -1) * grad_out.transpose(dim, -1).unsqueeze(-2) * upper
        return weighted.sum(-1).transpose(dim, -1)


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:  # noqa: A002
    """Running product along ``dim``; bool and integer inputs give int64. Exact gradients
    with zeros in the input.

    Example:
        >>> deepgrad.tensor([1., 2., 3.]).cumprod(0)
        tensor([1., 2., 6.])
    """
    input = _with_dtype(input, dtype)
    data = input._data
    dim = wrap_dim(dim, data.ndim, "cumprod")
    int_dtype = array_module(data).int64 if data.dtype.kind in _INTEGRAL else None
    return Cumprod.apply(input, dim, int_dtype)


Tensor.sum = sum
Tensor.mean = mean
Tensor.nansum = nansum
Tensor.nanmean = nanmean
Tensor.prod = prod
Tensor.all = all
Tensor.any = any
Tensor.count_nonzero = count_nonzero
Tensor.cumsum = cumsum
Tensor.cumprod = cumprod
