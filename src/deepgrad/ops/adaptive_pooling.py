"""Adaptive pooling: average or max pooling to a fixed output size.

Window i along a dim of size n spans [floor(i*n/o), ceil((i+1)*n/o)), as torch. When o
divides n the windows are regular and these are ``avg_pool2d``/``max_pool2d`` with kernel
= stride = n/o (the common global pooling included). Otherwise windows differ in length
by one: the sums are gathers over window offsets (at most ceil(n/o) + 1 of them, never a
loop over pixels) built from differentiable ops, and max pooling gathers at argmax
indices found the same way.
"""

from __future__ import annotations

from .._tensor import Tensor
from ..backend import array_module
from .pooling import _lowest, _pair, avg_pool2d, max_pool2d

__all__ = ["adaptive_avg_pool1d", "adaptive_max_pool1d"]  # torch's top-level ones


def _output_size(op, x, output_size) -> tuple:
    size = _pair(output_size, "output_size", op) if not isinstance(output_size, (tuple, list)) \
        else tuple(output_size)
    if len(size) != 2:
        raise RuntimeError(f"{op}: output_size must be 2; got output_size={size}")
    size = tuple(n if o is None else int(o) for n, o in zip(x.shape[-2:], size, strict=True))
    if min(size) < 0 or x.dim() not in (3, 4) or 0 in tuple(x.shape[-3:]):
        raise RuntimeError(f"{op}: expected a non-empty 3D or 4D input and a non-negative "
                           f"output_size; got input with shape {tuple(x.shape)} and "
                           f"output_size={size}")
    return size


def _windows(n: int, o: int, xp):
    """torch's adaptive windows: [floor(i*n/o), ceil((i+1)*n/o)) for output i."""
    i = xp.arange(o)
    start = (i * n) // o
    return start, -((-(i + 1) * n) // o) - start


def _window_sum(x: Tensor, dim: int, n: int, o: int) -> Tensor:
    """Sum of each adaptive window along ``dim``: one gather per window offset (windows
    have at most ceil(n/o) + 1 elements), positions past a window's end masked out."""
    xp = array_module(x._data)
    start, length = _windows(n, o, xp)
    shape = [1] * x.dim()
    shape[dim] = o
    total = None
    for t in range(int(length.max())):
        part = x.index_select(dim, Tensor._make(xp.minimum(start + t, n - 1)))
        if (length <= t).any():
            keep = Tensor._make((length > t).reshape(shape))
            part = part.where(keep, Tensor._make(xp.zeros((), x._data.dtype)))
        total = part if total is None else total + part
    return total


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """Average pooling to a fixed output size; window i spans [floor(i*H/Ho),
    ceil((i+1)*H/Ho)) as torch.

    Args:
        input: (N, C, H, W) or unbatched (C, H, W).
        output_size: int or (Ho, Wo); a None entry keeps that input size.

    Example:
        >>> adaptive_avg_pool2d(deepgrad.ones(2, 3, 7, 7), 1).shape
        deepgrad.Size([2, 3, 1, 1])
    """
    ho, wo = _output_size("adaptive_avg_pool2d", input, output_size)
    h, w = input.shape[-2:]
    if ho and wo and h % ho == 0 and w % wo == 0:
        return avg_pool2d(input, (h // ho, w // wo))
    xp = array_module(input._data)
    rows = _window_sum(input, input.dim() - 2, h, ho)
    total = _window_sum(rows, input.dim() - 1, w, wo)
    count = _windows(h, ho, xp)[1][:, None] * _windows(w, wo, xp)[1][None, :]
    return total / Tensor._make(count.astype(input._data.dtype))


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """Max pooling to a fixed output size (windows as ``adaptive_avg_pool2d``).

    Args:
        input: (N, C, H, W) or unbatched (C, H, W).
        output_size: int or (Ho, Wo); a None entry keeps that input size.
        return_indices: also return the flat index h*W + w of each maximum (int64).

    Example:
        >>> adaptive_max_pool2d(deepgrad.arange(16.).reshape(1, 1, 4, 4), 1)
        tensor([[[[15.]]]])
    """
    ho, wo = _output_size("adaptive_max_pool2d", input, output_size)
    h, w = input.shape[-2:]
    if ho and wo and h % ho == 0 and w % wo == 0:
        return max_pool2d(input, (h // ho, w // wo), return_indices=return_indices)
    xp = array_module(input._data)
    x = input._data
    (top, height), (left, width) = _windows(h, ho, xp), _windows(w, wo, xp)
    best = xp.full(x.shape[:-2] + (ho, wo), _lowest(x.dtype, xp), x.dtype)
    index = xp.zeros(best.shape, xp.int64)
    for t in range(int(height.max())):  # window offsets, row-major: the first max wins
        rows = xp.minimum(top + t, h - 1)
        for u in range(int(width.max())):
            cols = xp.minimum(left + u, w - 1)
            value = xp.take(xp.take(x, rows, -2), cols, -1)
            better = (value > best) | (xp.isnan(value) if x.dtype.kind == "f" else False)
            better &= (height > t)[:, None] & (width > u)[None, :]
            xp.copyto(best, value, where=better)
            xp.copyto(index, rows[:, None] * w + cols[None, :], where=better)
    flat = input.reshape(*input.shape[:-2], h * w)
    values = flat.gather(-1, Tensor._make(index.reshape(*index.shape[:-2], -1)))
    values = values.reshape(*index.shape)
    return (values, Tensor._make(index)) if return_indices else values


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """Adaptive average pooling over an (N, C, L) input to length ``output_size``.

    Example:
        >>> adaptive_avg_pool1d(deepgrad.tensor([[[1., 2., 3., 4.]]]), 2)
        tensor([[[1.5000, 3.5000]]])
    """
    size = _pair(output_size, "output_size", "adaptive_avg_pool1d", 1)[0]
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, size)).squeeze(-2)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """Adaptive max pooling over an (N, C, L) input to length ``output_size``.

    Example:
        >>> adaptive_max_pool1d(deepgrad.tensor([[[1., 2., 3., 4.]]]), 2)
        tensor([[[2., 4.]]])
    """
    size = _pair(output_size, "output_size", "adaptive_max_pool1d", 1)[0]
    result = adaptive_max_pool2d(input.unsqueeze(-2), (1, size), return_indices)
    if return_indices:
        return result[0].squeeze(-2), result[1].squeeze(-2)
    return result.squeeze(-2)
