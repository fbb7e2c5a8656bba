"""Functional transforms, as ``torchvision.transforms.functional``.

Every function takes a NumPy image (H, W) / (H, W, C), a Tensor (..., C, H, W) or a PIL image
and returns the same kind. They follow torchvision's *tensor* formulas for all three kinds, so
a NumPy uint8 image gives what torchvision gives for the same uint8 tensor; for PIL images
torchvision uses Pillow's own routines, which can differ by a grey level (rounding) and, for
antialiased resizing, slightly more. Results never record autograd history, except
``normalize`` on a tensor that requires grad.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import numpy as np

from ... import backend
from ..._tensor import Tensor
from ...backend import array_module
from . import _color, _geometry
from ._image import get_dimensions, is_pil, pil_module, unwrap

__all__ = [
    "InterpolationMode", "to_tensor", "pil_to_tensor", "to_pil_image", "convert_image_dtype",
    "normalize", "hflip", "vflip", "crop", "center_crop", "pad", "resize", "resized_crop",
    "rotate",
    "rgb_to_grayscale", "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue",
    "get_dimensions", "get_image_size", "get_image_num_channels",
]


class InterpolationMode(Enum):
    """Interpolation methods of ``resize`` (torchvision's enum; the strings work as well)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


_PIL_CODES = {0: "nearest", 2: "bilinear", 3: "bicubic"}  # PIL.Image resampling constants


def _interpolation(mode) -> str:
    if isinstance(mode, InterpolationMode):
        mode = mode.value
    elif isinstance(mode, int):
        mode = _PIL_CODES.get(mode, str(mode))
    if mode not in _geometry.INTERPOLATIONS:
        raise ValueError(f"resize: interpolation {mode!r} is not supported; use one of "
                         f"{', '.join(_geometry.INTERPOLATIONS)}")
    return mode


def _apply(image, op: str, kernel, *args):
    array, wrap = unwrap(image, op)
    return wrap(kernel(array, *args))


# ---------------------------------------------------------------- conversions

def _pil_array(pic) -> np.ndarray:
    types = {"I": np.int32, "I;16": np.int16, "F": np.float32}
    array = np.array(pic, types.get(pic.mode, np.uint8), copy=True)
    return array * np.uint8(255) if pic.mode == "1" else array


def to_tensor(pic) -> Tensor:
    """Image (H, W) / (H, W, C) -> tensor (C, H, W); uint8 is scaled to float in [0, 1].

    Args:
        pic: a NumPy array or a PIL image (tensors are refused, as in torchvision).

    Returns:
        A float tensor of the default dtype in [0, 1] for uint8 input; other types unscaled.

    Example:
        >>> to_tensor(np.full((2, 2), 255, np.uint8)).shape
        deepgrad.Size([1, 2, 2])
    """
    if is_pil(pic):
        pic = _pil_array(pic)
    elif not isinstance(pic, np.ndarray):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if pic.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    array = pic[:, :, None] if pic.ndim == 2 else pic
    array = np.ascontiguousarray(array.transpose(2, 0, 1))  # (C, H, W)
    if array.dtype == np.uint8:
        array = array.astype(backend.get_default_dtype().numpy)
        array /= array.dtype.type(255)
    return Tensor._make(array)


def pil_to_tensor(pic) -> Tensor:
    """Image -> tensor (C, H, W) keeping its type and values (no scaling).

    Accepts PIL images (as torchvision) and NumPy images (H, W) / (H, W, C).
    """
    if is_pil(pic):
        pic = _pil_array(pic)
    elif not isinstance(pic, np.ndarray):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    array = pic[:, :, None] if pic.ndim == 2 else pic
    return Tensor._make(np.ascontiguousarray(array.transpose(2, 0, 1)))


def to_pil_image(pic, mode: str | None = None):
    """Tensor (C, H, W) or NumPy (H, W[, C]) -> PIL image (float scaled by 255, truncated)."""
    image_module = pil_module()
    if isinstance(pic, Tensor):
        array = backend.move_array(pic._data, backend.CPU)
        array = array[None] if array.ndim == 2 else array
        if array.ndim != 3:
            raise ValueError(f"pic should be 2/3 dimensional. Got {array.ndim} dimensions.")
        array = array.transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        array = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if array.dtype.kind == "f" and mode != "F":
        array = (array * 255).astype(np.uint8)
    array = array[:, :, 0] if array.shape[2] == 1 else array
    return image_module.fromarray(np.ascontiguousarray(array), mode=mode)


def convert_image_dtype(image: Tensor, dtype=None) -> Tensor:
    """Change a tensor image's dtype, rescaling values (e.g. uint8 0..255 <-> float 0..1)."""
    if not isinstance(image, Tensor):
        raise TypeError(f"Input img should be Tensor Image. Got {type(image)}")
    target = backend.to_numpy_dtype(dtype or backend.float32)
    return Tensor._make(_color.convert_image_dtype(image._data, target))


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float],
              inplace: bool = False) -> Tensor:
    """``(tensor - mean) / std`` per channel of a float tensor image (..., C, H, W).

    Differentiable when ``tensor`` requires grad (written with Tensor ops then).

    Example:
        >>> normalize(deepgrad.ones(3, 2, 2), [0.5] * 3, [0.25] * 3)[0, 0, 0]  # doctest: +SKIP
        tensor(2.)
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    data = tensor._data
    if data.dtype.kind != "f":
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if data.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got "
                         f"tensor.size() = {tensor.size()}")
    xp = array_module(data)
    mean_array = xp.asarray(mean, dtype=data.dtype)
    std_array = xp.asarray(std, dtype=data.dtype)
    if (std_array == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading "
                         "to division by zero.")
    if mean_array.ndim == 1:
        mean_array = mean_array.reshape(-1, 1, 1)
    if std_array.ndim == 1:
        std_array = std_array.reshape(-1, 1, 1)
    if inplace:
        return tensor.sub_(Tensor._make(mean_array)).div_(Tensor._make(std_array))
    if tensor.requires_grad:
        return (tensor - Tensor._make(mean_array)) / Tensor._make(std_array)
    return Tensor._make((data - mean_array) / std_array)


# ---------------------------------------------------------------- geometry

def hflip(img):
    """Mirror left-right."""
    return _apply(img, "hflip", _geometry.hflip)


def vflip(img):
    """Mirror top-bottom."""
    return _apply(img, "vflip", _geometry.vflip)


def crop(img, top: int, left: int, height: int, width: int):
    """The box at (top, left) of size (height, width); outside the image is zero-padded."""
    return _apply(img, "crop", _geometry.crop, int(top), int(left), int(height), int(width))


def _pair(size, name: str = "size") -> tuple[int, int]:
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) in (1, 2):
        return (int(size[0]), int(size[-1]))
    raise ValueError(f"Please provide only two dimensions (h, w) for {name}; got {size!r}")


def center_crop(img, output_size):
    """The central (h, w) box (an int means a square); zero-pads when the image is smaller."""
    return _apply(img, "center_crop", _geometry.center_crop, _pair(output_size, "output_size"))


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """Pad the borders: ``padding`` int, (left/right, top/bottom) or (left, top, right, bottom);
    ``padding_mode`` constant (with ``fill``, a number or one per channel), edge, reflect or
    symmetric."""
    return _apply(img, "pad", _geometry.pad, padding, fill, padding_mode)


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size: int | None = None,
           antialias: bool | None = True):
    """Resize to ``size`` (h, w), or make the smaller edge ``size`` when it is an int.

    Nearest and bilinear without antialias equal torch's ``interpolate`` (align_corners=False);
    antialiased bilinear (the default, as torchvision) equals torch's ``antialias=True``
    within 1e-5 on floats. uint8 images are rounded back to uint8 (torchvision's uint8
    kernel can differ by one level).
    """
    mode = _interpolation(interpolation)
    _, height, width = get_dimensions(img)
    output = _geometry.resized_output_size(height, width, size, max_size)
    return _apply(img, "resize", _geometry.resize, output, mode, antialias is not False)


def resized_crop(img, top: int, left: int, height: int, width: int, size,
                 interpolation=InterpolationMode.BILINEAR, antialias: bool | None = True):
    """``crop`` then ``resize`` to ``size``."""
    return resize(crop(img, top, left, height, width), size, interpolation,
                  antialias=antialias)


def rotate(img, angle: float, interpolation=InterpolationMode.NEAREST, expand: bool = False,
           center: Sequence[int] | None = None, fill=None):
    """Rotate by ``angle`` degrees counter-clockwise about ``center`` (default: the centre).

    As torchvision's tensor rotate: output pixels are sampled from the input (nearest or
    bilinear), outside is 0, or ``fill`` (a number or one per channel) blended in with the
    sampled coverage. ``expand`` enlarges the output to hold the whole rotated image.
    """
    mode = _interpolation(interpolation)
    return _apply(img, "rotate", _geometry.rotate, float(angle), mode, expand, center, fill)


# ---------------------------------------------------------------- colour

def rgb_to_grayscale(img, num_output_channels: int = 1):
    """Luma 0.2989 R + 0.587 G + 0.114 B, as 1 channel or repeated to 3."""
    return _apply(img, "rgb_to_grayscale", _color.rgb_to_grayscale, num_output_channels)


def adjust_brightness(img, brightness_factor: float):
    """Scale intensities: 0 gives black, 1 the original, 2 twice as bright (clamped)."""
    return _apply(img, "adjust_brightness", _color.adjust_brightness, float(brightness_factor))


def adjust_contrast(img, contrast_factor: float):
    """Blend with the mean grey level: 0 gives a uniform grey image, 1 the original."""
    return _apply(img, "adjust_contrast", _color.adjust_contrast, float(contrast_factor))


def adjust_saturation(img, saturation_factor: float):
    """Blend with the greyscale image: 0 gives grey, 1 the original, 2 more saturated."""
    return _apply(img, "adjust_saturation", _color.adjust_saturation, float(saturation_factor))


def adjust_hue(img, hue_factor: float):
    """Rotate hue by ``hue_factor`` turns (in [-0.5, 0.5]) in HSV space."""
    return _apply(img, "adjust_hue", _color.adjust_hue, float(hue_factor))


def get_image_size(img) -> list[int]:
    """``[width, height]`` (torchvision's order)."""
    _, height, width = get_dimensions(img)
    return [width, height]


def get_image_num_channels(img) -> int:
    return get_dimensions(img)[0]
