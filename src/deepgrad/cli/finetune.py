"""``deepgrad finetune``: adapt a pretrained model to new classes (transfer learning).

1. Load the source weights: a deepgrad training checkpoint (or its run folder), or a
   PyTorch ``.pt``/``.pth`` state_dict (then ``--model`` names the architecture).
2. Replace the output layer by a freshly initialised one for the new class count. Rows of
   classes the source was trained on too (same dataset, same label) are copied over.
3. Optionally freeze the body up to a named layer (``--freeze features.3``, or ``body``).
4. Train with two parameter groups: the body at ``--lr``, the new head at
   ``--lr * --head-lr-mult`` (it starts from scratch; the body only needs small changes).
"""

from __future__ import annotations

import argparse

from .. import nn
from ..autograd.grad_mode import no_grad
from ..train import load_weights
from ..vision import models
from .options import (
    TRAIN_DEFAULTS,
    CLIError,
    add_training_arguments,
    describe,
    parse_model_args,
    resolve_config,
)
from .session import build_model, run_session
from .train import resume, resume_target

__all__ = ["add_parser", "run", "find_head", "replace_head", "FINETUNE_DEFAULTS"]

FINETUNE_DEFAULTS = {**TRAIN_DEFAULTS, "epochs": 10, "lr": 0.01, "scheduler": "none",
                     "freeze": None, "head_lr_mult": 10.0, "model": None}
_PROBE_CLASSES, _PROBE_CHANNELS = 7, 5  # unusual sizes that find the head and the stem


def add_parser(commands) -> None:
    parser = commands.add_parser("finetune", help="fine-tune a pretrained model on new classes",
                                 description=describe(__doc__))
    parser.add_argument("--from", dest="source", metavar="CHECKPOINT_OR_PTH",
                        help="deepgrad checkpoint / run folder, or a PyTorch state_dict file")
    parser.add_argument("--model", help=f"architecture of a bare state_dict: one of "
                        f"{', '.join(models.list_models())}")
    parser.add_argument("--model-arg", action="append", metavar="KEY=VALUE",
                        help="extra model option of a bare state_dict's architecture")
    parser.add_argument("--freeze", metavar="LAYER", help="freeze parameters up to and "
                        "including this module (e.g. features.3), or 'body' for all but the "
                        "new output layer")
    parser.add_argument("--head-lr-mult", type=float, help="the new output layer's learning "
                        "rate is lr times this (default 10)")
    add_training_arguments(parser)
    parser.set_defaults(handler=run)


def find_head(name: str, model_kwargs: dict) -> tuple[str, str]:
    """``(output layer name, first layer's weight name)`` of architecture ``name``.

    Found by building the model with unusual class and channel counts and looking for the
    last parameterised layer producing that many outputs and the first weight reading that
    many channels.
    """
    probe = build_model(name, _PROBE_CLASSES, _PROBE_CHANNELS, model_kwargs)
    head = None
    for module_name, module in probe.named_modules():
        weight = getattr(module, "weight", None)
        if isinstance(module, (nn.Linear, nn.Conv2d)) and weight.shape[0] == _PROBE_CLASSES:
            head = module_name
    stem = next((param_name for param_name, p in probe.named_parameters()
                 if p.dim() >= 2 and p.shape[1] == _PROBE_CHANNELS), None)
    if head is None or stem is None:
        raise CLIError(f"cannot locate the output layer of model {name!r} for fine-tuning")
    return head, stem


def replace_head(model, head: str, num_classes: int, copy_rows: dict | None = None):
    """Swap module ``head`` for a new, freshly initialised one with ``num_classes`` outputs.

    Args:
        copy_rows: ``{new_row: old_row}``: output rows to copy from the old layer (classes
            shared by the source and the new task).
    """
    parent_name, _, child = head.rpartition(".")
    parent = model.get_submodule(parent_name)
    old = getattr(parent, child)
    if isinstance(old, nn.Linear):
        new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None)
    else:
        new = nn.Conv2d(old.in_channels, num_classes, old.kernel_size, stride=old.stride,
                        padding=old.padding, dilation=old.dilation, bias=old.bias is not None)
    new.to(old.weight.device)
    with no_grad():
        for new_row, old_row in (copy_rows or {}).items():
            new.weight[new_row] = old.weight[old_row]
            if new.bias is not None:
                new.bias[new_row] = old.bias[old_row]
    setattr(parent, child, new)
    return new


def _source_labels(source_config: dict | None, num_outputs: int, dataset: str) -> list | None:
    """The dataset labels of the source model's outputs, when they are known."""
    if source_config is None or source_config.get("dataset") != dataset:
        return None
    classes = source_config.get("classes")
    return list(classes) if classes is not None else list(range(num_outputs))


def run(args: argparse.Namespace) -> int:
    args.model_kwargs = parse_model_args(args.model_arg) if args.model_arg else None
    target = resume_target(args)
    if target is not None:
        return resume(args, target, FINETUNE_DEFAULTS)
    if args.source is None:
        raise CLIError("--from CHECKPOINT_OR_PTH is required (the pretrained weights)")
    state, source_config = load_weights(args.source)
    config = resolve_config(args, FINETUNE_DEFAULTS)
    config.update(command="finetune", source=str(args.source))
    if config["model"] is None:
        if source_config is None:
            raise CLIError(f"{args.source} is a bare state_dict; name its architecture with "
                           f"--model (one of {', '.join(models.list_models())})")
        config["model"] = source_config["model"]
    if source_config is not None:
        if args.model_kwargs is None:
            config["model_kwargs"] = dict(source_config.get("model_kwargs") or {})
        for key in ("image_size", "mean", "std"):  # the pretrained body expects these inputs
            if getattr(args, key, None) is None and source_config.get(key) is not None:
                config[key] = source_config[key]
    head, stem = find_head(config["model"], config["model_kwargs"])
    for name in (f"{head}.weight", stem):
        if name not in state:
            raise CLIError(f"{args.source} does not hold {config['model']} weights (no "
                           f"{name!r}); check --model")
    config["head"] = head

    def prepare_model(config: dict):
        source_classes, source_channels = state[f"{head}.weight"].shape[0], state[stem].shape[1]
        if source_channels != config["in_channels"]:
            raise CLIError(f"the source model reads {source_channels}-channel images but "
                           f"{config['dataset']} has {config['in_channels']}")
        model = build_model(config["model"], source_classes, source_channels,
                            config["model_kwargs"])
        try:
            model.load_state_dict(state)
        except (RuntimeError, KeyError, ValueError) as error:
            raise CLIError(f"the weights in {args.source} do not fit {config['model']}: "
                           f"{' '.join(str(error).split())}") from None
        labels = _source_labels(source_config, source_classes, config["dataset"])
        new_labels = config["classes"] or list(range(config["num_classes"]))
        shared = ({new: labels.index(label) for new, label in enumerate(new_labels)
                   if label in labels} if labels else {})
        config["reused_rows"] = len(shared)
        replace_head(model, head, config["num_classes"], shared)
        return model

    return run_session(config, prepare_model, out=args.out, bar=False if args.no_bar else None)
