"""The ``deepgrad`` command: ``train``, ``evaluate``, ``summary`` and ``finetune``.

    deepgrad train                          # LeNet on the bundled digits, offline
    deepgrad train --dataset mnist --data-dir ../shared/data/mnist-subset --epochs 5
    deepgrad evaluate runs/<run>            # accuracy, per-class accuracy, confusion matrix
    deepgrad summary lenet --input-size 1,28,28
    deepgrad finetune --from runs/<run> --dataset mnist --classes 5-9 --samples-per-class 10

Also runnable as ``python -m deepgrad``. User errors (unknown names, missing data, a bad
checkpoint, a wrong input size) print one line and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import sys

from ..train import CheckpointError, RunFolderError
from . import evaluate, finetune, summary, train
from .options import CLIError

__all__ = ["main", "build_parser", "CLIError"]

_COMMANDS = (train, evaluate, summary, finetune)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (argparse prints the whole usage block by default)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``deepgrad`` command with its subcommands."""
    parser = _Parser(prog="deepgrad", description="Train, evaluate, inspect and fine-tune "
                     "the networks of the course with deepgrad.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in _COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``deepgrad`` command with ``argv`` (default ``sys.argv[1:]``); return the status.

    Example:
        >>> main(["summary", "lenet", "--input-size", "1,28,28"])  # doctest: +SKIP
        0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help or a usage error: argparse has printed it already
        return exit_.code if isinstance(exit_.code, int) else 2
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except (CLIError, CheckpointError, RunFolderError) as error:
        message = " ".join(str(error).split())
        print(f"deepgrad {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"deepgrad {args.command}: interrupted (a run can be continued with --resume)",
              file=sys.stderr)
        return 130
