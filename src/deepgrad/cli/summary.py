"""``deepgrad summary MODEL --input-size 1,28,28``: the per-layer table of a zoo model.

One row per layer call: name, type, output shape, parameter count with how it is made
(``6x1x5x5 + 6 = 156``), and for conv and pooling layers the output-size formula
floor((n + 2p - k + s) / s) with the numbers filled in; then the totals.
"""

from __future__ import annotations

import argparse

from ..train import format_summary, summary
from ..vision import models
from .options import describe, parse_model_args, parse_size
from .session import build_model, model_input_check

__all__ = ["add_parser", "run"]


def add_parser(commands) -> None:
    parser = commands.add_parser("summary", help="per-layer table: output shapes, parameter "
                                 "counts and their arithmetic",
                                 description=describe(__doc__))
    parser.add_argument("model", metavar="MODEL",
                        help=f"one of {', '.join(models.list_models())}")
    parser.add_argument("--input-size", type=parse_size, default=[1, 28, 28],
                        help="one sample's shape C,H,W (default 1,28,28)")
    parser.add_argument("--num-classes", type=int, default=10)
    parser.add_argument("--model-arg", action="append", metavar="KEY=VALUE",
                        help="extra model option, e.g. small=true; repeatable")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    model = build_model(args.model, args.num_classes, args.input_size[0],
                        parse_model_args(args.model_arg))
    model_input_check(model, args.model, args.input_size, flag="--input-size")
    rows = summary(model, args.input_size)
    print(f"{args.model} ({args.num_classes} classes)")
    print(format_summary(rows, model=model, input_size=args.input_size))
    return 0
