"""vision.models against torch twins.

torchvision is not installable here, so each twin is torchvision's (or d2l's) model written
out in torch by hand with torchvision's names. For every model: output shape, parameter
count, state_dict keys and shapes equal the twin's; the twin's weights (through a file
written by ``torch.save`` and read by ``deepgrad.load`` for the torchvision models) give the
same outputs and gradients in eval mode, and, for the batch-norm models, in train mode.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch import nn as tnn

import deepgrad
from deepgrad import nn
from deepgrad.vision import models

# ---------------------------------------------------------------------------------------
# torch twins
# ---------------------------------------------------------------------------------------


def twin_lenet(variant="relu", num_classes=10, in_channels=1):
    act = tnn.ReLU if variant == "relu" else tnn.Sigmoid
    pool = tnn.MaxPool2d if variant == "relu" else tnn.AvgPool2d
    model = tnn.Module()
    model.features = tnn.Sequential(
        tnn.Conv2d(in_channels, 6, kernel_size=5, padding=2), act(), pool(2, 2),
        tnn.Conv2d(6, 16, kernel_size=5), act(), pool(2, 2))
    model.classifier = tnn.Sequential(
        tnn.Flatten(), tnn.Linear(400, 120), act(), tnn.Linear(120, 84), act(),
        tnn.Linear(84, num_classes))
    model.forward = lambda x: model.classifier(model.features(x))
    return model


def twin_nin(num_classes=10, in_channels=1):
    def block(cin, cout, k, s, p):
        return tnn.Sequential(tnn.Conv2d(cin, cout, k, s, p), tnn.ReLU(),
                              tnn.Conv2d(cout, cout, 1), tnn.ReLU(),
                              tnn.Conv2d(cout, cout, 1), tnn.ReLU())
    return tnn.Sequential(
        block(in_channels, 96, 11, 4, 0), tnn.MaxPool2d(3, stride=2),
        block(96, 256, 5, 1, 2), tnn.MaxPool2d(3, stride=2),
        block(256, 384, 3, 1, 1), tnn.MaxPool2d(3, stride=2), tnn.Dropout(0.5),
        block(384, num_classes, 3, 1, 1), tnn.AdaptiveAvgPool2d((1, 1)), tnn.Flatten())


class TwinAlexNet(tnn.Module):
    def __init__(self, num_classes=1000, in_channels=3, dropout=0.5, small=False):
        super().__init__()
        stem = (tnn.Conv2d(in_channels, 64, 3, 1, 1) if small else
                tnn.Conv2d(in_channels, 64, kernel_size=11, stride=4, padding=2))
        self.features = tnn.Sequential(
            stem, tnn.ReLU(inplace=True), tnn.MaxPool2d(kernel_size=3, stride=2),
            tnn.Conv2d(64, 192, kernel_size=5, padding=2), tnn.ReLU(inplace=True),
            tnn.MaxPool2d(kernel_size=3, stride=2),
            tnn.Conv2d(192, 384, kernel_size=3, padding=1), tnn.ReLU(inplace=True),
            tnn.Conv2d(384, 256, kernel_size=3, padding=1), tnn.ReLU(inplace=True),
            tnn.Conv2d(256, 256, kernel_size=3, padding=1), tnn.ReLU(inplace=True),
            tnn.MaxPool2d(kernel_size=3, stride=2))
        self.avgpool = tnn.AdaptiveAvgPool2d((6, 6))
        self.classifier = tnn.Sequential(
            tnn.Dropout(p=dropout), tnn.Linear(256 * 6 * 6, 4096), tnn.ReLU(inplace=True),
            tnn.Dropout(p=dropout), tnn.Linear(4096, 4096), tnn.ReLU(inplace=True),
            tnn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


VGG_CFGS = {  # torchvision's cfgs
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512,
              512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}


class TwinVGG(tnn.Module):
    def __init__(self, cfg, num_classes=1000, in_channels=3, batch_norm=False,
                 width_ratio=1.0, dropout=0.5):
        super().__init__()
        layers = []
        for v in VGG_CFGS[cfg]:
            if v == "M":
                layers += [tnn.MaxPool2d(kernel_size=2, stride=2)]
                continue
            v = int(v * width_ratio)
            layers += [tnn.Conv2d(in_channels, v, kernel_size=3, padding=1)]
            layers += [tnn.BatchNorm2d(v), tnn.ReLU(True)] if batch_norm else [tnn.ReLU(True)]
            in_channels = v
        self.features = tnn.Sequential(*layers)
        self.avgpool = tnn.AdaptiveAvgPool2d((7, 7))
        self.classifier = tnn.Sequential(
            tnn.Linear(in_channels * 7 * 7, 4096), tnn.ReLU(True), tnn.Dropout(p=dropout),
            tnn.Linear(4096, 4096), tnn.ReLU(True), tnn.Dropout(p=dropout),
            tnn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class TwinBasicConv2d(tnn.Module):
    def __init__(self, cin, cout, **kwargs):
        super().__init__()
        self.conv = tnn.Conv2d(cin, cout, bias=False, **kwargs)
        self.bn = tnn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return TF.relu(self.bn(self.conv(x)), inplace=True)


class TwinInception(tnn.Module):
    def __init__(self, cin, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = TwinBasicConv2d(cin, ch1x1, kernel_size=1)
        self.branch2 = tnn.Sequential(TwinBasicConv2d(cin, ch3x3red, kernel_size=1),
                                      TwinBasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = tnn.Sequential(TwinBasicConv2d(cin, ch5x5red, kernel_size=1),
                                      TwinBasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1))
        self.branch4 = tnn.Sequential(
            tnn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            TwinBasicConv2d(cin, pool_proj, kernel_size=1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x),
                          self.branch4(x)], 1)


class TwinInceptionAux(tnn.Module):
    def __init__(self, cin, num_classes, dropout=0.7):
        super().__init__()
        self.conv = TwinBasicConv2d(cin, 128, kernel_size=1)
        self.fc1 = tnn.Linear(2048, 1024)
        self.fc2 = tnn.Linear(1024, num_classes)
        self.dropout = tnn.Dropout(p=dropout)

    def forward(self, x):
        x = torch.flatten(self.conv(TF.adaptive_avg_pool2d(x, (4, 4))), 1)
        return self.fc2(self.dropout(TF.relu(self.fc1(x), inplace=True)))


TwinGoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])


class TwinGoogLeNet(tnn.Module):
    def __init__(self, num_classes=1000, in_channels=3, aux_logits=False,
                 transform_input=False, small=False, dropout=0.2, dropout_aux=0.7):
        super().__init__()
        self.aux_logits, self.transform_input = aux_logits, transform_input
        if small:
            self.conv1 = TwinBasicConv2d(in_channels, 64, kernel_size=3, stride=1, padding=1)
            self.maxpool1 = tnn.Identity()
        else:
            self.conv1 = TwinBasicConv2d(in_channels, 64, kernel_size=7, stride=2, padding=3)
            self.maxpool1 = tnn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = TwinBasicConv2d(64, 64, kernel_size=1)
        self.conv3 = TwinBasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = tnn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = TwinInception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = TwinInception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = tnn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = TwinInception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = TwinInception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = TwinInception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = TwinInception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = TwinInception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = tnn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = TwinInception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = TwinInception(832, 384, 192, 384, 48, 128, 128)
        if aux_logits:
            self.aux1 = TwinInceptionAux(512, num_classes, dropout=dropout_aux)
            self.aux2 = TwinInceptionAux(528, num_classes, dropout=dropout_aux)
        else:
            self.aux1 = self.aux2 = None
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.dropout = tnn.Dropout(p=dropout)
        self.fc = tnn.Linear(1024, num_classes)

    def _forward(self, x):
        if self.transform_input:
            x = torch.cat((torch.unsqueeze(x[:, 0], 1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5,
                           torch.unsqueeze(x[:, 1], 1) * (0.224 / 0.5) + (0.456 - 0.5) / 0.5,
                           torch.unsqueeze(x[:, 2], 1) * (0.225 / 0.5) + (0.406 - 0.5) / 0.5),
                          1)
        x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))
        x = self.inception4a(self.maxpool3(self.inception3b(self.inception3a(x))))
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.inception5b(self.inception5a(self.maxpool4(self.inception4e(x))))
        x = self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))
        return x, aux2, aux1

    def eager_outputs(self, x, aux2, aux1):
        if self.training and self.aux_logits:
            return TwinGoogLeNetOutputs(x, aux2, aux1)
        return x

    def forward(self, x):  # torchvision's name shuffle, kept: it fixes the field order
        x, aux1, aux2 = self._forward(x)
        return self.eager_outputs(x, aux2, aux1)


class TwinBasicBlock(tnn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class TwinResNet(tnn.Module):
    def __init__(self, layers, num_classes=1000, in_channels=3, small_input=False):
        super().__init__()
        self.inplanes = 64
        self.conv1 = (tnn.Conv2d(in_channels, 64, 3, 1, 1, bias=False) if small_input else
                      tnn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False))
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.Identity() if small_input else tnn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(64, layers[0])
        self.layer2 = self._make_layer(128, layers[1], stride=2)
        self.layer3 = self._make_layer(256, layers[2], stride=2)
        self.layer4 = self._make_layer(512, layers[3], stride=2)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512, num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = tnn.Sequential(tnn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                                        tnn.BatchNorm2d(planes))
        layers = [TwinBasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [TwinBasicBlock(planes, planes) for _ in range(1, blocks)]
        return tnn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))
