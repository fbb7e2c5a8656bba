"""Pooling: max/avg pooling (1-d and 2-d); the adaptive forms live in adaptive_pooling.py.

Every kernel loops over the kh*kw offsets of the window, never over pixels: the window
element (i, j) of every output position at once is one strided slice of the (padded)
input, so average pooling is kh*kw adds (one sum for global pooling) and max pooling
kh*kw passes of ``maximum`` that also record which offset won (the first maximum, or a
NaN, as torch) as a running maximum of offset codes. Without a gradient to compute, max
pooling skips the codes and reduces columns then rows. The gradient scatters to the
recorded position: kh*kw multiplies by a mask, written straight into the strided slices.

The backward passes are linear maps written as their own ``Function``s whose backward is
the original map again (max: scatter <-> gather at the argmax; avg: pool <-> spread), so
pooling is differentiable any number of times at the cost of no extra code paths.
"""

from __future__ import annotations

from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import array_module
from .kernel_memory import in_halves, scratch

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "adaptive_avg_pool1d",
           "adaptive_max_pool1d"]


class _Pool:
    """Geometry of a 2-d pooling window over an (N, C, H, W) input."""

    __slots__ = ("shape", "kernel", "stride", "padding", "dilation", "out", "buffer",
                 "overlap")

    def __init__(self, shape, kernel, stride, padding, dilation, out):
        self.shape, self.kernel, self.stride = shape, kernel, stride
        self.padding, self.dilation, self.out = padding, dilation, out
        # ceil_mode windows may run past the padded input: the buffer covers every window
        self.buffer = tuple(
            max(n + p, (o - 1) * s + d * (k - 1) + 1 - p) + p
            for n, p, o, s, d, k in zip(shape[2:], padding, out, stride, dilation, kernel,
                                        strict=True))
        self.overlap = any(s < d * (k - 1) + 1 or (d > 1 and k > 1)
                           for s, d, k in zip(stride, dilation, kernel, strict=True))

    def padded(self, x, fill, role):
        """``x`` inside a buffer of ``fill`` covering every window (x itself if it does)."""
        (ph, pw), (hb, wb) = self.padding, self.buffer
        n, c, h, w = self.shape
        if not ph and not pw and hb <= h and wb <= w:
            return x
        xp = array_module(x)
        buffer = scratch(role, (n, c, hb, wb), x.dtype, xp)
        buffer[...] = fill
        buffer[:, :, ph:ph + h, pw:pw + w] = x
        return buffer

    def window(self, base, i, j):
        """Window element (i, j) of every output position: (N, C, Ho, Wo) strided slice."""
        (sh, sw), (dh, dw), (ho, wo) = self.stride, self.dilation, self.out
        top, left = i * dh, j * dw
        return base[:, :, top:top + sh * (ho - 1) + 1:sh, left:left + sw * (wo - 1) + 1:sw]

    def is_global(self) -> bool:
        """One unpadded window covering each whole input plane."""
        return self.out == (1, 1) and self.kernel == self.shape[2:] and \
            self.padding == (0, 0) and self.dilation == (1, 1)

    def offsets(self):
        kh, kw = self.kernel
        return ((i, j) for i in range(kh) for j in range(kw))

    def crop(self, buffer):
        (ph, pw), (h, w) = self.padding, self.shape[2:]
        return buffer[:, :, ph:ph + h, pw:pw + w]


def _lowest(dtype, xp):
    return -xp.inf if dtype.kind == "f" else xp.iinfo(dtype).min


# ---------------------------------------------------------------- max pooling

