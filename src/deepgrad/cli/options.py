"""Command-line options shared by ``train`` and ``finetune``: flags, value parsers, defaults.

Every option's parser default is ``None`` so the command can tell a flag the user gave from
one left out: a fresh run fills the gaps from :data:`TRAIN_DEFAULTS`, a resumed run from the
checkpoint's saved settings (then only :data:`RESUMABLE` flags may change).
"""

from __future__ import annotations

import argparse

from ..train.data import AUGMENTATIONS, DATASETS

__all__ = ["CLIError", "OPTIMIZERS", "SCHEDULERS", "INITS", "TRAIN_DEFAULTS", "DEFAULT_LR",
           "RESUMABLE", "add_training_arguments", "describe", "parse_classes", "parse_augment",
           "parse_size", "parse_model_args", "resolve_config"]

OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw")
SCHEDULERS = ("none", "step", "cosine", "onecycle", "plateau")
INITS = ("default", "xavier", "kaiming")
DEFAULT_LR = {"sgd": 0.03, "adagrad": 0.01, "rmsprop": 0.001, "adadelta": 1.0, "adam": 0.001,
              "adamw": 0.001}

# The defaults of `deepgrad train`: LeNet on the bundled digits resized to 28x28, 8 epochs of
# SGD (lr 0.03, momentum 0.9, batch 32) with a cosine schedule. Chosen by a grid over lr,
# batch size, epochs and optimizer with torch as a fast proxy: on digits (8 seeds) mean test
# accuracy 98.1%, every seed >= 97.2% (360 test images: one image is 0.28%); the same
# settings give 97.0-97.5% on the MNIST subset (3 seeds), where lr 0.05 fell short.
TRAIN_DEFAULTS = {
    "model": "lenet", "model_kwargs": {}, "dataset": "digits", "data_dir": None,
    "download": False, "image_size": None, "classes": None, "samples_per_class": None,
    "epochs": 8, "batch_size": 32, "lr": None, "optimizer": "sgd", "momentum": None,
    "weight_decay": None, "scheduler": "cosine", "augment": [], "init": "default",
    "workers": 0, "seed": 0, "device": "cpu", "limit_batches": None,
}
# what a resumed run may change: where and how fast it runs, and for how many epochs
RESUMABLE = ("epochs", "workers", "device", "data_dir", "download", "limit_batches")


def describe(doc: str) -> str:
    """A command's help description: its module docstring's first paragraph, plain text."""
    return " ".join(doc.split("\n\n")[0].replace("``", "").split())


class CLIError(Exception):
    """A user error: printed as one line ``deepgrad <command>: error: <message>``, exit 2."""


