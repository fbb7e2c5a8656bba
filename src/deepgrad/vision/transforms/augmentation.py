"""Random transforms (data augmentation), as ``torchvision.transforms``.

Every random choice is drawn from deepgrad's default generator, so ``deepgrad.manual_seed(s)``
makes a pipeline reproducible (DataLoader workers seed it per worker, as torch does). The
streams differ from torch's: the same seed gives different crops than torchvision.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence

from ... import backend
from . import functional as F
from .functional import InterpolationMode
from .transforms import Transform, setup_size

__all__ = ["RandomCrop", "RandomResizedCrop", "RandomHorizontalFlip", "RandomVerticalFlip",
           "ColorJitter", "RandomGrayscale", "RandomApply", "RandomChoice", "RandomOrder",
           "RandomRotation"]


def _rng():
    # looked up at each call: manual_seed replaces the default generator's stream
    return backend.rng(None)


def _randint(low: int, high: int) -> int:
    """A uniform int in [low, high) (torch.randint's range)."""
    return int(_rng().integers(low, high))


class RandomCrop(Transform):
    """Crop a random (h, w) box, after optional padding.

    Args:
        size: (h, w) or an int for a square.
        padding: padding applied first (as ``Pad``), e.g. 4 for CIFAR's classic augmentation.
        pad_if_needed: pad images smaller than ``size`` so the crop fits.
        fill: value of constant padding. padding_mode: constant, edge, reflect or symmetric.

    Example:
        >>> RandomCrop(32, padding=4)(np.zeros((32, 32, 3), np.uint8)).shape  # doctest: +SKIP
        (32, 32, 3)
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0,
                 padding_mode: str = "constant") -> None:
        self.size = setup_size(size)
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    @staticmethod
    def get_params(img, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """Random ``(top, left, height, width)`` of a crop of ``output_size``."""
        _, height, width = F.get_dimensions(img)
        crop_height, crop_width = output_size
        if height < crop_height or width < crop_width:
            raise ValueError(f"Required crop size {(crop_height, crop_width)} is larger than "
                             f"input image size {(height, width)}")
        if (height, width) == (crop_height, crop_width):
            return 0, 0, height, width
        top = _randint(0, height - crop_height + 1)
        left = _randint(0, width - crop_width + 1)
        return top, left, crop_height, crop_width

    def forward(self, img):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        return F.crop(img, *self.get_params(img, self.size))

    def extra_repr(self) -> str:
        return f"size={self.size}, padding={self.padding}"


class RandomResizedCrop(Transform):
    """Crop a random box of random area and aspect ratio, then resize it to ``size``.

    The box area is a uniform fraction in ``scale`` of the image area and its aspect ratio
    (w / h) log-uniform in ``ratio``; after 10 failed tries it falls back to a central crop.

    Args:
        size: output (h, w) or an int for a square.
        scale: range of the area fraction. ratio: range of the aspect ratio.
        interpolation, antialias: as in ``Resize``.

    Example:
        >>> RandomResizedCrop(24)(np.zeros((28, 28), np.uint8)).shape  # doctest: +SKIP
        (24, 24)
    """

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias: bool | None = True):
        self.size = setup_size(size)
        if not isinstance(scale, Sequence) or not isinstance(ratio, Sequence):
            raise TypeError("Scale and ratio should be sequences of two numbers (min, max)")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        F._interpolation(interpolation)
        self.scale, self.ratio = scale, ratio
        self.interpolation, self.antialias = interpolation, antialias

    @staticmethod
    def get_params(img, scale, ratio) -> tuple[int, int, int, int]:
        """Random ``(top, left, height, width)`` following torchvision's sampling rule."""
        _, height, width = F.get_dimensions(img)
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        rng = _rng()
        for _ in range(10):
            target_area = area * rng.uniform(scale[0], scale[1])
            aspect_ratio = math.exp(rng.uniform(log_ratio[0], log_ratio[1]))
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                return _randint(0, height - h + 1), _randint(0, width - w + 1), h, w
        in_ratio = width / height  # fallback: the central crop with the nearest allowed ratio
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def forward(self, img):
        top, left, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, top, left, h, w, self.size, self.interpolation,
                              antialias=self.antialias)

    def extra_repr(self) -> str:
        mode = getattr(self.interpolation, "value", self.interpolation)
        scale = tuple(round(s, 4) for s in self.scale)
        ratio = tuple(round(r, 4) for r in self.ratio)
        return (f"size={self.size}, scale={scale}, ratio={ratio}, interpolation={mode}, "
                f"antialias={self.antialias}")


