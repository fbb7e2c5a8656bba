"""Train a 2-100-3 MLP on the 3-class spiral (cs231n's toy problem) with deepgrad.

Plain PyTorch code: change the import to `import torch` and it runs unchanged.

    python examples/spiral.py [--steps 1000]
"""

from __future__ import annotations

import argparse

import numpy as np

import deepgrad as torch


def spiral(points_per_class: int = 100, classes: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = np.zeros((points_per_class * classes, 2), dtype=np.float32)
    y = np.zeros(points_per_class * classes, dtype=np.int64)
    for c in range(classes):
        rows = slice(points_per_class * c, points_per_class * (c + 1))
        radius = np.linspace(0.0, 1, points_per_class)
        theta = np.linspace(c * 4, (c + 1) * 4, points_per_class)
        theta += rng.standard_normal(points_per_class) * 0.2
        x[rows] = np.c_[radius * np.sin(theta), radius * np.cos(theta)]
        y[rows] = c
    return torch.from_numpy(x), torch.from_numpy(y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=1.0)
    args = parser.parse_args()

    torch.manual_seed(0)
    x, y = spiral()
    w1 = (torch.randn(2, 100) * 0.5).requires_grad_()
    b1 = torch.zeros(100, requires_grad=True)
    w2 = (torch.randn(100, 3) * 0.1).requires_grad_()
    b2 = torch.zeros(3, requires_grad=True)
    params = [w1, b1, w2, b2]
    for step in range(args.steps + 1):
        hidden = (x @ w1 + b1).relu()
        logits = hidden @ w2 + b2
        loss = -logits.log_softmax(1).gather(1, y.unsqueeze(1)).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= args.lr * p.grad
        if step % (args.steps // 5) == 0:
            accuracy = (logits.argmax(1) == y).float().mean().item()
            print(f"step {step:5d}  loss {loss.item():.4f}  train accuracy {accuracy:.1%}")


if __name__ == "__main__":
    main()