def parse_classes(text: str) -> list[int]:
    """``"5-9"`` -> [5, 6, 7, 8, 9]; ``"0,2,4"`` and mixes (``"0-2,7"``) too."""
    labels = []
    try:
        for part in text.split(","):
            low, _, high = part.strip().partition("-")
            labels += list(range(int(low), int(high) + 1)) if high else [int(low)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid class list {text!r}; use a range like 5-9 or a list like 0,2,4") from None
    if not labels or min(labels) < 0 or len(set(labels)) != len(labels):
        raise argparse.ArgumentTypeError(f"invalid class list {text!r}; classes must be "
                                         f"distinct labels >= 0")
    return labels


def parse_augment(text: str) -> list[str]:
    """``"flip,crop"`` -> ["flip", "crop"]; ``""`` or ``"none"`` -> []."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if names == ["none"]:
        return []
    unknown = [name for name in names if name not in AUGMENTATIONS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown augmentation {unknown[0]!r}; valid choices "
                                         f"are {', '.join(AUGMENTATIONS)} (comma-separated)")
    return names


def parse_size(text: str) -> list[int]:
    """``"1,28,28"`` or ``"1x28x28"`` -> [1, 28, 28]."""
    try:
        size = [int(part) for part in text.replace("x", ",").split(",")]
    except ValueError:
        size = []
    if not size or min(size) <= 0:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}; give positive integers like "
                                         f"1,28,28 (channels, height, width)")
    return size


def parse_model_args(pairs) -> dict:
    """``["small=true", "width_ratio=4"]`` -> {"small": True, "width_ratio": 4}."""
    kwargs = {}
    for pair in pairs or []:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise CLIError(f"invalid --model-arg {pair!r}; use KEY=VALUE, e.g. small=true")
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            parsed = lowered == "true"
        else:
            try:
                parsed = int(value)
            except ValueError:
                try:
                    parsed = float(value)
                except ValueError:
                    parsed = value
        kwargs[key.strip()] = parsed
    return kwargs


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid value {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value
    parse.__name__ = kind.__name__
    return parse


def _non_negative(text):
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """The data, optimisation and run flags of ``train`` and ``finetune``."""
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", help=f"one of {', '.join(DATASETS)} (default: digits, "
                      "bundled)")
    data.add_argument("--data-dir", help="folder holding the dataset files (default: "
                      "$DEEPGRAD_DATA or ~/.cache/deepgrad)")
    data.add_argument("--download", action="store_true", default=None,
                      help="download missing dataset files (needs network)")
    data.add_argument("--image-size", type=_positive(int),
                      help="resize images to SIZE x SIZE (default: what the model needs)")
    data.add_argument("--classes", type=parse_classes,
                      help="train on these labels only, e.g. 5-9 or 0,2,4 (relabelled 0..k-1)")
    data.add_argument("--samples-per-class", type=_positive(int),
                      help="keep N training images per class (few-shot)")
    data.add_argument("--augment", type=parse_augment,
                      help=f"comma-separated: {', '.join(AUGMENTATIONS)}")
    data.add_argument("--workers", type=int, help="DataLoader worker processes (default 0)")
    fit = parser.add_argument_group("optimisation")
    fit.add_argument("--epochs", type=_positive(int), help="number of epochs")
    fit.add_argument("--batch-size", type=_positive(int), help="mini-batch size")
    fit.add_argument("--lr", type=_positive(float), help="learning rate (default per "
                     "optimizer: " + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ")")
    fit.add_argument("--optimizer", choices=OPTIMIZERS, help="default sgd")
    fit.add_argument("--momentum", type=_non_negative, help="sgd / rmsprop momentum "
                     "(default 0.9 for sgd)")
    fit.add_argument("--weight-decay", type=_non_negative, help="L2 penalty (default 0; 0.01 "
                     "for adamw)")
    fit.add_argument("--scheduler", choices=SCHEDULERS, help="learning-rate schedule")
    fit.add_argument("--seed", type=int, help="random seed (default 0)")
    fit.add_argument("--device", help="cpu or cuda (default cpu)")
    run = parser.add_argument_group("run folder")
    run.add_argument("--out", help="run folder (default runs/<timestamp>-<model>-<dataset>)")
    run.add_argument("--resume", nargs="?", const=True, metavar="RUN",
                     help="continue the run in RUN (a run folder or its checkpoint), or in "
                     "--out when RUN is omitted")
    run.add_argument("--no-bar", action="store_true", help="plain progress lines, no bar")
    parser.add_argument("--limit-batches", type=_positive(int), help=argparse.SUPPRESS)


def resolve_config(args: argparse.Namespace, defaults: dict, saved: dict | None = None) -> dict:
    """Settings from the flags given, then the saved run's settings or ``defaults``.

    Raises:
        CLIError: resuming with a flag that would change the run (other than
            :data:`RESUMABLE` ones).
    """
    config = dict(saved) if saved is not None else {}
    for key, default in defaults.items():
        given = getattr(args, key, None)
        if saved is None:
            config[key] = given if given is not None else default
        elif given is not None:
            if key not in RESUMABLE and given != saved.get(key):
                flag = "--" + key.replace("_", "-")
                raise CLIError(f"{flag} {given} differs from the resumed run's "
                               f"{saved.get(key)!r}; a resumed run keeps its settings (only "
                               f"{', '.join('--' + k.replace('_', '-') for k in RESUMABLE)} "
                               f"can change)")
            config[key] = given
    return config
