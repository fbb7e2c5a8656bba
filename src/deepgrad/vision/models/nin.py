"""Network in Network (Lin, Chen and Yan, 2013), as in d2l.

Two ideas. A NiN block follows an ordinary conv by two 1x1 convs: a 1x1 conv is a small
fully connected layer applied at every pixel across the channels, so each block is a tiny
MLP slid over the image. And no fully connected layers at the end: the last block has one
channel per class and global average pooling turns each channel into that class's score,
which removes most of the parameters of AlexNet's classifier.
"""

from __future__ import annotations

from ... import nn

__all__ = ["NiN", "nin", "nin_block"]


def nin_block(in_channels: int, out_channels: int, kernel_size: int, stride: int,
              padding: int) -> nn.Sequential:
    """A conv followed by two 1x1 convs (a per-pixel MLP), each with ReLU.

    Shape:
        ``(N, in_channels, H, W)`` -> ``(N, out_channels, H', W')`` with
        ``H' = (H + 2 * padding - kernel_size) // stride + 1``.

    Example:
        >>> block = nin_block(1, 96, kernel_size=11, stride=4, padding=0)
        >>> block(deepgrad.zeros(1, 1, 67, 67)).shape
        deepgrad.Size([1, 96, 15, 15])
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1),
        nn.ReLU(),
    )


class NiN(nn.Sequential):
    """d2l's NiN: AlexNet's conv sizes as NiN blocks, max pools, dropout, and a last block
    with ``num_classes`` channels averaged over the image.

    Args:
        num_classes: channels of the last block, one score map per class.
        in_channels: channels of the input image.

    Shape:
        input ``(N, in_channels, H, W)`` with ``H, W >= 67`` (d2l uses 224)
        -> output ``(N, num_classes)``.

    Example:
        >>> NiN().eval()(deepgrad.zeros(1, 1, 96, 96)).shape
        deepgrad.Size([1, 10])
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__(
            nin_block(in_channels, 96, kernel_size=11, stride=4, padding=0),
            nn.MaxPool2d(3, stride=2),
            nin_block(96, 256, kernel_size=5, stride=1, padding=2),
            nn.MaxPool2d(3, stride=2),
            nin_block(256, 384, kernel_size=3, stride=1, padding=1),
            nn.MaxPool2d(3, stride=2),
            nn.Dropout(0.5),
            nin_block(384, num_classes, kernel_size=3, stride=1, padding=1),
            nn.AdaptiveAvgPool2d((1, 1)),  # global average pooling: (N, num_classes, 1, 1)
            nn.Flatten(),  # (N, num_classes)
        )


def nin(num_classes: int = 10, in_channels: int = 1) -> NiN:
    """Network in Network; see :class:`NiN`.

    Example:
        >>> nin()[-3][0]
        Conv2d(384, 10, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    """
    return NiN(num_classes=num_classes, in_channels=in_channels)
