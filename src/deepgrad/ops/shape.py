"""Shape ops: expand, reshape/view, permute, indexing, cat/stack, ... ."""

from __future__ import annotations

import numpy as np

from .. import _errors
from .._tensor import Size, Tensor, wrap_dim
from ..autograd.function import Function
from ..backend import array_module
from .gemv_sum import sum_dims

# public torch-level names; extended below as ops are added
__all__ = ["expand", "reshape", "view", "permute", "transpose", "t", "unsqueeze", "squeeze"]

class Expand(Function):
    """Broadcast to a larger shape (a view); the gradient sums over the broadcast dims."""

    raw = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return broadcast_view(x, shape)

    @staticmethod
    def backward(ctx, grad_out):
        return sum_to_shape(grad_out, ctx.input_shape)

    @staticmethod
    def raw_backward(ctx, grad_out):
        return sum_array_to_shape(grad_out, ctx.input_shape)


def broadcast_view(x, shape: tuple):
    """A read-only broadcast view of array ``x``. For contiguous NumPy arrays the view is built
    directly with zero strides (about 7x cheaper than ``np.broadcast_to``, which matters: every
    bias add goes through here)."""
    if type(x) is not np.ndarray or not x.flags.c_contiguous or not x.size:
        return array_module(x).broadcast_to(x, shape)
    lead = len(shape) - x.ndim
    strides = [0] * lead
    for i, step in enumerate(x.strides):
        strides.append(0 if x.shape[i] == 1 and shape[lead + i] != 1 else step)
    view = np.ndarray(shape, x.dtype, x, 0, strides)
    view.flags.writeable = False
    return view


def _broadcast_dims(grad_shape: tuple, shape: tuple) -> tuple:
    """(leading dims broadcasting added, dims it stretched from 1) to go from ``shape`` to
    ``grad_shape``."""
    lead = len(grad_shape) - len(shape)
    return lead, tuple(lead + i for i, s in enumerate(shape)
                       if s == 1 and grad_shape[lead + i] != 1)


def sum_array_to_shape(grad, shape: tuple):
    """``sum_to_shape`` on an array (leading/trailing sums as a BLAS gemv)."""
    lead, stretched = _broadcast_dims(grad.shape, shape)
    dims = tuple(range(lead)) + stretched
    if not dims:
        return grad
    total = sum_dims(grad, dims, True) if len(dims) < grad.ndim else None
    if total is None:
        total = grad.sum(axis=dims, keepdims=True)
    return total.reshape(shape)


def sum_to_shape(grad: Tensor, shape: tuple) -> Tensor:
    """Sum ``grad`` over the dims that broadcasting added or stretched to reach ``shape``."""
    lead, stretched = _broadcast_dims(grad._data.shape, shape)
    if not stretched:  # only leading dims were added: one sum gives the shape
        return grad.sum(tuple(range(lead))) if lead else grad
    grad = grad.sum(tuple(range(lead)) + stretched, keepdim=True)
    return grad.reshape(shape) if lead else grad


def _expanded_shape(op: str, input: Tensor, sizes) -> tuple:  # noqa: A002
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    old = input._data.shape
    if len(sizes) < len(old):
        raise _errors.op_error(
            RuntimeError, op,
            f"the number of sizes provided ({len(sizes)}) must be greater or equal to the "
            f"number of dimensions in the tensor ({len(old)})", input=input)
    lead = len(sizes) - len(old)
    shape = []
    for i, s in enumerate(sizes):
        current = old[i - lead] if i >= lead else None
        if s == -1:
            if current is None:
                raise RuntimeError(f"{op}: the expanded size -1 is not allowed in a leading, "
                                   "non-existing dimension")
            s = current
        if current is not None and current != s and current != 1:
            raise RuntimeError(
                f"{op}: the expanded size of the tensor ({s}) must match the existing size "
                f"({current}) at non-singleton dimension {i}; target sizes {list(sizes)}, "
                f"tensor sizes {list(old)}")
        shape.append(int(s))
    return tuple(shape)


def expand(input: Tensor, *sizes) -> Tensor:  # noqa: A002
    """A broadcast view of ``input`` with the given sizes (-1 keeps a dim)."""
    shape = _expanded_shape("expand", input, sizes)
    if shape == input._data.shape:
        return input
    return Expand.apply(input, shape)


