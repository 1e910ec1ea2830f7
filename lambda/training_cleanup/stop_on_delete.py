"""Custom resource: when the training stack is deleted, stop everything it could still be paying for.

Deleting a stack does not stop the jobs its workflow and the CLI started, and they keep billing.
On Delete this stops the state machine's running executions and every in-progress training, tuning
and transform (``evaluate``) job tagged with the stage (``core.layout.job_tags``), and, for a
stage that does not keep its model registry, deletes the model versions so that CloudFormation can
delete the group.
Create and Update do nothing.
It always answers CloudFormation, so a failure here never leaves the stack stuck in deletion; what
it could not stop is logged and reported in the response's reason.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3

from core.tagged_jobs import belongs_to, tags_of


@dataclass(frozen=True)
class JobKind:
    """A kind of SageMaker job the workflow or the CLI starts, and the calls that find and stop it."""

    label: str
    list: str
    summaries: str
    name_field: str
    arn_field: str
    stop: str


JOB_KINDS = {
    kind.label: kind
    for kind in (
        JobKind(
            "training job",
            "list_training_jobs",
            "TrainingJobSummaries",
            "TrainingJobName",
            "TrainingJobArn",
            "stop_training_job",
        ),
        JobKind(
            "tuning job",
            "list_hyper_parameter_tuning_jobs",
            "HyperParameterTuningJobSummaries",
            "HyperParameterTuningJobName",
            "HyperParameterTuningJobArn",
            "stop_hyper_parameter_tuning_job",
        ),
        JobKind(
            "transform job",
            "list_transform_jobs",
            "TransformJobSummaries",
            "TransformJobName",
            "TransformJobArn",
            "stop_transform_job",
        ),
    )
}

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event: dict[str, Any], context: Any) -> None:
    stopped: list[str] = []
    problems: list[str] = []
    if event.get("RequestType") == "Delete":
        properties = event.get("ResourceProperties", {})
        sagemaker = boto3.client("sagemaker")
        stopped, problems = stop_everything(
            properties["StateMachineArn"], properties["Stage"], boto3.client("stepfunctions"), sagemaker
        )
        group = properties.get("ModelPackageGroupToEmpty")
        if group:
            stopped += delete_model_packages(sagemaker, group, problems)
    reason = f"stopped or deleted {len(stopped)}: {', '.join(stopped) or 'nothing running'}"
    if problems:
        reason += f"; could not stop or delete {len(problems)}: {'; '.join(problems)}"
    logger.info(reason)
    respond(event, context, reason)


def stop_everything(
    state_machine_arn: str, stage: str, stepfunctions: Any, sagemaker: Any
) -> tuple[list[str], list[str]]:
    stopped: list[str] = []
    problems: list[str] = []
    for arn in _running_executions(stepfunctions, state_machine_arn):
        _attempt(
            lambda arn=arn: stepfunctions.stop_execution(executionArn=arn, cause="stack deleted"),
            f"execution {arn}",
            stopped,
            problems,
        )
    for kind in JOB_KINDS.values():
        for name in _stage_jobs(sagemaker, stage, kind):
            _attempt(
                lambda kind=kind, name=name: getattr(sagemaker, kind.stop)(**{kind.name_field: name}),
                f"{kind.label} {name}",
                stopped,
                problems,
            )
    return stopped, problems


def delete_model_packages(sagemaker: Any, group: str, problems: list[str]) -> list[str]:
    pages = sagemaker.get_paginator("list_model_packages").paginate(ModelPackageGroupName=group)
    deleted: list[str] = []
    for arn in [package["ModelPackageArn"] for page in pages for package in page["ModelPackageSummaryList"]]:
        _attempt(
            lambda arn=arn: sagemaker.delete_model_package(ModelPackageName=arn),
            f"model package {arn}",
            deleted,
            problems,
        )
    return deleted


def _attempt(stop: Any, what: str, stopped: list[str], problems: list[str]) -> None:
    try:
        stop()
        stopped.append(what)
    except Exception as error:  # one failure must not keep the others running
        logger.exception("Could not stop %s", what)
        problems.append(f"{what} ({type(error).__name__})")


def _running_executions(stepfunctions: Any, state_machine_arn: str) -> list[str]:
    paginator = stepfunctions.get_paginator("list_executions")
    pages = paginator.paginate(stateMachineArn=state_machine_arn, statusFilter="RUNNING")
    return [execution["executionArn"] for page in pages for execution in page["executions"]]


def _stage_jobs(sagemaker: Any, stage: str, kind: JobKind) -> list[str]:
    pages = sagemaker.get_paginator(kind.list).paginate(StatusEquals="InProgress")
    jobs = [(job[kind.name_field], job[kind.arn_field]) for page in pages for job in page[kind.summaries]]
    return [name for name, arn in jobs if belongs_to(tags_of(sagemaker, arn), stage)]


def respond(event: dict[str, Any], context: Any, reason: str) -> None:
    """Tell CloudFormation the resource succeeded (always: see the module docstring)."""
    body = json.dumps(
        {
            "Status": "SUCCESS",
            "Reason": reason[:1000],
            "PhysicalResourceId": event.get("PhysicalResourceId")
            or f"{event['LogicalResourceId']}-stop-on-delete",
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
        }
    ).encode()
    # The ResponseURL is CloudFormation's presigned https URL.
    headers = {"Content-Type": "", "Content-Length": str(len(body))}
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        response.read()
