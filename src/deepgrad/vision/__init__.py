"""``deepgrad.vision``: torchvision's datasets and transforms for deepgrad.

Import it explicitly, as torchvision: ``from deepgrad.vision import datasets, transforms``.
"""

from . import datasets, models, transforms

__all__ = ["datasets", "transforms"]
