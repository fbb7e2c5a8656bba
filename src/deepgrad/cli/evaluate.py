"""``deepgrad evaluate CHECKPOINT``: accuracy, per-class accuracy and the confusion matrix.

The model, its input size, normalisation and class subset come from the checkpoint's saved
settings, so the evaluation sees exactly the inputs the model was trained on; ``--dataset``
evaluates on another dataset with the same image channels.
"""

from __future__ import annotations

import argparse

from ..train import (
    evaluate,
    format_confusion_matrix,
    format_per_class_accuracy,
    load_checkpoint,
    restore_checkpoint,
)
from ..train.data import DATASETS, prepare_split
from .options import CLIError, describe
from .session import build_model, check_device, make_loader, open_data

__all__ = ["add_parser", "run"]


def add_parser(commands) -> None:
    parser = commands.add_parser("evaluate", help="accuracy, per-class accuracy and confusion "
                                 "matrix of a checkpoint", description=describe(__doc__))
    parser.add_argument("checkpoint", metavar="CHECKPOINT",
                        help="a checkpoint file or a run folder")
    parser.add_argument("--dataset", help=f"one of {', '.join(DATASETS)} (default: the one "
                        "trained on)")
    parser.add_argument("--data-dir", help="folder holding the dataset files")
    parser.add_argument("--download", action="store_true", help="download missing files")
    parser.add_argument("--split", choices=("test", "train"), default="test")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--limit-batches", type=int, help=argparse.SUPPRESS)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    checkpoint = load_checkpoint(args.checkpoint)
    saved = checkpoint["config"]
    missing = [key for key in ("model", "dataset", "num_classes", "in_channels", "image_size",
                               "mean", "std") if key not in saved]
    if missing:
        raise CLIError(f"{checkpoint['path']} lacks the settings {', '.join(missing)}; it was "
                       f"not written by `deepgrad train`")
    dataset = args.dataset or saved["dataset"]
    if dataset not in DATASETS:
        raise CLIError(f"unknown dataset {dataset!r}; valid choices are {', '.join(DATASETS)}")
    if DATASETS[dataset].channels != saved["in_channels"]:
        raise CLIError(f"{saved['model']} in {checkpoint['path']} reads "
                       f"{saved['in_channels']}-channel images but {dataset} has "
                       f"{DATASETS[dataset].channels}")
    device = check_device(args.device)
    config = {**saved, "dataset": dataset, "data_dir": args.data_dir, "download": args.download,
              "batch_size": args.batch_size, "workers": args.workers}
    raw = open_data(config, args.split == "train")
    data, class_names = prepare_split(dataset, args.split == "train", raw=raw,
                                      image_size=saved["image_size"], mean=saved["mean"],
                                      std=saved["std"], classes=saved.get("classes"))
    if len(class_names) != saved["num_classes"]:
        raise CLIError(f"{dataset} gives {len(class_names)} classes but the model predicts "
                       f"{saved['num_classes']}")
    model = build_model(saved["model"], saved["num_classes"], saved["in_channels"],
                        saved.get("model_kwargs") or {})
    restore_checkpoint(checkpoint, model, restore_rng=False)
    model.to(device)
    result = evaluate(model, make_loader(data, config, shuffle=False),
                      num_classes=saved["num_classes"], device=device,
                      limit_batches=args.limit_batches)
    print(f"{saved['model']} from {checkpoint['path']} (epoch {checkpoint['epoch']}) on "
          f"{dataset} {args.split} ({result['samples']} images)")
    print(f"accuracy: {100 * result['accuracy']:.2f}% "
          f"({int((result['predictions'] == result['targets']).sum())}/{result['samples']})")
    print()
    print(format_per_class_accuracy(result["confusion"], class_names))
    print()
    print("confusion matrix (rows: true class, columns: predicted class)")
    print(format_confusion_matrix(result["confusion"], class_names))
    return 0
