"""LeNet (LeCun et al., 1998): the first convolutional network trained end to end.

Two conv + pool stages extract local features while halving the resolution; a small MLP
classifies them. The idea that survives in every later model: convolutions share weights
across positions (few parameters, translation equivariance) and pooling buys invariance to
small shifts.
"""

from __future__ import annotations

from ... import nn
from ..._tensor import Tensor

__all__ = ["LeNet", "lenet"]

_VARIANTS = ("relu", "classic")


class LeNet(nn.Module):
    """LeNet-5 as in d2l (conv 6@5x5 pad 2, pool, conv 16@5x5, pool, 400-120-84-classes).

    The ``'classic'`` variant is the 1998 network: sigmoid activations and average pooling.
    The ``'relu'`` variant swaps in ReLU and max pooling, which trains much faster (no
    saturating sigmoid) with the same 61,706 parameters on 1x28x28 inputs.

    Args:
        num_classes: size of the output layer.
        in_channels: channels of the input image (1 for MNIST).
        variant: ``'relu'`` (ReLU + max pooling) or ``'classic'`` (sigmoid + average pooling).

    Shape:
        input ``(N, in_channels, 28, 28)`` -> output ``(N, num_classes)``.

    Example:
        >>> model = LeNet()
        >>> model(deepgrad.zeros(2, 1, 28, 28)).shape
        deepgrad.Size([2, 10])
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1,
                 variant: str = "relu") -> None:
        super().__init__()
        if variant not in _VARIANTS:
            raise ValueError(f"lenet: unknown variant {variant!r}; valid choices are "
                             f"{', '.join(map(repr, _VARIANTS))}")
        self.variant = variant
        activation = nn.ReLU if variant == "relu" else nn.Sigmoid
        pool = nn.MaxPool2d if variant == "relu" else nn.AvgPool2d
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=2),  # (N, 6, 28, 28)
            activation(),
            pool(kernel_size=2, stride=2),  # (N, 6, 14, 14)
            nn.Conv2d(6, 16, kernel_size=5),  # (N, 16, 10, 10)
            activation(),
            pool(kernel_size=2, stride=2),  # (N, 16, 5, 5)
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),  # (N, 400)
            nn.Linear(16 * 5 * 5, 120),
            activation(),
            nn.Linear(120, 84),
            activation(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))

    def extra_repr(self) -> str:
        return f"variant={self.variant!r}"


def lenet(num_classes: int = 10, in_channels: int = 1, variant: str = "relu") -> LeNet:
    """LeNet-5; see :class:`LeNet`.

    Example:
        >>> sum(p.numel() for p in lenet().parameters())
        61706
    """
    return LeNet(num_classes=num_classes, in_channels=in_channels, variant=variant)
