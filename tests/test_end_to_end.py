"""End to end: deepgrad trains real networks as torch does (issue 3, fast version of point 2).

- An MLP 784-256-256-10 trained with deepgrad's DataLoader on the real 7,000-image MNIST
  subset reaches >= 90% test accuracy in 2 epochs (skipped when the subset is not there:
  tests must not depend on it; the full figures come from benchmarks/train/accuracy_mnist.py).
- LeNet and a small residual net with batch norm, started from torch's weights, follow
  torch's loss trajectory step by step on a fixed batch (SGD momentum 0.9).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import deepgrad
from deepgrad.utils.data import DataLoader, TensorDataset

torch = pytest.importorskip("torch")

SUBSET = Path(os.environ.get(
    "MNIST_SUBSET",
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist-subset"))
MEAN, STD = 0.1307, 0.3081


def mnist_arrays(train: bool):
    """Normalised (N, 784) float32 images and int64 labels of the subset."""
    from deepgrad.vision.datasets import MNIST  # noqa: PLC0415

    dataset = MNIST(root=str(SUBSET), train=train)
    images = dataset.data.reshape(-1, 784).astype(np.float32) / np.float32(255.0)
    images = (images - np.float32(MEAN)) / np.float32(STD)
    return images, np.asarray(dataset.targets, dtype=np.int64)


@pytest.fixture(autouse=True, scope="module")
def torch_single_thread():
    """Torch on one thread: its OpenMP threads and NumPy's BLAS threads otherwise spin
    against each other on 2 cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def lenet(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def residual_net(lib):
    """Stem conv + BN, one identity block and one stride-2 block with a 1x1 projection."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                              nn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.bn2(self.conv2(self.bn1(self.conv1(x)).relu()))
            return (out + self.shortcut(x)).relu()

    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        Block(8, 8, 1), Block(8, 16, 2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(16, 10))


def twins(build):
    """The torch model and a deepgrad copy of it (weights and buffers via state_dict)."""
    torch.manual_seed(0)
    torch_model = build(torch)
    deepgrad_model = build(deepgrad)
    deepgrad_model.load_state_dict({key: deepgrad.tensor(value.numpy())
                                    for key, value in torch_model.state_dict().items()})
    return torch_model, deepgrad_model


def trajectory(lib, model, x_np, y_np, steps, lr=0.05):
    """Losses of ``steps`` SGD-momentum steps on one fixed batch."""
    optimizer = lib.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(lib.from_numpy(x_np)), lib.from_numpy(y_np))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def assert_same_state(torch_model, deepgrad_model, rtol, atol):
    ours = deepgrad_model.state_dict()
    for key, value in torch_model.state_dict().items():
        np.testing.assert_allclose(ours[key].numpy(), value.numpy(), rtol=rtol, atol=atol,
                                   err_msg=key)


@pytest.mark.skipif(not SUBSET.is_dir(), reason=f"MNIST subset not found at {SUBSET}")
def test_mlp_reaches_90_percent_on_mnist_subset_in_two_epochs():
    # this recipe gives 91.7-93.3% over seeds 0-3; 2,000 images would give only 87-91%
    x_train, y_train = mnist_arrays(train=True)
    x_test, y_test = mnist_arrays(train=False)
    deepgrad.manual_seed(0)
    model = mlp(deepgrad)
    optimizer = deepgrad.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = deepgrad.nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(deepgrad.from_numpy(x_train), deepgrad.from_numpy(y_train)),
                        batch_size=128, shuffle=True)
    for _ in range(2):
        for images, labels in loader:
            loss = loss_fn(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with deepgrad.no_grad():
        predicted = model(deepgrad.from_numpy(x_test)).argmax(1).numpy()
    accuracy = (predicted == y_test).mean()
    assert accuracy >= 0.90, f"test accuracy {accuracy:.4f} after 2 epochs"


def test_lenet_follows_torch_loss_trajectory():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 32).astype(np.int64)
    torch_model, deepgrad_model = twins(lenet)
    expected = trajectory(torch, torch_model, x, y, steps=10)
    got = trajectory(deepgrad, deepgrad_model, x, y, steps=10)
    assert expected[-1] < expected[0] - 0.1  # the batch is being learnt: steps are not no-ops
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert_same_state(torch_model, deepgrad_model, rtol=1e-3, atol=1e-5)


def test_residual_net_with_batch_norm_follows_torch_trajectory():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 1, 12, 12)).astype(np.float32)
    y = rng.integers(0, 10, 16).astype(np.int64)
    torch_model, deepgrad_model = twins(residual_net)
    expected = trajectory(torch, torch_model, x, y, steps=6)
    got = trajectory(deepgrad, deepgrad_model, x, y, steps=6)
    assert expected[-1] < expected[0] * 0.9
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    # running statistics and num_batches_tracked follow torch's updates too
    assert_same_state(torch_model, deepgrad_model, rtol=1e-3, atol=1e-5)
    torch_model.eval()
    deepgrad_model.eval()
    with torch.no_grad(), deepgrad.no_grad():
        np.testing.assert_allclose(deepgrad_model(deepgrad.from_numpy(x)).numpy(),
                                   torch_model(torch.from_numpy(x)).numpy(),
                                   rtol=1e-3, atol=1e-4)
