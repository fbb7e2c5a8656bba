"""``repr`` of a tensor, character for character as torch prints it.

A port of torch's ``_tensor_str`` to NumPy arrays: one formatter per tensor decides between
integer-looking (``1.``), fixed (``1.5000``) and scientific (``1.5000e+08``) notation from
the non-zero finite values, pads every element to one width, wraps rows at ``linewidth``
and summarises tensors above ``threshold`` elements with ``...``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math

import numpy as np

from . import backend


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Set how tensors print (as ``torch.set_printoptions``).

    Args:
        precision: digits after the point for floats (default 4).
        threshold: element count above which tensors are summarised (default 1000).
        edgeitems: items shown at each end of a summarised dimension (default 3).
        linewidth: characters per line (default 80).
        profile: "default", "short" or "full" presets.
        sci_mode: force scientific notation on (True) or off (False); None chooses.

    Example:
        >>> deepgrad.set_printoptions(precision=2)
        >>> deepgrad.tensor([1.12345])
        tensor([1.12])
    """
    presets = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
               "full": (4, math.inf, 3, 80)}
    if profile is not None:
        (PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems,
         PRINT_OPTS.linewidth) = presets[profile]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current print options, as keyword arguments for ``set_printoptions``."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Context manager that sets print options temporarily."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Chooses one notation and width for all elements of a (summarised) array."""

    def __init__(self, array: np.ndarray):
        self.floating = array.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = array.reshape(-1)
        if not self.floating:
            for value in flat.tolist():
                self.max_width = max(self.max_width, len(f"{value}"))
            return
        values = flat[np.isfinite(flat) & (flat != 0)]
        if values.size == 0:
            return
        magnitudes = np.abs(values.astype(np.float64))
        low, high = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(np.all(values == np.ceil(values)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = bool(high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4)
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        precision = PRINT_OPTS.precision
        for value in values.tolist():
            if self.sci_mode:
                width = len(f"{value:.{precision}e}")
            elif self.int_mode:
                width = len(f"{value:.0f}") + 1  # the trailing "." marks a float
            else:
                width = len(f"{value:.{precision}f}")
            self.max_width = max(self.max_width, width)

    def format(self, value) -> str:
        if not self.floating:
            text = f"{value}"
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{PRINT_OPTS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if not (math.isinf(value) or math.isnan(value)):
                text += "."
        else:
            text = f"{value:.{PRINT_OPTS.precision}f}"
        return (self.max_width - len(text)) * " " + text


class _ComplexFormatter:
    """torch's complex printing: real and imaginary parts each get their own ``_Formatter``
    (``1.0000+2.j``); ``max_width`` counts both and the ``j``."""

    def __init__(self, array: np.ndarray):
        self.real, self.imag = _Formatter(array.real), _Formatter(array.imag)
        self.max_width = self.real.max_width + self.imag.max_width + 1

    def format(self, value) -> str:
        real = self.real.format(value.real)
        imag = (self.imag.format(value.imag) + "j").lstrip()
        return real + imag if imag[0] in "+-" else real + "+" + imag


def _summarized(array: np.ndarray) -> np.ndarray:
    """Only the elements a summarised print shows (torch's get_summarized_data)."""
    edge = PRINT_OPTS.edgeitems
    if array.ndim == 0:
        return array
    if array.ndim == 1:
        if array.shape[0] > 2 * edge:
            return np.concatenate((array[:edge], array[-edge:] if edge else array[:0]))
        return array
    if not edge:
        return np.empty((0,) * array.ndim, array.dtype)
    rows = list(array[:edge]) + list(array[-edge:]) if array.shape[0] > 2 * edge else list(array)
    return np.stack([_summarized(row) for row in rows])


def _vector_str(array, indent, summarize, formatter) -> str:
    element_length = formatter.max_width + 2  # with the comma and space
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))
    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        data = ["..."]
    elif summarize and array.shape[0] > 2 * edge:
        data = ([formatter.format(v) for v in array[:edge].tolist()] + [" ..."]
                + [formatter.format(v) for v in array[-edge:].tolist()])
    else:
        data = [formatter.format(v) for v in array.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _array_str(array, indent, summarize, formatter) -> str:
    if array.ndim == 0:
        return formatter.format(array.item())
    if array.ndim == 1:
        return _vector_str(array, indent, summarize, formatter)
    edge = PRINT_OPTS.edgeitems
    if summarize and array.shape[0] > 2 * edge:
        rows = ([_array_str(array[i], indent + 1, summarize, formatter) for i in range(edge)]
                + ["..."]
                + [_array_str(array[i], indent + 1, summarize, formatter)
                   for i in range(array.shape[0] - edge, array.shape[0])])
    else:
        rows = [_array_str(row, indent + 1, summarize, formatter) for row in array]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _add_suffixes(text: str, suffixes, indent: int) -> str:
    parts = [text]
    last_line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_length + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_length = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_length += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def _default_complex(default):
    """The complex dtype torch leaves unnamed: the one matching the default float dtype."""
    return backend.complex128 if default is backend.float64 else backend.complex64


def tensor_repr(t, prefix: str = "tensor(") -> str:
    """``tensor([...], <suffixes>)`` exactly as torch prints the same values."""
    array = backend.move_array(t._data, backend.CPU)
    indent = len(prefix)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    dtype = backend.from_numpy_dtype(array.dtype)
    default = backend.get_default_dtype()
    if array.size == 0:
        if array.ndim != 1:  # the shape of an empty tensor is shown unless it is (0,)
            suffixes.append(f"size={tuple(array.shape)}")
        if dtype is not default:
            suffixes.append(f"dtype={dtype!r}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(array.shape)}")
        if dtype not in (default, backend.int64, backend.bool_, _default_complex(default)):
            suffixes.append(f"dtype={dtype!r}")
        summarize = array.size > PRINT_OPTS.threshold
        shown = _summarized(array) if summarize else array
        formatter = (_ComplexFormatter if array.dtype.kind == "c" else _Formatter)(shown)
        body = _array_str(array, indent, summarize, formatter)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
