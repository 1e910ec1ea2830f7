"""``tune --stage S --max-jobs N --max-parallel M``: a hyperparameter tuning job with a hard budget."""

from __future__ import annotations

import argparse
from typing import Any

from core import layout
from core.accuracy_gate import GATE_METRIC
from core.model_package import RegisteredModel
from training import aws
from training.commands import options
from training.console import confirm, say
from training.data import datasets
from training.errors import TrainingError
from training.jobs import pricing, registry
from training.jobs.follow import best_job, follow_tuning
from training.jobs.stage_jobs import describe_training_job
from training.jobs.tuning import Budget, tuning_job_name, tuning_request

MAX_TRAINING_JOBS = 500  # SageMaker's limit per tuning job


def register(subcommands: Any) -> None:
    parser = options.command_parser(
        subcommands,
        "tune",
        summary="tune learning rate, batch size and optimizer within a budget (shows the cost, asks first)",
        description=(
            f"Start a SageMaker tuning job maximizing {GATE_METRIC} over learning_rate (1e-5 to 1e-2, "
            "log scale), mini_batch_size (16, 32, 64) and optimizer (sgd, adam, rmsprop, nag), with "
            "automatic early stopping. At most --max-jobs training jobs run, --max-parallel at a time, "
            "each on one instance of the stage's training type for at most --max-runtime-hours. "
            f"Runs on {layout.SUBSET_DATASET_NAME} unless told otherwise.\n\n{options.NEEDS_AWS}"
        ),
        example_list=(
            f"{options.PROG} tune --stage dev --max-jobs 10 --max-parallel 2",
            (
                f"{options.PROG} tune --stage dev --max-jobs 20 --max-parallel 4 --max-runtime-hours 2",
                "--full-dataset --wait",
            ),
        ),
    )
    options.add_stage(parser)
    parser.add_argument(
        "--max-jobs", type=options.positive_int, required=True, metavar="N", help="training jobs in total"
    )
    parser.add_argument(
        "--max-parallel",
        type=options.positive_int,
        required=True,
        metavar="M",
        help="training jobs at a time",
    )
    parser.add_argument(
        "--max-runtime-hours",
        type=float,
        metavar="H",
        help="each job's runtime limit (default and maximum: the stage's training_max_runtime_hours)",
    )
    dataset = parser.add_mutually_exclusive_group()
    dataset.add_argument("--full-dataset", action="store_true", help=f"tune on {layout.DEFAULT_DATASET_NAME}")
    dataset.add_argument(
        "--dataset", type=options.dataset_name, metavar="NAME", help="tune on this uploaded dataset"
    )
    options.add_yes(parser)
    parser.add_argument(
        "--wait",
        action="store_true",
        help="follow the tuning job, then register its best training job in the stage's model registry "
        "if it passes the data check and the accuracy gate (exit 1 if not)",
    )
    options.add_poll_seconds(parser)
    parser.set_defaults(run=run)


@aws.reports_errors
def run(args: argparse.Namespace) -> int:
    config = options.config(args)
    budget = budget_of(args, config)
    name = datasets.dataset_name(explicit=args.dataset, subset=not args.full_dataset)
    outputs = aws.required_outputs(
        args.stage,
        "Training",
        layout.OUTPUT_TRAINING_ROLE,
        layout.OUTPUT_ALGORITHM_IMAGE,
        layout.OUTPUT_MODEL_PACKAGE_GROUP,
    )
    s3 = aws.client("s3")
    dataset = datasets.find_uploaded(s3, aws.data_bucket(args.stage), name, args.stage)
    num_classes, num_samples = datasets.counts(s3, dataset)
    job_name = tuning_job_name(args.stage)
    request = tuning_request(
        name=job_name,
        stage=args.stage,
        dataset=dataset,
        num_classes=num_classes,
        num_training_samples=num_samples,
        budget=budget,
        role_arn=outputs[layout.OUTPUT_TRAINING_ROLE],
        image_uri=outputs[layout.OUTPUT_ALGORITHM_IMAGE],
    )
    hours = budget.max_runtime_seconds / 3600
    say(pricing.estimate_line(budget.instance_type, hours, budget.max_jobs, budget.spot, unit="training job"))
    confirm(
        f"Start tuning job {job_name} ({budget.max_jobs} jobs, {budget.max_parallel} at a time) on "
        f"{dataset.url} ({num_classes} classes, {num_samples} training images)?",
        assume_yes=args.yes,
    )
    sagemaker = aws.client("sagemaker")
    sagemaker.create_hyper_parameter_tuning_job(**request)
    print(f"tuning job: {job_name}")
    say(options.follow_hint(args.stage, job_name))
    if not args.wait:
        return 0
    with options.following(args.stage, job_name):
        best = best_job(follow_tuning(sagemaker, job_name, args.poll_seconds))
    if best is None:
        raise TrainingError(f"tuning job {job_name} completed without a best training job")
    print(f"best training job: {best[0]} {GATE_METRIC}={best[1]:.4f}")
    model = register_best(sagemaker, s3, best[0], outputs[layout.OUTPUT_MODEL_PACKAGE_GROUP], config)
    print(f"registered {best[0]} as version {model.version} of {model.group}")
    say(f"next: python -m training promote {model.version} --stage {args.stage}")
    return 0


def register_best(sagemaker: Any, s3: Any, name: str, group: str, config: Any) -> RegisteredModel:
    """The best job goes through the same data check and accuracy gate as the training workflow's
    jobs, into the stage's model registry (not approved: `promote` does that)."""
    job = describe_training_job(sagemaker, name)
    if job is None:
        raise TrainingError(f"the tuning job's best training job {name} cannot be found in SageMaker")
    return registry.register_training_job(sagemaker, s3, job=job, group=group, config=config)


def budget_of(args: argparse.Namespace, config: Any) -> Budget:
    if args.max_jobs > MAX_TRAINING_JOBS:
        raise TrainingError(f"--max-jobs {args.max_jobs}: SageMaker allows at most {MAX_TRAINING_JOBS}")
    if args.max_parallel > args.max_jobs:
        raise TrainingError(f"--max-parallel {args.max_parallel} is more than --max-jobs {args.max_jobs}")
    hours = config.training_max_runtime_hours if args.max_runtime_hours is None else args.max_runtime_hours
    if not 0 < hours <= config.training_max_runtime_hours:
        raise TrainingError(
            f"--max-runtime-hours {hours:g}: stage {config.name} allows more than 0 and at most "
            f"{config.training_max_runtime_hours} (training_max_runtime_hours in core/stage_config.py)"
        )
    return Budget(
        max_jobs=args.max_jobs,
        max_parallel=args.max_parallel,
        max_runtime_seconds=round(hours * 3600),
        instance_type=config.training_instance_type,
        spot=config.training_spot,
        max_wait_seconds=config.training_max_wait_hours * 3600,
    )
