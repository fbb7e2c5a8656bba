"""Tiny MLP 2-100-3 on a 300-point 3-class spiral: full batch, 500 SGD steps.

The same training function runs with ``lib`` = torch and ``lib`` = deepgrad, each in a
fresh process of its own (alternating over two rounds); both start from the same weights
and must reach the same loss. This workload is
all per-op overhead (torch eager: ~234 us/step here), so it measures the dispatch path.

    python benchmarks/train/bench_spiral_mlp.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import libraries, print_table, write_result  # noqa: E402

STEPS = 500


def spiral(points_per_class=100, classes=3, seed=0):
    """cs231n's spiral: 2-d points on 3 interleaved arms."""
    rng = np.random.default_rng(seed)
    x = np.zeros((points_per_class * classes, 2), dtype=np.float32)
    y = np.zeros(points_per_class * classes, dtype=np.int64)
    for c in range(classes):
        idx = range(points_per_class * c, points_per_class * (c + 1))
        r = np.linspace(0.0, 1, points_per_class)
        t = np.linspace(c * 4, (c + 1) * 4, points_per_class) + rng.standard_normal(
            points_per_class) * 0.2
        x[idx] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[idx] = c
    return x, y


def init_weights(seed=1):
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((2, 100)) * 0.5).astype(np.float32), np.zeros(100, np.float32),
        (rng.standard_normal((100, 3)) * 0.1).astype(np.float32), np.zeros(3, np.float32),
    ]


def train(lib, x_np, y_np, weights, steps=STEPS, lr=1.0):
    """Plain PyTorch code (nn.Sequential of Linear layers, F.cross_entropy, optim.SGD): the
    benchmark body is identical for both libraries."""
    nn = lib.nn
    x, y = lib.from_numpy(x_np), lib.from_numpy(y_np)
    model = nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 3))
    with lib.no_grad():  # the same starting weights for both (Linear stores W transposed)
        for layer, (w, b) in zip((model[0], model[2]), (weights[:2], weights[2:])):
            layer.weight.copy_(lib.from_numpy(w.T.copy()))
            layer.bias.copy_(lib.from_numpy(b))
    optimizer = lib.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def worker(name: str, repeats: int) -> None:
    """Time ``repeats`` trainings with one library in this process; print JSON."""
    lib = dict(libraries())[name]
    x, y = spiral()
    weights = init_weights()
    train(lib, x, y, weights, steps=20)  # warm up
    times, loss = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        loss = train(lib, x, y, weights)
        times.append(time.perf_counter() - start)
    print(json.dumps({"times": times, "loss": loss}))


def main(repeats: int = 5, rounds: int = 2) -> None:
    """Each library runs in a fresh process of its own, alternating over ``rounds``: in one
    process the other library's idle thread pools can disturb torch's timings."""
    runs = {"torch": [], "deepgrad": []}
    losses = {}
    for _ in range(rounds):
        for name in runs:
            done = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", name,
                                   str(repeats)], capture_output=True, text=True, check=False)
            if done.returncode:
                raise SystemExit(f"{name} worker failed:\n{done.stderr}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            runs[name] += result["times"]
            losses[name] = result["loss"]
    results = {name: (statistics.median(times), losses[name]) for name, times in runs.items()}
    t_torch, loss_torch = results["torch"]
    t_ours, loss_ours = results["deepgrad"]
    if not np.isclose(loss_torch, loss_ours, rtol=1e-3, atol=1e-4):
        raise SystemExit(f"results differ: torch loss {loss_torch}, deepgrad loss {loss_ours}")
    rows = [{"library": k, "steps/s": round(STEPS / t), "us/step": round(t / STEPS * 1e6, 1),
             "final loss": round(loss, 5)} for k, (t, loss) in results.items()]
    print_table(list(rows[0]), [list(r.values()) for r in rows])
    print(f"deepgrad steps/s relative to torch: {t_torch / t_ours:.2f}x "
          "(target >= 1.5x, stretch 2x)")
    write_result("spiral_mlp", rows + [{"speedup_vs_torch": round(t_torch / t_ours, 3)}])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]))
    else:
        main()
