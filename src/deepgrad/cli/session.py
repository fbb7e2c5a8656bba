"""One training session of ``deepgrad train`` / ``finetune``: build, validate, run, report.

The order matters for "nothing overwritten": every check (model name, dataset files, input
size, checkpoint) runs before the run folder is created, and the folder is refused when it
already holds something unless the run is being resumed.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import numpy as np

from .. import backend, nn, optim
from ..cuda import is_available as cuda_is_available
from ..optim import lr_scheduler
from ..train import (
    CheckpointError,
    RunFolder,
    RunFolderError,
    default_run_dir,
    fit,
    restore_checkpoint,
    save_checkpoint,
    summary,
)
from ..train.data import DATASETS, channel_stats, open_dataset, prepare_split
from ..train.plots import MISSING_MESSAGE
from ..utils.data import DataLoader
from ..vision import models
from .options import DEFAULT_LR, CLIError

__all__ = ["build_model", "default_image_size", "open_data", "run_session", "check_device",
           "model_input_check", "make_loader",
           "freeze_up_to", "param_groups", "format_history"]

# d2l's input sizes for the models made for ImageNet-sized images; the small-image variants
# (small=true / small_input=true) and LeNet take the dataset's own size (at least 28).
_D2L_IMAGE_SIZE = {"alexnet": 224, "vgg11": 224, "vgg13": 224, "vgg16": 224, "vgg19": 224,
                   "nin": 224, "googlenet": 96, "resnet18": 96, "resnet34": 96}


def default_image_size(model: str, dataset: str, model_kwargs: dict) -> int:
    """The image side a model is trained at when ``--image-size`` is not given."""
    small = model_kwargs.get("small") or model_kwargs.get("small_input")
    if model in _D2L_IMAGE_SIZE and not small:
        return _D2L_IMAGE_SIZE[model]
    return max(DATASETS[dataset].size, 28)


def check_device(name: str):
    """The device to train on; a clear error when CUDA is asked for but missing."""
    try:
        device = backend.device(name)
    except (RuntimeError, ValueError, TypeError):
        raise CLIError(f"unknown device {name!r}; valid choices are cpu, cuda") from None
    if device.type == "cuda" and not cuda_is_available():
        raise CLIError(f"device {name!r} is not available (no CuPy or no GPU; "
                       f"pip install 'deepgrad[gpu]'); use --device cpu")
    return device


def build_model(name: str, num_classes: int, in_channels: int, model_kwargs: dict):
    """``vision.models.get_model`` with errors turned into one-line CLI errors."""
    if name not in models.list_models():
        raise CLIError(f"unknown model {name!r}; valid choices are "
                       f"{', '.join(models.list_models())}")
    if model_kwargs.get("aux_logits"):
        raise CLIError(f"model {name!r}: aux_logits=true is not supported by the deepgrad "
                       f"command (its loop trains on one output); leave it out")
    try:
        return models.get_model(name, num_classes=num_classes, in_channels=in_channels,
                                **model_kwargs)
    except TypeError as error:
        raise CLIError(f"model {name!r} does not accept these --model-arg settings "
                       f"{model_kwargs}: {error}") from None


def model_input_check(model, name: str, input_size, flag: str = "--image-size") -> None:
    """Run one zero batch through the model; a wrong input size becomes a one-line error."""
    try:
        summary(model, input_size)
    except ValueError as error:
        raise CLIError(f"model {name!r}: {error} (change {flag})") from None


def open_data(config: dict, train: bool):
    """The raw dataset, or a one-line error naming where it looked and how to get it."""
    name = config["dataset"]
    if name not in DATASETS:
        raise CLIError(f"unknown dataset {name!r}; valid choices are {', '.join(DATASETS)}")
    try:
        return open_dataset(name, train, config.get("data_dir"), bool(config.get("download")))
    except (RuntimeError, OSError, ValueError) as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        # the loaders' first line is a generic torchvision sentence; the rest says where
        detail = " ".join(line for line in lines if not line.startswith("Dataset not found"))
        raise CLIError(f"{name} {'training' if train else 'test'} data not available: "
                       f"{detail or error}") from None


def make_loader(dataset, config: dict, shuffle: bool) -> DataLoader:
    return DataLoader(dataset, batch_size=config["batch_size"], shuffle=shuffle,
                      num_workers=config.get("workers") or 0)


def _apply_init(model, scheme: str) -> None:
    """Re-initialise conv and linear weights (biases to zero) with ``scheme``."""
    if scheme == "default":
        return
    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            if scheme == "xavier":
                nn.init.xavier_uniform_(module.weight)
            else:
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)


def _optimizer(config: dict, groups):
    name, lr = config["optimizer"], config["lr"] or DEFAULT_LR[config["optimizer"]]
    decay = config["weight_decay"]
    if decay is None:
        decay = 0.01 if name == "adamw" else 0.0
    momentum = config["momentum"]
    if momentum is not None and name not in ("sgd", "rmsprop") and momentum != 0:
        raise CLIError(f"--momentum applies to sgd and rmsprop, not {name}")
    if name == "sgd":
        return optim.SGD(groups, lr=lr, momentum=0.9 if momentum is None else momentum,
                         weight_decay=decay)
    if name == "rmsprop":
        return optim.RMSprop(groups, lr=lr, momentum=momentum or 0.0, weight_decay=decay)
    classes = {"adagrad": optim.Adagrad, "adadelta": optim.Adadelta, "adam": optim.Adam,
               "adamw": optim.AdamW}
    return classes[name](groups, lr=lr, weight_decay=decay)


def _scheduler(config: dict, optimizer, steps_per_epoch: int):
    """``(scheduler or None, "epoch" | "batch")`` for ``--scheduler``."""
    name, epochs = config["scheduler"], config["epochs"]
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=max(epochs // 3, 1)), "epoch"
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs), "epoch"
    if name == "plateau":
        return lr_scheduler.ReduceLROnPlateau(optimizer, patience=2), "epoch"
    if name == "onecycle":
        max_lr = [group["lr"] for group in optimizer.param_groups]
        return lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr,
                                       total_steps=epochs * steps_per_epoch), "batch"
    return None, "epoch"


def _seed_everything(seed: int) -> None:
    backend.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def run_session(config: dict, prepare_model, *, resume_from=None, out=None,
                bar: bool | None = None) -> int:
    """Validate, build and train; write the run folder; print the final table.

    Args:
        config: resolved settings (see ``options.TRAIN_DEFAULTS``); completed here with
            the image size, normalisation and class names.
        prepare_model: ``prepare_model(config) -> model``; builds the model (for fine-tuning
            also loads the source weights and replaces the output layer, ``config["head"]``).
        resume_from: a loaded checkpoint to continue.
        out: the run folder (default: a new timestamped folder under ``runs/``).
        bar: force the progress bar on/off (default: on a terminal).
    """
    device = check_device(config["device"])
    out = Path(out) if out is not None else default_run_dir(config["model"], config["dataset"])
    if resume_from is None:
        try:
            RunFolder.check_new(out)
        except RunFolderError as error:
            raise CLIError(str(error)) from None
    train_set, test_set = _prepare_data(config)

    _seed_everything(config["seed"])
    model = prepare_model(config)
    model_input_check(model, config["model"],
                      (config["in_channels"], config["image_size"], config["image_size"]))
    model.to(device)
    if resume_from is None and config.get("init", "default") != "default":
        _apply_init(model, config["init"])
    freeze_up_to(model, config.get("freeze"), config.get("head"))
    optimizer = _optimizer(config, param_groups(model, config))
    train_loader = make_loader(train_set, config, shuffle=True)
    test_loader = make_loader(test_set, config, shuffle=False)
    steps = len(train_loader) if config["limit_batches"] is None else min(
        len(train_loader), config["limit_batches"])
    scheduler, scheduler_step = _scheduler(config, optimizer, steps)
    start_epoch, history = 0, []
    if resume_from is not None:  # last: restoring the RNG states must precede epoch 1 directly
        start_epoch, history = _restore(resume_from, config, model, optimizer, scheduler)

    folder = RunFolder(out) if resume_from is not None else RunFolder.create(out)
    return _train(config, model, optimizer, scheduler, scheduler_step, train_loader,
                  test_loader, folder, start_epoch, history, device, bar)


def _prepare_data(config: dict):
    """Open, check and transform both splits; fills in image size, normalisation, classes."""
    raw_train, raw_test = open_data(config, True), open_data(config, False)
    if config.get("image_size") is None:
        config["image_size"] = default_image_size(config["model"], config["dataset"],
                                                  config["model_kwargs"])
    if config.get("mean") is None:
        config["mean"], config["std"] = channel_stats(raw_train)
    if config["classes"] is not None:
        available = len(raw_train.classes)
        outside = [label for label in config["classes"] if label >= available]
        if outside:
            raise CLIError(f"--classes {outside[0]} is not a label of {config['dataset']}; "
                           f"valid labels are 0..{available - 1}")
    split = {"image_size": config["image_size"], "mean": config["mean"], "std": config["std"],
             "classes": config["classes"], "seed": config["seed"]}
    train_set, class_names = prepare_split(
        config["dataset"], True, raw=raw_train, augment=config["augment"],
        samples_per_class=config["samples_per_class"], **split)
    test_set, _ = prepare_split(config["dataset"], False, raw=raw_test, **split)
    config["class_names"] = class_names
    config["num_classes"] = len(class_names)
    config["in_channels"] = DATASETS[config["dataset"]].channels
    return train_set, test_set


def _restore(checkpoint: dict, config: dict, model, optimizer, scheduler):
    """Load the saved states (and RNGs); check the run has epochs left to do."""
    try:
        start_epoch, history = restore_checkpoint(checkpoint, model, optimizer, scheduler)
    except CheckpointError as error:
        raise CLIError(str(error)) from None
    planned = checkpoint["config"]["epochs"]
    if config["scheduler"] == "onecycle" and config["epochs"] != planned:
        raise CLIError(f"a onecycle schedule cannot be stretched: resume it with its "
                       f"original --epochs {planned}")
    if start_epoch >= config["epochs"]:
        raise CLIError(f"the run already completed {start_epoch} of {config['epochs']} "
                       f"epochs; pass --epochs N with N > {start_epoch} to train further")
    return start_epoch, history


def freeze_up_to(model, layer: str | None, head: str | None = None) -> None:
    """Stop training every parameter up to and including module ``layer`` (registration order).

    ``layer="body"`` freezes everything except the ``head`` module.

    Raises:
        CLIError: ``layer`` is not a module name of the model (listing the top-level ones).
    """
    if layer is None:
        return
    names = [name for name, _ in model.named_modules() if name]
    if layer != "body" and layer not in names:
        choices = [name for name, _ in model.named_children()]
        raise CLIError(f"--freeze: model has no layer {layer!r}; valid choices are body, "
                       f"{', '.join(choices)} or a dotted name like {names[0]}")
    if head is not None and (layer == head or layer.startswith(head + ".")
                             or head.startswith(layer + ".")):
        raise CLIError(f"--freeze {layer} would freeze the new output layer {head}")
    for name, module in model.named_modules():
        if head is not None and (name == head or name.startswith(head + ".")):
            continue  # the new output layer always trains
        for parameter in module.parameters(recurse=layer == name):
            parameter.requires_grad_(False)
        if name == layer:  # recurse=True above froze the layer's own children
            return


def param_groups(model, config: dict) -> list:
    """The trainable parameters; with a fine-tuning ``head``, two groups (body lr, head lr).

    The head group's learning rate is ``lr * head_lr_mult``: the new layer starts from random
    weights and must move far, the pretrained body only a little.
    """
    trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    head = config.get("head")
    if head is None:
        return [p for _, p in trainable]
    lr = config["lr"] or DEFAULT_LR[config["optimizer"]]
    in_head = [p for name, p in trainable if name.startswith(head + ".")]
    body = [p for name, p in trainable if not name.startswith(head + ".")]
    groups = [{"params": body, "lr": lr}] if body else []
    return groups + [{"params": in_head, "lr": lr * config.get("head_lr_mult", 1.0)}]


def _train(config, model, optimizer, scheduler, scheduler_step, train_loader, test_loader,
           folder: RunFolder, start_epoch: int, history: list, device, bar) -> int:
    print(f"{config['model']} on {config['dataset']} ({len(train_loader.dataset)} train / "
          f"{len(test_loader.dataset)} test images, {config['image_size']}x"
          f"{config['image_size']}), run folder {folder.path}", flush=True)
    if start_epoch:
        print(f"resuming after epoch {start_epoch}", flush=True)

    def on_epoch_end(epoch: int, records: list) -> None:
        save_checkpoint(folder.checkpoint, model=model, optimizer=optimizer,
                        scheduler=scheduler, epoch=epoch, history=records, config=config)
        folder.write_metrics(records, config=config)

    started = time.perf_counter()
    history = fit(model, train_loader, test_loader, optimizer, nn.CrossEntropyLoss(),
                  config["epochs"], scheduler=scheduler, scheduler_step=scheduler_step,
                  start_epoch=start_epoch, history=history, device=device,
                  on_epoch_end=on_epoch_end, limit_batches=config["limit_batches"], bar=bar)
    elapsed = time.perf_counter() - started
    final = {"train_loss": history[-1]["train_loss"],
             "train_accuracy": history[-1]["train_accuracy"],
             "test_accuracy": history[-1]["test_accuracy"], "seconds": elapsed,
             "epochs": len(history)}
    folder.write_metrics(history, config=config, final=final)
    plot = folder.write_plot(history, title=f"{config['model']} on {config['dataset']}")
    print(format_history(history))
    print(f"test accuracy {100 * final['test_accuracy']:.2f}% after {len(history)} epochs; "
          f"training time {elapsed:.1f}s")
    print(f"saved {folder.checkpoint}, {folder.metrics_json.name}, {folder.metrics_csv.name}"
          + (f", {Path(plot).name}" if plot else ""))
    if plot is None:
        print(MISSING_MESSAGE, file=sys.stderr)
    return 0


def format_history(history: list) -> str:
    """The final per-epoch table: train loss, train and test accuracy, lr, time."""
    lines = [f"{'epoch':>5}  {'train loss':>10}  {'train acc':>9}  {'test loss':>9}  "
             f"{'test acc':>8}  {'lr':>9}  {'time':>7}"]
    for record in history:
        test_loss = record.get("test_loss")
        test_accuracy = record.get("test_accuracy")
        lines.append(
            f"{record['epoch']:>5}  {record['train_loss']:>10.4f}  "
            f"{100 * record['train_accuracy']:>8.2f}%  "
            + (f"{test_loss:>9.4f}  " if test_loss is not None else f"{'-':>9}  ")
            + (f"{100 * test_accuracy:>7.2f}%  " if test_accuracy is not None else f"{'-':>8}  ")
            + f"{record['lr']:>9.3g}  {record['seconds']:>6.1f}s")
    return "\n".join(lines)
