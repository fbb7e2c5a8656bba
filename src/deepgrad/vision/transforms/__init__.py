"""Image transforms with torchvision's names and signatures.

They accept NumPy images (H, W) / (H, W, C) as the datasets return them, tensors
(..., C, H, W) as ``ToTensor`` returns them, and PIL images when Pillow is installed, and
return the same kind. Random transforms draw from deepgrad's default generator
(``deepgrad.manual_seed`` makes them reproducible).

Example:
    >>> from deepgrad.vision import transforms
    >>> train_transform = transforms.Compose([
    ...     transforms.RandomCrop(32, padding=4),
    ...     transforms.RandomHorizontalFlip(),
    ...     transforms.ToTensor(),
    ...     transforms.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    ... ])
"""

from . import functional
from .augmentation import (
    ColorJitter,
    RandomApply,
    RandomChoice,
    RandomCrop,
    RandomGrayscale,
    RandomHorizontalFlip,
    RandomOrder,
    RandomResizedCrop,
    RandomRotation,
    RandomVerticalFlip,
)
from .functional import InterpolationMode
from .transforms import (
    CenterCrop,
    Compose,
    ConvertImageDtype,
    Grayscale,
    Lambda,
    Normalize,
    Pad,
    PILToTensor,
    Resize,
    ToPILImage,
    ToTensor,
)

__all__ = [
    "functional", "InterpolationMode", "Compose", "ToTensor", "PILToTensor", "ToPILImage",
    "ConvertImageDtype", "Normalize", "Resize", "CenterCrop", "Pad", "Lambda", "Grayscale",
    "RandomCrop", "RandomResizedCrop", "RandomHorizontalFlip", "RandomVerticalFlip",
    "ColorJitter", "RandomGrayscale", "RandomApply", "RandomChoice", "RandomOrder",
    "RandomRotation",
]