class RandomRotation(Transform):
    """Rotate by an angle drawn uniformly from ``degrees``.

    Args:
        degrees: a number d for (-d, d), or a (min, max) pair, in degrees.
        interpolation: ``InterpolationMode.NEAREST`` (default) or ``BILINEAR``.
        expand: enlarge the output to hold the whole rotated image.
        center: centre of rotation (x, y) in pixels; default the image centre.
        fill: value (or one per channel) for the area outside the rotated image.

    Example:
        >>> RandomRotation(15)(np.zeros((28, 28), np.uint8)).shape  # doctest: +SKIP
        (28, 28)
    """

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand: bool = False,
                 center=None, fill=0) -> None:
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError("If degrees is a single number, it must be positive.")
            degrees = (-float(degrees), float(degrees))
        elif not isinstance(degrees, Sequence) or len(degrees) != 2:
            raise ValueError("If degrees is a sequence, it must be of len 2.")
        if center is not None and (not isinstance(center, Sequence) or len(center) != 2):
            raise ValueError("If center is a sequence, it must be of len 2.")
        F._interpolation(interpolation)
        self.degrees = (float(degrees[0]), float(degrees[1]))
        self.interpolation, self.expand, self.center, self.fill = (interpolation, expand,
                                                                   center, fill)

    @staticmethod
    def get_params(degrees) -> float:
        """A uniform angle in ``degrees`` = (min, max)."""
        return float(_rng().uniform(degrees[0], degrees[1]))

    def forward(self, img):
        angle = self.get_params(self.degrees)
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, self.fill)

    def extra_repr(self) -> str:
        mode = getattr(self.interpolation, "value", self.interpolation)
        return (f"degrees={self.degrees}, interpolation={mode}, expand={self.expand}, "
                f"fill={self.fill}")


class RandomHorizontalFlip(Transform):
    """Mirror left-right with probability ``p``.

    Example:
        >>> RandomHorizontalFlip(p=1.0)(np.array([[1, 2]], np.uint8))
        array([[2, 1]], dtype=uint8)
    """

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def forward(self, img):
        return F.hflip(img) if _rng().random() < self.p else img

    def extra_repr(self) -> str:
        return f"p={self.p}"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom with probability ``p``."""

    def forward(self, img):
        return F.vflip(img) if _rng().random() < self.p else img


def _jitter_range(value, name: str, center: float = 1.0, bound=(0, float("inf")),
                  clip_first_on_zero: bool = True):
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        value = [center - float(value), center + float(value)]
        if clip_first_on_zero:
            value[0] = max(value[0], 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        value = [float(value[0]), float(value[1])]
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
    if not bound[0] <= value[0] <= value[1] <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {value}.")
    return None if value[0] == value[1] == center else tuple(value)


class ColorJitter(Transform):
    """Randomly change brightness, contrast, saturation and hue, in a random order.

    Each factor is drawn uniformly from its range: a number ``b`` means
    ``[max(0, 1 - b), 1 + b]`` (hue: ``[-h, h]`` with ``h <= 0.5``); a pair is the range.
    The adjustments are torchvision's (see ``functional.adjust_*``).

    Example:
        >>> jitter = ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)
        >>> jitter(np.zeros((8, 8, 3), np.uint8)).shape
        (8, 8, 3)
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0) -> None:
        self.brightness = _jitter_range(brightness, "brightness")
        self.contrast = _jitter_range(contrast, "contrast")
        self.saturation = _jitter_range(saturation, "saturation")
        self.hue = _jitter_range(hue, "hue", center=0, bound=(-0.5, 0.5),
                                 clip_first_on_zero=False)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """``(order, b, c, s, h)``: a permutation of the 4 adjustments and the factors (None
        for an adjustment that is off)."""
        rng = _rng()
        order = [int(i) for i in rng.permutation(4)]
        factors = [None if r is None else float(rng.uniform(r[0], r[1]))
                   for r in (brightness, contrast, saturation, hue)]
        return (order, *factors)

    def forward(self, img):
        order, *factors = self.get_params(self.brightness, self.contrast, self.saturation,
                                          self.hue)
        adjust = (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue)
        for index in order:
            if factors[index] is not None:
                img = adjust[index](img, factors[index])
        return img

    def extra_repr(self) -> str:
        return (f"brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue}")


class RandomGrayscale(Transform):
    """Convert to greyscale with probability ``p``, keeping the number of channels."""

    def __init__(self, p: float = 0.1) -> None:
        self.p = p

    def forward(self, img):
        if _rng().random() < self.p:
            return F.rgb_to_grayscale(img, F.get_image_num_channels(img))
        return img

    def extra_repr(self) -> str:
        return f"p={self.p}"


class RandomApply(Transform):
    """Apply the list of ``transforms`` (in order) with probability ``p``, else none."""

    def __init__(self, transforms: Sequence[Callable], p: float = 0.5) -> None:
        self.transforms, self.p = list(transforms), p

    def forward(self, img):
        if self.p < _rng().random():
            return img
        for transform in self.transforms:
            img = transform(img)
        return img

    def extra_repr(self) -> str:
        return f"p={self.p}, transforms={self.transforms}"


class RandomChoice(Transform):
    """Apply one transform picked at random (with weights ``p`` if given)."""

    def __init__(self, transforms: Sequence[Callable], p: Sequence[float] | None = None):
        if p is not None and len(p) != len(transforms):
            raise ValueError(f"Length of p doesn't match the number of transforms: {len(p)} "
                             f"!= {len(transforms)}")
        self.transforms, self.p = list(transforms), p

    def forward(self, img):
        weights = None if self.p is None else [w / sum(self.p) for w in self.p]
        index = int(_rng().choice(len(self.transforms), p=weights))
        return self.transforms[index](img)


class RandomOrder(Transform):
    """Apply all ``transforms`` in a random order."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def forward(self, img):
        for index in _rng().permutation(len(self.transforms)):
            img = self.transforms[int(index)](img)
        return img
