"""Shared benchmark plumbing: fair thread settings, medians, machine info, JSON results.

Run benchmarks with the machine otherwise idle: torch's worker threads stall when another
process takes a core, which would flatter deepgrad.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time

# Threads for both libraries (BENCH_THREADS=1 when the machine cannot be kept idle: one
# thread each is far less sensitive to a busy neighbour than torch's two-thread pool).
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
if "numpy" in sys.modules and os.environ.get("OPENBLAS_NUM_THREADS") != str(THREADS):
    # OpenBLAS reads its thread count when NumPy loads; set it on the command line instead.
    print(f"warning: NumPy was imported before benchmarks/common.py; run with "
          f"OPENBLAS_NUM_THREADS={THREADS} OMP_NUM_THREADS={THREADS}", file=sys.stderr)
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, str(THREADS))

ROOT = os.path.dirname(os.path.abspath(__file__))


def libraries():
    """(name, module) pairs: torch (2 threads) and deepgrad, each imported as ``torch``."""
    import torch  # noqa: PLC0415

    import deepgrad  # noqa: PLC0415

    torch.set_num_threads(THREADS)
    return [("torch", torch), ("deepgrad", deepgrad)]


def median_time(fn, repeats: int, warmup: int = 3, inner: int = 1) -> float:
    """Median seconds per call of ``fn`` over ``repeats`` timings of ``inner`` calls each."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - start) / inner)
    return statistics.median(times)


def machine_info() -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, cwd=ROOT, check=False).stdout.strip()
    except OSError:
        commit = "unknown"
    import numpy  # noqa: PLC0415
    import torch  # noqa: PLC0415

    return {
        "commit": commit, "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count(), "numpy": numpy.__version__, "torch": torch.__version__,
        "threads": THREADS, "load": os.getloadavg()[0], "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def write_result(name: str, rows: list) -> str:
    path = os.path.join(ROOT, "results", f"{name}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        json.dump({"machine": machine_info(), "rows": rows}, handle, indent=2)
    return path


def print_table(headers, rows) -> None:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(str(h).ljust(w) for h, w in zip(headers, widths)))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
