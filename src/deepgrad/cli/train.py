"""``deepgrad train``: train a zoo model on a dataset, with a run folder and a checkpoint.

With no arguments: LeNet (ReLU / max-pool) on the bundled UCI digits, offline. The 8x8
digits are resized (bilinear) to the 28x28 LeNet was designed for, normalised with the
training set's mean and standard deviation, and trained for 8 epochs of SGD (lr 0.03,
momentum 0.9, batch 32) with a cosine learning-rate schedule: about 98% test accuracy in
under a minute on 2 CPU cores.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..train import load_checkpoint
from ..vision import models
from .options import (
    INITS,
    TRAIN_DEFAULTS,
    CLIError,
    add_training_arguments,
    describe,
    parse_model_args,
    resolve_config,
)
from .session import build_model, run_session

__all__ = ["add_parser", "run", "resume_target"]


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "train", help="train a model (default: LeNet on the bundled digits)",
        description=describe(__doc__) + " Defaults: " + ", ".join(
            f"{key}={value}" for key, value in TRAIN_DEFAULTS.items()
            if value not in (None, [], {}, False)))
    parser.add_argument("--model", help=f"one of {', '.join(models.list_models())} "
                        "(default lenet)")
    parser.add_argument("--model-arg", action="append", metavar="KEY=VALUE",
                        help="extra model option, e.g. small=true (alexnet, googlenet), "
                        "small_input=true (resnet), width_ratio=0.25 (vgg: d2l's 4x thinner); "
                        "repeatable")
    parser.add_argument("--init", choices=INITS, help="weight initialisation (default: the "
                        "layers' own)")
    add_training_arguments(parser)
    parser.set_defaults(handler=run)


def resume_target(args) -> Path | None:
    """The run folder or checkpoint to resume, or ``None`` for a fresh run."""
    if args.resume is None:
        return None
    if args.resume is True:
        if args.out is None:
            raise CLIError("--resume without a folder needs --out RUN (the run to continue)")
        return Path(args.out)
    return Path(args.resume)


def run(args: argparse.Namespace) -> int:
    args.model_kwargs = parse_model_args(args.model_arg) if args.model_arg else None
    target = resume_target(args)
    if target is not None:
        return resume(args, target, TRAIN_DEFAULTS)
    config = resolve_config(args, TRAIN_DEFAULTS)
    config["command"] = "train"

    def prepare_model(config: dict):
        return build_model(config["model"], config["num_classes"], config["in_channels"],
                           config["model_kwargs"])

    return run_session(config, prepare_model, out=args.out, bar=False if args.no_bar else None)


def resume(args: argparse.Namespace, target: Path, defaults: dict) -> int:
    """Continue a run (of ``train`` or ``finetune``) from its checkpoint."""
    checkpoint = load_checkpoint(target)
    folder = Path(checkpoint["path"]).parent
    if args.out is not None and Path(args.out).resolve() != folder.resolve():
        raise CLIError(f"--out {args.out} is not the resumed run's folder {folder}; leave "
                       f"--out out when resuming")
    config = resolve_config(args, defaults, saved=checkpoint["config"])

    def prepare_model(config: dict):
        # the saved weights (new head included) are loaded by run_session
        return build_model(config["model"], config["num_classes"], config["in_channels"],
                           config["model_kwargs"])

    return run_session(config, prepare_model, resume_from=checkpoint, out=folder,
                       bar=False if args.no_bar else None)
