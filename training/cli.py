"""``python -m training COMMAND``: prepare Stanford Dogs, upload it, train, tune, follow and promote.

Each command lives in its own module with ``register(subcommands)``, which adds its parser and
sets ``run``. Heavy imports (boto3, Pillow) happen inside ``run``, so ``--help`` is instant.
Expected failures raise ``TrainingError`` (or ``HyperparameterError``): printed as one line,
exit status 1. Usage errors exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from core.hyperparameters import HyperparameterError
from training import commands
from training.errors import TrainingError

PROG = "python -m training"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Prepare Stanford Dogs, upload it, and train, tune, follow and promote models.",
    )
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in commands.ALL:
        command.register(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except (TrainingError, HyperparameterError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