class Reshape(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out.reshape(ctx.input_shape)

    raw_backward = backward  # arrays reshape the same way


def _infer_shape(op: str, input: Tensor, shape) -> tuple:  # noqa: A002
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    numel = input._data.size
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def reshape(input: Tensor, *shape) -> Tensor:  # noqa: A002
    """``input`` with a new shape of the same number of elements (-1 infers one dim)."""
    shape = _infer_shape("reshape", input, shape)
    if shape == input._data.shape:
        return input
    return Reshape.apply(input, shape)


def view(input: Tensor, *shape) -> Tensor:  # noqa: A002
    """As ``reshape`` (deepgrad does not track strides, so view never fails on layout)."""
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)):
        from .conversion import to  # noqa: PLC0415 - view(dtype)

        return to(input, shape[0])
    shape = _infer_shape("view", input, shape)
    return Reshape.apply(input, shape)


Tensor.expand = expand
Tensor.expand_as = lambda self, other: expand(self, other.shape)
Tensor.reshape = reshape
Tensor.view = view
Tensor.view_as = lambda self, other: view(self, other.shape)


class Permute(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out.permute(_inverse(ctx.dims))

    @staticmethod
    def raw_backward(ctx, grad_out):
        return grad_out.transpose(_inverse(ctx.dims))


def _inverse(dims) -> list:
    inverse = [0] * len(dims)
    for i, d in enumerate(dims):
        inverse[d] = i
    return inverse


def permute(input: Tensor, *dims) -> Tensor:  # noqa: A002
    """Reorder dims: ``result.shape[i] == input.shape[dims[i]]``."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    ndim = input._data.ndim
    if len(dims) != ndim:
        raise _errors.op_error(
            RuntimeError, "permute",
            f"number of dims don't match: the tensor has {ndim} dims but {len(dims)} were given",
            input=input)
    dims = tuple(wrap_dim(d, ndim, "permute") for d in dims)
    if len(set(dims)) != ndim:
        raise RuntimeError(f"permute: repeated dim in {list(dims)}")
    return Permute.apply(input, dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    """Swap two dims."""
    ndim = input._data.ndim
    if ndim == 0:
        return input
    dims = list(range(ndim))
    d0, d1 = wrap_dim(dim0, ndim, "transpose"), wrap_dim(dim1, ndim, "transpose")
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(input, tuple(dims))


def t(input: Tensor) -> Tensor:  # noqa: A002
    """Transpose of a matrix (0-d and 1-d tensors are returned as is)."""
    if input._data.ndim > 2:
        raise _errors.op_error(RuntimeError, "t", "expects a tensor with <= 2 dimensions",
                               input=input)
    return transpose(input, 0, 1) if input._data.ndim == 2 else input


def unsqueeze(input: Tensor, dim: int) -> Tensor:  # noqa: A002
    """Insert a size-1 dim at ``dim``."""
    ndim = input._data.ndim
    d = wrap_dim(dim, ndim + 1, "unsqueeze")
    shape = input._data.shape
    return Reshape.apply(input, shape[:d] + (1,) + shape[d:])


def squeeze(input: Tensor, dim=None) -> Tensor:  # noqa: A002
    """Remove size-1 dims (all, or only those in ``dim``)."""
    shape = input._data.shape
    if dim is None:
        dims = {i for i, s in enumerate(shape) if s == 1}
    else:
        dims = {wrap_dim(d, len(shape), "squeeze") for d in ((dim,) if isinstance(dim, int)
                                                               else dim)}
        dims = {d for d in dims if shape and shape[d] == 1}
    if not dims:
        return input
    return Reshape.apply(input, tuple(s for i, s in enumerate(shape) if i not in dims))


Tensor.permute = permute
Tensor.transpose = transpose
Tensor.t = t
Tensor.unsqueeze = unsqueeze
Tensor.squeeze = squeeze
Tensor.T = property(lambda self: permute(self, tuple(reversed(range(self._data.ndim)))))
Tensor.mT = property(lambda self: transpose(self, -2, -1))


# ---------------------------------------------------------------- more views and reorderings

__all__ += ["flatten", "unflatten", "movedim", "moveaxis", "swapaxes", "swapdims",
            "broadcast_to", "broadcast_tensors", "broadcast_shapes", "flip", "fliplr", "flipud",
            "roll", "ravel"]


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:  # noqa: A002
    """Merge dims ``start_dim..end_dim`` into one (a 0-d tensor becomes shape (1,)).

    Example:
        >>> deepgrad.zeros(2, 3, 4).flatten(1).shape
        deepgrad.Size([2, 12])
    """
    shape = input._data.shape
    if not shape:
        return Reshape.apply(input, (1,))
    start = wrap_dim(start_dim, len(shape), "flatten")
    end = wrap_dim(end_dim, len(shape), "flatten")
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    merged = 1
    for s in shape[start:end + 1]:
        merged *= s
    return Reshape.apply(input, shape[:start] + (merged,) + shape[end + 1:])


def ravel(input: Tensor) -> Tensor:  # noqa: A002
    """``input`` as a 1-d tensor."""
    return flatten(input)


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:  # noqa: A002
    """Split dim ``dim`` into ``sizes`` (one entry may be -1).

    Example:
        >>> deepgrad.zeros(2, 12).unflatten(1, (3, -1)).shape
        deepgrad.Size([2, 3, 4])
    """
    shape = input._data.shape
    d = wrap_dim(dim, len(shape), "unflatten")
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = 1
    for s in sizes:
        if s != -1:
            known *= s
    size = shape[d] if shape else 1
    if sizes.count(-1) > 1 or (-1 in sizes and (known == 0 or size % known)) or (
            -1 not in sizes and known != size):
        raise _errors.op_error(
            RuntimeError, "unflatten", f"Provided sizes {list(sizes)} don't multiply up to the "
            f"size of dim {dim} ({size}) in the input tensor", input=input)
    sizes = tuple(size // known if s == -1 else s for s in sizes)
    return Reshape.apply(input, shape[:d] + sizes + shape[d + 1:])


def movedim(input: Tensor, source, destination) -> Tensor:  # noqa: A002
    """Move dims ``source`` (int or sequence) to positions ``destination``; the others keep
    their order.

    Example:
        >>> deepgrad.zeros(2, 3, 4).movedim(0, -1).shape
        deepgrad.Size([3, 4, 2])
    """
    ndim = input._data.ndim
    source = (source,) if isinstance(source, int) else tuple(source)
    destination = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(source) != len(destination):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(source)}"
                           f" dims) should contain the same number of dims as destination "
                           f"({list(destination)} dims)")
    source = [wrap_dim(d, ndim, "movedim") for d in source]
    destination = [wrap_dim(d, ndim, "movedim") for d in destination]
    if len(set(source)) != len(source) or len(set(destination)) != len(destination):
        raise RuntimeError("movedim: repeated dim in `source` or `destination`")
    order = [d for d in range(ndim) if d not in source]
    for dst, src in sorted(zip(destination, source, strict=True)):
        order.insert(dst, src)
    if order == list(range(ndim)):
        return input
    return Permute.apply(input, tuple(order))


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:  # noqa: A002
    """Alias of ``transpose``."""
    return transpose(input, axis0, axis1)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    """Alias of ``transpose``."""
    return transpose(input, dim0, dim1)


moveaxis = movedim


def broadcast_to(input: Tensor, size) -> Tensor:  # noqa: A002
    """``input`` expanded to ``size`` (a broadcast view; -1 keeps a dim)."""
    return expand(input, tuple(size))


def broadcast_tensors(*tensors) -> tuple:
    """Expand all tensors to their common broadcast shape.

    Example:
        >>> a, b = deepgrad.broadcast_tensors(deepgrad.zeros(3, 1), deepgrad.zeros(4))
        >>> a.shape, b.shape
        (deepgrad.Size([3, 4]), deepgrad.Size([3, 4]))
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    from .promotion import broadcast_shapes  # noqa: PLC0415

    shape = ()
    for i, t in enumerate(tensors):
        shape = broadcast_shapes("broadcast_tensors", shape, t._data.shape, "result",
                                 f"tensor {i}")
    return tuple(expand(t, shape) for t in tensors)


def broadcast_shapes(*shapes) -> tuple:
    """The shape that tensors of ``shapes`` broadcast to (RuntimeError if they don't).

    Example:
        >>> deepgrad.broadcast_shapes((3, 1), (4,))
        deepgrad.Size([3, 4])
    """
    from .promotion import broadcast_shapes as broadcast_two  # noqa: PLC0415

    shape = ()
    for i, s in enumerate(shapes):
        s = (s,) if isinstance(s, int) else tuple(s)
        shape = broadcast_two("broadcast_shapes", shape, s, "result", f"shape {i}")
    return Size(shape)


class Flip(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        # torch's flip copies; a NumPy negative-stride view would alias the input
        return array_module(x).flip(x, dims).copy() if dims else x.copy()

    @staticmethod
    def backward(ctx, grad_out):
        return Flip.apply(grad_out, ctx.dims)


def flip(input: Tensor, dims) -> Tensor:  # noqa: A002
    """Reverse the order of elements along ``dims`` (a copy).

    Example:
        >>> deepgrad.tensor([[1, 2], [3, 4]]).flip(1)
        tensor([[2, 1],
                [4, 3]])
    """
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    ndim = input._data.ndim
    dims = tuple(wrap_dim(d, ndim, "flip") for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"flip: dims has duplicates, original flip dims size={len(dims)}, "
                           f"but unique flip dims size={len(set(dims))}")
    return Flip.apply(input, dims if ndim else ())


def fliplr(input: Tensor) -> Tensor:  # noqa: A002
    """Flip dim 1 (left/right) of a tensor with at least 2 dims."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:  # noqa: A002
    """Flip dim 0 (up/down) of a tensor with at least 1 dim."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class Roll(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        xp = array_module(x)
        if dims is None:  # roll the flattened tensor
            return xp.roll(x.reshape(-1), shifts[0]).reshape(x.shape)
        return xp.roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, grad_out):
        return Roll.apply(grad_out, tuple(-s for s in ctx.shifts), ctx.dims)


def roll(input: Tensor, shifts, dims=None) -> Tensor:  # noqa: A002
    """Shift elements along ``dims`` by ``shifts`` (int or tuple), wrapping around; without
    ``dims`` the flattened tensor is rolled and the shape restored.

    Example:
        >>> deepgrad.arange(5).roll(2)
        tensor([3, 4, 0, 1, 2])
    """
    shifts = (shifts,) if isinstance(shifts, int) else tuple(int(s) for s in shifts)
    if dims is not None:
        dims = (dims,) if isinstance(dims, int) else tuple(dims)
        if len(shifts) != len(dims):
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, "
                               f"dims:{len(dims)}")
        dims = tuple(wrap_dim(d, input._data.ndim, "roll") for d in dims)
    elif len(shifts) != 1:
        raise RuntimeError("roll: `shifts` must be a single int when `dims` is not given")
    return Roll.apply(input, shifts, dims)


