"""Per-op dispatch overhead on small tensors, deepgrad vs torch in the same run.

Each op runs on 16x16 float32 inputs that require grad (so the graph is recorded, as in
training) and, separately, with a forward+backward of a short chain. Small tensors make
the time almost all framework overhead.

    python benchmarks/ops/bench_overhead.py
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import libraries, median_time, print_table, write_result  # noqa: E402

OPS = {
    "add": lambda lib, a, b: a + b,
    "mul": lambda lib, a, b: a * b,
    "add scalar": lambda lib, a, b: a + 1.0,
    "matmul": lambda lib, a, b: a @ b,
    "relu": lambda lib, a, b: lib.relu(a),
    "exp": lambda lib, a, b: lib.exp(a),
    "sum": lambda lib, a, b: a.sum(),
    "sum(dim)": lambda lib, a, b: a.sum(1),
    "reshape": lambda lib, a, b: a.reshape(256),
    "transpose": lambda lib, a, b: a.t(),
    "index [0]": lambda lib, a, b: a[0],
    "log_softmax": lambda lib, a, b: a.log_softmax(1),
    "add bcast": lambda lib, a, b: a + b[0],
}


def main() -> None:
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal((16, 16)).astype(np.float32)
    b_np = rng.standard_normal((16, 16)).astype(np.float32)
    rows = []
    for name, op in OPS.items():
        times = {}
        for lib_name, lib in libraries():
            a = lib.tensor(a_np, requires_grad=True)
            b = lib.tensor(b_np, requires_grad=True)
            try:
                op(lib, a, b)
            except Exception as error:  # noqa: BLE001 - report ops a library lacks
                times[lib_name] = None
                print(f"{lib_name} {name}: {type(error).__name__}: {error}")
                continue
            times[lib_name] = median_time(lambda op=op, lib=lib, a=a, b=b: op(lib, a, b),
                                          repeats=15, inner=400)

            def step(op=op, lib=lib, a=a, b=b):
                a.grad = None
                op(lib, a, b).sum().backward()

            times[lib_name + " fwd+bwd"] = median_time(step, repeats=15, inner=100)
        rows.append(_row(name, times))
    headers = ["op", "torch us", "deepgrad us", "ratio", "torch f+b us", "deepgrad f+b us",
               "ratio f+b"]
    print_table(headers, [[r[h] for h in headers] for r in rows])
    print("ratio = deepgrad time / torch time (below 1: deepgrad faster)")
    print("wrote", write_result("ops_overhead", rows))


def _row(name, times):
    def us(key):
        return None if times.get(key) is None else round(times[key] * 1e6, 2)

    def ratio(key):
        t, d = times.get("torch" + key), times.get("deepgrad" + key)
        return None if not t or not d else round(d / t, 2)

    return {"op": name, "torch us": us("torch"), "deepgrad us": us("deepgrad"),
            "ratio": ratio(""), "torch f+b us": us("torch fwd+bwd"),
            "deepgrad f+b us": us("deepgrad fwd+bwd"), "ratio f+b": ratio(" fwd+bwd")}


if __name__ == "__main__":
    main()
