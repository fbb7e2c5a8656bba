"""Geometric kernels on arrays (..., H, W): flips, crops, padding and resizing.

They follow torchvision's tensor implementations (``_functional_tensor``): the same output sizes,
rounding of crop offsets, padding modes and interpolation grids, so results equal torchvision's
on tensors (see ``resize`` for the tolerances of antialiased resizing).
"""

from __future__ import annotations

import math

import numpy as np

from ...backend import array_module
from ._image import max_value, work_dtype

PADDING_MODES = ("constant", "edge", "reflect", "symmetric")
INTERPOLATIONS = ("nearest", "nearest-exact", "bilinear")


def hflip(array):
    return array[..., ::-1]


def vflip(array):
    return array[..., ::-1, :]


def parse_padding(padding) -> list[int]:
    """torchvision's padding forms -> ``[left, top, right, bottom]``."""
    if isinstance(padding, (int, np.integer)):
        return [int(padding)] * 4
    if not isinstance(padding, (list, tuple)):
        raise TypeError(f"Got inappropriate padding arg: {padding!r}")
    if len(padding) == 1:
        return [int(padding[0])] * 4
    if len(padding) == 2:
        return [int(padding[0]), int(padding[1])] * 2
    if len(padding) == 4:
        return [int(p) for p in padding]
    raise ValueError("Padding must be an int or a 1, 2, or 4 element tuple, not a "
                     f"{len(padding)} element tuple")


def pad(array, padding, fill=0, padding_mode: str = "constant"):
    """Pad the last two dims by ``[left, top, right, bottom]``; negative values crop first."""
    if padding_mode not in PADDING_MODES:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = parse_padding(padding)
    height, width = array.shape[-2:]
    # negative padding removes rows/columns, as torchvision's tensor pad
    array = array[..., max(-top, 0):height - max(-bottom, 0), max(-left, 0):width - max(-right, 0)]
    left, top, right, bottom = (max(p, 0) for p in (left, top, right, bottom))
    if padding_mode == "reflect" and (max(top, bottom) >= array.shape[-2]
                                      or max(left, right) >= array.shape[-1]):
        raise ValueError(f"pad: reflect padding {[left, top, right, bottom]} must be smaller "
                         f"than the image size {tuple(array.shape[-2:])} in each dimension")
    xp = array_module(array)
    widths = [(0, 0)] * (array.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode != "constant":
        return xp.pad(array, widths, mode=padding_mode)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = fill[0]
        elif array.ndim < 3 or len(fill) != array.shape[-3]:
            raise ValueError(f"pad: fill {tuple(fill)} needs one value per channel; the image "
                             f"has shape {tuple(array.shape)}")
    if not isinstance(fill, (list, tuple)):
        return xp.pad(array, widths, mode="constant", constant_values=_fill_value(fill, array))
    result = xp.pad(array, widths, mode="constant")
    for channel, value in enumerate(fill):  # per-channel fill: paint the borders
        plane = result[..., channel, :, :]
        border = xp.ones(plane.shape[-2:], dtype=bool)
        border[top:top + array.shape[-2], left:left + array.shape[-1]] = False
        plane[..., border] = _fill_value(value, array)
    return result


def _fill_value(value, array):
    return value if array.dtype.kind == "f" else int(value)


def crop(array, top: int, left: int, height: int, width: int):
    """Crop a box; parts outside the image are zero-padded (torchvision's tensor crop)."""
    image_height, image_width = array.shape[-2:]
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > image_width or bottom > image_height:
        padding = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                   max(right - max(image_width, left), 0), max(bottom - max(image_height, top), 0)]
        return pad(array[..., max(top, 0):bottom, max(left, 0):right], padding, fill=0)
    return array[..., top:bottom, left:right]


def center_crop(array, output_size: tuple[int, int]):
    crop_height, crop_width = output_size
    image_height, image_width = array.shape[-2:]
    if crop_width > image_width or crop_height > image_height:
        padding = [(crop_width - image_width) // 2 if crop_width > image_width else 0,
                   (crop_height - image_height) // 2 if crop_height > image_height else 0,
                   (crop_width - image_width + 1) // 2 if crop_width > image_width else 0,
                   (crop_height - image_height + 1) // 2 if crop_height > image_height else 0]
        array = pad(array, padding, fill=0)
        image_height, image_width = array.shape[-2:]
        if crop_width == image_width and crop_height == image_height:
            return array
    # Python's round (half to even), as torchvision
    top = int(round((image_height - crop_height) / 2.0))
    left = int(round((image_width - crop_width) / 2.0))
    return crop(array, top, left, crop_height, crop_width)


def resized_output_size(height: int, width: int, size, max_size: int | None) -> list[int]:
    """torchvision's Resize size rule: an int (or 1-sequence) matches the smaller edge."""
    if isinstance(size, (int, np.integer)) or len(size) == 1:
        short, long = (width, height) if width <= height else (height, width)
        requested = int(size if isinstance(size, (int, np.integer)) else size[0])
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the "
                                 f"requested size for the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        new_width, new_height = (new_short, new_long) if width <= height else (new_long,
                                                                                new_short)
        return [new_height, new_width]
    if max_size is not None:
        raise ValueError("max_size should only be passed if size specifies the length of the "
                         "smaller edge, i.e. size should be an int or a sequence of length 1")
    return [int(size[0]), int(size[1])]


