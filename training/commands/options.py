"""Options several commands share, spelled and checked the same way everywhere, and the one way a
command's help is written (``command_parser``)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core import layout
from core.cli_args import positive_int as positive_int  # the commands take it from here
from core.cli_help import Example, HelpFormatter, examples
from core.model_pin import MODELS_DIR
from core.stage_config import STAGES, StageConfig, stage_config
from training.console import say

DATASET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
PROG = "python -m training"
EXAMPLE_JOB = "dogbreeds-dev-20260101-120000"  # a training job name as `train` makes them
NEEDS_AWS = (
    "Needs AWS credentials for the stage's account (a profile or AWS_* variables) and its region "
    "(AWS_REGION or the profile's)."
)


def command_parser(
    subcommands: Any, name: str, *, summary: str, description: str, example_list: tuple[Example, ...]
) -> argparse.ArgumentParser:
    """A command's parser: ``summary`` in the command list, ``description`` (prose, wrapped) on top of
    its --help, the examples at the bottom."""
    parser: argparse.ArgumentParser = subcommands.add_parser(
        name,
        help=summary,
        description=description,
        epilog=examples(*example_list),
        formatter_class=HelpFormatter,
    )
    return parser


def add_stage(
    parser: argparse.ArgumentParser,
    help_text: str = "the deployed stage to work with (its stacks, data bucket and settings in "
    "core/stage_config.py)",
) -> None:
    parser.add_argument("--stage", required=True, choices=sorted(STAGES), help=help_text)


def add_models_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=MODELS_DIR,
        metavar="DIR",
        help="where the pinned-model files are (default: the repository's models/)",
    )


def add_yes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--yes", action="store_true", help="start without asking (required when stdin is not a terminal)"
    )


def add_poll_seconds(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--poll-seconds",
        type=non_negative_number,
        default=30.0,
        metavar="S",
        help="with --wait, how often to check progress (default: 30)",
    )


def config(args: argparse.Namespace) -> StageConfig:
    return stage_config(args.stage)


def dataset_name(value: str) -> str:
    if not DATASET_NAME.match(value):
        raise argparse.ArgumentTypeError(
            f"{value!r}: a dataset name is 1-100 letters, digits, '.', '_' or '-', e.g. stanford-dogs"
        )
    return value


def job_name(value: str) -> str:
    if not layout.is_sagemaker_name(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a SageMaker job name (letters, digits, '-')")
    return value


def non_negative_number(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number >= 0:
        raise argparse.ArgumentTypeError(f"{value!r}: expected a number of at least 0")
    return number


def follow_hint(stage: str, job_name: str) -> str:
    return (
        f"follow: python -m training status --stage {stage}; "
        f"stop: python -m training stop {job_name} --stage {stage}"
    )


@contextmanager
def following(stage: str, job_name: str) -> Iterator[None]:
    """Ctrl-C while following says the job goes on, and how to stop it."""
    try:
        yield
    except KeyboardInterrupt:
        say(
            f"stopped following; {job_name} keeps running: python -m training stop {job_name} --stage {stage}"
        )
        raise
