"""Shape ops: expand, reshape/view, permute, indexing, cat/stack, ... ."""

from __future__ import annotations

from .. import _errors
from .._tensor import Tensor, wrap_dim
from ..autograd.function import Function
from ..backend import array_module


__all__ = ["expand", "reshape", "view", "permute", "transpose", "t", "unsqueeze", "squeeze"]  # public torch-level names; extended below as ops are added

class Expand(Function):
    """Broadcast to a larger shape (a view); the gradient sums over the broadcast dims."""

    raw = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return array_module(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad_out):
        return sum_to_shape(grad_out, ctx.input_shape)


def sum_to_shape(grad: Tensor, shape: tuple) -> Tensor:
    """Sum ``grad`` over the dims that broadcasting added or stretched to reach ``shape``."""
    lead = grad.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and grad.shape[lead + i] != 1
    )
    if dims:
        grad = grad.sum(dims, keepdim=True)
    if lead or grad.shape != tuple(shape):
        grad = grad.reshape(shape)
    return grad


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
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return grad_out.permute(inverse)


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