def _nearest_indices(in_size: int, out_size: int, exact: bool) -> np.ndarray:
    # torch computes the scale and the source position in float32
    scale = np.float32(in_size) / np.float32(out_size)
    offset = np.float32(0.5) if exact else np.float32(0.0)
    position = (np.arange(out_size, dtype=np.float32) + offset) * scale
    return np.minimum(np.floor(position).astype(np.int64), in_size - 1)


def _linear_weights(in_size: int, out_size: int, antialias: bool) -> np.ndarray:
    """(out_size, in_size) interpolation matrix of torch's bilinear (align_corners=False)."""
    if not antialias:
        # torch's two-tap rule, in float32 as torch computes it, so ties round the same way
        scale = np.float32(in_size) / np.float32(out_size)
        source = scale * (np.arange(out_size, dtype=np.float32) + np.float32(0.5)) \
            - np.float32(0.5)
        source = np.maximum(source, np.float32(0.0))
        low = source.astype(np.int64)
        high = low + (low < in_size - 1)
        frac = np.clip(source - low.astype(np.float32), np.float32(0), np.float32(1))
        weights = np.zeros((out_size, in_size), np.float32)
        rows = np.arange(out_size)
        weights[rows, low] += np.float32(1) - frac
        weights[rows, high] += frac
        return weights
    # the PIL/torch antialias kernel: a triangle filter stretched by the downscaling factor
    # and renormalised where it leaves the image
    scale = in_size / out_size
    stretch = max(scale, 1.0)
    centers = scale * (np.arange(out_size) + 0.5)  # source position of each output pixel
    distance = (np.arange(in_size)[None, :] + 0.5 - centers[:, None]) / stretch
    weights = np.maximum(0.0, 1.0 - np.abs(distance))
    return weights / weights.sum(axis=1, keepdims=True)


