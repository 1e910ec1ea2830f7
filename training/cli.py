"""``python -m training COMMAND``: prepare Stanford Dogs, upload it, train, promote and evaluate models.

Each command lives in its own module with ``register(subcommands)``, which adds its parser and
sets ``run``. Heavy imports (boto3, Pillow) happen inside ``run``, so ``--help`` is instant.
Expected failures raise ``TrainingError`` (or ``HyperparameterError``): printed as one line,
exit status 1. Usage errors exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from core.cli_help import HelpFormatter, examples
from core.hyperparameters import HyperparameterError
from training import commands
from training.commands.options import EXAMPLE_JOB, PROG
from training.errors import TrainingError

DESCRIPTION = """\
Train the dog-breed classifier on Stanford Dogs and manage its models. The commands are listed in
the order of the workflow: prepare the images, upload them to a stage's data bucket, train a model,
promote it, deploy it with `npx cdk deploy --all` (CDK, not a command here: the stage then serves
the promoted model), and evaluate it. tune, status, stop and cost come after.

Commands that reach AWS need credentials for the stage's account; prepare, cost, upload --dry-run,
evaluate local (with a model file) and evaluate predictions work offline. Each command's --help
has its own examples."""
EPILOG = examples(
    f"{PROG} prepare ~/data/stanford-dogs/Images --out ~/data/dogs",
    f"{PROG} upload ~/data/dogs --stage dev",
    f"{PROG} train --stage dev --wait",
    f"{PROG} promote {EXAMPLE_JOB} --stage dev",
    "# then serve it: git commit models/dev.json && npx cdk deploy --all",
    f"{PROG} evaluate local --model {EXAMPLE_JOB} --lists ~/data/dogs",
    f"{PROG} cost --stage dev",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=DESCRIPTION, epilog=EPILOG, formatter_class=HelpFormatter
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