class MaxPool(Function):
    """Max over each window; ``codes`` (the winning offset i*kw + j) stay on the ctx."""

    raw = True

    @staticmethod
    def forward(ctx, x, pool, return_indices):
        xp = array_module(x)
        base = pool.padded(x, _lowest(x.dtype, xp), "pool.input")
        if not ctx.needs_input_grad[0] and not return_indices:
            return _max_values(base, pool, xp)
        views = [pool.window(base, i, j) for i, j in pool.offsets()]
        result = xp.array(views[0])
        codes = xp.zeros(result.shape, xp.int8 if len(views) < 128 else xp.int16)
        for code, value in enumerate(views[1:], 1):
            better = xp.greater(value, result)  # strict: the first maximum wins, as torch
            xp.maximum(result, value, out=result)  # propagates NaN, as torch
            # codes only grow along the loop, so "code where better" is a running maximum
            xp.maximum(codes, better.view(xp.int8) * codes.dtype.type(code), out=codes)
        if x.dtype.kind == "f" and xp.isnan(result).any():
            for code, value in enumerate(views):  # torch: the last NaN of a window wins
                xp.copyto(codes, code, where=xp.isnan(value))
        ctx.pool, ctx.codes = pool, codes
        ctx.save_for_backward(x)
        if not return_indices:
            return result
        return result, _flat_indices(codes, pool, xp)

    @staticmethod
    def backward(ctx, grad_out, grad_indices=None):
        (x,) = ctx.saved_tensors
        return MaxPoolScatter.apply(grad_out, x, ctx.codes, ctx.pool), None, None

    @staticmethod
    def raw_backward(ctx, grad_out, grad_indices=None):
        (x,) = ctx.saved_arrays
        return MaxPoolScatter.compute(grad_out, x, ctx.codes, ctx.pool), None, None

    def name(self) -> str:
        return "MaxPool2DWithIndicesBackward0"


