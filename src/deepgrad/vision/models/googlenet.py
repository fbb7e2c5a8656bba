"""GoogLeNet (Szegedy et al., 2014): networks of Inception blocks.

An Inception block runs four branches side by side on the same input: a 1x1 conv, a 3x3
conv, a larger-window conv, and a 3x3 max pool, and concatenates their outputs along the
channels, so the network need not choose one kernel size per layer. The 1x1 convs in front
of the bigger kernels (and after the pool) cut the channel count first, which keeps the
cost down. Layout and parameter names are torchvision's (every conv is a ``BasicConv2d``:
conv without bias, BatchNorm with eps=0.001, ReLU), so its weight files load.
"""

from __future__ import annotations

from collections import namedtuple

from ... import cat, nn
from ..._tensor import Tensor
from ...nn import functional as F

__all__ = ["GoogLeNet", "GoogLeNetOutputs", "Inception", "InceptionAux", "BasicConv2d",
           "googlenet"]

# torchvision's training-mode output; note its field order: the second field holds the
# logits of ``aux1`` (after inception4a), the third those of ``aux2`` (after inception4d).
GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])


class BasicConv2d(nn.Module):
    """Conv (no bias: BatchNorm's shift replaces it), BatchNorm2d(eps=0.001), ReLU.

    Example:
        >>> BasicConv2d(3, 8, kernel_size=3, padding=1)(deepgrad.zeros(1, 3, 5, 5)).shape
        deepgrad.Size([1, 8, 5, 5])
    """

    def __init__(self, in_channels: int, out_channels: int, **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


class Inception(nn.Module):
    """Four parallel branches concatenated along the channels.

    Args:
        in_channels: input channels.
        ch1x1: channels of the 1x1 branch.
        ch3x3red, ch3x3: the 1x1 reduction and the 3x3 conv of the second branch.
        ch5x5red, ch5x5: the same for the third branch (the paper's 5x5; torchvision's
            weights use 3x3 here, a known quirk kept so they load).
        pool_proj: channels of the 1x1 conv after the 3x3 max pool.

    Shape:
        ``(N, in_channels, H, W)`` -> ``(N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)``.

    Example:
        >>> block = Inception(192, 64, 96, 128, 16, 32, 32)
        >>> block.eval()(deepgrad.zeros(1, 192, 7, 7)).shape
        deepgrad.Size([1, 256, 7, 7])
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int,
                 ch5x5red: int, ch5x5: int, pool_proj: int) -> None:
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1),
        )

    def forward(self, x: Tensor) -> Tensor:
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return cat(branches, 1)


class InceptionAux(nn.Module):
    """Auxiliary classifier on an intermediate feature map: an extra loss there gives the
    lower layers a shorter gradient path during training (unused at evaluation).

    Shape:
        ``(N, in_channels, H, W)`` -> ``(N, num_classes)``.
    """

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.7) -> None:
        super().__init__()
        self.conv = BasicConv2d(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = F.adaptive_avg_pool2d(x, (4, 4))  # (N, C, 4, 4)
        x = self.conv(x).flatten(1)  # (N, 128 * 16)
        x = F.relu(self.fc1(x), inplace=True)
        return self.fc2(self.dropout(x))


class GoogLeNet(nn.Module):
    """torchvision's GoogLeNet (Inception v1): a conv stem, nine Inception blocks in three
    stages separated by max pools, global average pooling and one linear layer.

    Args:
        num_classes: size of the output layer.
        in_channels: channels of the input image.
        aux_logits: add the two auxiliary classifiers ``aux1`` and ``aux2``; in training mode
            the forward then returns ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``.
        transform_input: re-normalise an ImageNet-normalised 3-channel input to the [-1, 1]
            scaling torchvision's pretrained weights expect.
        init_weights: torchvision's initialisation (truncated N(0, 0.01) for conv and linear
            weights); ``None`` means ``True``, as torchvision.
        small: a 3x3/stride-1 first conv and no first max pool, so 28x28 to 32x32 images
            reach the Inception blocks at 14x14 to 16x16 (d2l trains on 96x96 images,
            reaching them at 12x12). Parameter names stay torchvision's.
        dropout: dropout probability before ``fc``.
        dropout_aux: dropout probability in the auxiliary classifiers.

    Shape:
        input ``(N, in_channels, H, W)`` with ``H, W >= 15`` (``>= 4`` when ``small``)
        -> output ``(N, num_classes)``.

    Example:
        >>> model = GoogLeNet(num_classes=10, in_channels=1, small=True)
        >>> model.eval()(deepgrad.zeros(1, 1, 28, 28)).shape
        deepgrad.Size([1, 10])
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = False,
                 transform_input: bool = False, init_weights: bool | None = None,
                 small: bool = False, dropout: float = 0.2, dropout_aux: float = 0.7) -> None:
        super().__init__()
        if transform_input and in_channels != 3:
            raise ValueError(f"googlenet: transform_input needs in_channels=3 (it re-normalises "
                             f"RGB); got in_channels={in_channels}")
        self.aux_logits = aux_logits
        self.transform_input = transform_input

        if small:
            self.conv1 = BasicConv2d(in_channels, 64, kernel_size=3, stride=1, padding=1)
            self.maxpool1 = nn.Identity()
        else:
            self.conv1 = BasicConv2d(in_channels, 64, kernel_size=7, stride=2, padding=3)
            self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)

        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)

        if aux_logits:
            self.aux1 = InceptionAux(512, num_classes, dropout=dropout_aux)
            self.aux2 = InceptionAux(528, num_classes, dropout=dropout_aux)
        else:
            self.aux1 = None
            self.aux2 = None

        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)

        if init_weights is None or init_weights:
            self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(module.weight, mean=0.0, std=0.01, a=-2, b=2)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)

    def _transform_input(self, x: Tensor) -> Tensor:
        # undo ImageNet's mean/std normalisation, then scale to [-1, 1] per channel
        x_ch0 = x[:, 0].unsqueeze(1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5
        x_ch1 = x[:, 1].unsqueeze(1) * (0.224 / 0.5) + (0.456 - 0.5) / 0.5
        x_ch2 = x[:, 2].unsqueeze(1) * (0.225 / 0.5) + (0.406 - 0.5) / 0.5
        return cat((x_ch0, x_ch1, x_ch2), 1)

    def forward(self, x: Tensor):
        if self.transform_input:
            x = self._transform_input(x)
        # shapes for a 224x224 input (small: a 28x28 input, with sizes / 8 from maxpool2 on)
        x = self.maxpool1(self.conv1(x))  # (N, 64, 56, 56)
        x = self.maxpool2(self.conv3(self.conv2(x)))  # (N, 192, 28, 28)
        x = self.maxpool3(self.inception3b(self.inception3a(x)))  # (N, 480, 14, 14)
        x = self.inception4a(x)  # (N, 512, 14, 14)
        with_aux = self.training and self.aux1 is not None
        aux1 = self.aux1(x) if with_aux else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))  # (N, 528, 14, 14)
        aux2 = self.aux2(x) if with_aux else None
        x = self.maxpool4(self.inception4e(x))  # (N, 832, 7, 7)
        x = self.inception5b(self.inception5a(x))  # (N, 1024, 7, 7)
        x = self.avgpool(x).flatten(1)  # (N, 1024)
        x = self.fc(self.dropout(x))
        if self.training and self.aux_logits:
            return GoogLeNetOutputs(x, aux1, aux2)
        return x


def googlenet(num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = False,
              init_weights: bool | None = None, small: bool = False,
              transform_input: bool = False, **kwargs) -> GoogLeNet:
    """GoogLeNet; see :class:`GoogLeNet`. Unlike torchvision's builder, ``aux_logits``
    defaults to ``False``; torchvision's pretrained file also holds ``aux1``/``aux2``
    weights, so load it with ``strict=False`` or build with ``aux_logits=True``.

    Example:
        >>> googlenet(num_classes=10).fc
        Linear(in_features=1024, out_features=10, bias=True)
    """
    return GoogLeNet(num_classes=num_classes, in_channels=in_channels, aux_logits=aux_logits,
                     transform_input=transform_input, init_weights=init_weights, small=small,
                     **kwargs)
