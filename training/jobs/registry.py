"""The stage's model registry (its model package group): register, find, list and approve versions.

Every model a stage can serve is a version here: the training workflow registers each job that
passes the accuracy gate, `tune` registers its best job through the same gate, and `promote`
registers a job below the gate only with ``--force``, recording it. `promote` approves the version
it pins; `status` lists them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from core import dataset_check
from core.accuracy_gate import final_metric, gate_refusal
from core.model_package import (
    META_FORCED,
    ModelPackageSpec,
    RegisteredModel,
    approval_request,
    create_model_package_request,
)
from core.stage_config import StageConfig
from training.data.datasets import dataset_of_channel
from training.errors import TrainingError

FIND_LIMIT = 200  # versions described, newest first, when looking one up by its training job


def packages(sagemaker: Any, group: str) -> Iterator[dict[str, Any]]:
    """The group's versions (ListModelPackages summaries), newest first, every page."""
    pages = sagemaker.get_paginator("list_model_packages").paginate(
        ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Descending"
    )
    for page in pages:
        yield from page.get("ModelPackageSummaryList", [])


def describe(sagemaker: Any, arn: str) -> RegisteredModel:
    return RegisteredModel.from_description(sagemaker.describe_model_package(ModelPackageName=arn))


def newest(sagemaker: Any, group: str, limit: int) -> list[RegisteredModel]:
    found: list[RegisteredModel] = []
    for summary in packages(sagemaker, group):
        if len(found) >= limit:
            break
        found.append(describe(sagemaker, summary["ModelPackageArn"]))
    return found


def find(sagemaker: Any, group: str, reference: str) -> RegisteredModel | None:
    """A version of ``group`` by its ARN, its version number, or the training job that produced it."""
    if reference.startswith("arn:"):
        model = describe(sagemaker, reference)
        if model.group and model.group != group:
            raise TrainingError(
                f"{reference} is in model package group {model.group}, not this stage's {group}"
            )
        return model
    for position, summary in enumerate(packages(sagemaker, group)):
        if reference.isdigit():
            if int(summary.get("ModelPackageVersion", 0)) == int(reference):
                return describe(sagemaker, summary["ModelPackageArn"])
            continue
        if position >= FIND_LIMIT:
            break
        model = describe(sagemaker, summary["ModelPackageArn"])
        if model.training_job == reference:
            return model
    return None


def register_training_job(
    sagemaker: Any,
    s3: Any,
    *,
    job: dict[str, Any],
    group: str,
    config: StageConfig,
    force: bool = False,
) -> RegisteredModel:
    """Registers a completed training job after the data check and the accuracy gate.

    Below the gate it is refused unless ``force``; a forced version records why in its metadata.
    """
    name = job["TrainingJobName"]
    if job.get("TrainingJobStatus") != "Completed":
        raise TrainingError(
            f"training job {name} is {job.get('TrainingJobStatus')}: only a Completed job can be registered"
        )
    accuracy = final_metric(job)
    refusal = gate_refusal(f"training job {name}", accuracy, config.min_validation_accuracy)
    if refusal and not force:
        raise TrainingError(
            f"{refusal} of stage {config.name} (min_validation_accuracy in core/stage_config.py): "
            "it is not registered; pass --force to promote it anyway"
        )
    bucket, dataset = dataset_of_channel(train_channel_uri(job))
    data_format = "recordio" if _is_recordio(job) else "lst"
    try:
        counts = dataset_check.count_dataset(s3, bucket, dataset, data_format)
    except dataset_check.DatasetError as error:
        raise TrainingError(f"training job {name}'s dataset fails the data check: {error}") from None
    trained = job.get("HyperParameters", {}).get("num_classes")
    if trained is not None and trained != str(counts.num_classes):
        raise TrainingError(
            f"training job {name} learned {trained} classes but the dataset's classes.json lists "
            f"{counts.num_classes}: it was re-uploaded since; register a job trained on it"
        )
    request = create_model_package_request(
        ModelPackageSpec(
            group=group,
            image_uri=job["AlgorithmSpecification"]["TrainingImage"],
            model_data_url=job["ModelArtifacts"]["S3ModelArtifacts"],
            training_job=name,
            dataset=dataset,
            validation_accuracy="" if accuracy is None else f"{accuracy}",
            serving_instance_type=config.endpoint_instance_type,
            forced=f"{refusal}; registered with --force" if refusal else None,
        )
    )
    return describe(sagemaker, sagemaker.create_model_package(**request)["ModelPackageArn"])


def approve(sagemaker: Any, model: RegisteredModel, description: str, forced: str | None) -> RegisteredModel:
    """Approves the version; a forced promotion is written into its metadata too. The existing
    metadata is sent again: some implementations (moto's) replace the whole map on update."""
    request = approval_request(model.arn, description[:1024])
    current = sagemaker.describe_model_package(ModelPackageName=model.arn)
    metadata = dict(current.get("CustomerMetadataProperties") or {})
    if forced:
        metadata[META_FORCED] = forced[:256]
    if metadata:
        request["CustomerMetadataProperties"] = metadata
    sagemaker.update_model_package(**request)
    return describe(sagemaker, model.arn)


def train_channel_uri(job: dict[str, Any]) -> str:
    for channel in job.get("InputDataConfig", []):
        if channel.get("ChannelName") == "train":
            return channel["DataSource"]["S3DataSource"]["S3Uri"]
    raise TrainingError(f"training job {job['TrainingJobName']} has no train channel to find its dataset by")


def _is_recordio(job: dict[str, Any]) -> bool:
    return any(
        channel.get("ContentType") == "application/x-recordio" for channel in job.get("InputDataConfig", [])
    )
