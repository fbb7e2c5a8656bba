"""Deterministic transform classes, as ``torchvision.transforms`` (the random ones are in
``random.py``). Each is a callable object built once and applied to every sample."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from . import functional as F
from .functional import InterpolationMode

__all__ = ["Transform", "Compose", "ToTensor", "PILToTensor", "ToPILImage", "ConvertImageDtype",
           "Normalize", "Resize", "CenterCrop", "Pad", "Lambda", "Grayscale"]


def setup_size(size, error_msg: str = "Please provide only two dimensions (h, w) for size.") \
        -> tuple[int, int]:
    """An int or a 1- or 2-sequence -> (h, w)."""
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if not isinstance(size, Sequence) or len(size) != 2:
        raise ValueError(error_msg)
    return int(size[0]), int(size[1])


class Transform:
    """Base of the transform classes: ``transform(img)`` calls ``forward(img)``."""

    def __call__(self, img):
        return self.forward(img)

    def forward(self, img):
        raise NotImplementedError

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class Compose(Transform):
    """Apply transforms one after the other.

    Args:
        transforms: the list of transforms (any callables).

    Example:
        >>> t = Compose([CenterCrop(24), ToTensor(), Normalize((0.1307,), (0.3081,))])
        >>> t(np.zeros((28, 28), np.uint8)).shape
        deepgrad.Size([1, 24, 24])
    """

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def forward(self, img):
        for transform in self.transforms:
            img = transform(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {transform}" for transform in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class ToTensor(Transform):
    """NumPy (H, W[, C]) or PIL image -> tensor (C, H, W); uint8 scaled to float [0, 1].

    Example:
        >>> ToTensor()(np.full((28, 28), 255, np.uint8)).max().item()
        1.0
    """

    def forward(self, pic):
        return F.to_tensor(pic)


class PILToTensor(Transform):
    """PIL or NumPy image -> tensor (C, H, W) with the same type and values (no scaling)."""

    def forward(self, pic):
        return F.pil_to_tensor(pic)


class ToPILImage(Transform):
    """Tensor (C, H, W) or NumPy (H, W[, C]) -> PIL image (needs Pillow)."""

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def forward(self, pic):
        return F.to_pil_image(pic, self.mode)

    def extra_repr(self) -> str:
        return "" if self.mode is None else f"mode={self.mode}"


class ConvertImageDtype(Transform):
    """Convert a tensor image to ``dtype``, rescaling values (uint8 255 <-> float 1.0)."""

    def __init__(self, dtype) -> None:
        self.dtype = dtype

    def forward(self, image):
        return F.convert_image_dtype(image, self.dtype)


class Normalize(Transform):
    """Per-channel ``(x - mean) / std`` of a float tensor image (..., C, H, W).

    Args:
        mean: one value per channel. std: one value per channel (non-zero).
        inplace: write the result into the input tensor.

    Example:
        >>> Normalize((0.5,), (0.5,))(deepgrad.zeros(1, 2, 2))  # doctest: +SKIP
        tensor([[[-1., -1.], [-1., -1.]]])
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float],
                 inplace: bool = False) -> None:
        self.mean, self.std, self.inplace = mean, std, inplace

    def forward(self, tensor):
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def extra_repr(self) -> str:
        return f"mean={self.mean}, std={self.std}"


class Resize(Transform):
    """Resize to ``size`` (h, w), or match the smaller edge to ``size`` when it is an int.

    Args:
        size: (h, w), or an int for the smaller edge (aspect ratio kept, the other edge
            truncated to an int).
        interpolation: ``InterpolationMode.BILINEAR`` (default), ``NEAREST`` or
            ``NEAREST_EXACT`` (or their strings).
        max_size: with an int ``size``, the longer edge is capped at ``max_size``.
        antialias: antialias when downsampling with bilinear (default True, as torchvision).

    Tolerances against torchvision's tensor resize: nearest and bilinear without antialias
    equal torch's ``interpolate`` (float32 rounding); antialiased bilinear within 1e-5 on
    floats; uint8 results may differ by one grey level.

    Example:
        >>> Resize(32)(np.zeros((28, 56), np.uint8)).shape
        (32, 64)
    """

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR,
                 max_size: int | None = None, antialias: bool | None = True) -> None:
        if not isinstance(size, (int, np.integer, Sequence)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size, self.max_size, self.antialias = size, max_size, antialias
        F._interpolation(interpolation)  # fail at construction on unsupported modes
        self.interpolation = interpolation

    def forward(self, img):
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def extra_repr(self) -> str:
        mode = getattr(self.interpolation, "value", self.interpolation)
        return (f"size={self.size}, interpolation={mode}, max_size={self.max_size}, "
                f"antialias={self.antialias}")


class CenterCrop(Transform):
    """Crop the central (h, w) box (an int means a square); zero-pads smaller images.

    Example:
        >>> CenterCrop(24)(np.zeros((28, 28), np.uint8)).shape
        (24, 24)
    """

    def __init__(self, size) -> None:
        self.size = setup_size(size)

    def forward(self, img):
        return F.center_crop(img, self.size)

    def extra_repr(self) -> str:
        return f"size={self.size}"


class Pad(Transform):
    """Pad the borders.

    Args:
        padding: int (all sides), (left/right, top/bottom) or (left, top, right, bottom).
        fill: constant value (or one per channel) for ``padding_mode="constant"``.
        padding_mode: ``"constant"``, ``"edge"``, ``"reflect"`` or ``"symmetric"``.

    Example:
        >>> Pad(2)(np.zeros((28, 28), np.uint8)).shape
        (32, 32)
    """

    def __init__(self, padding, fill=0, padding_mode: str = "constant") -> None:
        if not isinstance(padding, (int, np.integer, tuple, list)):
            raise TypeError("Got inappropriate padding arg")
        if not isinstance(fill, (int, float, tuple, list)):
            raise TypeError("Got inappropriate fill arg")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or "
                             "symmetric")
        if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
            raise ValueError("Padding must be an int or a 1, 2, or 4 element tuple, not a "
                             f"{len(padding)} element tuple")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def forward(self, img):
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode}"


class Lambda(Transform):
    """Wrap a function as a transform.

    Example:
        >>> Lambda(lambda x: x * 2)(3)
        6
    """

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def forward(self, img):
        return self.lambd(img)


class Grayscale(Transform):
    """Convert to greyscale (0.2989 R + 0.587 G + 0.114 B) with 1 or 3 output channels.

    Example:
        >>> Grayscale()(np.zeros((4, 4, 3), np.uint8)).shape
        (4, 4)
    """

    def __init__(self, num_output_channels: int = 1) -> None:
        self.num_output_channels = num_output_channels

    def forward(self, img):
        return F.rgb_to_grayscale(img, self.num_output_channels)

    def extra_repr(self) -> str:
        return f"num_output_channels={self.num_output_channels}"
