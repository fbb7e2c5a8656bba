"""Joining and splitting: cat, stack, hstack, vstack, split, chunk, unbind, meshgrid.

Two adjoint pairs do the work: ``Cat``/``Split`` and ``Stack``/``Unbind``; each is the
other's backward, so all of these are differentiable any number of times.
"""

from __future__ import annotations

from .. import _errors
from .._tensor import Tensor, wrap_dim
from ..autograd.function import Function
from ..backend import array_module
from .promotion import cast, result_type

__all__ = ["cat", "concat", "concatenate", "stack", "hstack", "vstack", "split", "chunk",
           "unbind", "meshgrid"]


class Cat(Function):
    """Concatenate along ``dim``; tensors of shape (0,) are skipped, as torch does."""

    raw = True

    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        ctx.shapes = [a.shape for a in arrays]
        kept = [a for a in arrays if not _skipped(a.shape)] or arrays[:1]
        return array_module(arrays[0]).concatenate(kept, axis=dim)

    @staticmethod
    def backward(ctx, grad_out):
        shapes = ctx.shapes
        kept = [i for i, s in enumerate(shapes) if not _skipped(s)]
        if not kept:
            return tuple(grad_out for _ in shapes)
        pieces = Split.apply(grad_out, tuple(shapes[i][ctx.dim] for i in kept), ctx.dim)
        grads = [None] * len(shapes)
        for i, piece in zip(kept, pieces, strict=True):
            grads[i] = piece
        for i, shape in enumerate(shapes):
            if grads[i] is None and ctx.needs_input_grad[i]:
                grads[i] = Tensor._make(array_module(grad_out._data).zeros(shape,
                                                                          grad_out._data.dtype))
        return tuple(grads)


def _skipped(shape) -> bool:
    return len(shape) == 1 and shape[0] == 0


class Split(Function):
    """Consecutive pieces of ``sizes`` along ``dim`` (views)."""

    raw = True

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        pieces = []
        start = 0
        for size in sizes:
            pieces.append(x[lead + (slice(start, start + size),)])
            start += size
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grad_outs):
        return Cat.apply(*grad_outs, dim=ctx.dim)


def _tensor_list(op: str, tensors) -> list:
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}(): argument 'tensors' must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}(): expected a non-empty list of Tensors")
    dtype = result_type(*tensors)
    return [cast(t, dtype) for t in tensors]


