"""Tensor factories with torch's dtype inference: ``tensor``, ``zeros``, ``arange``, ``rand``...

Python data: bools -> bool, ints -> int64, any float -> the default dtype. NumPy arrays
keep their dtype. Random factories draw from ``backend.default_generator`` (or the
``generator`` argument), so ``manual_seed`` makes them reproducible.
"""

from __future__ import annotations

import numpy as np

from . import backend
from ._tensor import Tensor

_FLOAT_KIND = "f"


def _np_dtype(dtype):
    return None if dtype is None else backend.to_numpy_dtype(dtype)


def _xp(device):
    if device is None or backend.device(device).type == "cpu":
        return np
    return backend.cupy_module()


def _finish(array, dtype, device, requires_grad):
    if device is not None and backend.device(device).type != "cpu":
        array = backend.move_array(array, backend.device(device))
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_array(data, dtype=None):
    """NumPy array from Python data / arrays / tensors with torch's dtype inference."""
    if isinstance(data, Tensor):
        array = backend.move_array(data._data, backend.CPU)
        return array.astype(_np_dtype(dtype)) if dtype is not None else array.copy()
    if isinstance(data, (np.ndarray, np.generic)):  # NumPy arrays and scalars keep dtype
        array = np.asarray(data)
        if dtype is None:
            backend.from_numpy_dtype(array.dtype)  # TypeError for unsupported dtypes
            return array.copy()
        return array.astype(_np_dtype(dtype))
    if isinstance(data, (list, tuple)) and _contains_tensor(data):
        data = _tensors_to_lists(data)
    array = np.array(data)
    if array.dtype == object:
        raise TypeError(f"tensor(): could not infer dtype of {type(data).__name__} with ragged or "
                        "non-numeric elements")
    if dtype is not None:
        return array.astype(_np_dtype(dtype))
    kind = array.dtype.kind
    if kind == "f":
        return array.astype(backend.get_default_dtype().numpy)
    if kind in "iu":
        return array.astype(np.int64)
    if kind == "b":
        return array
    if kind == "c":
        return array.astype(np.complex64)
    raise TypeError(f"tensor(): could not infer dtype of {type(data).__name__}")


def _contains_tensor(data) -> bool:
    return any(isinstance(x, Tensor) or isinstance(x, (list, tuple)) and _contains_tensor(x)
               for x in data)


def _tensors_to_lists(data):
    return [x.tolist() if isinstance(x, Tensor) else
            _tensors_to_lists(x) if isinstance(x, (list, tuple)) else x for x in data]


