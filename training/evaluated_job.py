"""The training job ``evaluate --job`` evaluates: checked, with its model, its validation images in
S3 and the names and places its evaluation uses."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from training import layout
from training.aws import error_code, s3_url
from training.errors import TrainingError
from training.evaluation_data import ValidationSet, load_validation_set
from training.follow import one_line
from training.jobs import check_stage, describe_training_job, tags_of

NAME_BASE_LIMIT = 40  # + "-eval-" + 12 digits stays within SageMaker's 63 characters
VALIDATION_IMAGES = layout.image_dir("validation")


@dataclass(frozen=True)
class TrainedModel:
    """What a completed training job left, and where its evaluation goes."""

    job_name: str
    artifact: str
    image: str
    role_arn: str
    validation_uri: str  # s3://<bucket>/datasets/<name>/validation/
    evaluation_uri: str  # s3://<bucket>/training/output/<job>/evaluation/
    num_classes: int | None

    @property
    def model_name(self) -> str:
        """``<job>-eval``; a long job name is shortened and made unique by a hash of it."""
        base = self.job_name
        if len(base) > NAME_BASE_LIMIT:
            digest = hashlib.sha256(base.encode()).hexdigest()[:8]
            base = f"{base[: NAME_BASE_LIMIT - 9]}-{digest}"
        return f"{base}-eval"

    @property
    def output_uri(self) -> str:
        return self.evaluation_uri + "transform/"

    def transform_name(self, now: datetime) -> str:
        return f"{self.model_name}-{now:%y%m%d%H%M%S}"


def split_s3_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def trained_model(sagemaker: Any, name: str, stage: str, role_arn: str | None) -> TrainedModel:
    """The completed training job ``name`` of ``stage``; TrainingError saying what stands in the way.
    ``role_arn`` is the role the model runs with (default: the job's own)."""
    job = describe_training_job(sagemaker, name)
    if job is None:
        raise TrainingError(
            f"no training job named {name} in {sagemaker.meta.region_name}: "
            f"list the stage's jobs with `python -m training status --stage {stage}`"
        )
    check_stage("training job", name, tags_of(sagemaker, job["TrainingJobArn"]), stage)
    if job["TrainingJobStatus"] != "Completed":
        reason = f" ({one_line(job['FailureReason'])})" if job.get("FailureReason") else ""
        raise TrainingError(
            f"training job {name} is {job['TrainingJobStatus']}{reason}: only a Completed job has a model"
        )
    image = job.get("AlgorithmSpecification", {}).get("TrainingImage")
    if not image:
        raise TrainingError(f"training job {name} names no training image to serve its model with")
    output_path = job["OutputDataConfig"]["S3OutputPath"].rstrip("/")
    num_classes = job.get("HyperParameters", {}).get("num_classes")
    return TrainedModel(
        job_name=name,
        artifact=job["ModelArtifacts"]["S3ModelArtifacts"],
        image=image,
        role_arn=role_arn or job["RoleArn"],
        validation_uri=validation_images_uri(job),
        evaluation_uri=f"{output_path}/{name}/evaluation/",
        num_classes=int(num_classes) if num_classes else None,
    )


def validation_images_uri(job: dict[str, Any]) -> str:
    """The job's ``validation`` channel, which must be a prefix of images (the lst format)."""
    name = job["TrainingJobName"]
    for channel in job.get("InputDataConfig", []):
        if channel.get("ChannelName") == "validation":
            uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
            if uri.endswith("/" + VALIDATION_IMAGES):
                return uri
            raise TrainingError(
                f"training job {name} read its validation data from {uri}, not from images: batch "
                "evaluation needs the lst format (one image per object); re-run prepare and upload "
                "with --format lst and train on that dataset, or evaluate through the API with --api"
            )
    raise TrainingError(f"training job {name} has no validation channel to evaluate on")


def download_validation_set(s3: Any, model: TrainedModel, folder: Path) -> ValidationSet:
    """The dataset's classes.json and validation.lst, downloaded into ``folder`` and loaded (its
    images stay in S3, so the report has no thumbnails)."""
    bucket, key = split_s3_uri(model.validation_uri)
    dataset_prefix = key.removesuffix(VALIDATION_IMAGES)
    folder.mkdir(parents=True, exist_ok=True)
    for name in (layout.CLASSES_FILE, layout.list_file("validation")):
        try:
            body = s3.get_object(Bucket=bucket, Key=dataset_prefix + name)["Body"].read()
        except Exception as error:
            if error_code(error) in ("NoSuchKey", "404"):
                raise TrainingError(
                    f"{s3_url(bucket, dataset_prefix + name)} is missing: upload the dataset again, "
                    "or pass --lists OUT (the folder prepare made)"
                ) from None
            raise
        (folder / name).write_bytes(body)
    return load_validation_set(folder)


def check_class_count(model: TrainedModel, validation: ValidationSet) -> None:
    classes = len(validation.class_names)
    if model.num_classes is not None and model.num_classes != classes:
        raise TrainingError(
            f"training job {model.job_name} learned {model.num_classes} classes but "
            f"{validation.root / layout.CLASSES_FILE} lists {classes}: "
            "evaluate on the dataset it was trained on"
        )