def cat(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Concatenate tensors along an existing dim (dtypes promote; shape-(0,) tensors are
    skipped, as torch does for legacy reasons).

    Args:
        tensors: sequence of tensors with equal sizes except along ``dim``.
        dim: the dim to join along.

    Example:
        >>> deepgrad.cat([deepgrad.zeros(2, 1), deepgrad.ones(2, 2)], dim=1)
        tensor([[0., 1., 1.],
                [0., 1., 1.]])
    """
    tensors = _tensor_list("cat", tensors)
    kept = [(i, t) for i, t in enumerate(tensors) if not _skipped(t._data.shape)]
    if not kept:
        return Cat.apply(*tensors, dim=0)
    first_i, first = kept[0]
    shape = first._data.shape
    if not shape:
        raise RuntimeError(f"zero-dimensional tensor (at position {first_i}) cannot be "
                           "concatenated")
    d = wrap_dim(dim, len(shape), "cat")
    for i, t in kept[1:]:
        other = t._data.shape
        if len(other) != len(shape):
            raise _errors.op_error(
                RuntimeError, "cat", f"Tensors must have same number of dimensions: got "
                f"{len(shape)} and {len(other)}", **{f"tensor {first_i}": first,
                                                     f"tensor {i}": t})
        for k, (a, b) in enumerate(zip(shape, other, strict=True)):
            if k != d and a != b:
                raise _errors.op_error(
                    RuntimeError, "cat", f"Sizes of tensors must match except in dimension "
                    f"{d}. Expected size {a} but got size {b} for tensor number {i} in the list",
                    **{f"tensor {first_i}": first, f"tensor {i}": t})
    return Cat.apply(*tensors, dim=d)


concat = concatenate = cat


class Stack(Function):
    raw = True

    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        return array_module(arrays[0]).stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad_out):
        return Unbind.apply(grad_out, ctx.dim)


class Unbind(Function):
    """All slices along ``dim`` (views), ``dim`` removed."""

    raw = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(x[lead + (i, Ellipsis)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grad_outs):
        return Stack.apply(*grad_outs, dim=ctx.dim)


def stack(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Join equal-shaped tensors along a new dim ``dim``.

    Example:
        >>> deepgrad.stack([deepgrad.zeros(2), deepgrad.ones(2)]).shape
        deepgrad.Size([2, 2])
    """
    if isinstance(tensors, Tensor):
        raise TypeError("stack(): argument 'tensors' must be tuple of Tensors, not Tensor")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    tensors = _tensor_list("stack", tensors)
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shape:
            raise _errors.op_error(
                RuntimeError, "stack", f"stack expects each tensor to be equal size, but got "
                f"{list(shape)} at entry 0 and {list(t._data.shape)} at entry {i}",
                **{"tensor 0": tensors[0], f"tensor {i}": t})
    return Stack.apply(*tensors, dim=wrap_dim(dim, len(shape) + 1, "stack"))


def hstack(tensors, *, out=None) -> Tensor:
    """Concatenate along dim 1 (dim 0 for 1-d tensors); 0-d tensors count as 1-d.

    Example:
        >>> deepgrad.hstack([deepgrad.zeros(2), deepgrad.ones(1)])
        tensor([0., 0., 1.])
    """
    tensors = [t.reshape(1) if t.ndim == 0 else t for t in tensors]
    return cat(tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(tensors, *, out=None) -> Tensor:
    """Concatenate along dim 0 after making every tensor at least 2-d ((n,) -> (1, n)).

    Example:
        >>> deepgrad.vstack([deepgrad.zeros(2), deepgrad.ones(2)]).shape
        deepgrad.Size([2, 2])
    """
    return cat([t.reshape(1, -1) if t.ndim < 2 else t for t in tensors], 0)


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Split into pieces of ``split_size_or_sections`` (an int: equal pieces, the last
    possibly smaller) or of the listed sizes, along ``dim``. Pieces are views.

    Example:
        >>> [p.shape[0] for p in deepgrad.arange(5).split(2)]
        [2, 2, 1]
    """
    shape = tensor._data.shape
    if not shape:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, len(shape), "split")
    size = shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step < 0 or (step == 0 and size):
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {size}")
        sizes = (tuple(min(step, size - s) for s in range(0, size, step)) if step else ()) or (0,)
    else:
        sizes = tuple(int(s) for s in split_size_or_sections)
        if sum(sizes) != size or any(s < 0 for s in sizes):
            raise _errors.op_error(
                RuntimeError, "split", f"split_with_sizes expects split_sizes to sum exactly to "
                f"{size} (input tensor's size at dimension {d}), but got split_sizes="
                f"{list(sizes)}", input=tensor)
    return Split.apply(tensor, sizes, d)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:  # noqa: A002
    """Split into ``chunks`` pieces of ``ceil(size / chunks)`` (fewer if they run out).

    Example:
        >>> [p.shape[0] for p in deepgrad.arange(6).chunk(4)]
        [2, 2, 2]
    """
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    shape = input._data.shape
    if not shape:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, len(shape), "chunk")
    if shape[d] == 0:  # torch gives ``chunks`` empty pieces
        return Split.apply(input, (0,) * chunks, d)
    return split(input, -(-shape[d] // chunks), d)


def unbind(input: Tensor, dim: int = 0) -> tuple:  # noqa: A002
    """All slices along ``dim``, with ``dim`` removed (views).

    Example:
        >>> deepgrad.tensor([[1, 2], [3, 4]]).unbind(1)
        (tensor([1, 3]), tensor([2, 4]))
    """
    ndim = input._data.ndim
    if ndim == 0:
        raise IndexError("unbind: Dimension specified as 0 but tensor has no dimensions")
    return Unbind.apply(input, wrap_dim(dim, ndim, "unbind"))


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-d tensors: with ``indexing='ij'`` (the default) output ``i``
    varies along dim ``i``; ``'xy'`` swaps the first two dims (Cartesian).

    Example:
        >>> x, y = deepgrad.meshgrid(deepgrad.arange(3), deepgrad.arange(2), indexing="ij")
        >>> x.shape
        deepgrad.Size([3, 2])
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    indexing = indexing or "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                         f"received: {indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise _errors.op_error(RuntimeError, "meshgrid", "Expected 0D or 1D tensor in the "
                                   "tensor list", tensor=t)
    sizes = [t.numel() for t in tensors]
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for i, t in enumerate(tensors):
        position = (1 - i if i < 2 else i) if swap else i
        view = [1] * len(tensors)
        view[position] = -1
        grids.append(t.reshape(view).expand(sizes))
    return tuple(grids)


Tensor.split = lambda self, split_size, dim=0: split(self, split_size, dim)
Tensor.chunk = chunk
Tensor.unbind = unbind


# ---------------------------------------------------------------- repeat, tile

__all__ += ["tile"]


class Repeat(Function):
    """Tile ``x`` ``repeats`` times per dim (``repeats`` may add leading dims)."""

    raw = True

    @staticmethod
    def forward(ctx, x, repeats):
        ctx.input_shape = x.shape
        ctx.repeats = repeats
        return array_module(x).tile(x, repeats)

    @staticmethod
    def backward(ctx, grad_out):
        repeats = ctx.repeats
        shape = (1,) * (len(repeats) - len(ctx.input_shape)) + tuple(ctx.input_shape)
        # (r0, s0, r1, s1, ...): every copy of the input gets its own leading axis, summed out
        split = []
        for r, s in zip(repeats, shape, strict=True):
            split += [r, s]
        grad = grad_out.reshape(split).sum(tuple(range(0, len(split), 2)))
        return grad.reshape(ctx.input_shape)


def repeat(input: Tensor, *sizes) -> Tensor:  # noqa: A002
    """``input`` repeated ``sizes[i]`` times along dim i (extra sizes add leading dims).

    Example:
        >>> deepgrad.tensor([1, 2]).repeat(2, 2)
        tensor([[1, 2, 1, 2],
                [1, 2, 1, 2]])
    """
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < input._data.ndim:
        raise _errors.op_error(
            RuntimeError, "repeat", "Number of dimensions of repeat dims can not be smaller "
            f"than number of dimensions of tensor; got repeats {list(sizes)}", input=input)
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"repeat: Trying to create tensor with negative dimension: "
                           f"{list(sizes)}")
    return Repeat.apply(input, sizes)


def tile(input: Tensor, dims) -> Tensor:  # noqa: A002
    """``repeat`` with ``dims`` padded with leading 1s to ``input``'s number of dims.

    Example:
        >>> deepgrad.tensor([[1, 2]]).tile((2,)).shape
        deepgrad.Size([1, 4])
    """
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return repeat(input, (1,) * (input._data.ndim - len(dims)) + dims)


Tensor.repeat = repeat
Tensor.tile = tile
