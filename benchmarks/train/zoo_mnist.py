"""Test accuracy and seconds per epoch of every zoo model on the MNIST subset (issue 4, point 3).

Each model is trained by the ``deepgrad train`` command itself (``deepgrad.cli.main`` called
in this process with ``--no-bar --out <temporary folder>``), then its run folder's
``metrics.json`` gives the test accuracy. The only addition is a timer around
``deepgrad.train.loop.train_one_epoch``, the training half of the command's loop: it records
each training epoch's wall and process CPU seconds (test evaluation excluded) and counts the
model's parameters.

Image sizes: d2l trains AlexNet, VGG and NiN on 224x224 inputs and GoogLeNet and ResNet on
96x96. On one NumPy core 224x224 would cost about 6-15 minutes an epoch of the 7,000
training images, so AlexNet, VGG and NiN get 112x112 (half d2l's side; 1.5-4 minutes an
epoch) and GoogLeNet and ResNet d2l's own 96x96 (4-5 minutes), with d2l's reduced VGG widths
(channels / 4). Few epochs for the heavy models: the figures say what a short run reaches,
not what the architecture can reach.

Meant to run with one BLAS thread (the default here) pinned to one core, so that another
job can use the other core; each row records how busy the other cores were meanwhile:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 taskset -c 1 \\
        python benchmarks/train/zoo_mnist.py [--models lenet,vgg11] [--epochs vgg11=1]
    ... python benchmarks/train/zoo_mnist.py --models googlenet --estimate 5  # time 5 batches

Re-running some models replaces their rows in ``benchmarks/results/zoo_mnist.json`` and keeps
the others.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time

os.environ.setdefault("BENCH_THREADS", "1")  # before common.py, which sets the BLAS threads
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import ROOT, write_result  # noqa: E402

from deepgrad import cli  # noqa: E402
from deepgrad.train import loop  # noqa: E402

DATA_DIR = "/work/shared/data/mnist-subset"
RESULT_NAME = "zoo_mnist"
TRAIN_IMAGES = 7000  # the subset's training split, for --estimate

# Per model: --model-arg options, image side and the optimisation flags of `deepgrad train`,
# all with its default cosine schedule (stepped per epoch), seed 0, and SGD momentum 0.9.
# Checked on runs of 60-120 batches: sigmoid LeNet stays at chance for 10 epochs with the
# layers' default init (torch too) and needs d2l's Xavier init; AlexNet and VGG (no
# BatchNorm) stall or diverge with SGD at lr 0.01-0.03 but learn at once with Adam 1e-4;
# NiN with SGD stalls (lr 0.1 no momentum) or loses every ReLU (lr 0.02 + momentum), so
# Adam 1e-3 with Kaiming init, and more epochs as it starts slowly.
RECIPES = {
    "lenet": {"model_args": {}, "image_size": 28, "epochs": 12, "batch_size": 32,
              "optimizer": "sgd", "lr": 0.03},
    "lenet-classic": {"model_args": {}, "init": "xavier", "image_size": 28, "epochs": 20,
                      "batch_size": 32, "optimizer": "sgd", "lr": 0.1},
    "alexnet": {"model_args": {}, "image_size": 112, "epochs": 2, "batch_size": 64,
                "optimizer": "adam", "lr": 1e-4},
    "vgg11": {"model_args": {"width_ratio": 0.25}, "image_size": 112, "epochs": 2,
              "batch_size": 64, "optimizer": "adam", "lr": 1e-4},
    "nin": {"model_args": {}, "init": "kaiming", "image_size": 112, "epochs": 5,
            "batch_size": 64, "optimizer": "adam", "lr": 1e-3},
    "googlenet": {"model_args": {}, "image_size": 96, "epochs": 2, "batch_size": 64,
                  "optimizer": "sgd", "lr": 0.05},
    "resnet18": {"model_args": {}, "image_size": 96, "epochs": 2, "batch_size": 64,
                 "optimizer": "sgd", "lr": 0.05},
}
HEADERS = ["model", "options", "image", "epochs", "batch", "optimizer, lr", "test accuracy",
           "train s/epoch (wall)", "CPU s/epoch", "other core busy", "params"]


class EpochTimer:
    """Wraps ``loop.train_one_epoch`` (which ``fit`` looks up at each call) to time it."""

    def __init__(self) -> None:
        self.wall, self.cpu, self.params = [], [], None
        self.original = loop.train_one_epoch

    def __enter__(self) -> EpochTimer:
        def timed(model, *args, **kwargs):
            self.params = sum(p.numel() for p in model.parameters())
            wall, cpu = time.perf_counter(), time.process_time()
            result = self.original(model, *args, **kwargs)
            self.wall.append(time.perf_counter() - wall)
            self.cpu.append(time.process_time() - cpu)
            return result

        loop.train_one_epoch = timed
        return self

    def __exit__(self, *exc) -> None:
        loop.train_one_epoch = self.original


def command(name: str, recipe: dict, data_dir: str, out: str, limit_batches=None) -> list:
    """The ``deepgrad train`` arguments for one model."""
    argv = ["train", "--model", name, "--dataset", "mnist", "--data-dir", data_dir,
            "--image-size", str(recipe["image_size"]), "--epochs", str(recipe["epochs"]),
            "--batch-size", str(recipe["batch_size"]), "--optimizer", recipe["optimizer"],
            "--lr", str(recipe["lr"]), "--no-bar", "--out", out]
    for key, value in recipe["model_args"].items():
        argv += ["--model-arg", f"{key}={str(value).lower() if isinstance(value, bool) else value}"]
    for flag in ("momentum", "weight_decay", "init"):
        if flag in recipe:
            argv += ["--" + flag.replace("_", "-"), str(recipe[flag])]
    if limit_batches is not None:
        argv += ["--limit-batches", str(limit_batches)]
    return argv


def cpu_times() -> dict:
    """Busy and total jiffies per CPU from /proc/stat (empty where it does not exist)."""
    try:
        with open("/proc/stat") as handle:
            lines = [line.split() for line in handle if re.match(r"cpu\d", line)]
    except OSError:
        return {}
    # fields: user nice system idle iowait irq softirq steal ...; idle + iowait are not busy
    return {int(f[0][3:]): (sum(map(int, f[1:9])) - int(f[4]) - int(f[5]),
                            sum(map(int, f[1:9]))) for f in lines}


def other_cores_busy(before: dict, after: dict) -> float | None:
    """Mean busy fraction of the CPUs this process may not run on, between two samples."""
    ours = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(before)
    others = [cpu for cpu in before if cpu not in ours and cpu in after]
    total = sum(after[c][1] - before[c][1] for c in others)
    return round(sum(after[c][0] - before[c][0] for c in others) / total, 2) if total else None


def run_model(name: str, recipe: dict, data_dir: str, estimate: int | None = None):
    """Train one model through the command; its result row (``None`` when estimating)."""
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "run")
        argv = command(name, dict(recipe, epochs=1) if estimate else recipe, data_dir, out,
                       limit_batches=estimate)
        print("deepgrad " + " ".join(argv).replace(out, "RUN"), flush=True)
        before = cpu_times()
        with EpochTimer() as timer:
            status = cli.main(argv)
        busy = other_cores_busy(before, cpu_times())
        if status != 0:
            raise SystemExit(f"{name}: deepgrad train exited with status {status}")
        with open(os.path.join(out, "metrics.json")) as handle:
            metrics = json.load(handle)
    if estimate:
        batches = -(-TRAIN_IMAGES // recipe["batch_size"])
        per_batch = timer.wall[0] / estimate
        print(f"{name}: {per_batch:.3f} s/batch -> about {per_batch * batches:.0f} s/epoch, "
              f"{per_batch * batches * recipe['epochs'] / 60:.1f} min for {recipe['epochs']} "
              f"epochs ({timer.params:,} parameters)", flush=True)
        return None
    history, momentum = metrics["history"], metrics["config"]["momentum"]
    return {
        "model": name, "options": recipe["model_args"], "init": recipe.get("init", "default"),
        "image_size": recipe["image_size"], "epochs": len(history),
        "batch_size": recipe["batch_size"], "optimizer": recipe["optimizer"], "lr": recipe["lr"],
        "momentum": momentum if momentum is not None or recipe["optimizer"] != "sgd" else 0.9,
        "schedule": metrics["config"]["scheduler"],
        "test_accuracy": round(metrics["final"]["test_accuracy"], 4),
        "train_s_per_epoch": round(statistics.median(timer.wall), 1),
        "cpu_s_per_epoch": round(statistics.median(timer.cpu), 1),
        "params": timer.params, "other_cores_busy": busy, "timing": timing_note(busy),
        "test_accuracy_per_epoch": [round(r["test_accuracy"], 4) for r in history],
        "train_loss_per_epoch": [round(r["train_loss"], 4) for r in history],
        "train_seconds_per_epoch": [round(t, 1) for t in timer.wall],
        "cpu_seconds_per_epoch": [round(t, 1) for t in timer.cpu],
        "command": "deepgrad " + " ".join(command(name, recipe, data_dir, "RUN")),
        "load_average": round(os.getloadavg()[0], 2), "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def timing_note(busy: float | None) -> str:
    """How the times were taken: BLAS threads, pinning, and the other cores' load."""
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "?")
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    pinned = (f"pinned to CPU {','.join(map(str, allowed))} of {os.cpu_count()}"
              if allowed and len(allowed) < (os.cpu_count() or 0) else "not pinned")
    load = "" if busy is None else f", other core(s) {100 * busy:.0f}% busy"
    return f"{threads} BLAS thread, {pinned}{load}"


