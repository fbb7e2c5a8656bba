"""Views: outputs that share memory with an input, and what in-place ops on them mean.

As in torch, a view (``y[0:2]``, ``y.view(-1)``, ``y.t()``...) shares its base's version
counter, so modifying either one in place is caught by every backward that saved the
other. An in-place op on a view changes its base too, so the base's graph is rebased: the
base becomes the output of ``CopySlices`` (old base outside the view's region, the view's
new value inside it), and gradients reach both histories. An in-place op on a view of a
leaf that requires grad is an error, as for the leaf itself.

Other views of that base (and the views of a base modified in place itself) still hold the
graph of the old values: each base counts such graph changes (``_epoch``), each view
remembers the count its ``grad_fn`` belongs to, and a view whose count is behind is
re-derived from its base when it is next used (``refresh``: a ``ViewOf`` node reading the
view's positions in the base), as torch regenerates a view's grad_fn.

Views are found where ops run (``Function.apply``): an output array whose memory root is an
input's memory root. Nothing is recorded per op unless the output has a NumPy ``base``.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from . import function as _function
from .function import Function


def _root(array):
    while hasattr(array.base, "base"):  # stop at non-array owners (worker batches: bytes)
        array = array.base
    return array


def link_views(args, outputs) -> None:
    """Mark outputs that alias an input's memory as views of it (see module docstring)."""
    Tensor = _function.Tensor  # noqa: N806 - the class, set once _tensor is imported
    for out in outputs if type(outputs) is tuple else (outputs,):
        data = getattr(out, "_data", None)
        if data is None or data.base is None:
            continue
        source = None
        for a in args:  # usually the output is a direct view of an input's array
            if isinstance(a, Tensor) and data.base is a._data:
                source = a
                break
        else:
            root = _root(data)
            for a in args:
                if isinstance(a, Tensor) and _root(a._data) is root:
                    source = a
                    break
        if source is not None:
            _link(out, source)


def _link(out, source) -> None:
    # The version counter lives on the root of the alias chain (views and detached aliases).
    # The differentiable base is that same root unless the chain passes through a detached
    # alias (rare: only then is it stored, to keep view ops cheap).
    out._base = source if source._base is None else source._base
    if source._detached:
        out._view_base = source
    elif source._view_base is not None:
        out._view_base = source._view_base
    base = view_base_of(out)
    if base is not None and base._epoch:
        out._epoch = base._epoch


def refresh(view) -> None:
    """Re-derive a stale view's grad_fn from its base's current graph (see the docstring)."""
    base = view_base_of(view)
    if base is None or base._epoch == view._epoch:
        return
    view._epoch = base._epoch
    if not base._requires_grad:
        view.grad_fn, view._output_nr, view._requires_grad = None, 0, False
        return
    indices = view_indices(base._data, view._data)
    derived = ViewOf.apply(base, indices, view._data)
    view.grad_fn, view._output_nr = derived.grad_fn, derived._output_nr
    view._requires_grad = derived._requires_grad


class ViewOf(Function):
    """A view's values read from its base at flat ``indices`` (the forward returns the view's
    own array: nothing is copied); the gradient goes back to those positions."""

    raw = True

    @staticmethod
    def forward(ctx, base, indices, view):
        ctx.indices, ctx.shape = indices, base.shape
        return view

    @staticmethod
    def backward(ctx, grad_out):
        from .. import zeros  # noqa: PLC0415 - the ops package imports autograd

        Tensor = _function.Tensor  # noqa: N806
        xp = backend.array_module(grad_out._data)
        flat = zeros(int(np.prod(ctx.shape)), dtype=grad_out.dtype)
        index = Tensor._make(xp.asarray(ctx.indices).reshape(-1))
        grad = flat.index_add(0, index, grad_out.reshape(-1)).reshape(ctx.shape)
        return grad, None, None


def view_base_of(t):
    """The tensor whose graph an in-place op on ``t`` must rebase, or None if ``t`` is not a
    view (a detached alias shares the version counter but is not a view)."""
    if t._base is None or t._detached:
        return None
    return t._base if t._view_base is None else t._view_base


def make_view(data, base):
    """A Tensor over ``data``, a view of ``base``'s array, linked as ``Function.apply`` links
    views: for ops that build a view without going through apply (no-grad fast paths)."""
    out = _function.Tensor._make(data)
    _link(out, base)
    return out


def view_indices(base, view) -> np.ndarray:
    """Flat (C-order) positions in ``base`` of each element of ``view``, shaped like ``view``.

    Works for any strided view (slices, transposes, reshapes, diagonals) from the byte
    offsets of both arrays into their shared memory.
    """
    itemsize = base.itemsize

    def offsets(array):
        out = np.zeros((), np.int64)
        for size, stride in zip(array.shape, array.strides, strict=True):
            out = out[..., None] + np.arange(size, dtype=np.int64) * stride
        return out

    base_offsets = offsets(base).reshape(-1)
    view_offsets = offsets(view) + (_address(view) - _address(base))
    order = np.argsort(base_offsets, kind="stable")
    sorted_offsets = base_offsets[order]
    found = np.clip(np.searchsorted(sorted_offsets, view_offsets), 0, max(len(order) - 1, 0))
    if base_offsets.size == 0 or np.any(sorted_offsets[found] != view_offsets):
        raise RuntimeError("in-place op on a view: could not locate the view inside its base "
                           f"(item size {itemsize})")
    return order[found]


def _address(array) -> int:
    if isinstance(array, np.ndarray):
        return array.__array_interface__["data"][0]
    return array.data.ptr  # CuPy


class CopySlices(Function):
    """The base after an in-place op on one of its views: ``old`` outside the view's region,
    the view's new value inside it. The forward has already happened in memory."""

    raw = True

    @staticmethod
    def forward(ctx, old, view, indices):
        ctx.indices = indices
        return old

    def name(self) -> str:
        return "CopySlices"

    @staticmethod
    def backward(ctx, grad_out):
        from .. import take  # noqa: PLC0415 - the ops package imports autograd

        Tensor = _function.Tensor  # noqa: N806
        xp = backend.array_module(grad_out._data)
        indices = Tensor._make(xp.asarray(ctx.indices))
        grad_old = grad_view = None
        if ctx.needs_input_grad[0]:
            keep = xp.ones(grad_out._data.size, grad_out._data.dtype)
            keep[xp.asarray(ctx.indices).reshape(-1)] = 0  # the view's region was overwritten
            grad_old = grad_out * Tensor._make(keep.reshape(grad_out._data.shape))
        if ctx.needs_input_grad[1]:
            grad_view = take(grad_out, indices)
        return grad_old, grad_view, None


def rebase(view) -> None:
    """After an in-place op recorded on ``view``, make its base's graph see the change."""
    Tensor = _function.Tensor  # noqa: N806
    base = view_base_of(view)
    indices = view_indices(base._data, view._data)
    old = Tensor._make(base._data, base._requires_grad, base.grad_fn, base._output_nr)
    result = CopySlices.apply(old, view, indices)
    base.grad_fn = result.grad_fn
    base._output_nr = result._output_nr
    base._requires_grad = result._requires_grad
