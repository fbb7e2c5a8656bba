"""``repr`` of a tensor in torch's layout: ``tensor([1.5000, 2.0000], grad_fn=<MulBackward0>)``."""

from __future__ import annotations

import numpy as np

from . import backend

_PREFIX = "tensor("


def _float_formatter(values: np.ndarray):
    finite = values[np.isfinite(values)]
    if finite.size == 0 or np.all(finite == np.round(finite)):
        big = finite.size and np.abs(finite).max() >= 1e8
        if big:
            return lambda x: f"{x:.4e}"
        return lambda x: f"{x:.0f}." if np.isfinite(x) else f"{x}"
    abs_finite = np.abs(finite)
    nonzero = abs_finite[abs_finite > 0]
    lo = nonzero.min() if nonzero.size else 0.0
    hi = abs_finite.max()
    if hi >= 1e8 or (lo and lo < 1e-4) or (lo and hi / lo > 1000):
        return lambda x: f"{x:.4e}"
    return lambda x: f"{x:.4f}"


def _formatter(values: np.ndarray):
    kind = values.dtype.kind
    if kind == "f":
        fmt = _float_formatter(values.astype(np.float64))
    elif kind == "b":
        return lambda x: "True" if x else "False"
    else:
        fmt = str
    return fmt


def tensor_repr(t) -> str:
    array = backend.move_array(t._data, backend.CPU)
    suffix = []
    if array.size == 0 and array.shape != (0,):
        suffix.append(f"size={tuple(array.shape)}")
    default = backend.get_default_dtype().numpy
    if array.dtype not in (default, np.dtype(np.int64), np.dtype(np.bool_)):
        suffix.append(f"dtype=deepgrad.{backend.from_numpy_dtype(array.dtype).name}")
    if t.device.type != "cpu":
        suffix.insert(0, f"device='{t.device}'")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffix.append("requires_grad=True")
    fmt = _formatter(array)
    texts = np.vectorize(fmt, otypes=[object])(array) if array.size else array.astype(object)
    width = max((len(s) for s in texts.ravel()), default=0)
    body = _nested(texts, width, len(_PREFIX) + 1)
    return _PREFIX + body + "".join(", " + s for s in suffix) + ")"


def _nested(texts, width: int, indent: int) -> str:
    if texts.ndim == 0:
        return texts.item()
    if texts.ndim == 1:
        items = [s.rjust(width) for s in texts]
        if len(items) > 1000:
            items = items[:3] + ["..."] + items[-3:]
        return "[" + ", ".join(items) + "]"
    separator = "," + "\n" * (texts.ndim - 1) + " " * indent
    rows = [_nested(sub, width, indent + 1) for sub in texts]
    return "[" + separator.join(rows) + "]"
