"""The one definition of a training job: what the training state machine runs and what `tune` tunes.

``create_training_job_request`` builds the CreateTrainingJob request; ``tuning_job_definition``
derives a tuning job's TrainingJobDefinition from that same request, so the algorithm image,
role, channels, output, the 50 GB volume, instances, stopping condition, managed spot,
checkpoints, network isolation and tags are written once. The state machine passes ``JsonPath``
values for what its data check computes at run time (channels, hyperparameters, instance count);
the CLI passes plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import layout
from core.json_path import JsonPath, has_paths, render

VOLUME_GB = 50
INPUT_MODE = "File"

# Fields of CreateTrainingJob that a tuning job's TrainingJobDefinition does not take: the tuning
# job names its training jobs and carries the tags, and its AlgorithmSpecification has no metrics
# time series. HyperParameters become StaticHyperParameters (the tuned ones are left out).
_NOT_IN_TUNING = ("TrainingJobName", "Tags")


@dataclass(frozen=True)
class TrainingJobSpec:
    """Everything a training job of a stage is made of. Any field typed ``... | JsonPath`` may be
    left to the state machine to fill in at run time."""

    stage: str
    image_uri: str
    role_arn: str
    bucket: str  # the stage's data bucket: output goes under layout.TRAINING_OUTPUT_PREFIX
    channels: list[dict[str, Any]] | JsonPath
    hyperparameters: dict[str, str] | JsonPath
    instance_type: str
    instance_count: int | JsonPath
    max_runtime_seconds: int
    spot: bool
    max_wait_seconds: int  # used only with spot: at least the runtime, as SageMaker requires
    checkpoint_uri: str | JsonPath | None = None  # None: no checkpoints (a tuning job's jobs)
    name: str | JsonPath | None = None  # None in a tuning job's definition

    def __post_init__(self) -> None:
        if self.max_runtime_seconds < 1:
            raise ValueError(f"max_runtime_seconds={self.max_runtime_seconds}: expected at least 1")
        if isinstance(self.instance_count, int) and self.instance_count < 1:
            raise ValueError(f"instance_count={self.instance_count}: expected at least 1")
        if self.spot and self.max_wait_seconds < 1:
            raise ValueError(f"max_wait_seconds={self.max_wait_seconds}: a spot job needs a wait limit")


def output_path(bucket: str) -> str:
    """Where every training job of the stage writes ``<job>/output/model.tar.gz``."""
    return f"s3://{bucket}/{layout.TRAINING_OUTPUT_PREFIX}"


def checkpoint_uri(bucket: str, job_name: str) -> str:
    """A training job's own checkpoint prefix, so an interrupted spot job resumes from its epochs."""
    return f"s3://{bucket}/{layout.CHECKPOINTS_PREFIX}{job_name}/"


def stopping_condition(spec: TrainingJobSpec) -> dict[str, int]:
    condition = {"MaxRuntimeInSeconds": spec.max_runtime_seconds}
    if spec.spot:
        condition["MaxWaitTimeInSeconds"] = max(spec.max_wait_seconds, spec.max_runtime_seconds)
    return condition


def create_training_job_request(spec: TrainingJobSpec) -> dict[str, Any]:
    """The CreateTrainingJob request (``JsonPath`` values rendered as ``"Name.$"`` fields)."""
    fields: dict[str, Any] = {}
    if spec.name is not None:
        fields["TrainingJobName"] = spec.name
    fields.update(
        {
            "AlgorithmSpecification": {
                "TrainingImage": spec.image_uri,
                "TrainingInputMode": INPUT_MODE,
                "EnableSageMakerMetricsTimeSeries": True,
            },
            "RoleArn": spec.role_arn,
            "HyperParameters": spec.hyperparameters,
            "InputDataConfig": spec.channels,
            "OutputDataConfig": {"S3OutputPath": output_path(spec.bucket)},
            "ResourceConfig": {
                "InstanceType": spec.instance_type,
                "InstanceCount": spec.instance_count,
                "VolumeSizeInGB": VOLUME_GB,
            },
            "StoppingCondition": stopping_condition(spec),
            "EnableManagedSpotTraining": spec.spot,
            # The built-in algorithm needs no network; SageMaker moves the data, model and checkpoints.
            "EnableNetworkIsolation": True,
        }
    )
    if spec.checkpoint_uri is not None:
        fields["CheckpointConfig"] = {"S3Uri": spec.checkpoint_uri}
    fields["Tags"] = layout.job_tags(spec.stage)
    return render(fields)


def tuning_job_definition(spec: TrainingJobSpec, tuned: tuple[str, ...] = ()) -> dict[str, Any]:
    """A tuning job's TrainingJobDefinition: the same request, less what the tuning job owns;
    ``tuned`` hyperparameters are left out of the static ones."""
    if has_paths(spec.__dict__):
        raise ValueError("a tuning job's definition is sent by the CLI: it cannot hold JsonPath values")
    request = create_training_job_request(spec)
    definition = {name: value for name, value in request.items() if name not in _NOT_IN_TUNING}
    hyperparameters = definition.pop("HyperParameters")
    definition["StaticHyperParameters"] = {
        name: value for name, value in hyperparameters.items() if name not in tuned
    }
    algorithm = dict(definition["AlgorithmSpecification"])
    algorithm.pop("EnableSageMakerMetricsTimeSeries")
    definition["AlgorithmSpecification"] = algorithm
    return definition
