"""ResNet (He et al., 2015): residual blocks make very deep networks trainable.

A residual block computes ``relu(x + f(x))`` where ``f`` is two 3x3 convs with batch
normalisation: the block only has to learn the correction ``f`` to the identity, and the
identity path carries the gradient straight through, so stacking more blocks can never
make the function class worse. When a block halves the resolution or changes the channel
count, a 1x1 conv with stride (the ``downsample`` path) reshapes ``x`` to match. Layout,
parameter names and initialisation are torchvision's, so its weight files load.
"""

from __future__ import annotations

from ... import nn
from ..._tensor import Tensor

__all__ = ["ResNet", "BasicBlock", "Residual", "resnet18", "resnet34"]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """3x3 conv with padding 1 and no bias (the BatchNorm after it has one)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 conv without bias: the shortcut's channel and resolution change."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Residual block: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``.

    Args:
        inplanes: input channels.
        planes: output channels.
        stride: stride of the first conv (2 halves the resolution).
        downsample: module mapping ``x`` to the output's shape (a strided 1x1 conv and a
            BatchNorm), needed when ``stride != 1`` or ``inplanes != planes``; ``None`` keeps
            the identity shortcut.

    Shape:
        ``(N, inplanes, H, W)`` -> ``(N, planes, ceil(H / stride), ceil(W / stride))``.

    Example:
        >>> down = nn.Sequential(conv1x1(64, 128, 2), nn.BatchNorm2d(128))
        >>> BasicBlock(64, 128, 2, down)(deepgrad.zeros(2, 64, 8, 8)).shape
        deepgrad.Size([2, 128, 4, 4])
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


# d2l's name for the same block
Residual = BasicBlock


class ResNet(nn.Module):
    """torchvision's ResNet with basic blocks: a stem, four stages of residual blocks (64,
    128, 256, 512 channels; each stage after the first halves the resolution), global
    average pooling and one linear layer.

    Args:
        layers: number of blocks in each of the four stages (``[2, 2, 2, 2]`` is ResNet-18).
        num_classes: size of the output layer.
        in_channels: channels of the input image.
        small_input: d2l's stem for 28x28 to 32x32 images: a 3x3/stride-1 ``conv1`` and no
            max pool (``maxpool`` is an ``Identity``), in place of the 7x7/stride-2 conv and
            3x3/stride-2 max pool made for 224x224 images. Parameter names are unchanged.
        zero_init_residual: start each block's last BatchNorm at zero weight, so every block
            begins as the identity (torchvision's option).

    Shape:
        input ``(N, in_channels, H, W)`` -> output ``(N, num_classes)``.

    Example:
        >>> model = ResNet([2, 2, 2, 2], num_classes=10, in_channels=1, small_input=True)
        >>> model.eval()(deepgrad.zeros(1, 1, 28, 28)).shape
        deepgrad.Size([1, 10])
    """

    def __init__(self, layers, num_classes: int = 1000, in_channels: int = 3,
                 small_input: bool = False, zero_init_residual: bool = False) -> None:
        super().__init__()
        self.inplanes = 64
        if small_input:
            self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1,
                                   bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3,
                                   bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = (nn.Identity() if small_input else
                        nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        self.layer1 = self._make_layer(64, layers[0])
        self.layer2 = self._make_layer(128, layers[1], stride=2)
        self.layer3 = self._make_layer(256, layers[2], stride=2)
        self.layer4 = self._make_layer(512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * BasicBlock.expansion, num_classes)

        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                # He initialisation keeps activations' variance through ReLU layers
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)
        if zero_init_residual:
            for module in self.modules():
                if isinstance(module, BasicBlock):
                    nn.init.constant_(module.bn2.weight, 0)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * BasicBlock.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * BasicBlock.expansion, stride),
                nn.BatchNorm2d(planes * BasicBlock.expansion),
            )
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * BasicBlock.expansion
        layers += [BasicBlock(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        # shapes for a 224x224 input
        x = self.relu(self.bn1(self.conv1(x)))  # (N, 64, 112, 112)
        x = self.maxpool(x)  # (N, 64, 56, 56)
        x = self.layer1(x)  # (N, 64, 56, 56)
        x = self.layer2(x)  # (N, 128, 28, 28)
        x = self.layer3(x)  # (N, 256, 14, 14)
        x = self.layer4(x)  # (N, 512, 7, 7)
        x = self.avgpool(x).flatten(1)  # (N, 512)
        return self.fc(x)


def resnet18(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
             **kwargs) -> ResNet:
    """ResNet-18: two basic blocks per stage (16 convs + stem + fc); see :class:`ResNet`.

    Example:
        >>> sum(p.numel() for p in resnet18().parameters())
        11689512
    """
    return ResNet([2, 2, 2, 2], num_classes=num_classes, in_channels=in_channels,
                  small_input=small_input, **kwargs)


def resnet34(num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
             **kwargs) -> ResNet:
    """ResNet-34: 3, 4, 6 and 3 basic blocks per stage; see :class:`ResNet`.

    Example:
        >>> sum(p.numel() for p in resnet34().parameters())
        21797672
    """
    return ResNet([3, 4, 6, 3], num_classes=num_classes, in_channels=in_channels,
                  small_input=small_input, **kwargs)
