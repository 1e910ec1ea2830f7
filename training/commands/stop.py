"""``stop JOB --stage S``: stop one of the stage's training or tuning jobs, and its execution."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from core import layout
from training import aws
from training.commands import options
from training.errors import TrainingError
from training.jobs.stage_jobs import check_stage, describe_training_job, describe_tuning_job, tags_of


@dataclass(frozen=True)
class Job:
    kind: str  # "training job" or "tuning job"
    name: str
    arn: str
    status: str

    @property
    def in_progress(self) -> bool:
        return self.status == "InProgress"


def register(subcommands: Any) -> None:
    parser = options.command_parser(
        subcommands,
        "stop",
        summary="stop a training or tuning job of the stage (and the training run that started it)",
        description=(
            "Stop a training job or tuning job that belongs to the stage (by its tags) and is still in "
            "progress, and the training state machine's execution of the same name if it is running "
            "(a run still checking its data has no job yet: stopping its execution is enough)."
            f"\n\n{options.NEEDS_AWS}"
        ),
        example_list=(
            f"{options.PROG} stop {options.EXAMPLE_JOB} --stage dev",
            f"{options.PROG} stop tune-dev-260101-120000 --stage dev",
        ),
    )
    parser.add_argument(
        "job", type=options.job_name, metavar="JOB", help="the job name `train`, `tune` or `status` printed"
    )
    options.add_stage(parser)
    parser.set_defaults(run=run)


@aws.reports_errors
def run(args: argparse.Namespace) -> int:
    sagemaker = aws.client("sagemaker")
    job = find_job(sagemaker, args.job)
    if job is not None:
        check_stage(job.kind, job.name, tags_of(sagemaker, job.arn), args.stage)
        if job.in_progress:
            stop_job(sagemaker, job)
            print(f"stopping {job.kind} {job.name} (it ends as Stopped in a few minutes; billing stops then)")
    execution_stopped = stop_execution(args.stage, args.job)
    if execution_stopped:
        print(f"stopped execution {execution_stopped}")
    if job is None and not execution_stopped:
        raise TrainingError(
            f"no training job, tuning job or running training execution named {args.job} in "
            f"{aws.region_of(sagemaker)}: list the stage's jobs with "
            f"`python -m training status --stage {args.stage}`"
        )
    if job is not None and not job.in_progress and not execution_stopped:
        if job.status == "Stopping":
            print(f"{job.kind} {job.name} is already stopping")
            return 0
        raise TrainingError(f"{job.kind} {job.name} already finished ({job.status}): nothing to stop")
    return 0


def find_job(sagemaker: Any, name: str) -> Job | None:
    training = describe_training_job(sagemaker, name)
    if training is not None:
        return Job("training job", name, training["TrainingJobArn"], training["TrainingJobStatus"])
    tuning = describe_tuning_job(sagemaker, name)
    if tuning is not None:
        return Job(
            "tuning job", name, tuning["HyperParameterTuningJobArn"], tuning["HyperParameterTuningJobStatus"]
        )
    return None


def stop_job(sagemaker: Any, job: Job) -> None:
    if job.kind == "training job":
        sagemaker.stop_training_job(TrainingJobName=job.name)
    else:
        sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=job.name)


def stop_execution(stage: str, name: str) -> str | None:
    """Stops the training state machine's execution ``name`` if it runs; returns its ARN if stopped.
    Tuning jobs have no execution; a stage without a Training stack has none either."""
    try:
        outputs = aws.required_outputs(stage, "Training", layout.OUTPUT_STATE_MACHINE)
    except TrainingError:
        return None
    execution_arn = execution_arn_of(outputs[layout.OUTPUT_STATE_MACHINE], name)
    sfn = aws.client("stepfunctions")
    try:
        status = sfn.describe_execution(executionArn=execution_arn)["status"]
    except Exception as error:
        if aws.error_code(error) == "ExecutionDoesNotExist":
            return None
        raise
    if status != "RUNNING":
        return None
    sfn.stop_execution(executionArn=execution_arn, error="Stopped", cause=f"python -m training stop {name}")
    return execution_arn


def execution_arn_of(state_machine_arn: str, name: str) -> str:
    """``arn:...:stateMachine:SM`` -> ``arn:...:execution:SM:name``."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"
