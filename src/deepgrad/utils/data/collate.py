"""Merging samples into batches: ``default_collate``, ``default_convert`` and ``collate``.

Same rules as ``torch.utils.data.default_collate``: tensors are stacked, NumPy arrays become
stacked tensors, Python floats a float64 tensor, ints an int64 tensor (bools a bool tensor),
strings stay a list, mappings are collated per key, namedtuples keep their type and other
sequences are transposed (a tuple sample gives a *list* of batched fields, as torch).

Batches are built from the raw arrays with one ``xp.stack`` and wrapped with ``Tensor._make``:
no autograd node is recorded unless a sample requires grad.

``StackedSamples`` is the batch form of the fast path: an array-backed dataset's
``__getitems__`` gathers a whole batch with one fancy index per field and returns the fields
already stacked; ``default_collate`` then hands them out without touching single samples.
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable

import numpy as np

from ... import backend
from ..._creation import tensor
from ..._tensor import Tensor

__all__ = ["default_collate", "default_convert", "collate", "default_collate_fn_map",
           "StackedSamples"]

np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, "
    "dicts or lists; found {}"
)


class StackedSamples(collections.abc.Sequence):
    """A batch of tuple samples stored as one stacked tensor per field.

    Returned by ``TensorDataset.__getitems__``: ``fields[k][i]`` is field ``k`` of sample ``i``.
    It behaves as the list of sample tuples a ``__getitems__`` returns (``len``, indexing,
    iteration), and ``default_collate`` turns it into the list of fields without a copy.

    Args:
        fields: tensors sharing their first dimension (the batch).

    Example:
        >>> batch = StackedSamples((deepgrad.zeros(4, 2), deepgrad.arange(4)))
        >>> x, y = batch[1]
        >>> [f.shape for f in default_collate(batch)]
        [deepgrad.Size([4, 2]), deepgrad.Size([4])]
    """

    __slots__ = ("fields",)

    def __init__(self, fields):
        self.fields = tuple(fields)

    def __len__(self) -> int:
        return self.fields[0]._data.shape[0]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return StackedSamples(Tensor._make(f._data[index]) for f in self.fields)
        return tuple(Tensor._make(f._data[index]) for f in self.fields)

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(f._data.shape)) for f in self.fields)
        return f"StackedSamples({len(self)} samples; fields {shapes})"


def _is_namedtuple(value) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def _numpy_to_tensor(array) -> Tensor:
    backend.from_numpy_dtype(array.dtype)  # TypeError naming the dtype deepgrad lacks
    return Tensor._make(array)


def default_convert(data):
    """Convert NumPy arrays (also inside mappings and sequences) to tensors; keep the rest.

    The collate function used when automatic batching is off (``batch_size=None``).

    Args:
        data: one sample.

    Returns:
        The sample with every NumPy array / NumPy scalar replaced by a tensor; tuples become
        lists (torch's rule), namedtuples keep their type.

    Example:
        >>> default_convert((np.array([0, 1]), 2))
        [tensor([0, 1]), 2]
    """
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        if elem_type.__name__ == "ndarray" and np_str_obj_array_pattern.search(data.dtype.str):
            return data
        return _numpy_to_tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(data[key]) for key in data}
        return _rebuild_mapping(data, converted)
    if _is_namedtuple(data):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(elem, converted: dict):
    """A mapping of ``elem``'s type holding ``converted``: torch keeps dict subclasses."""
    try:
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(converted)
            return clone
        return type(elem)(converted)
    except TypeError:
        return converted


def _rebuild_sequence(elem, converted: list):
    try:
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for i, value in enumerate(converted):
                clone[i] = value
            return clone
        return type(elem)(converted)
    except TypeError:
        return converted


def collate(batch, *, collate_fn_map: dict | None = None):
    """Collate ``batch`` (a sequence of samples) using per-type functions from ``collate_fn_map``.

    The general engine behind ``default_collate``: the element type of ``batch[0]`` selects a
    function from ``collate_fn_map`` (exact type first, then the first matching base class);
    mappings, namedtuples and sequences are collated field by field.

    Args:
        batch: the samples of one batch.
        collate_fn_map: ``{type or tuple of types: fn(batch, *, collate_fn_map)}``.

    Returns:
        The collated batch.

    Example:
        >>> collate([1, 2], collate_fn_map={int: lambda b, *, collate_fn_map: sum(b)})
        3
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                    for key in elem}
        return _rebuild_mapping(elem, collated)
    if _is_namedtuple(elem):
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map)
                           for samples in zip(*batch, strict=False)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [collate(samples, collate_fn_map=collate_fn_map)
                  for samples in zip(*batch, strict=True)]
        if isinstance(elem, tuple):
            return fields  # torch returns a list for tuple samples (backwards compatibility)
        return _rebuild_sequence(elem, fields)
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None) -> Tensor:
    """Stack same-shaped tensors along a new first dimension."""
    first = batch[0]._data
    for i, t in enumerate(batch):
        if t._data.shape != first.shape:
            raise RuntimeError(
                "stack expects each tensor to be equal size, but got "
                f"{list(first.shape)} at entry 0 and {list(t._data.shape)} at entry {i}"
            )
    if any(t._requires_grad for t in batch):
        from ... import stack  # noqa: PLC0415 - differentiable stacking only when needed

        return stack(list(batch), 0)
    xp = backend.array_module(first)
    return Tensor._make(xp.stack([t._data for t in batch]))


def collate_numpy_array_fn(batch, *, collate_fn_map=None) -> Tensor:
    """Stack NumPy arrays into one tensor (object and string arrays are refused, as torch)."""
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate_tensor_fn([_numpy_to_tensor(b) for b in batch])


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None) -> Tensor:
    """NumPy scalars keep their dtype: ``np.float32`` values give a float32 tensor."""
    return _numpy_to_tensor(np.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None) -> Tensor:
    """Python floats give a float64 tensor (not the default dtype), as torch."""
    return Tensor._make(np.array(batch, dtype=np.float64))


def collate_int_fn(batch, *, collate_fn_map=None) -> Tensor:
    """Python ints give an int64 tensor (all bools: bool), with ``tensor()``'s inference."""
    return tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    """Strings and bytes stay a list."""
    return batch


default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Put each field of the samples into a tensor with a new outer (batch) dimension.

    The collate function a ``DataLoader`` uses with automatic batching. Type mapping:
    Tensor -> stacked Tensor; NumPy array -> stacked Tensor; float -> float64 Tensor;
    int -> int64 Tensor; str/bytes -> unchanged list; ``Mapping[K, V_i]`` ->
    ``Mapping[K, default_collate([V_1, V_2, ...])]``; namedtuple -> same namedtuple of
    collated fields; other sequences (tuples included) -> a list of collated fields.

    Args:
        batch: a sequence of samples (or a ``StackedSamples``, returned as its fields).

    Returns:
        The collated batch.

    Example:
        >>> default_collate([(0, 1.0), (1, 2.0)])
        [tensor([0, 1]), tensor([1., 2.], dtype=deepgrad.float64)]
    """
    if type(batch) is StackedSamples:
        return list(batch.fields)  # the fast path: fields were gathered already stacked
    return collate(batch, collate_fn_map=default_collate_fn_map)
