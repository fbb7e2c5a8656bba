"""VGG (Simonyan and Zisserman, 2014): networks built from repeated blocks.

A VGG block is a few 3x3 convolutions (padding 1, so the resolution is kept) with ReLU,
then a 2x2 max pool that halves the resolution. Two stacked 3x3 convs see a 5x5 window
with fewer parameters than one 5x5 conv, and more non-linearities. VGG-11/13/16/19 differ
only in how many convs each of the five blocks holds. Layout and parameter names are
torchvision's (one flat ``features`` Sequential, ``avgpool``, ``classifier``), so its
weight files load; ``width_ratio`` is d2l's trick of thinner convs for small datasets.
"""

from __future__ import annotations

from ... import nn
from ..._tensor import Tensor

__all__ = ["VGG", "vgg_block", "vgg11", "vgg13", "vgg16", "vgg19"]

# (number of 3x3 convs, output channels) of each of the five blocks, as d2l's conv_arch;
# torchvision's cfgs "A", "B", "D", "E" written block by block.
ARCHS = {
    "vgg11": ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)),
    "vgg13": ((2, 64), (2, 128), (2, 256), (2, 512), (2, 512)),
    "vgg16": ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)),
    "vgg19": ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512)),
}


def vgg_block(num_convs: int, in_channels: int, out_channels: int,
              batch_norm: bool = False) -> nn.Sequential:
    """``num_convs`` 3x3 convs (each followed by ReLU, and BatchNorm before it if asked),
    then a 2x2 max pool.

    Shape:
        ``(N, in_channels, H, W)`` -> ``(N, out_channels, H // 2, W // 2)``.

    Example:
        >>> vgg_block(2, 3, 64)(deepgrad.zeros(1, 3, 32, 32)).shape
        deepgrad.Size([1, 64, 16, 16])
    """
    layers = []
    for _ in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(nn.ReLU(inplace=True))
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """A VGG network: five :func:`vgg_block` stages, a 7x7 average pool and a 3-layer MLP.

    Args:
        arch: ``(num_convs, out_channels)`` of each block, e.g. ``ARCHS['vgg11']``.
        num_classes: size of the output layer.
        in_channels: channels of the input image.
        batch_norm: BatchNorm2d after every conv (torchvision's ``vgg11_bn`` ...).
        width_ratio: multiply every conv's channel count by this (d2l uses 1/4 for
            Fashion-MNIST); the classifier's input follows, its hidden width stays 4096.
        init_weights: torchvision's initialisation (Kaiming normal, fan_out, for convs;
            N(0, 0.01) for linear layers; zero biases).
        dropout: dropout probability in the classifier.

    Shape:
        input ``(N, in_channels, H, W)`` with ``H, W >= 32`` -> output ``(N, num_classes)``.

    Example:
        >>> model = VGG(ARCHS["vgg11"], num_classes=10, width_ratio=0.25)
        >>> model.eval()(deepgrad.zeros(1, 3, 32, 32)).shape
        deepgrad.Size([1, 10])
    """

    def __init__(self, arch, num_classes: int = 1000, in_channels: int = 3,
                 batch_norm: bool = False, width_ratio: float = 1.0,
                 init_weights: bool = True, dropout: float = 0.5) -> None:
        super().__init__()
        if width_ratio <= 0:
            raise ValueError(f"vgg: width_ratio must be positive; got {width_ratio}")
        blocks = []
        for num_convs, out_channels in arch:
            out_channels = max(1, int(out_channels * width_ratio))
            blocks.append(vgg_block(num_convs, in_channels, out_channels, batch_norm))
            in_channels = out_channels
        # one flat Sequential of the blocks' layers: torchvision's keys (features.0.weight ...)
        self.features = nn.Sequential(*[layer for block in blocks for layer in block])
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(in_channels * 7 * 7, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                if module.bias is not None:
                    nn.init.constant_(module.bias, 0)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)
                nn.init.constant_(module.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = self.avgpool(x)  # (N, C, 7, 7)
        x = x.flatten(1)  # (N, C * 49)
        return self.classifier(x)


def _vgg(name: str, num_classes: int, in_channels: int, batch_norm: bool,
         width_ratio: float, **kwargs) -> VGG:
    return VGG(ARCHS[name], num_classes=num_classes, in_channels=in_channels,
               batch_norm=batch_norm, width_ratio=width_ratio, **kwargs)


def vgg11(num_classes: int = 1000, in_channels: int = 3, batch_norm: bool = False,
          width_ratio: float = 1.0, **kwargs) -> VGG:
    """VGG-11 (8 convs + 3 linear layers); see :class:`VGG`.

    Example:
        >>> vgg11(num_classes=10, in_channels=1, width_ratio=0.25).features[0]
        Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    """
    return _vgg("vgg11", num_classes, in_channels, batch_norm, width_ratio, **kwargs)


def vgg13(num_classes: int = 1000, in_channels: int = 3, batch_norm: bool = False,
          width_ratio: float = 1.0, **kwargs) -> VGG:
    """VGG-13 (10 convs + 3 linear layers); see :class:`VGG` and :func:`vgg11`."""
    return _vgg("vgg13", num_classes, in_channels, batch_norm, width_ratio, **kwargs)


def vgg16(num_classes: int = 1000, in_channels: int = 3, batch_norm: bool = False,
          width_ratio: float = 1.0, **kwargs) -> VGG:
    """VGG-16 (13 convs + 3 linear layers); see :class:`VGG` and :func:`vgg11`."""
    return _vgg("vgg16", num_classes, in_channels, batch_norm, width_ratio, **kwargs)


def vgg19(num_classes: int = 1000, in_channels: int = 3, batch_norm: bool = False,
          width_ratio: float = 1.0, **kwargs) -> VGG:
    """VGG-19 (16 convs + 3 linear layers); see :class:`VGG` and :func:`vgg11`."""
    return _vgg("vgg19", num_classes, in_channels, batch_norm, width_ratio, **kwargs)
