"""The three MNIST benchmark models of issue 3, written once for torch and deepgrad.

Each builder takes ``lib`` (the ``torch`` or ``deepgrad`` module) and returns a fresh
``lib.nn.Module`` with torch's default initialisation, so copying a torch model's
``state_dict`` into the deepgrad twin gives identical networks. ``load_mnist`` reads the
7,000 / 1,500-image subset in ``/work/shared/data/mnist-subset`` as normalised NumPy arrays.

    from models import MODELS, load_mnist
    model = MODELS["lenet"](torch)
"""

from __future__ import annotations

import os

import numpy as np

MNIST_ROOT = os.environ.get(
    "MNIST_SUBSET",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data",
                 "mnist-subset"))
MEAN, STD = 0.1307, 0.3081


def mlp(lib):
    """MLP 784-256-256-10 with ReLU; input (N, 784)."""
    nn = lib.nn
    return nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 256), nn.ReLU(),
        nn.Linear(256, 10),
    )


def lenet(lib):
    """LeNet with ReLU and max-pool; input (N, 1, 28, 28)."""
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # (N, 6, 14, 14)
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),  # (N, 16, 5, 5)
        nn.Flatten(),  # (N, 400)
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def resnet(lib):
    """Small ResNet: 3x3 stem 1->32 + BN + ReLU, 2 basic blocks at 32 channels, 2 at 64
    (the first stride 2 with a 1x1 projection shortcut), global average pool, linear 64->10.
    Input (N, 1, 28, 28)."""
    nn = lib.nn

    class BasicBlock(nn.Module):
        def __init__(self, in_channels, out_channels, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(out_channels)
            self.relu = nn.ReLU()
            self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(out_channels)
            self.shortcut = nn.Sequential()
            if stride != 1 or in_channels != out_channels:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                    nn.BatchNorm2d(out_channels))

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + self.shortcut(x))

    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        BasicBlock(32, 32), BasicBlock(32, 32),  # (N, 32, 28, 28)
        BasicBlock(32, 64, stride=2), BasicBlock(64, 64),  # (N, 64, 14, 14)
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),  # (N, 64)
        nn.Linear(64, 10),
    )


MODELS = {"mlp": mlp, "lenet": lenet, "resnet": resnet}


def input_shape(model_name: str) -> tuple:
    """Per-sample input shape: (784,) for the MLP, (1, 28, 28) for the convnets."""
    return (784,) if model_name == "mlp" else (1, 28, 28)


def load_mnist(root: str = MNIST_ROOT):
    """The MNIST subset as ``(x_train, y_train, x_test, y_test)`` NumPy arrays.

    Images are float32 (N, 1, 28, 28), scaled to [0, 1] then normalised with mean 0.1307
    and std 0.3081; labels int64 (N,). Reshape to (N, 784) for the MLP.
    """
    from deepgrad.vision.datasets import MNIST  # noqa: PLC0415

    arrays = []
    for train in (True, False):
        dataset = MNIST(root=root, train=train)
        images = dataset.data.astype(np.float32)[:, None] / np.float32(255.0)  # (N, 1, 28, 28)
        images = (images - np.float32(MEAN)) / np.float32(STD)
        arrays += [np.ascontiguousarray(images, dtype=np.float32),
                   np.asarray(dataset.targets, dtype=np.int64)]
    return tuple(arrays)


def copy_weights(torch_model, deepgrad_model, deepgrad) -> None:
    """Load the torch model's parameters and buffers into its deepgrad twin (strict)."""
    state = {key: deepgrad.tensor(value.detach().numpy()) for key, value in
             torch_model.state_dict().items()}
    deepgrad_model.load_state_dict(state)