def resize(array, size: list[int], interpolation: str = "bilinear", antialias: bool = True):
    """Resize the last two dims to ``size`` = [height, width], as torchvision's tensor resize.

    Nearest and bilinear without antialias reproduce ``torch.nn.functional.interpolate``
    (float results within float32 rounding, ~1e-6); antialiased bilinear follows torch's
    ``antialias=True`` kernel (within ~1e-5 on floats). Integer images are computed in float32,
    rounded (half to even) and clamped, as torchvision does; torchvision's own uint8 fast path
    can differ from that by one grey level.
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"resize: interpolation must be one of {INTERPOLATIONS}; "
                         f"got {interpolation!r}")
    height, width = array.shape[-2:]
    out_height, out_width = size
    if (out_height, out_width) == (height, width):
        return array
    xp = array_module(array)
    if interpolation != "bilinear":
        exact = interpolation == "nearest-exact"
        rows = xp.asarray(_nearest_indices(height, out_height, exact))
        cols = xp.asarray(_nearest_indices(width, out_width, exact))
        return array[..., rows[:, None], cols]
    dtype = work_dtype(array.dtype)
    rows = xp.asarray(_linear_weights(height, out_height, antialias), dtype=dtype)
    cols = xp.asarray(_linear_weights(width, out_width, antialias), dtype=dtype)
    result = rows @ (array.astype(dtype, copy=False) @ cols.T)  # (..., H', W')
    if array.dtype.kind == "f":
        return result
    return xp.clip(xp.round(result), 0, max_value(array.dtype)).astype(array.dtype)


def rotation_matrix(angle: float, center: tuple[float, float]) -> list[float]:
    """torchvision's inverse affine matrix (output -> input) of a rotation by ``angle`` degrees
    counter-clockwise about ``center`` (in coordinates relative to the image centre)."""
    rotation = math.radians(-angle)
    cos, sin = math.cos(rotation), math.sin(rotation)
    cx, cy = center
    # inverse of [[cos, -sin], [sin, cos]], conjugated by the translation to the centre
    matrix = [cos, sin, 0.0, -sin, cos, 0.0]
    matrix[2] += matrix[0] * -cx + matrix[1] * -cy + cx
    matrix[5] += matrix[3] * -cx + matrix[4] * -cy + cy
    return matrix


def affine_output_size(matrix: list[float], width: int, height: int) -> tuple[int, int]:
    """(width, height) of the box holding the whole transformed image (``expand=True``)."""
    corners = np.array([[-0.5 * width, -0.5 * height, 1.0], [-0.5 * width, 0.5 * height, 1.0],
                        [0.5 * width, 0.5 * height, 1.0], [0.5 * width, -0.5 * height, 1.0]],
                       np.float32)
    moved = corners @ np.array(matrix, np.float32).reshape(2, 3).T
    low = moved.min(axis=0) + np.array([width * 0.5, height * 0.5], np.float32)
    high = moved.max(axis=0) + np.array([width * 0.5, height * 0.5], np.float32)
    tolerance = 1e-4  # truncate so that 1e-15 above an integer does not ceil to one more pixel
    size = np.ceil(np.trunc(high / tolerance) * tolerance) \
        - np.floor(np.trunc(low / tolerance) * tolerance)
    return int(size[0]), int(size[1])


def _grid_sample(array, ix, iy, interpolation: str):
    """Sample (..., C, H, W) at pixel positions (ix, iy) of shape (H', W'); zeros outside
    (torch's grid_sample with padding_mode="zeros")."""
    xp = array_module(array)
    height, width = array.shape[-2:]
    if interpolation == "nearest":
        corners = [(xp.rint(iy), xp.rint(ix), None)]  # rint: ties to even, as nearbyint
    else:
        x0, y0 = xp.floor(ix), xp.floor(iy)
        wx, wy = ix - x0, iy - y0
        corners = [(y0, x0, (1 - wy) * (1 - wx)), (y0, x0 + 1, (1 - wy) * wx),
                   (y0 + 1, x0, wy * (1 - wx)), (y0 + 1, x0 + 1, wy * wx)]
    result = 0
    for rows, cols, weight in corners:
        inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        values = array[..., xp.clip(rows, 0, height - 1).astype(np.int64),
                       xp.clip(cols, 0, width - 1).astype(np.int64)] * inside
        result = result + (values if weight is None else values * weight)
    return result


def rotate(array, angle: float, interpolation: str = "nearest", expand: bool = False,
           center=None, fill=None):
    """Rotate by ``angle`` degrees counter-clockwise, as torchvision's tensor rotate (an
    affine grid sampled with grid_sample, the outside painted with ``fill``)."""
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"rotate: interpolation must be 'nearest' or 'bilinear'; "
                         f"got {interpolation!r}")
    xp = array_module(array)
    height, width = array.shape[-2:]
    offset = (0.0, 0.0) if center is None else (center[0] - width * 0.5,
                                                  center[1] - height * 0.5)
    matrix = rotation_matrix(angle, offset)
    out_width, out_height = affine_output_size(matrix, width, height) if expand else (width,
                                                                                      height)
    dtype = work_dtype(array.dtype)
    # output pixel centres relative to the output centre, mapped to input pixel positions
    x = xp.linspace(-out_width * 0.5 + 0.5, out_width * 0.5 - 0.5, out_width, dtype=dtype)
    y = xp.linspace(-out_height * 0.5 + 0.5, out_height * 0.5 - 0.5, out_height, dtype=dtype)
    x, y = x[None, :], y[:, None]
    # torchvision's float path: theta scaled to [-1, 1] coordinates, then grid_sample's
    # unnormalisation ((g + 1) * size - 1) / 2, so that ties round the same way
    theta = xp.asarray(matrix, dtype=dtype).reshape(2, 3) \
        / xp.asarray([[0.5 * width], [0.5 * height]], dtype=dtype)
    grid_x = x * theta[0, 0] + y * theta[0, 1] + theta[0, 2]
    grid_y = x * theta[1, 0] + y * theta[1, 1] + theta[1, 2]
    ix = ((grid_x + 1) * dtype.type(width) - 1) / 2
    iy = ((grid_y + 1) * dtype.type(height) - 1) / 2
    sampled = _grid_sample(array.astype(dtype, copy=False), ix, iy, interpolation)
    if fill is None:
        result = sampled  # zeros outside, no blending
    else:
        # torchvision samples a mask of ones alongside and blends the fill in with it
        mask = _grid_sample(xp.ones((height, width), dtype), ix, iy, interpolation)
        channels = 1 if array.ndim == 2 else array.shape[-3]
        fill = [float(fill)] * channels if isinstance(fill, (int, float)) else list(fill)
        fill_image = xp.asarray(fill, dtype=dtype).reshape((-1, 1, 1)[-min(array.ndim, 3):])
        if interpolation == "nearest":
            result = xp.where(mask < 0.5, fill_image, sampled)
        else:
            result = sampled * mask + (1.0 - mask) * fill_image
    if array.dtype.kind == "f":
        return result.astype(array.dtype, copy=False)
    return xp.clip(xp.round(result), 0, max_value(array.dtype)).astype(array.dtype)
