"""``interpolate``: nearest and (bi)linear resampling with torch's coordinate conventions.

Resampling is separable: each spatial dim is resampled on its own, last dim first, by
gathering input rows (``index_select``) and, for linear modes, blending the two neighbours
with per-position weights. The source positions follow ATen's upsample kernels exactly:
nearest ``min(floor(dst * scale), n - 1)`` in float32; linear
``scale * (dst + 0.5) - 0.5`` clamped at 0 (align_corners=False) or
``dst * (n - 1) / (out - 1)`` (align_corners=True), where ``scale`` is
``1 / scale_factor`` when a scale factor is given and ``n / out`` otherwise. Being a
composition of differentiable ops, it is differentiable to any order.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ..backend import array_module

__all__: list = []  # torch has no top-level interpolate; nn.functional re-exports it

_LINEAR = {"linear": 3, "bilinear": 4}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear")


def _scale(n: int, out: int, scale_factor, align_corners: bool, dtype):
    """ATen's area_pixel_compute_scale / compute_scales_value."""
    if align_corners:
        return dtype.type((n - 1) / (out - 1) if out > 1 else 0)
    if scale_factor is not None and scale_factor > 0:
        return dtype.type(1.0 / scale_factor)
    return dtype.type(n / out)


def _nearest(x: Tensor, dim: int, n: int, out: int, scale_factor, exact: bool) -> Tensor:
    xp = array_module(x._data)
    if out == n and not exact:
        return x
    if out == 2 * n and not exact:
        index = np.arange(out) >> 1
    else:
        scale = _scale(n, out, scale_factor, False, np.dtype(np.float32))
        position = np.arange(out, dtype=np.float32)
        if exact:
            position += np.float32(0.5)
        index = np.minimum(np.floor(position * scale).astype(np.int64), n - 1)
    return x.index_select(dim, Tensor._make(xp.asarray(index)))


def _linear(x: Tensor, dim: int, n: int, out: int, scale_factor, align_corners: bool):
    xp = array_module(x._data)
    dtype = np.dtype(x._data.dtype)
    scale = _scale(n, out, scale_factor, align_corners, dtype)
    position = np.arange(out, dtype=dtype)
    if align_corners:
        source = scale * position
    else:
        source = np.maximum(scale * (position + dtype.type(0.5)) - dtype.type(0.5), 0)
    low = np.minimum(np.floor(source).astype(np.int64), n - 1)
    high = low + (low < n - 1)
    weight_high = np.clip(source - low, 0, 1).astype(dtype)
    weight_low = (1 - weight_high).astype(dtype)
    shape = [1] * x.dim()
    shape[dim] = out
    lows = x.index_select(dim, Tensor._make(xp.asarray(low)))
    highs = x.index_select(dim, Tensor._make(xp.asarray(high)))
    return lows * Tensor._make(xp.asarray(weight_low.reshape(shape))) + \
        highs * Tensor._make(xp.asarray(weight_high.reshape(shape)))


def _sizes(input, size, scale_factor, recompute_scale_factor):  # noqa: A002
    """(output sizes, scale factors passed to the kernels) per spatial dim, as torch."""
    spatial = tuple(input.shape[2:])
    dims = len(spatial)
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined" if size is not None
                         else "either size or scale_factor should be defined")
    if size is not None:
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * dims
        if len(sizes) != dims:
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(spatial)} and output size of {list(sizes)}. Please provide "
                             f"input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                             f"(o1, o2, ...,oK) format.")
        return tuple(int(s) for s in sizes), (None,) * dims
    factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) \
        else (scale_factor,) * dims
    if len(factors) != dims:
        raise ValueError(f"Input and scale_factor must have the same number of spatial "
                         f"dimensions, but got input with spatial dimensions of {list(spatial)} "
                         f"and scale_factor of shape {list(factors)}. Please provide input "
                         f"tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, "
                         f"...,sK) format.")
    sizes = tuple(math.floor(float(n) * float(f)) for n, f in zip(spatial, factors, strict=True))
    if recompute_scale_factor:
        factors = (None,) * dims
    return sizes, tuple(None if f is None else float(f) for f in factors)


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",  # noqa: A002
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize a batch of 1-d signals or 2-d images, as torch.nn.functional.interpolate.

    Args:
        input: (N, C, L) or (N, C, H, W).
        size: output spatial size (int or tuple); exclusive with ``scale_factor``.
        scale_factor: multiplier(s) of the spatial size; the output size is floored.
        mode: ``'nearest'``, ``'nearest-exact'``, ``'linear'`` (3-d input) or
            ``'bilinear'`` (4-d input).
        align_corners: linear modes only: map corner pixel centres onto each other (True)
            or treat pixels as areas (False, the default).
        recompute_scale_factor: compute the coordinate scale from the output size
            instead of using ``scale_factor``.
        antialias: not supported (False).

    Shape:
        output (N, C, *size).

    Example:
        >>> interpolate(deepgrad.tensor([[[1., 2.]]]), scale_factor=2, mode="linear")
        tensor([[[1.0000, 1.2500, 1.7500, 2.0000]]])
    """
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode '{mode}' is not supported; supported "
                                  f"modes are {', '.join(_MODES)}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if mode in _LINEAR:
        if input.dim() != _LINEAR[mode]:
            raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs "
                                      f"{_LINEAR[mode]}D input")
        align_corners = bool(align_corners)
    else:
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
        if input.dim() not in (3, 4):
            raise NotImplementedError(f"interpolate: expected a 3D or 4D input for mode "
                                      f"'{mode}'; got input with shape {tuple(input.shape)}")
    if input._data.dtype.kind != "f" and mode in _LINEAR:
        raise RuntimeError(f"interpolate: {mode} mode needs a floating point input; got "
                           f"input with dtype {input.dtype.name}")
    sizes, factors = _sizes(input, size, scale_factor, recompute_scale_factor)
    if min(sizes) <= 0:
        raise RuntimeError(f"interpolate: output size {sizes} must be positive; got input "
                           f"with shape {tuple(input.shape)}")
    result = input
    for k in reversed(range(len(sizes))):  # last dim first, as ATen blends
        dim = 2 + k
        n = input.shape[dim]
        if mode in _LINEAR:
            result = _linear(result, dim, n, sizes[k], factors[k], align_corners)
        else:
            result = _nearest(result, dim, n, sizes[k], factors[k], mode == "nearest-exact")
    return result