def tensor(data, dtype=None, device=None, requires_grad: bool = False, pin_memory=False) -> Tensor:
    """A new tensor copying ``data`` (a number, nested list, NumPy array or tensor).

    Example:
        >>> deepgrad.tensor([[1, 2], [3, 4]]).dtype
        deepgrad.int64
    """
    return _finish(_infer_array(data, dtype), dtype, device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or tensor when no cast is needed."""
    if isinstance(data, Tensor):
        if dtype is None or data.dtype == dtype:
            return data if device is None else data.to(device)
        return data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == _np_dtype(dtype)):
        return _finish(data, None, device, False)
    return tensor(data, dtype, device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A CPU tensor sharing memory with ``array`` (writes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    backend.from_numpy_dtype(array.dtype)
    return Tensor._make(array)


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = tuple(int(s) for s in size)
    for s in out:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(out)}")
    return out


def _float_or(dtype):
    return backend.get_default_dtype().numpy if dtype is None else _np_dtype(dtype)


def _filled(fill, size, dtype, device, requires_grad, layout=None, out=None):
    array = _xp(None).full(_size(size), fill, dtype=_float_or(dtype))
    return _finish(array, dtype, device, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, layout=None, out=None) -> Tensor:
    """A tensor of zeros of the given size (default float dtype)."""
    return _filled(0, size, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, layout=None, out=None) -> Tensor:
    """A tensor of ones of the given size (default float dtype)."""
    return _filled(1, size, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, layout=None, out=None,
          memory_format=None, pin_memory=False) -> Tensor:
    """An uninitialised tensor (deepgrad fills it with zeros, which torch allows)."""
    return _filled(0, size, dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False, layout=None,
         out=None) -> Tensor:
    """A tensor filled with ``fill_value``; its dtype is inferred from the value as torch does."""
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = backend.bool_
        elif isinstance(fill_value, int):
            dtype = backend.int64
    array = np.full(_size((size,) if isinstance(size, int) else tuple(size)), fill_value,
                    dtype=_float_or(dtype))
    return _finish(array, dtype, device, requires_grad)


def _like(t: Tensor, dtype):
    return t._data.dtype if dtype is None else _np_dtype(dtype)


def zeros_like(input: Tensor, dtype=None, device=None, requires_grad=False,  # noqa: A002
               memory_format=None) -> Tensor:
    array = np.zeros(input._data.shape, _like(input, dtype))
    return _finish(array, dtype, device or input.device, requires_grad)


def ones_like(input: Tensor, dtype=None, device=None, requires_grad=False,  # noqa: A002
              memory_format=None) -> Tensor:
    array = np.ones(input._data.shape, _like(input, dtype))
    return _finish(array, dtype, device or input.device, requires_grad)


empty_like = zeros_like


def full_like(input: Tensor, fill_value, dtype=None, device=None,  # noqa: A002
              requires_grad=False, memory_format=None) -> Tensor:
    array = np.full(input._data.shape, fill_value, _like(input, dtype))
    return _finish(array, dtype, device or input.device, requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False,
           out=None) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) in steps of ``step``.

    Integer arguments give int64, any float gives the default float dtype (torch's rule).
    """
    if end is None:
        start, end = 0, start
    start, end, step = (x.item() if isinstance(x, Tensor) else x for x in (start, end, step))
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            "arange: upper bound and larger bound inconsistent with step sign; "
            f"got start = {start}, end = {end}, step = {step}"
        )
    if dtype is None:
        is_int = all(isinstance(x, (int, np.integer)) and not isinstance(x, bool)
                     for x in (start, end, step))
        dtype = backend.int64 if is_int else backend.get_default_dtype()
    count = int(np.ceil((end - start) / step))
    # torch computes start + i*step in double, then casts.
    array = (start + np.arange(count, dtype=np.float64) * step).astype(_np_dtype(dtype))
    if _np_dtype(dtype).kind in "iu":
        array = (np.int64(start) + np.arange(count, dtype=np.int64) * np.int64(step)).astype(
            _np_dtype(dtype)) if all(isinstance(x, (int, np.integer)) for x in (start, step)) \
            else array
    return _finish(array, dtype, device, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None, requires_grad=False,
             out=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    array = np.linspace(float(start), float(end), int(steps)).astype(_float_or(dtype))
    return _finish(array, dtype, device, requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None,
             requires_grad=False) -> Tensor:
    array = np.power(base, np.linspace(float(start), float(end), int(steps))).astype(
        _float_or(dtype))
    return _finish(array, dtype, device, requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, device=None, requires_grad=False,
        out=None) -> Tensor:
    """The n x m identity matrix."""
    return _finish(np.eye(n, m, dtype=_float_or(dtype)), dtype, device, requires_grad)


# ---------------------------------------------------------------- random

def _random(draw, size, dtype, device, requires_grad, generator):
    array = draw(backend.rng(generator), _size(size)).astype(_float_or(dtype), copy=False)
    return _finish(array, dtype, device, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    """Uniform samples on [0, 1)."""
    return _random(lambda g, s: g.random(s), size, dtype, device, requires_grad, generator)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False,
          out=None) -> Tensor:
    """Standard normal samples."""
    return _random(lambda g, s: g.standard_normal(s), size, dtype, device, requires_grad,
                   generator)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    """Integers uniform on [low, high) (int64 by default)."""
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    array = backend.rng(generator).integers(low, high, _size((size,) if isinstance(size, int)
                                                             else tuple(size)))
    return _finish(array.astype(_np_dtype(dtype) or np.int64), dtype, device, requires_grad)


def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    array = backend.rng(generator).permutation(int(n)).astype(_np_dtype(dtype) or np.int64)
    return _finish(array, dtype, device, requires_grad)


def rand_like(input: Tensor, dtype=None, device=None, requires_grad=False,  # noqa: A002
              generator=None) -> Tensor:
    return rand(*input.shape, dtype=dtype or input.dtype, device=device,
                requires_grad=requires_grad, generator=generator)


def randn_like(input: Tensor, dtype=None, device=None, requires_grad=False,  # noqa: A002
               generator=None) -> Tensor:
    return randn(*input.shape, dtype=dtype or input.dtype, device=device,
                 requires_grad=requires_grad, generator=generator)


def randint_like(input: Tensor, low, high=None, dtype=None, device=None,  # noqa: A002
                 requires_grad=False) -> Tensor:
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, device=device)


def _construct(t: Tensor, *args, dtype=None, device=None, requires_grad=False):
    """``Tensor(data)`` / ``Tensor(*sizes)``: torch's legacy constructor (default dtype)."""
    if len(args) == 1 and not isinstance(args[0], int):
        array = _infer_array(args[0], dtype or backend.get_default_dtype())
    else:
        array = np.zeros(_size(args), dtype=_float_or(dtype))
    Tensor._init_like(t, array, False)
    if requires_grad:
        t.requires_grad_(True)
