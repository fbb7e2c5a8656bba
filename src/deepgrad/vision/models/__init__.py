"""``deepgrad.vision.models``: the CNNs of the course, written with ``deepgrad.nn`` as one
would with ``torch.nn``.

Where torchvision has the model (AlexNet, VGG, GoogLeNet, ResNet) the parameter names and
shapes are torchvision's, so its weight files load with ``deepgrad.load`` and
``load_state_dict``. LeNet and NiN follow d2l. Every builder takes ``num_classes`` and
``in_channels``; :func:`get_model` builds one by name (the ``deepgrad`` command uses it).

Example:
    >>> from deepgrad.vision import models
    >>> model = models.get_model("resnet18", num_classes=10, in_channels=1, small_input=True)
"""

from __future__ import annotations

from ... import nn
from .alexnet import AlexNet, alexnet
from .googlenet import BasicConv2d, GoogLeNet, GoogLeNetOutputs, Inception, InceptionAux, googlenet
from .lenet import LeNet, lenet
from .nin import NiN, nin, nin_block
from .resnet import BasicBlock, Residual, ResNet, resnet18, resnet34
from .vgg import VGG, vgg11, vgg13, vgg16, vgg19, vgg_block

__all__ = [
    "AlexNet", "BasicBlock", "BasicConv2d", "GoogLeNet", "GoogLeNetOutputs", "Inception",
    "InceptionAux", "LeNet", "NiN", "ResNet", "Residual", "VGG", "alexnet", "get_model",
    "googlenet", "lenet", "list_models", "nin", "nin_block", "resnet18", "resnet34", "vgg11",
    "vgg13", "vgg16", "vgg19", "vgg_block",
]


def _lenet_classic(**kwargs) -> LeNet:
    return lenet(variant="classic", **kwargs)


_MODELS = {
    "lenet": lenet,
    "lenet-classic": _lenet_classic,
    "alexnet": alexnet,
    "vgg11": vgg11,
    "vgg13": vgg13,
    "vgg16": vgg16,
    "vgg19": vgg19,
    "nin": nin,
    "googlenet": googlenet,
    "resnet18": resnet18,
    "resnet34": resnet34,
}


def list_models() -> list[str]:
    """Names :func:`get_model` accepts, in the order the course meets them.

    Example:
        >>> list_models()[:3]
        ['lenet', 'lenet-classic', 'alexnet']
    """
    return list(_MODELS)


def get_model(name: str, **kwargs) -> nn.Module:
    """Build a model by name.

    Args:
        name: one of :func:`list_models` (case-insensitive; ``_`` may stand for ``-``).
        **kwargs: passed to the builder, e.g. ``num_classes``, ``in_channels``, and per model
            ``small`` (alexnet, googlenet), ``small_input`` (resnet), ``width_ratio`` and
            ``batch_norm`` (vgg).

    Returns:
        A freshly initialised ``nn.Module``.

    Raises:
        ValueError: for an unknown name, naming the valid choices.

    Example:
        >>> get_model("lenet", num_classes=10).classifier[-1]
        Linear(in_features=84, out_features=10, bias=True)
    """
    key = name.lower().replace("_", "-") if isinstance(name, str) else name
    if key not in _MODELS:
        raise ValueError(f"get_model: unknown model {name!r}; valid choices are "
                         f"{', '.join(_MODELS)}")
    return _MODELS[key](**kwargs)
