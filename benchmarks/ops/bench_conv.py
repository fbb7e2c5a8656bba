"""Convolution, pooling and batch-norm kernels, deepgrad vs torch in the same run.

Shapes are the ones the training benchmarks spend their time in (batch 128, float32):
the small ResNet's 32->32 3x3 conv at 28x28, LeNet's two 5x5 convs, a 2x2 max-pool
and a 2-d batch norm in training mode. Each case is checked against torch before it is
timed; "f+b" is forward plus backward with a fixed upstream gradient.

    python benchmarks/ops/bench_conv.py [--repeats 9]

Keep the machine otherwise idle: torch's worker threads stall when another process takes
a core, which would flatter deepgrad.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import libraries, median_time, print_table, write_result  # noqa: E402


def _conv(lib, x, w, b, **kw):
    return lib.nn.functional.conv2d(x, w, b, **kw)


CASES = {
    # name: (input shape, input needs grad, extra parameter shapes, fn(lib, x, *params))
    "conv 32->32 3x3 pad1 28x28": ((128, 32, 28, 28), True, [(32, 32, 3, 3), (32,)],
                                   lambda lib, x, w, b: _conv(lib, x, w, b, padding=1)),
    "lenet conv1 1->6 5x5 pad2": ((128, 1, 28, 28), False, [(6, 1, 5, 5), (6,)],
                                  lambda lib, x, w, b: _conv(lib, x, w, b, padding=2)),
    "lenet conv2 6->16 5x5": ((128, 6, 14, 14), True, [(16, 6, 5, 5), (16,)],
                              lambda lib, x, w, b: _conv(lib, x, w, b)),
    "conv 32->64 3x3 s2 28x28": ((128, 32, 28, 28), True, [(64, 32, 3, 3)],
                                 lambda lib, x, w: _conv(lib, x, w, None, stride=2, padding=1)),
    "conv 64->64 3x3 pad1 14x14": ((128, 64, 14, 14), True, [(64, 64, 3, 3)],
                                   lambda lib, x, w: _conv(lib, x, w, None, padding=1)),
    "max_pool2d 2x2 (128,6,28,28)": ((128, 6, 28, 28), True, [],
                                     lambda lib, x: lib.nn.functional.max_pool2d(x, 2)),
    "max_pool2d 2x2 (128,16,10,10)": ((128, 16, 10, 10), True, [],
                                      lambda lib, x: lib.nn.functional.max_pool2d(x, 2)),
    "batch_norm2d train (128,32,28,28)": (
        (128, 32, 28, 28), True, [(32,), (32,)],
        lambda lib, x, w, b: lib.nn.functional.batch_norm(
            x, lib.zeros(32), lib.ones(32), w, b, training=True)),
}


def _check(name, outputs):
    (t_out, t_grads), (d_out, d_grads) = outputs["torch"], outputs["deepgrad"]
    scale = max(1.0, float(np.abs(t_out).max()))
    np.testing.assert_allclose(d_out, t_out, rtol=1e-3, atol=1e-4 * scale, err_msg=name)
    for t, d in zip(t_grads, d_grads):
        np.testing.assert_allclose(d, t, rtol=1e-3, atol=1e-3 * max(1.0, float(np.abs(t).max())),
                                   err_msg=name + " grad")


def _measure(lib, fn, arrays, input_grad, repeats):
    """(forward seconds, forward+backward seconds, output, gradients) for one library."""
    x = lib.tensor(arrays[0], requires_grad=input_grad)
    params = [lib.tensor(a, requires_grad=True) for a in arrays[1:]]
    with lib.no_grad():
        out_shape = tuple(fn(lib, x, *params).shape)
    grad = lib.tensor(np.random.default_rng(1).standard_normal(out_shape).astype(np.float32))

    def forward():
        with lib.no_grad():
            fn(lib, x, *params)

    def step():
        for t in [x] + params:
            t.grad = None
        fn(lib, x, *params).backward(grad)

    step()
    leaves = ([x] if input_grad else []) + params
    result = (fn(lib, x, *params).detach().numpy(), [t.grad.numpy() for t in leaves])
    return median_time(forward, repeats), median_time(step, repeats), result


def run(repeats: int) -> list:
    rng = np.random.default_rng(0)
    rows = []
    for name, (shape, input_grad, param_shapes, fn) in CASES.items():
        arrays = [rng.standard_normal(shape).astype(np.float32)]
        arrays += [(rng.standard_normal(s) * 0.1).astype(np.float32) for s in param_shapes]
        times, outputs = {}, {}
        for lib_name, lib in libraries():
            forward, step, outputs[lib_name] = _measure(lib, fn, arrays, input_grad, repeats)
            times[lib_name], times[lib_name + " f+b"] = forward, step
        _check(name, outputs)
        flops = None
        if "conv" in name:  # 2 * output elements * (C/groups * kh * kw), per pass
            weight = arrays[1]
            flops = 2 * outputs["torch"][0].size * int(np.prod(weight.shape[1:]))
        rows.append(_row(name, times, flops, 3 if input_grad else 2))
        print(name, "done", flush=True)
    return rows


def _row(name, times, flops, passes):
    """``passes``: GEMM-sized passes in forward+backward (forward, weight grad, input grad)."""
    ms = lambda key: round(times[key] * 1e3, 2)  # noqa: E731
    rate = lambda count, key: None if flops is None else round(count / times[key] / 1e9, 1)  # noqa: E731
    return {"case": name, "torch ms": ms("torch"), "deepgrad ms": ms("deepgrad"),
            "ratio": round(times["deepgrad"] / times["torch"], 2),
            "torch f+b ms": ms("torch f+b"), "deepgrad f+b ms": ms("deepgrad f+b"),
            "ratio f+b": round(times["deepgrad f+b"] / times["torch f+b"], 2),
            "deepgrad GFLOP/s": rate(flops, "deepgrad"),
            "deepgrad f+b GFLOP/s": rate(None if flops is None else flops * passes,
                                         "deepgrad f+b")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"load average {load:.2f} (run with the machine otherwise idle)")
    rows = run(args.repeats)
    headers = list(rows[0])
    print_table(headers, [[r[h] for h in headers] for r in rows])
    print("ratio = deepgrad time / torch time (above 1: deepgrad slower)")
    print("wrote", write_result("ops_conv", rows + [{"load_average": round(load, 2),
                                                      "repeats": args.repeats}]))


if __name__ == "__main__":
    main()
