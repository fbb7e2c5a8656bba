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


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="module")
def torch_single_thread():
    """Twins on one thread: torch's OpenMP threads and NumPy's BLAS threads otherwise spin
    against each other (seconds per small GoogLeNet pass on 2 cores instead of 0.1 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)



def randomize(twin, seed=0):
    """Weights that keep activations O(1) and batch-norm statistics that are not the
    identity, so equal outputs mean something (torchvision's own inits are tiny or trivial)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in twin.modules():
            if isinstance(module, (tnn.Conv2d, tnn.Linear)):
                fan_in = module.weight[0].numel()
                module.weight.normal_(0, math.sqrt(2 / fan_in), generator=gen)
                if module.bias is not None:
                    module.bias.uniform_(-0.1, 0.1, generator=gen)
            elif isinstance(module, tnn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5, generator=gen)
                module.bias.uniform_(-0.2, 0.2, generator=gen)
                module.running_mean.normal_(0, 0.2, generator=gen)
                module.running_var.uniform_(0.5, 2.0, generator=gen)
                module.num_batches_tracked.fill_(7)
    return twin


def load_twin(model, twin, tmp_path=None):
    """Copy the twin's state into ``model``: through ``torch.save`` / ``deepgrad.load`` when
    ``tmp_path`` is given, else tensor by tensor."""
    if tmp_path is not None:
        path = tmp_path / "twin.pth"
        torch.save(twin.state_dict(), path)
        state = deepgrad.load(path)
    else:
        state = {k: deepgrad.tensor(v.numpy()) for k, v in twin.state_dict().items()}
    model.load_state_dict(state)


def assert_close(actual, expected, tol=1e-4, what=""):
    """Largest difference within ``tol`` times the expected tensor's largest magnitude (one
    pass each: cheaper than ``assert_allclose`` on the 37M-entry AlexNet weights)."""
    if expected is None:  # a parameter the forward did not use
        assert actual is None, what
        return
    actual = actual.detach().numpy() if hasattr(actual, "detach") else actual
    expected = expected.detach().numpy()
    assert actual.shape == expected.shape, what
    scale = max(float(np.abs(expected).max(initial=0.0)), 1e-6)
    error = float(np.abs(actual - expected).max(initial=0.0))
    assert error <= tol * scale, f"{what}: max error {error:.3g}, scale {scale:.3g}"


def assert_same_layout(model, twin):
    ours = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    theirs = [(k, tuple(v.shape)) for k, v in twin.state_dict().items()]
    assert ours == theirs
    assert (sum(p.numel() for p in model.parameters())
            == sum(p.numel() for p in twin.parameters()))


def forward_backward(model, twin, shape, backward=True, tol=1e-3, seed=0):
    """Same input through both (in the twin's dtype); returns their outputs, and compares
    input and parameter gradients of ``sum(out * c)`` when ``backward``."""
    rng = np.random.default_rng(seed)
    dtype = next(twin.parameters()).detach().numpy().dtype
    x = rng.standard_normal(shape).astype(dtype)
    x_ours = deepgrad.tensor(x, requires_grad=backward)
    x_theirs = torch.tensor(x, requires_grad=backward)
    out_ours, out_theirs = model(x_ours), twin(x_theirs)
    if not backward:
        return out_ours, out_theirs
    flat_ours = list(out_ours) if isinstance(out_ours, tuple) else [out_ours]
    flat_theirs = list(out_theirs) if isinstance(out_theirs, tuple) else [out_theirs]
    loss_ours, loss_theirs = 0, 0
    for a, b in zip(flat_ours, flat_theirs, strict=True):
        c = rng.standard_normal(tuple(b.shape)).astype(dtype)
        loss_ours = loss_ours + (a * deepgrad.tensor(c)).sum()
        loss_theirs = loss_theirs + (b * torch.tensor(c)).sum()
    loss_ours.backward()
    loss_theirs.backward()
    assert_close(x_ours.grad, x_theirs.grad, tol, "input grad")
    ours = dict(model.named_parameters())
    for name, param in twin.named_parameters():
        assert_close(ours[name].grad, param.grad, tol, f"grad of {name}")
    return out_ours, out_theirs


# ---------------------------------------------------------------------------------------
# every model against its twin
# ---------------------------------------------------------------------------------------

# (name for get_model, its kwargs, twin, input shape, through a torch.save file, backward);
# inputs near each architecture's smallest size, backward skipped where another case
# already covers the same graph, to keep the file fast
CASES = [
    ("lenet", {}, lambda: twin_lenet("relu"), (2, 1, 28, 28), False, True),
    ("lenet-classic", {}, lambda: twin_lenet("classic"), (2, 1, 28, 28), False, True),
    ("lenet", dict(num_classes=5, in_channels=3), lambda: twin_lenet("relu", 5, 3),
     (2, 3, 28, 28), False, True),
    ("nin", {}, twin_nin, (1, 1, 67, 67), False, True),
    ("alexnet", {}, TwinAlexNet, (1, 3, 63, 63), True, True),
    ("alexnet", dict(num_classes=10, in_channels=1, small=True),
     lambda: TwinAlexNet(10, 1, small=True), (1, 1, 28, 28), False, False),
    ("vgg11", dict(width_ratio=0.125), lambda: TwinVGG("vgg11", width_ratio=0.125),
     (1, 3, 32, 32), True, True),
    ("vgg13", dict(num_classes=10, in_channels=1, batch_norm=True, width_ratio=0.125),
     lambda: TwinVGG("vgg13", 10, 1, True, 0.125), (2, 1, 32, 32), True, True),
    ("vgg16", dict(num_classes=10, width_ratio=0.0625),
     lambda: TwinVGG("vgg16", 10, width_ratio=0.0625), (1, 3, 32, 32), False, False),
    ("vgg19", dict(num_classes=10, batch_norm=True, width_ratio=0.0625),
     lambda: TwinVGG("vgg19", 10, batch_norm=True, width_ratio=0.0625), (1, 3, 32, 32), False,
     False),
    ("googlenet", dict(num_classes=10, aux_logits=True, transform_input=True),
     lambda: TwinGoogLeNet(10, aux_logits=True, transform_input=True), (1, 3, 32, 32), True,
     True),
    ("googlenet", dict(num_classes=10, in_channels=1, small=True),
     lambda: TwinGoogLeNet(10, 1, small=True), (2, 1, 16, 16), False, True),
    ("resnet18", {}, lambda: TwinResNet([2, 2, 2, 2]), (1, 3, 32, 32), True, True),
    ("resnet18", dict(num_classes=10, in_channels=1, small_input=True),
     lambda: TwinResNet([2, 2, 2, 2], 10, 1, small_input=True), (2, 1, 16, 16), False, True),
    ("resnet34", dict(num_classes=10), lambda: TwinResNet([3, 4, 6, 3], 10), (1, 3, 32, 32),
     False, True),
]


@pytest.mark.parametrize("name,kwargs,make_twin,shape,via_file,backward", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_model_matches_twin_in_eval_mode(name, kwargs, make_twin, shape, via_file, backward,
                                         tmp_path):
    torch.manual_seed(0)
    model, twin = models.get_model(name, **kwargs), randomize(make_twin())
    assert_same_layout(model, twin)
    load_twin(model, twin, tmp_path if via_file else None)
    model.eval()
    twin.eval()
    out_ours, out_theirs = forward_backward(model, twin, shape, backward)
    assert isinstance(out_ours, deepgrad.Tensor)
    assert_close(out_ours, out_theirs, 1e-4, "output")


def test_lenet_parameter_count_is_61706():
    for variant in ("relu", "classic"):
        model = models.lenet(variant=variant)
        assert sum(p.numel() for p in model.parameters()) == 61706
        assert sum(p.numel() for p in twin_lenet(variant).parameters()) == 61706
    classic = [type(m).__name__ for m in models.lenet(variant="classic").modules()]
    assert "Sigmoid" in classic and "AvgPool2d" in classic and "ReLU" not in classic
    relu = [type(m).__name__ for m in models.LeNet().modules()]
    assert "ReLU" in relu and "MaxPool2d" in relu and "Sigmoid" not in relu


@pytest.mark.parametrize("name,kwargs,make_twin,shape", [
    ("resnet18", dict(num_classes=10, in_channels=1, small_input=True),
     lambda: TwinResNet([2, 2, 2, 2], 10, 1, small_input=True), (2, 1, 16, 16)),
    ("googlenet", dict(num_classes=10, in_channels=1, small=True, aux_logits=True, dropout=0.0,
                       dropout_aux=0.0),
     lambda: TwinGoogLeNet(10, 1, aux_logits=True, small=True, dropout=0.0, dropout_aux=0.0),
     (2, 1, 16, 16)),
])
def test_batch_norm_models_match_twin_in_train_mode(name, kwargs, make_twin, shape):
    # float64: batch statistics over a few values per channel make float32 rounding in the
    # batch-norm backward too large for a tight comparison
    torch.manual_seed(0)
    model, twin = models.get_model(name, **kwargs), randomize(make_twin())
    load_twin(model, twin)
    model.double().train()
    twin.double().train()
    out_ours, out_theirs = forward_backward(model, twin, shape, tol=1e-7)
    if name == "googlenet":  # training mode with aux heads: the namedtuple, in its order
        assert type(out_ours).__name__ == "GoogLeNetOutputs"
        assert out_ours._fields == ("logits", "aux_logits2", "aux_logits1")
    flat_ours = out_ours if isinstance(out_ours, tuple) else (out_ours,)
    flat_theirs = out_theirs if isinstance(out_theirs, tuple) else (out_theirs,)
    for a, b in zip(flat_ours, flat_theirs, strict=True):
        assert_close(a, b, 1e-7, "output")
    ours = model.state_dict()
    for key, value in twin.state_dict().items():  # running statistics updated alike
        if "running" in key or "num_batches" in key:
            assert_close(ours[key], value, 1e-7, key)


def test_googlenet_eval_returns_logits_only():
    model = models.googlenet(num_classes=10, in_channels=1, aux_logits=True, small=True).eval()
    out = model(deepgrad.zeros(1, 1, 28, 28))
    assert isinstance(out, deepgrad.Tensor) and tuple(out.shape) == (1, 10)
    without_aux = models.googlenet(num_classes=10, in_channels=1, small=True)
    assert without_aux.aux1 is None and without_aux.aux2 is None
    assert not any(k.startswith("aux") for k in without_aux.state_dict())


# ---------------------------------------------------------------------------------------
# initialisation (torchvision's), registry, errors
# ---------------------------------------------------------------------------------------


def std_of(tensor):
    return float(tensor.detach().numpy().std())


def test_resnet_init_is_torchvisions():
    model = models.resnet18()
    conv = model.layer3[0].conv1  # kaiming_normal_, fan_out, relu: std sqrt(2 / fan_out)
    fan_out = conv.out_channels * 9
    assert std_of(conv.weight) == pytest.approx(math.sqrt(2 / fan_out), rel=0.05)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            np.testing.assert_array_equal(module.weight.detach().numpy(), 1)
            np.testing.assert_array_equal(module.bias.detach().numpy(), 0)
    zero = models.resnet18(zero_init_residual=True)
    np.testing.assert_array_equal(zero.layer1[0].bn2.weight.detach().numpy(), 0)


def test_vgg_init_is_torchvisions():
    model = models.vgg11(width_ratio=0.25)
    conv = model.features[3]
    assert std_of(conv.weight) == pytest.approx(math.sqrt(2 / (conv.out_channels * 9)), rel=0.05)
    np.testing.assert_array_equal(conv.bias.detach().numpy(), 0)
    assert std_of(model.classifier[3].weight) == pytest.approx(0.01, rel=0.02)
    np.testing.assert_array_equal(model.classifier[3].bias.detach().numpy(), 0)


def test_googlenet_init_is_torchvisions():
    for init_weights in (None, True):
        weight = models.googlenet(init_weights=init_weights).inception4a.branch2[1].conv.weight
        assert std_of(weight) == pytest.approx(0.01, rel=0.05)
        assert float(abs(weight.detach().numpy()).max()) <= 2  # truncated at +-2
    default = models.googlenet(init_weights=False).inception4a.branch2[1].conv.weight
    bound = 1 / math.sqrt(default[0].numel())  # torch's default conv init: U(-b, b)
    assert std_of(default) == pytest.approx(bound / math.sqrt(3), rel=0.05)


def test_vgg_width_ratio_and_block():
    model = models.vgg16(num_classes=10, in_channels=1, width_ratio=0.25)
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [16, 16, 32, 32, 64, 64, 64, 128, 128, 128,
                                               128, 128, 128]
    assert convs[0].in_channels == 1 and model.classifier[0].in_features == 128 * 7 * 7
    block = models.vgg_block(2, 3, 8)
    assert [type(m).__name__ for m in block] == ["Conv2d", "ReLU", "Conv2d", "ReLU",
                                                 "MaxPool2d"]
    assert tuple(block(deepgrad.zeros(1, 3, 8, 8)).shape) == (1, 8, 4, 4)
    with pytest.raises(ValueError, match="width_ratio"):
        models.vgg11(width_ratio=0)


def test_registry_names_and_errors():
    assert models.list_models() == ["lenet", "lenet-classic", "alexnet", "vgg11", "vgg13",
                                    "vgg16", "vgg19", "nin", "googlenet", "resnet18",
                                    "resnet34"]
    assert isinstance(models.get_model("ResNet18"), models.ResNet)
    assert models.get_model("lenet_classic").variant == "classic"
    with pytest.raises(ValueError) as info:
        models.get_model("resnet50")
    message = str(info.value)
    assert "'resnet50'" in message
    assert all(name in message for name in models.list_models())
    with pytest.raises(ValueError, match="'relu', 'classic'"):
        models.lenet(variant="tanh")
    with pytest.raises(ValueError, match="in_channels=1"):
        models.googlenet(in_channels=1, transform_input=True)


def test_residual_is_basic_block_and_downsample_layout():
    assert models.Residual is models.BasicBlock
    model = models.resnet34()
    assert [len(layer) for layer in (model.layer1, model.layer2, model.layer3,
                                     model.layer4)] == [3, 4, 6, 3]
    assert model.layer1[0].downsample is None
    down = model.layer2[0].downsample
    assert isinstance(down[0], nn.Conv2d) and down[0].stride == (2, 2)
    assert isinstance(down[1], nn.BatchNorm2d)


@pytest.mark.parametrize("name,kwargs,make_twin,channels,smallest", [
    ("nin", {}, twin_nin, 1, 67),
    ("googlenet", dict(num_classes=10, small=True), lambda: TwinGoogLeNet(10, small=True), 3, 4),
    ("lenet", {}, twin_lenet, 1, 28),
])
def test_too_small_input_fails_as_in_torch(name, kwargs, make_twin, channels, smallest):
    model, twin = models.get_model(name, **kwargs).eval(), make_twin().eval()
    for size in (smallest - 1, smallest):
        try:
            with torch.no_grad():
                twin(torch.zeros(1, channels, size, size))
            torch_ok = True
        except RuntimeError:
            torch_ok = False
        assert torch_ok == (size == smallest)
        if torch_ok:
            assert tuple(model(deepgrad.zeros(1, channels, size, size)).shape)[0] == 1
        else:
            with pytest.raises(RuntimeError):
                model(deepgrad.zeros(1, channels, size, size))