def table_cells(row: dict) -> list:
    options = [f"{key}={value}" for key, value in row["options"].items()]
    if row["init"] != "default":
        options.append(f"init {row['init']}")
    optimizer = f"{row['optimizer']} {row['lr']:g}"
    if row["optimizer"] == "sgd":
        optimizer += f" momentum {row['momentum']:g}"
    busy = "-" if row["other_cores_busy"] is None else f"{100 * row['other_cores_busy']:.0f}%"
    return [row["model"], ", ".join(options) or "-", f"{row['image_size']}x{row['image_size']}",
            row["epochs"], row["batch_size"], optimizer, f"{100 * row['test_accuracy']:.2f}%",
            f"{row['train_s_per_epoch']:.1f}", f"{row['cpu_s_per_epoch']:.1f}", busy,
            f"{row['params']:,}"]


def print_markdown(rows: list) -> None:
    print("| " + " | ".join(HEADERS) + " |")
    print("|" + "---|" * len(HEADERS))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in table_cells(row)) + " |")


def parse_epochs(text: str) -> dict:
    """'lenet=5,vgg11=1' -> {'lenet': 5, 'vgg11': 1}; a bare '2' applies to every model."""
    if text.strip().isdigit():
        return {name: int(text) for name in RECIPES}
    epochs = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        epochs[name.strip()] = int(value)
    return epochs


