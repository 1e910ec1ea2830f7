"""The model registry's records: the CreateModelPackage request and what `promote` reads back.

A stage's model package group (``layout.OUTPUT_MODEL_PACKAGE_GROUP``) holds every model that
passed the accuracy gate, registered by the training workflow or by `tune` for its best job, and
any model promoted below the gate with ``--force`` (recorded as such). The customer metadata
links a version to its training job, its dataset and its accuracy; `promote` finds a version by
its training job through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.json_path import JsonPath, render

# The content types the endpoint's container accepts, and what it answers.
CONTENT_TYPES = ["application/x-image", "image/jpeg", "image/png"]
RESPONSE_TYPES = ["application/json"]
PENDING = "PendingManualApproval"
APPROVED = "Approved"

# CustomerMetadataProperties keys.
META_TRAINING_JOB = "trainingJob"
META_DATASET = "dataset"
META_ACCURACY = "validationAccuracy"
# Present only where --force overrode the gate: when the version was registered, when it was promoted.
META_FORCED_REGISTRATION = "forcedRegistration"
META_FORCED = "forcedPromotion"


@dataclass(frozen=True)
class ModelPackageSpec:
    """One version of the stage's model. Fields typed ``... | JsonPath`` may be filled in by the
    state machine at run time; ``validation_accuracy`` is then its ``States.Format`` text."""

    group: str
    image_uri: str
    model_data_url: str | JsonPath
    training_job: str | JsonPath
    dataset: str | JsonPath  # datasets/<name>/ in the data bucket
    validation_accuracy: str | JsonPath  # text: metadata values are strings
    serving_instance_type: str
    description: str | JsonPath | None = None  # default: "Training job <name>"
    forced: str | None = None  # why it was registered below the gate (promote --force)


def description_of(training_job: str) -> str:
    return f"Training job {training_job}"


def create_model_package_request(spec: ModelPackageSpec) -> dict[str, Any]:
    """The CreateModelPackage request (``JsonPath`` values rendered as ``"Name.$"`` fields)."""
    description = spec.description
    if description is None:
        if isinstance(spec.training_job, JsonPath):
            description = JsonPath(f"States.Format('{description_of('{}')}', {spec.training_job.expression})")
        else:
            description = description_of(spec.training_job)
    metadata: dict[str, Any] = {
        META_TRAINING_JOB: spec.training_job,
        META_DATASET: spec.dataset,
        META_ACCURACY: spec.validation_accuracy,
    }
    if spec.forced is not None:
        metadata[META_FORCED_REGISTRATION] = spec.forced
    return render(
        {
            "ModelPackageGroupName": spec.group,
            "ModelPackageDescription": description,
            "ModelApprovalStatus": PENDING,
            "InferenceSpecification": {
                "Containers": [{"Image": spec.image_uri, "ModelDataUrl": spec.model_data_url}],
                "SupportedContentTypes": list(CONTENT_TYPES),
                "SupportedResponseMIMETypes": list(RESPONSE_TYPES),
                "SupportedRealtimeInferenceInstanceTypes": [spec.serving_instance_type],
            },
            "CustomerMetadataProperties": metadata,
        }
    )


@dataclass(frozen=True)
class RegisteredModel:
    """A version in the registry, as DescribeModelPackage answers it."""

    arn: str
    group: str
    version: int
    approval: str
    model_data_url: str
    training_job: str | None
    dataset: str | None
    validation_accuracy: float | None
    forced: str | None
    approval_description: str | None

    @classmethod
    def from_description(cls, package: Mapping[str, Any]) -> RegisteredModel:
        metadata = package.get("CustomerMetadataProperties") or {}
        containers = package.get("InferenceSpecification", {}).get("Containers") or [{}]
        return cls(
            arn=package["ModelPackageArn"],
            group=package.get("ModelPackageGroupName", ""),
            version=int(package.get("ModelPackageVersion", 0)),
            approval=package.get("ModelApprovalStatus", PENDING),
            model_data_url=containers[0].get("ModelDataUrl", ""),
            training_job=metadata.get(META_TRAINING_JOB),
            dataset=metadata.get(META_DATASET),
            validation_accuracy=_number(metadata.get(META_ACCURACY)),
            forced=metadata.get(META_FORCED) or metadata.get(META_FORCED_REGISTRATION),
            approval_description=package.get("ApprovalDescription"),
        )


def _number(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def approval_request(arn: str, description: str) -> dict[str, Any]:
    """UpdateModelPackage: approve a version, saying who approved it and why (``--force`` too)."""
    return {"ModelPackageArn": arn, "ModelApprovalStatus": APPROVED, "ApprovalDescription": description}
