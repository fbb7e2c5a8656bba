"""The three kinds of images the transforms accept, and one array layout the kernels see.

- a NumPy array (H, W) or (H, W, C): what the datasets return, laid out like a PIL image;
- a Tensor (..., C, H, W) (or (..., H, W)): what ``ToTensor`` returns;
- a ``PIL.Image`` when Pillow is installed (converted to and from a NumPy array).

``unwrap`` turns any of them into an array (..., C, H, W) (a view, no copy) plus a function
that turns a result array back into the input's kind, so each kernel is written once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..._tensor import Tensor
from ...backend import array_module


def is_pil(image) -> bool:
    """True for ``PIL.Image`` objects, checked without importing Pillow."""
    return any(cls.__module__ == "PIL.Image" and cls.__name__ == "Image"
               for cls in type(image).__mro__)


def pil_module():
    try:
        from PIL import Image  # noqa: PLC0415 - optional dependency, imported on demand
    except ImportError as error:
        raise ImportError("PIL images need Pillow, which is not installed: "
                          "pip install pillow") from error
    return Image


def unwrap(image, op: str) -> tuple[object, Callable]:
    """``(array (..., C, H, W), wrap)`` where ``wrap(result)`` rebuilds the input's kind.

    Tensors keep their own layout (their last two dims are H, W); NumPy arrays (H, W) become
    (1, H, W) and (H, W, C) become (C, H, W) views; PIL images go through NumPy.
    """
    if isinstance(image, Tensor):
        if image._data.ndim < 2:
            raise TypeError(f"{op}: tensor images must have at least 2 dimensions (..., H, W); "
                            f"got shape {tuple(image.shape)}")
        return image._data, _to_tensor
    if isinstance(image, np.ndarray):
        if image.ndim == 2:
            return image[None], _to_hw
        if image.ndim == 3:
            channels = image.shape[2]
            return image.transpose(2, 0, 1), lambda result: _to_hwc(result, channels)
        raise ValueError(f"{op}: NumPy images must be (H, W) or (H, W, C) arrays; "
                         f"got shape {image.shape}")
    if is_pil(image):
        if image.mode in ("P", "1", "CMYK", "YCbCr", "LA", "PA"):
            # palette indices or packed bits are not intensities: work on RGB(A) / L values
            image = image.convert({"1": "L", "LA": "RGBA", "PA": "RGBA"}.get(image.mode, "RGB"))
        array = np.asarray(image)
        chw, to_numpy = unwrap(array, op)
        mode = image.mode if image.mode in ("L", "RGB", "RGBA", "I", "F") else None
        return chw, lambda result: _to_pil(to_numpy(result), mode)
    raise TypeError(f"{op}: img should be a NumPy array, a Tensor or a PIL Image; "
                    f"got {type(image).__name__}")


def _to_tensor(result):
    # results are new tensors with their own memory layout (no negative strides from flips)
    return Tensor._make(array_module(result).ascontiguousarray(result))


def _to_hw(result):
    return np.ascontiguousarray(result[0] if result.shape[0] == 1 else result.transpose(1, 2, 0))


def _to_hwc(result, channels: int):
    if result.shape[0] == 1 and channels != 1:  # e.g. RGB -> grey gives (H, W), as PIL's "L"
        return np.ascontiguousarray(result[0])
    return np.ascontiguousarray(result.transpose(1, 2, 0))


def _to_pil(array: np.ndarray, mode: str | None):
    image_module = pil_module()
    channels = 1 if array.ndim == 2 else array.shape[2]
    if mode in ("L", "I", "F") and channels != 1 or mode in ("RGB", "RGBA") and channels == 1:
        mode = None  # the transform changed the channel count (e.g. Grayscale)
    if mode is None:
        return image_module.fromarray(array)
    return image_module.fromarray(array.astype({"I": np.int32, "F": np.float32}.get(mode,
                                                                                  np.uint8)),
                                  mode=mode)


def get_dimensions(image) -> list[int]:
    """``[channels, height, width]`` of an image of any accepted kind."""
    if isinstance(image, Tensor):
        shape = image._data.shape
        if len(shape) < 2:
            raise TypeError(f"get_dimensions: expected a tensor image (..., H, W); "
                            f"got shape {tuple(shape)}")
        return [1 if len(shape) == 2 else shape[-3], shape[-2], shape[-1]]
    if isinstance(image, np.ndarray):
        if image.ndim not in (2, 3):
            raise ValueError(f"get_dimensions: NumPy images must be (H, W) or (H, W, C); "
                             f"got shape {image.shape}")
        return [1 if image.ndim == 2 else image.shape[2], image.shape[0], image.shape[1]]
    if is_pil(image):
        width, height = image.size
        return [len(image.getbands()), height, width]
    raise TypeError(f"get_dimensions: img should be a NumPy array, a Tensor or a PIL Image; "
                    f"got {type(image).__name__}")


def max_value(dtype) -> float:
    """The value of full intensity: 1.0 for floating point, the type's maximum for integers."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return 1.0
    if dtype.kind == "b":
        return 1
    return int(np.iinfo(dtype).max)


def work_dtype(dtype):
    """The float type arithmetic on images of ``dtype`` runs in (as torchvision: float32 for
    integer images, the image's own type for floating point)."""
    dtype = np.dtype(dtype)
    return dtype if dtype.kind == "f" else np.dtype(np.float32)
