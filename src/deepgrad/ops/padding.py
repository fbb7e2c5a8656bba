"""``torch.nn.functional.pad``: constant, reflect, replicate and circular padding.

Constant padding is one ``Function`` whose backward is padding by the negated widths (a
crop; negative widths crop in torch, and their adjoint pads with zeros). The other modes
read the input at computed positions with ``index_select`` along each padded dim, so their
gradient adds up at positions that are read more than once (the border, for replicate).
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import array_module

__all__: list = []  # torch has no top-level pad; nn.functional re-exports this one


class ConstantPad(Function):
    """Pad with ``value``; ``widths`` is ((left, right), ...) per dim, negative crops."""

    raw = True

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.widths = widths
        shape = tuple(n + left + right for n, (left, right) in zip(x.shape, widths, strict=True))
        result = array_module(x).full(shape, value, dtype=x.dtype)
        source, target = [], []
        for n, (left, right) in zip(x.shape, widths, strict=True):
            source.append(slice(max(-left, 0), n - max(-right, 0)))
            start = max(left, 0)
            target.append(slice(start, start + max(n - max(-left, 0) - max(-right, 0), 0)))
        result[tuple(target)] = x[tuple(source)]
        return result

    @staticmethod
    def backward(ctx, grad_out):
        return ConstantPad.apply(grad_out, tuple((-a, -b) for a, b in ctx.widths), 0)


def _positions(mode: str, n: int, left: int, right: int, dim: int, shape) -> np.ndarray:
    """Which input position each output position reads along one dim."""
    wanted = np.arange(-left, n + right)
    if mode == "replicate":
        return np.clip(wanted, 0, n - 1)
    if mode == "circular":
        if left > n or right > n:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        return wanted % n
    if left >= n or right >= n:
        raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                           f"input dimension, but got: padding ({left}, {right}) at dimension "
                           f"{dim} of input {list(shape)}")
    return np.abs(wanted) - 2 * np.maximum(wanted - (n - 1), 0)  # reflect about 0 and n-1


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002
    """Pad the last ``len(pad) // 2`` dims of ``input``.

    Args:
        input: the tensor.
        pad: widths ``(left_last, right_last, left_second_last, right_second_last, ...)``,
            last dim first as in torch; negative widths crop.
        mode: ``'constant'``, ``'reflect'``, ``'replicate'`` or ``'circular'``. The last three
            pad 1, 2 or 3 dims of a batched (or unbatched) tensor, as torch.
        value: fill value for ``'constant'`` (default 0).

    Returns:
        The padded tensor; its gradient adds up at input positions read more than once.

    Example:
        >>> pad(deepgrad.tensor([[1., 2.]]), (1, 2), value=9.0)
        tensor([[9., 1., 2., 9., 9.]])
    """
    pad = tuple(int(p) for p in pad)
    shape = input._data.shape
    ndim = len(shape)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of "
                           f"dimension {ndim}")
    count = len(pad) // 2
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(count)]  # last dim first
    if mode == "constant":
        widths = [(0, 0)] * (ndim - count) + pairs[::-1]
        for n, (left, right), d in zip(shape, widths, range(ndim), strict=True):
            if n + left + right < 0:
                raise RuntimeError(f"The input size {n}, plus negative padding {left} and "
                                   f"{right} resulted in a negative output size, which is "
                                   f"invalid. Check dimension {d} of your input.")
        return ConstantPad.apply(input, tuple(widths), 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value:
        raise ValueError(f"Padding mode \"{mode}\" doesn't take in value argument")
    if ndim not in (count + 1, count + 2) or count > 3:
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {ndim}D input "
                                  f"tensor.")
    from .scatter import index_select  # noqa: PLC0415 - scatter imports the shape family

    xp = array_module(input._data)
    result = input
    for i, (left, right) in enumerate(pairs):
        d = ndim - 1 - i
        # negative widths crop first; the padding then wraps/reflects within what is left
        crop_left, crop_right = max(-left, 0), max(-right, 0)
        kept = shape[d] - crop_left - crop_right
        positions = crop_left + _positions(mode, kept, max(left, 0), max(right, 0), d, shape)
        result = index_select(result, d, Tensor._make(xp.asarray(positions)))
    return result
