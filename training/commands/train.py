"""``train --stage S``: start the stage's training state machine on an uploaded dataset."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from core import layout
from core.hyperparameters import parse_assignments, resolve
from core.stage_config import StageConfig
from core.workflow_input import WorkflowInput
from training import aws
from training.commands import options
from training.console import confirm, say
from training.data.datasets import dataset_name, find_uploaded
from training.errors import TrainingError
from training.jobs import pricing
from training.jobs.follow import final_accuracy, follow_training

# resolve() needs counts; these only let it check names and values (the state machine checks the
# real counts from the uploaded lists).
_ANY_CLASSES, _ANY_SAMPLES = 2, 10**9


def register(subcommands: Any) -> None:
    parser = options.command_parser(
        subcommands,
        "train",
        summary="train a model on an uploaded dataset (shows the cost, asks first)",
        description=(
            "Start the stage's training state machine: it checks the uploaded data, trains with the "
            "stage's instance type (managed spot, bounded runtime, see core/stage_config.py), and registers "
            "the model if its validation accuracy reaches the stage's minimum. Prints the estimated "
            "maximum cost and asks before starting.\n\n"
            f"{options.NEEDS_AWS} The stage must be deployed (`npx cdk deploy --all`) and the dataset "
            "uploaded."
        ),
        example_list=(
            f"{options.PROG} train --stage dev",
            f"{options.PROG} train --stage dev --breeds-subset --wait",
            (
                f"{options.PROG} train --stage prod --hp learning_rate=0.0005 --hp epochs=60",
                "--instance-count 2 --yes",
            ),
        ),
    )
    options.add_stage(parser)
    parser.add_argument(
        "--hp",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a hyperparameter (core/hyperparameters.py), e.g. learning_rate=0.001; repeatable",
    )
    dataset = parser.add_mutually_exclusive_group()
    dataset.add_argument(
        "--breeds-subset", action="store_true", help=f"train on {layout.SUBSET_DATASET_NAME}"
    )
    dataset.add_argument(
        "--dataset",
        type=options.dataset_name,
        metavar="NAME",
        help=f"the uploaded dataset to train on (default: {layout.DEFAULT_DATASET_NAME})",
    )
    parser.add_argument(
        "--instance-count",
        type=options.positive_int,
        default=1,
        metavar="N",
        help="training instances (default: 1; at most the stage's training_max_instance_count)",
    )
    options.add_yes(parser)
    parser.add_argument(
        "--wait", action="store_true", help="follow the run until it ends; exit 1 if it fails"
    )
    options.add_poll_seconds(parser)
    parser.set_defaults(run=run)


@aws.reports_errors
def run(args: argparse.Namespace) -> int:
    config = options.config(args)
    overrides = parse_assignments(args.hp)
    resolve(overrides, num_classes=_ANY_CLASSES, num_training_samples=_ANY_SAMPLES)
    check_instance_count(args.instance_count, config)
    name = dataset_name(explicit=args.dataset, subset=args.breeds_subset)
    state_machine = aws.required_outputs(args.stage, "Training", layout.OUTPUT_STATE_MACHINE)[
        layout.OUTPUT_STATE_MACHINE
    ]
    dataset = find_uploaded(aws.client("s3"), aws.data_bucket(args.stage), name, args.stage)

    say(
        pricing.estimate_line(
            config.training_instance_type,
            config.training_max_runtime_hours,
            args.instance_count,
            config.training_spot,
        )
    )
    job_name = training_job_name(args.stage)
    execution_input = WorkflowInput(
        training_job_name=job_name,
        dataset=dataset.prefix,
        format=dataset.format,
        hyperparameters=overrides,
        instance_count=args.instance_count,
    )
    confirm(f"Start training job {job_name} on {dataset.url} ({dataset.format})?", assume_yes=args.yes)
    sfn = aws.client("stepfunctions")
    execution_arn = start(sfn, state_machine, job_name, execution_input)
    print(f"execution: {execution_arn}")
    print(f"training job: {job_name}")
    say(options.follow_hint(args.stage, job_name))
    if not args.wait:
        return 0
    with options.following(args.stage, job_name):
        job = follow_training(
            sfn, aws.client("sagemaker"), aws.client("logs"), execution_arn, job_name, args.poll_seconds
        )
    print(f"training succeeded: {job_name}, validation accuracy {final_accuracy(job)}")
    say(f"next: python -m training promote {job_name} --stage {args.stage}")
    return 0


def check_instance_count(count: int, config: StageConfig) -> None:
    if count > config.training_max_instance_count:
        raise TrainingError(
            f"--instance-count {count} is more than stage {config.name}'s "
            f"training_max_instance_count ({config.training_max_instance_count})"
        )


def training_job_name(stage: str, now: datetime | None = None) -> str:
    return f"{layout.training_job_prefix(stage)}{(now or datetime.now(UTC)):%Y%m%d-%H%M%S}"


def start(sfn: Any, state_machine: str, job_name: str, execution_input: WorkflowInput) -> str:
    try:
        response = sfn.start_execution(
            stateMachineArn=state_machine, name=job_name, input=execution_input.to_json()
        )
    except Exception as error:
        if aws.error_code(error) == "ExecutionAlreadyExists":
            raise TrainingError(
                f"an execution named {job_name} already exists: start again in a second"
            ) from None
        raise
    return response["executionArn"]