def _max_values(base, pool, xp):
    """Window maxima only (no gradient wanted): a max over each window's columns, then over
    its rows, each a chain of ``maximum`` over strided slices; the batch is split over the
    kernel threads (``in_halves``) when they are enabled."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = pool.kernel, pool.stride, pool.dilation, pool.out
    n, c = base.shape[:2]
    result = xp.empty((n, c, ho, wo), base.dtype)
    span_w, span_h = sw * (wo - 1) + 1, sh * (ho - 1) + 1

    def work(first: int, last: int) -> None:
        images = base[first:last]
        rows = images[..., 0:span_w:sw]
        if kw > 1:
            rows = xp.maximum(rows, images[..., dw:dw + span_w:sw])
            for j in range(2, kw):
                xp.maximum(rows, images[..., j * dw:j * dw + span_w:sw], out=rows)
        out = result[first:last]
        if kh == 1:
            out[...] = rows[:, :, 0:span_h:sh]
            return
        xp.maximum(rows[:, :, 0:span_h:sh], rows[:, :, dh:dh + span_h:sh], out=out)
        for i in range(2, kh):
            xp.maximum(out, rows[:, :, i * dh:i * dh + span_h:sh], out=out)

    in_halves(work, n, base.nbytes, xp)
    return result


def _flat_indices(codes, pool, xp):
    """torch's indices: position h*W + w of each maximum in its (unpadded) input plane."""
    kw, (sh, sw), (ph, pw), (dh, dw) = pool.kernel[1], pool.stride, pool.padding, \
        pool.dilation
    ho, wo = pool.out
    rows = (xp.arange(ho) * sh - ph)[:, None] + (codes // kw) * dh
    cols = (xp.arange(wo) * sw - pw)[None, :] + (codes % kw) * dw
    return (rows * pool.shape[3] + cols).astype(xp.int64)


def _zero_derivative(ctx, x):
    """The derivative of a pooling gradient with respect to the pooled input: zero (the
    windows' argmax is piecewise constant), as torch's zeros_like(self)."""
    (x,) = ctx.saved_tensors
    return Tensor._make(array_module(x._data).zeros(x._data.shape, x._data.dtype))


class MaxPoolScatter(Function):
    """Gradient of max pooling: each output gradient goes to its window's maximum. The
    pooled input ``x`` is an input with zero derivative, so the gradient stays in the
    graph like torch's (its own gradient is a gather at the same positions)."""

    raw = True

    @staticmethod
    def forward(ctx, grad, x, codes, pool):
        xp = array_module(grad)
        hb, wb = pool.buffer
        shape = pool.shape[:2] + (hb, wb)
        # every input position lies in exactly one window: each is written once, no zeros
        tiled = (hb, wb) == pool.shape[2:] and all(
            k == s and (d == 1 or k == 1) and o * s == n for k, s, d, o, n in zip(
                pool.kernel, pool.stride, pool.dilation, pool.out, pool.shape[2:], strict=True))
        # grad * mask is exact for finite gradients (inf * 0 would leave NaN elsewhere)
        finite = grad.dtype.kind != "f" or bool(xp.isfinite(grad).all())
        target = xp.empty(shape, grad.dtype) if tiled and finite else xp.zeros(shape,
                                                                               grad.dtype)
        for code, (i, j) in enumerate(pool.offsets()):
            view = pool.window(target, i, j)
            mask = codes == code
            if not finite:
                view += xp.where(mask, grad, 0)
            elif pool.overlap:
                view += grad * mask
            else:  # disjoint windows: each input position gets at most one gradient
                xp.multiply(grad, mask, out=view)
        ctx.codes, ctx.pool = codes, pool
        ctx.save_for_backward(x)
        return xp.ascontiguousarray(pool.crop(target)) if (hb, wb) != pool.shape[2:] else target

    @staticmethod
    def backward(ctx, grad_out):
        need_grad, need_x = ctx.needs_input_grad[:2]
        (x,) = ctx.saved_tensors
        return (MaxPoolGather.apply(grad_out, x, ctx.codes, ctx.pool) if need_grad else None,
                _zero_derivative(ctx, x) if need_x else None, None, None)


class MaxPoolGather(Function):
    """The adjoint of ``MaxPoolScatter``: read each window's maximum position."""

    raw = True

    @staticmethod
    def forward(ctx, values, x, codes, pool):
        xp = array_module(values)
        base = pool.padded(values, 0, "pool.input")
        result = xp.zeros(codes.shape, values.dtype)
        for code, (i, j) in enumerate(pool.offsets()):
            xp.copyto(result, pool.window(base, i, j), where=codes == code)
        ctx.codes, ctx.pool = codes, pool
        ctx.save_for_backward(x)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        need_values, need_x = ctx.needs_input_grad[:2]
        (x,) = ctx.saved_tensors
        return (MaxPoolScatter.apply(grad_out, x, ctx.codes, ctx.pool) if need_values else None,
                _zero_derivative(ctx, x) if need_x else None, None, None)


# ---------------------------------------------------------------- average pooling

class AvgPool(Function):
    """Sum over each window divided by ``divisor`` (a number or an (Ho, Wo) array)."""

    raw = True

    @staticmethod
    def forward(ctx, x, pool, divisor):
        xp = array_module(x)
        if pool.is_global():  # one window per plane (global average pooling): a plain sum
            n, c, h, w = pool.shape
            result = x.reshape(n, c, 1, h * w).sum(-1, keepdims=True)
        else:
            base = pool.padded(x, 0, "pool.input")
            result = xp.array(pool.window(base, 0, 0))
            for i, j in pool.offsets():
                if i or j:
                    result += pool.window(base, i, j)
        ctx.pool, ctx.divisor = pool, divisor
        ctx.save_for_backward(x)
        if x.dtype.kind != "f":  # integer average pooling truncates, as torch
            return xp.trunc(result / divisor).astype(x.dtype)
        result /= divisor
        return result

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return AvgPoolSpread.apply(grad_out, x, ctx.pool, ctx.divisor), None, None

    @staticmethod
    def raw_backward(ctx, grad_out):
        (x,) = ctx.saved_arrays
        return AvgPoolSpread.compute(grad_out, x, ctx.pool, ctx.divisor), None, None

    def name(self) -> str:
        return "AvgPool2DBackward0"


class AvgPoolSpread(Function):
    """Gradient of average pooling: each output gradient / divisor spread over its window."""

    raw = True

    @staticmethod
    def forward(ctx, grad, x, pool, divisor):
        xp = array_module(grad)
        share = grad / divisor
        ctx.pool, ctx.divisor = pool, divisor
        ctx.save_for_backward(x)
        if pool.is_global():
            return xp.array(xp.broadcast_to(share, pool.shape))
        hb, wb = pool.buffer
        target = xp.zeros(pool.shape[:2] + (hb, wb), grad.dtype)
        for i, j in pool.offsets():
            view = pool.window(target, i, j)
            if pool.overlap:
                view += share
            else:
                view[...] = share
        return xp.ascontiguousarray(pool.crop(target))

    @staticmethod
    def backward(ctx, grad_out):
        need_grad, need_x = ctx.needs_input_grad[:2]
        (x,) = ctx.saved_tensors
        return (AvgPool.apply(grad_out, ctx.pool, ctx.divisor) if need_grad else None,
                _zero_derivative(ctx, x) if need_x else None, None, None)


def _divisor(pool, ceil_mode, count_include_pad, divisor_override, xp):
    """torch's divisor per output position: the window clipped to the padded input (with
    count_include_pad) or to the input itself; it is separable, one factor per dim."""
    if divisor_override:
        return divisor_override
    factors = []
    for n, k, s, p, o in zip(pool.shape[2:], pool.kernel, pool.stride, pool.padding,
                             pool.out, strict=True):
        start = xp.arange(o) * s - p
        end = xp.minimum(start + k, n + p)
        if count_include_pad:
            factors.append(end - start)
        else:
            factors.append(xp.minimum(end, n) - xp.maximum(start, 0))
    if all(int(f.min()) == int(f.max()) for f in factors):
        return int(factors[0][0]) * int(factors[1][0])
    return factors[0][:, None] * factors[1][None, :]


# ---------------------------------------------------------------- public boundary

def _pair(value, name: str, op: str, n: int = 2) -> tuple:
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            value = tuple(value) * n
        if len(value) != n:
            raise RuntimeError(f"{op}: {name} must either be a single int, or a tuple of {n} "
                               f"ints; got {name}={tuple(value)}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _out_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:  # the last window must start inside
        out -= 1
    return out


def _geometry(op, input, kernel_size, stride, padding, dilation, ceil_mode):  # noqa: A002
    """(4-d input, _Pool, unbatched) after torch's checks; 3-d inputs are unbatched."""
    shape = input._data.shape
    if len(shape) not in (3, 4) or 0 in shape[1:]:
        raise RuntimeError(f"{op}: non-empty 3D or 4D (batch mode) tensor expected for input; "
                           f"got input with shape {tuple(shape)}")
    kernel = _pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None or stride == [] or stride == () else _pair(
        stride, "stride", op)
    padding, dilation = _pair(padding, "padding", op), _pair(dilation, "dilation", op)
    if min(kernel) <= 0 or min(stride) <= 0 or min(dilation) <= 0:
        raise RuntimeError(f"{op}: kernel_size, stride and dilation must be greater than zero, "
                           f"but got kernel_size={kernel}, stride={stride} and "
                           f"dilation={dilation}")
    for k, p, d in zip(kernel, padding, dilation, strict=True):
        if p < 0 or p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
    x = input if len(shape) == 4 else input.unsqueeze(0)
    full = x._data.shape
    out = tuple(_out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
                zip(full[2:], kernel, stride, padding, dilation, strict=True))
    if min(out) < 1:
        raise RuntimeError(f"Given input size: ({full[1]}x{full[2]}x{full[3]}). Calculated "
                           f"output size: ({full[1]}x{out[0]}x{out[1]}). Output size is too small")
    return x, _Pool(full, kernel, stride, padding, dilation, out), len(shape) == 3


def _unbatch(result, unbatched: bool):
    if not unbatched:
        return result
    if isinstance(result, tuple):
        return tuple(r.squeeze(0) for r in result)
    return result.squeeze(0)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False):
    """2-d max pooling over an (N, C, H, W) input.

    Args:
        input: (N, C, H, W) or unbatched (C, H, W).
        kernel_size: window size, int or (h, w).
        stride: window step (default ``kernel_size``).
        padding: implicit -inf padding on both sides, at most half the kernel.
        dilation: spacing between window elements.
        ceil_mode: round the output size up (a last partial window that starts inside
            the input or its left padding is kept).
        return_indices: also return the flat index h*W + w of each maximum (int64).

    Shape:
        output (N, C, Ho, Wo), Ho = floor((H + 2*pad - dilation*(k-1) - 1) / stride) + 1
        (ceil with ``ceil_mode``).

    Returns:
        The pooled tensor, or (pooled, indices). Ties go to the first maximum in the
        window, as torch.

    Example:
        >>> max_pool2d(deepgrad.arange(16.).reshape(1, 1, 4, 4), 2)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """
    x, pool, unbatched = _geometry("max_pool2d", input, kernel_size, stride, padding,
                                   dilation, ceil_mode)
    return _unbatch(MaxPool.apply(x, pool, bool(return_indices)), unbatched)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,  # noqa: A002
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """2-d average pooling over an (N, C, H, W) input.

    Args:
        input: (N, C, H, W) or unbatched (C, H, W).
        kernel_size, stride (default ``kernel_size``), padding (zeros), ceil_mode: as
            ``max_pool2d``.
        count_include_pad: count padded zeros in the divisor (windows that run past the
            padding in ceil mode are clipped, as torch).
        divisor_override: divide every window sum by this instead.

    Shape:
        output (N, C, Ho, Wo) as ``max_pool2d`` with dilation 1.

    Example:
        >>> avg_pool2d(deepgrad.arange(16.).reshape(1, 1, 4, 4), 2)
        tensor([[[[ 2.5000,  4.5000],
                  [10.5000, 12.5000]]]])
    """
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    x, pool, unbatched = _geometry("avg_pool2d", input, kernel_size, stride, padding, 1,
                                   ceil_mode)
    divisor = _divisor(pool, ceil_mode, count_include_pad, divisor_override,
                       array_module(x._data))
    return _unbatch(AvgPool.apply(x, pool, divisor), unbatched)


def _as_2d(op, input, kernel_size, stride, padding, dilation=1):  # noqa: A002
    """1-d pooling runs as 2-d pooling on a unit height."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f"{op}: expected 2D or 3D (batch mode) tensor for input; got input "
                           f"with shape {tuple(input.shape)}")
    one = lambda v: (1, _pair(v, "kernel_size", op, 1)[0])  # noqa: E731
    stride = None if stride is None or stride == [] or stride == () else one(stride)
    return (input.unsqueeze(-2), one(kernel_size), stride, (0, _pair(padding, "padding", op, 1)[0]),
            one(dilation))


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False):
    """1-d max pooling over an (N, C, L) input (``max_pool2d`` on a unit height).

    Example:
        >>> max_pool1d(deepgrad.tensor([[[1., 3., 2., 0.]]]), 2)
        tensor([[[3., 2.]]])
    """
    x, kernel, stride, padding, dilation = _as_2d("max_pool1d", input, kernel_size, stride,
                                                  padding, dilation)
    result = max_pool2d(x, kernel, stride, padding, dilation, ceil_mode, return_indices)
    if return_indices:
        return result[0].squeeze(-2), result[1].squeeze(-2)
    return result.squeeze(-2)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,  # noqa: A002
               count_include_pad: bool = True) -> Tensor:
    """1-d average pooling over an (N, C, L) input (``avg_pool2d`` on a unit height).

    Example:
        >>> avg_pool1d(deepgrad.tensor([[[1., 3., 2., 0.]]]), 2)
        tensor([[[2., 1.]]])
    """
    x, kernel, stride, padding, _ = _as_2d("avg_pool1d", input, kernel_size, stride, padding)
    return avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad).squeeze(-2)


from .adaptive_pooling import (  # noqa: E402,F401,I001 - adaptive pools reuse the kernels above
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d,
)
