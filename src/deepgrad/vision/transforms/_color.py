"""Colour kernels on arrays (..., C, H, W), with torchvision's tensor formulas.

Brightness, contrast and saturation blend the image with a degenerate image (black, the mean
grey level, the greyscale image): ``clamp(factor * img + (1 - factor) * other, 0, max)``,
computed in float32 for integer images and cast back by truncation, as torchvision does.
Hue goes through HSV. Luma is ITU-R 601-2: 0.2989 R + 0.587 G + 0.114 B.
"""

from __future__ import annotations

import numpy as np

from ...backend import array_module
from ._image import max_value, work_dtype


def _channels(array, op: str, allowed=(1, 3)) -> int:
    channels = 1 if array.ndim == 2 else array.shape[-3]
    if channels not in allowed:
        raise TypeError(f"{op}: input image should have {' or '.join(map(str, allowed))} "
                        f"channels; got {channels} (shape {tuple(array.shape)})")
    return channels


def _blend(image, other, ratio: float):
    dtype = work_dtype(image.dtype)
    blended = dtype.type(ratio) * image.astype(dtype, copy=False) \
        + dtype.type(1.0 - ratio) * other.astype(dtype, copy=False)
    return array_module(image).clip(blended, 0, max_value(image.dtype)).astype(image.dtype)


def rgb_to_grayscale(array, num_output_channels: int = 1):
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    xp = array_module(array)
    array = array[None] if array.ndim == 2 else array
    if _channels(array, "rgb_to_grayscale") == 3:
        dtype = work_dtype(array.dtype)
        r, g, b = (array[..., c, :, :].astype(dtype, copy=False) for c in range(3))
        gray = (dtype.type(0.2989) * r + dtype.type(0.587) * g + dtype.type(0.114) * b)
        gray = gray.astype(array.dtype)[..., None, :, :]
    else:
        gray = array.copy()
    if num_output_channels == 3:
        return xp.broadcast_to(gray, gray.shape[:-3] + (3,) + gray.shape[-2:]).copy()
    return gray


def adjust_brightness(array, brightness_factor: float):
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    _channels(array, "adjust_brightness")
    return _blend(array, array_module(array).zeros_like(array), brightness_factor)


def adjust_contrast(array, contrast_factor: float):
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    dtype = work_dtype(array.dtype)
    source = rgb_to_grayscale(array) if _channels(array, "adjust_contrast") == 3 else array
    # mean grey level per image; accumulated in float64, rounded once to the working type
    axes = tuple(range(-min(source.ndim, 3), 0))
    mean = source.astype(np.float64).mean(axis=axes, keepdims=True).astype(dtype)
    return _blend(array, mean, contrast_factor)


def adjust_saturation(array, saturation_factor: float):
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    if _channels(array, "adjust_saturation") == 1:
        return array
    return _blend(array, rgb_to_grayscale(array), saturation_factor)


def _rgb_to_hsv(array):
    xp = array_module(array)
    r, g, b = array[..., 0, :, :], array[..., 1, :, :], array[..., 2, :, :]
    maxc, minc = array.max(axis=-3), array.min(axis=-3)
    equal = maxc == minc
    chroma = maxc - minc
    one = xp.ones_like(maxc)
    saturation = chroma / xp.where(equal, one, maxc)
    divisor = xp.where(equal, one, chroma)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    # the sector formula of the channel holding the maximum (red wins ties, then green)
    hue = xp.where(maxc == r, bc - gc, xp.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = xp.fmod(hue / 6.0 + 1.0, 1.0).astype(array.dtype)
    return hue, saturation, maxc


def _hsv_to_rgb(hue, saturation, value):
    xp = array_module(hue)
    sector = xp.floor(hue * 6.0)
    fraction = hue * 6.0 - sector
    sector = sector.astype(np.int32) % 6
    p = xp.clip(value * (1.0 - saturation), 0.0, 1.0)
    q = xp.clip(value * (1.0 - saturation * fraction), 0.0, 1.0)
    t = xp.clip(value * (1.0 - saturation * (1.0 - fraction)), 0.0, 1.0)
    red = xp.choose(sector, [value, q, p, p, t, value])
    green = xp.choose(sector, [t, value, value, q, p, p])
    blue = xp.choose(sector, [p, p, t, value, value, q])
    return xp.stack([red, green, blue], axis=-3)


def adjust_hue(array, hue_factor: float):
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if _channels(array, "adjust_hue") == 1:
        return array
    dtype = array.dtype
    image = convert_image_dtype(array, np.float32) if dtype.kind != "f" else array
    hue, saturation, value = _rgb_to_hsv(image)
    hue = (hue + image.dtype.type(hue_factor)) % 1.0
    return convert_image_dtype(_hsv_to_rgb(hue, saturation, value), dtype)


def convert_image_dtype(array, dtype):
    """Change the element type, rescaling intensities (torchvision's ``convert_image_dtype``)."""
    source, target = np.dtype(array.dtype), np.dtype(dtype)
    if source == target:
        return array
    if source.kind == "f" and target.kind == "f":
        return array.astype(target)
    if source.kind == "f":
        # 1.0 -> max: scale by max + 1 - eps, then truncate, so every level gets an equal bin
        return (array * source.type(max_value(target) + 1.0 - 1e-3)).astype(target)
    if target.kind == "f":
        return array.astype(target) / target.type(max_value(source))
    source_max, target_max = max_value(source), max_value(target)
    if source_max > target_max:
        factor = (source_max + 1) // (target_max + 1)
        return (array // factor).astype(target)
    factor = (target_max + 1) // (source_max + 1)
    return array.astype(target) * factor
