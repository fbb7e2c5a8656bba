"""The public boundary of every multi-operand op: Python scalars, dtype promotion and
broadcasting are normalised here once, so Function kernels see arrays of one dtype and
(for operands that need a gradient) one shape.

Promotion follows torch's rule (c10 ``result_type``): operands are ranked
dimensioned tensor > zero-dim tensor > Python scalar; a lower rank only changes the result
when it is of a higher category (bool < integer < floating), and a Python float then means
the default dtype.
"""

from __future__ import annotations

import numpy as np

from .. import _errors, backend
from .._tensor import Tensor

_BOOL = np.dtype(np.bool_)
_INT64 = np.dtype(np.int64)


def _category(d: np.dtype) -> int:
    kind = d.kind
    return 0 if kind == "b" else 2 if kind in "fc" else 1


def _combine(higher, lower):
    """torch's combine_categories: keep ``higher`` unless ``lower`` is a higher category."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if _category(higher) == 2:
        return higher
    if _category(lower) > _category(higher):  # int32 * float16 0-d -> float16, as torch
        return lower
    if higher.kind == "b":
        return np.promote_types(higher, lower)
    return higher


def _scalar_dtype(value) -> np.dtype:
    if isinstance(value, (bool, np.bool_)):
        return _BOOL
    if isinstance(value, (int, np.integer)):
        return _INT64
    if isinstance(value, (float, np.floating)):
        return backend.get_default_dtype().numpy
    if isinstance(value, complex):
        return np.dtype(np.complex64)
    raise TypeError(f"unsupported operand type {type(value).__name__}")


def result_type(*operands) -> np.dtype:
    """The NumPy dtype torch gives an op on these tensors and Python scalars."""
    dim_result = zero_result = scalar_result = None
    for x in operands:
        if hasattr(x, "__array_priority__") and not isinstance(x, (Tensor, np.generic)):
            # a raw array (kernels pass masks) acts as a constant tensor; a NumPy scalar
            # (np.float64(1.5)) counts as a Python number, as in torch
            x = Tensor._make(x)
        if isinstance(x, Tensor):
            d = x._data.dtype
            if x._data.ndim:
                dim_result = d if dim_result is None else _promote_same_rank(dim_result, d)
            else:
                zero_result = d if zero_result is None else _promote_same_rank(zero_result, d)
        else:
            d = _scalar_dtype(x)
            scalar_result = d if scalar_result is None else _promote_same_rank(scalar_result, d)
    return _combine(dim_result, _combine(zero_result, scalar_result))


def _promote_same_rank(a: np.dtype, b: np.dtype) -> np.dtype:
    if a == b:
        return a
    ca, cb = _category(a), _category(b)
    if ca != cb:  # int64 + float32 -> float32 (numpy would say float64)
        return a if ca > cb else b
    return np.promote_types(a, b)


def broadcast_shapes(op: str, a_shape: tuple, b_shape: tuple, a_name="input", b_name="other"):
    """Broadcast two shapes; RuntimeError naming the op and both shapes when they clash."""
    if len(a_shape) < len(b_shape):
        a_pad = (1,) * (len(b_shape) - len(a_shape)) + tuple(a_shape)
        b_pad = tuple(b_shape)
    else:
        a_pad = tuple(a_shape)
        b_pad = (1,) * (len(a_shape) - len(b_shape)) + tuple(b_shape)
    out = []
    for i, (x, y) in enumerate(zip(a_pad, b_pad)):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise _errors.op_error(
                RuntimeError, op,
                f"the size of tensor a ({x}) must match the size of tensor b ({y}) at "
                f"non-singleton dimension {i - len(a_pad)} (shapes are not broadcastable)",
                **{a_name: _Shape(a_shape), b_name: _Shape(b_shape)},
            )
    return tuple(out)


class _Shape:
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = tuple(shape)


def as_operand(value, dtype: np.dtype, like) -> Tensor:
    """A Python scalar or array-like as a constant tensor of ``dtype`` on ``like``'s device."""
    xp = backend.array_module(like._data) if isinstance(like, Tensor) else np
    return Tensor._make(xp.asarray(value, dtype=dtype))


def cast(t: Tensor, dtype: np.dtype) -> Tensor:
    """``t`` in ``dtype``: differentiable when a gradient must flow, a plain copy otherwise."""
    if t._data.dtype == dtype:
        return t
    if t._requires_grad:
        return t.to(backend.from_numpy_dtype(dtype))
    return Tensor._make(t._data.astype(dtype))


def prepare(op: str, *operands, dtype=None, names=("input", "other")):
    """Normalise operands of an elementwise op: scalars become tensors, everyone takes the
    promoted dtype, and every operand that will receive a gradient is expanded (explicitly,
    as a graph node) to the broadcast shape, so kernels never un-broadcast gradients.

    Returns the list of Tensors.
    """
    operands = [Tensor._make(x) if type(x) is np.ndarray else x for x in operands]
    if dtype is None:
        dtype = result_type(*operands)
    like = next((x for x in operands if isinstance(x, Tensor)), None)
    tensors = [
        cast(x, dtype) if isinstance(x, Tensor) else as_operand(x, dtype, like) for x in operands
    ]
    shapes = [t._data.shape for t in tensors]
    first = shapes[0]
    if all(s == first for s in shapes):
        return tensors
    shape = first
    for i in range(1, len(shapes)):
        shape = broadcast_shapes(op, shape, shapes[i], names[0] if i == 1 else "result",
                                 names[min(i, len(names) - 1)])
    record = _grad_state.enabled
    for i, t in enumerate(tensors):
        if record and t._requires_grad and t._data.shape != shape:
            tensors[i] = t.expand(shape)
    return tensors


from ..autograd.grad_mode import state as _grad_state  # noqa: E402


def binary_operands(op: str, input, other, names=("input", "other")):  # noqa: A002
    """``prepare`` for the two-operand case, with fast paths for what training loops do:
    two tensors of one dtype (broadcast or not) and a tensor with a Python number of its
    own kind (``x * 0.5``, ``1 - p``). Everything else takes the general ``prepare``."""
    if isinstance(input, Tensor):
        a = input._data
        if isinstance(other, Tensor):
            b = other._data
            if a.dtype == b.dtype:
                if a.shape == b.shape:
                    return input, other
                return _expand_pair(op, input, other, names)
        elif type(other) in _SAME_KIND and a.dtype.kind in _SAME_KIND[type(other)]:
            return input, Tensor._make(array_module(a).asarray(other, a.dtype))
    elif isinstance(other, Tensor) and type(input) in _SAME_KIND and (
            other._data.dtype.kind in _SAME_KIND[type(input)]):
        b = other._data
        return Tensor._make(array_module(b).asarray(input, b.dtype)), other
    return prepare(op, input, other, names=names)


# A Python float keeps a float tensor's dtype; a Python int keeps any int or float dtype.
_SAME_KIND = {float: "f", int: "fiu"}


def _expand_pair(op, input, other, names):  # noqa: A002
    from .shape import Expand  # noqa: PLC0415 - shape imports this module

    a_shape, b_shape = input._data.shape, other._data.shape
    shape = broadcast_shapes(op, a_shape, b_shape, *names)
    if _grad_state.enabled:
        if input._requires_grad and a_shape != shape:
            input = Expand.apply(input, shape)
        if other._requires_grad and b_shape != shape:
            other = Expand.apply(other, shape)
    return input, other


from ..backend import array_module  # noqa: E402