def previous_rows() -> list:
    path = os.path.join(ROOT, "results", f"{RESULT_NAME}.json")
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [row for row in json.load(handle)["rows"] if "model" in row]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(RECIPES), help="comma-separated")
    parser.add_argument("--epochs", default="", help="per-model epochs, e.g. lenet=5,vgg11=1, "
                        "or one number for all")
    parser.add_argument("--data-dir", default=DATA_DIR)
    parser.add_argument("--estimate", type=int, default=None,
                        help="only time this many training batches per model and extrapolate")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = set(names) - set(RECIPES)
    if unknown:
        parser.error(f"unknown models {sorted(unknown)}; choose from {', '.join(RECIPES)}")
    epochs = parse_epochs(args.epochs)
    print(f"{timing_note(None)}; load average {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    for name in names:
        recipe = dict(RECIPES[name], epochs=epochs.get(name, RECIPES[name]["epochs"]))
        row = run_model(name, recipe, args.data_dir, estimate=args.estimate)
        if row is not None:
            rows.append(row)
    if not rows:
        return
    # keep the rows of models not re-run, in RECIPES order
    merged = {row["model"]: row for row in previous_rows()} | {row["model"]: row for row in rows}
    rows = [merged[name] for name in RECIPES if name in merged]
    print()
    print_markdown(rows)
    print("\nTimes: s/epoch is the training pass only (test evaluation excluded), median over "
          "epochs; per row: " + "; ".join(f"{row['model']} {row['timing']}" for row in rows))
    print(f"wrote {write_result(RESULT_NAME, rows)}")


if __name__ == "__main__":
    main()
