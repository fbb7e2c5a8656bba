"""AlexNet (Krizhevsky, Sutskever and Hinton, 2012): the network that won ImageNet 2012.

Deeper and much wider than LeNet, and the ideas that made it train: ReLU instead of
sigmoid (no vanishing gradient in the saturated tails), overlapping 3x3/stride-2 max pooling,
dropout in the two big fully connected layers against overfitting, and data augmentation.
The layout and parameter names are torchvision's, so its weight files load.
"""

from __future__ import annotations

from ... import nn
from ..._tensor import Tensor

__all__ = ["AlexNet", "alexnet"]


class AlexNet(nn.Module):
    """torchvision's AlexNet: ``features`` (5 convs), ``avgpool`` to 6x6, ``classifier``.

    Args:
        num_classes: size of the output layer.
        in_channels: channels of the input image; only the first conv changes (1 gives
            d2l's Fashion-MNIST setting on 1x224x224 images).
        dropout: dropout probability before the two hidden fully connected layers.
        small: replace the 11x11/stride-4 stem, made for 224x224 images, by a 3x3/stride-1
            conv so 28x28 to 32x32 images fit (d2l's point that the stem's size follows the
            image's). Everything else, including the parameter names, stays as torchvision's.

    Shape:
        input ``(N, in_channels, H, W)`` with ``H, W >= 63`` (``>= 15`` when ``small``)
        -> output ``(N, num_classes)``.

    Example:
        >>> model = AlexNet(num_classes=10, in_channels=1, small=True)
        >>> model.eval()(deepgrad.zeros(1, 1, 28, 28)).shape
        deepgrad.Size([1, 10])
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5,
                 small: bool = False) -> None:
        super().__init__()
        stem = (nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1) if small else
                nn.Conv2d(in_channels, 64, kernel_size=11, stride=4, padding=2))
        self.features = nn.Sequential(
            stem,
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        # a fixed 6x6 grid whatever the input size, so the classifier's shape never changes
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = self.avgpool(x)  # (N, 256, 6, 6)
        x = x.flatten(1)  # (N, 9216)
        return self.classifier(x)


def alexnet(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5,
            small: bool = False) -> AlexNet:
    """AlexNet; see :class:`AlexNet`.

    Example:
        >>> model = alexnet(num_classes=10)
        >>> model.classifier[6]
        Linear(in_features=4096, out_features=10, bias=True)
    """
    return AlexNet(num_classes=num_classes, in_channels=in_channels, dropout=dropout,
                   small=small)