def _shape_inplace(function, name):
    """``squeeze_``, ``unsqueeze_``, ``t_``, ``transpose_``: the out-of-place op, then this
    tensor takes over the result's array (and its grad_fn inside a graph)."""

    def method(self, *args, **kwargs):
        result = function(self, *args, **kwargs)
        if result is self:
            return self
        if self._requires_grad and _grad_state.enabled:
            if self.grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an "
                                   "in-place operation.")
            self.grad_fn, self._output_nr = result.grad_fn, result._output_nr
        self._data = result._data
        self._version += 1
        return self

    method.__name__ = name
    return method


from ..autograd.grad_mode import state as _grad_state  # noqa: E402
from .padding import pad  # noqa: E402,F401 - torch.nn.functional.pad lives with the shape ops

Tensor.flatten = flatten
Tensor.ravel = ravel
Tensor.unflatten = unflatten
Tensor.movedim = movedim
Tensor.moveaxis = movedim
Tensor.swapaxes = swapaxes
Tensor.swapdims = swapdims
Tensor.broadcast_to = broadcast_to
Tensor.flip = flip
Tensor.fliplr = fliplr
Tensor.flipud = flipud
Tensor.roll = roll
Tensor.squeeze_ = _shape_inplace(squeeze, "squeeze_")
Tensor.unsqueeze_ = _shape_inplace(unsqueeze, "unsqueeze_")
Tensor.t_ = _shape_inplace(t, "t_")
Tensor.transpose_ = _shape_inplace(transpose, "transpose_")
Tensor.swapaxes_ = _shape_inplace(swapaxes, "swapaxes_")
Tensor.swapdims_ = _shape_inplace(swapdims, "swapdims_")
