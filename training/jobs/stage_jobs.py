"""SageMaker training and tuning jobs of a stage: found by the tags ``layout.job_tags`` puts on them."""

from __future__ import annotations

from typing import Any

from core import layout
from core.accuracy_gate import final_metric
from core.tagged_jobs import belongs_to, tags_of
from training.aws import error_code
from training.errors import TrainingError

__all__ = ["belongs_to", "final_metric", "tags_of"]  # with this module's own: the finders of core

TUNING_SCAN_LIMIT = 100  # tuning jobs are listed newest first and checked one by one; stop here


def is_not_found(error: BaseException) -> bool:
    """DescribeTrainingJob answers ValidationException, DescribeHyperParameterTuningJob ResourceNotFound."""
    text = str(error).lower()
    return error_code(error) in ("ValidationException", "ResourceNotFound") and (
        "not find" in text or "not found" in text
    )


def describe_training_job(sagemaker: Any, name: str) -> dict[str, Any] | None:
    try:
        return sagemaker.describe_training_job(TrainingJobName=name)
    except Exception as error:
        if is_not_found(error):
            return None
        raise


def describe_tuning_job(sagemaker: Any, name: str) -> dict[str, Any] | None:
    try:
        return sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    except Exception as error:
        if is_not_found(error):
            return None
        raise


def check_stage(kind: str, name: str, tags: list[dict[str, str]], stage: str) -> None:
    """TrainingError unless the job carries the stage's tags."""
    if belongs_to(tags, stage):
        return
    values = {tag["Key"]: tag["Value"] for tag in tags}
    if values.get(layout.TAG_PROJECT) == layout.APP_NAME and layout.TAG_STAGE in values:
        owner = values[layout.TAG_STAGE]
        raise TrainingError(f"{kind} {name} belongs to stage {owner}, not {stage}: pass --stage {owner}")
    raise TrainingError(f"{kind} {name} was not started by this app for stage {stage} (it lacks its tags)")


def stage_training_jobs(sagemaker: Any, stage: str, limit: int) -> list[dict[str, Any]]:
    """The stage's newest training jobs (tuning jobs' included), newest first, by SageMaker Search."""
    filters = [
        {"Name": f"Tags.{tag['Key']}", "Operator": "Equals", "Value": tag["Value"]}
        for tag in layout.job_tags(stage)
    ]
    response = sagemaker.search(
        Resource="TrainingJob",
        SearchExpression={"Filters": filters, "Operator": "And"},
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=min(limit, 100),
    )
    jobs = [result["TrainingJob"] for result in response.get("Results", []) if "TrainingJob" in result]
    # Checked again here: the filter is the service's, and moto's honours only the first tag.
    jobs = [job for job in jobs if belongs_to(job.get("Tags", []), stage)]
    return sorted(jobs, key=lambda job: job["CreationTime"], reverse=True)[:limit]


def stage_tuning_jobs(sagemaker: Any, stage: str, limit: int) -> list[dict[str, Any]]:
    """The stage's newest tuning jobs (DescribeHyperParameterTuningJob answers), newest first."""
    found: list[dict[str, Any]] = []
    scanned = 0
    pages = sagemaker.get_paginator("list_hyper_parameter_tuning_jobs").paginate(
        SortBy="CreationTime", SortOrder="Descending"
    )
    for page in pages:
        for summary in page.get("HyperParameterTuningJobSummaries", []):
            scanned += 1
            if belongs_to(tags_of(sagemaker, summary["HyperParameterTuningJobArn"]), stage):
                found.append(summary)
            if len(found) >= limit or scanned >= TUNING_SCAN_LIMIT:
                return _described(sagemaker, found)
    return _described(sagemaker, found)


def _described(sagemaker: Any, summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    jobs = [
        sagemaker.describe_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=s["HyperParameterTuningJobName"]
        )
        for s in summaries
    ]
    return sorted(jobs, key=lambda job: job["CreationTime"], reverse=True)
