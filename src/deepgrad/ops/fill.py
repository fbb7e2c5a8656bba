"""In-place fills: ``zero_``, ``fill_``, ``copy_`` and the random fills ``uniform_``,
``normal_``, ``bernoulli_``, ``exponential_`` (plus out-of-place ``bernoulli``).

All of them go through ``Tensor._inplace`` with one ``Fill`` op, so they follow the usual
rules: refused on a leaf that requires grad (unless under ``no_grad``, where they are plain
writes), recorded on a non-leaf (the old values get a zero gradient; a 0-d ``fill_`` value
or a ``copy_`` source gets the gradient summed back to its shape). Random draws come from
``backend.rng(generator)``, so ``manual_seed`` reproduces them.
"""

from __future__ import annotations

import numpy as np

from .. import _errors, backend
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import array_module
from .elementwise import _zeros_like
from .promotion import broadcast_shapes
from .shape import sum_to_shape

__all__ = ["bernoulli"]


class Fill(Function):
    """``target``'s shape and dtype, every element taken from ``value`` (broadcast)."""

    raw = True

    @staticmethod
    def forward(ctx, target, value):
        ctx.value_shape, ctx.value_dtype = value.shape, value.dtype
        value = value.astype(target.dtype, copy=False)
        if value.shape == target.shape:
            return value
        return array_module(target).broadcast_to(value, target.shape)

    @staticmethod
    def backward(ctx, grad_out):
        need_target, need_value = ctx.needs_input_grad
        grad_value = None
        if need_value:
            grad_value = sum_to_shape(grad_out, ctx.value_shape)
            if grad_value._data.dtype != ctx.value_dtype:
                grad_value = grad_value.to(backend.from_numpy_dtype(ctx.value_dtype))
        return (_zeros_like(grad_out) if need_target else None), grad_value


def _fill_with(self: Tensor, array, op: str) -> Tensor:
    """Write the constant ``array`` (broadcastable to ``self``) into ``self``."""
    array = backend.move_array(array, self.device)
    return self._inplace(lambda old: Fill.apply(old, array), op=op)


def zero_(self: Tensor) -> Tensor:
    """Fill ``self`` with zeros, in place."""
    return _fill_with(self, array_module(self._data).zeros((), self._data.dtype), "zero_")


def fill_(self: Tensor, value) -> Tensor:
    """Fill ``self`` with ``value`` (a number, or a 0-d tensor that may require grad).

    Example:
        >>> deepgrad.empty(2).fill_(3)
        tensor([3., 3.])
    """
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        return self._inplace(lambda old, v: Fill.apply(old, v), value, op="fill_")
    return _fill_with(self, np.asarray(value), "fill_")


def copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` into ``self``: broadcast to ``self``'s shape, cast to its dtype, moved to
    its device. Differentiable with respect to ``src``.

    Example:
        >>> deepgrad.zeros(2, 2).copy_(deepgrad.tensor([1, 2]))
        tensor([[1., 2.],
                [1., 2.]])
    """
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    shape = self._data.shape
    if src._data.shape != shape and broadcast_shapes(
            "copy_", shape, src._data.shape, "self", "src") != shape:
        raise _errors.op_error(RuntimeError, "copy_", "src cannot be broadcast to self's shape",
                               self=self, src=src)
    if src.device != self.device:
        src = src.to(self.device)
    return self._inplace(lambda old, s: Fill.apply(old, s), src, op="copy_")


# ---------------------------------------------------------------- random fills

def _draw_dtype(t: Tensor, op: str):
    """The dtype to draw in: the tensor's own for float32/float64, float32 for float16."""
    dtype = t._data.dtype
    if dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for '{t.dtype.name}'")
    return dtype if dtype.itemsize >= 4 else np.dtype(np.float32)


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator=None,
             **bounds) -> Tensor:
    """Fill with samples uniform on ``[a, b)`` (torch calls them ``from`` and ``to``).

    Example:
        >>> w = deepgrad.empty(3).uniform_(-0.1, 0.1)
    """
    a, b = bounds.pop("from", a), bounds.pop("to", b)
    samples = backend.rng(generator).random(self._data.shape, _draw_dtype(self, "uniform_"))
    samples *= b - a
    samples += a
    return _fill_with(self, samples, "uniform_")


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    """Fill with samples from the normal distribution N(mean, std**2).

    Example:
        >>> w = deepgrad.empty(3).normal_(0, 0.02)
    """
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    samples = backend.rng(generator).standard_normal(self._data.shape,
                                                      _draw_dtype(self, "normal_"))
    samples *= std
    samples += mean
    return _fill_with(self, samples, "normal_")


def exponential_(self: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    """Fill with samples from the exponential distribution of rate ``lambd``."""
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    samples = backend.rng(generator).standard_exponential(self._data.shape,
                                                          _draw_dtype(self, "exponential_"))
    samples /= lambd
    return _fill_with(self, samples, "exponential_")


def _coin_flips(probability, shape, generator, op: str):
    """Bool array: True with the given probability (a number or an array) per element."""
    if isinstance(probability, Tensor):
        probability = backend.move_array(probability._data, backend.CPU)
    if np.any(probability < 0) or np.any(probability > 1):
        raise RuntimeError(f"{op}: expected every probability p to satisfy 0 <= p <= 1")
    return backend.rng(generator).random(shape) < probability


def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fill with 1 (probability ``p``, a number or a tensor broadcastable to ``self``) or 0.

    Example:
        >>> mask = deepgrad.empty(4).bernoulli_(0.5)
    """
    return _fill_with(self, _coin_flips(p, self._data.shape, generator, "bernoulli_"),
                      "bernoulli_")


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:  # noqa: A002
    """1 with probability given by each element of ``input`` (or by ``p`` when given), else
    0, in ``input``'s dtype. Its gradient is zero.

    Example:
        >>> deepgrad.bernoulli(deepgrad.tensor([0., 1.]))
        tensor([0., 1.])
    """
    flips = _coin_flips(input if p is None else p, input._data.shape, generator, "bernoulli")
    return Fill.apply(input, backend.move_array(flips, input.device))


Tensor.zero_ = zero_
Tensor.fill_ = fill_
Tensor.copy_ = copy_
Tensor.uniform_ = uniform_
Tensor.normal_ = normal_
Tensor.exponential_ = exponential_
Tensor.bernoulli_ = bernoulli_
Tensor.bernoulli = bernoulli
