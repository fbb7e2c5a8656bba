"""Image datasets with torchvision's names and signatures: MNIST, FashionMNIST, CIFAR10, the
bundled UCI Digits (the offline default) and ImageFolder for your own images.

Samples are ``(image, target)`` with the image a NumPy uint8 array (H, W) or (H, W, C) where
torchvision gives a PIL image; every transform in ``deepgrad.vision.transforms`` accepts it.
"""

from .cifar import CIFAR10
from .digits import Digits
from .download import calculate_md5, check_integrity, default_data_dir, download_url
from .folder import IMG_EXTENSIONS, DatasetFolder, ImageFolder
from .mnist import MNIST, FashionMNIST
from .vision import VisionDataset

__all__ = [
    "MNIST", "FashionMNIST", "CIFAR10", "Digits", "ImageFolder", "DatasetFolder",
    "VisionDataset", "IMG_EXTENSIONS", "default_data_dir", "download_url", "check_integrity",
    "calculate_md5",
]
