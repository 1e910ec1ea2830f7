"""The training job ``evaluate transform --job`` evaluates: checked, with its model, its validation images in
S3 and the names and places its evaluation uses."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from core import layout
from core.s3_url import parse_s3_url
from training.aws import error_code, s3_url
from training.console import say
from training.errors import TrainingError
from training.evaluation.data import ValidationSet, load_validation_set
from training.jobs.follow import one_line
from training.jobs.stage_jobs import check_stage, describe_training_job, tags_of

NAME_BASE_LIMIT = 40  # + "-eval-" + 12 digits stays within SageMaker's 63 characters
VALIDATION_IMAGES = layout.image_dir("validation")
EXTRACTED_IMAGES = "validation-images/"  # under the evaluation folder: a RecordIO dataset's images
RECORDIO_SOURCE = "recordio"  # the downloaded classes.json and validation.rec, beside the extraction
UPLOAD_WORKERS = 8


@dataclass(frozen=True)
class TrainedModel:
    """What a completed training job left, and where its evaluation goes."""

    job_name: str
    artifact: str
    image: str
    role_arn: str
    validation_uri: str  # s3://<bucket>/datasets/<name>/validation/: the images the transform reads
    evaluation_uri: str  # s3://<bucket>/training/output/<job>/evaluation/
    num_classes: int | None
    # A RecordIO job's s3://<bucket>/datasets/<name>/validation.rec; its images are extracted and
    # uploaded to validation_uri, which is then <evaluation_uri>validation-images/
    validation_records: str | None = None

    @property
    def dataset_uri(self) -> str:
        """``s3://<bucket>/datasets/<name>/``: the prepared dataset the job trained on."""
        if self.validation_records is not None:
            return self.validation_records.removesuffix(layout.record_file("validation"))
        return self.validation_uri.removesuffix(VALIDATION_IMAGES)

    @property
    def dataset_name(self) -> str:
        return self.dataset_uri.rstrip("/").rsplit("/", 1)[-1]

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
    """The bucket and key (or prefix) of an S3 URL that SageMaker reported for the job."""
    location = parse_s3_url(uri, key_required=False)
    if location is None:
        raise TrainingError(f"{uri} is not an s3://<bucket>/<key> URL: check the training job's S3 settings")
    return location.bucket, location.key


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
    evaluation_uri = f"{output_path}/{name}/evaluation/"
    validation = validation_channel_uri(job)
    records = validation if validation.endswith("/" + layout.record_file("validation")) else None
    return TrainedModel(
        job_name=name,
        artifact=job["ModelArtifacts"]["S3ModelArtifacts"],
        image=image,
        role_arn=role_arn or job["RoleArn"],
        validation_uri=evaluation_uri + EXTRACTED_IMAGES if records else validation,
        evaluation_uri=evaluation_uri,
        num_classes=int(num_classes) if num_classes else None,
        validation_records=records,
    )


def validation_channel_uri(job: dict[str, Any]) -> str:
    """The job's ``validation`` channel: a prefix of images (lst) or a ``validation.rec`` (RecordIO)."""
    name = job["TrainingJobName"]
    for channel in job.get("InputDataConfig", []):
        if channel.get("ChannelName") == "validation":
            uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
            if uri.endswith(("/" + VALIDATION_IMAGES, "/" + layout.record_file("validation"))):
                return uri
            raise TrainingError(
                f"training job {name} read its validation data from {uri}, which is neither a "
                f"{VALIDATION_IMAGES} prefix of images nor a {layout.record_file('validation')}: "
                "evaluate with `evaluate local --model` or `evaluate api`, and --lists OUT"
            )
    raise TrainingError(f"training job {name} has no validation channel to evaluate on")


def download_validation_set(s3: Any, model: TrainedModel, folder: Path) -> ValidationSet:
    """The dataset's classes.json and validation.lst, downloaded into ``folder`` and loaded (its
    images stay in S3, so the report has no thumbnails). A RecordIO dataset's classes.json and
    validation.rec go into ``folder/recordio/`` and its images are extracted into ``folder``."""
    bucket, dataset_prefix = split_s3_uri(model.dataset_uri)
    if model.validation_records is not None:
        source = folder / RECORDIO_SOURCE
        _download(s3, bucket, dataset_prefix, (layout.CLASSES_FILE, layout.record_file("validation")), source)
        return load_validation_set(source, extract_to=folder)
    _download(s3, bucket, dataset_prefix, (layout.CLASSES_FILE, layout.list_file("validation")), folder)
    return load_validation_set(folder)


def upload_extracted_images(
    s3: Any, model: TrainedModel, validation: ValidationSet, images: list[str]
) -> None:
    """Put the RecordIO dataset's extracted ``images`` where the transform reads them
    (``model.validation_uri``), skipping those already there from an earlier run."""
    bucket, prefix = split_s3_uri(model.validation_uri)
    present: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        present.update(item["Key"][len(prefix) :] for item in page.get("Contents", []))
    missing = [image for image in images if image not in present]
    if not missing:
        return
    say(f"uploading {len(missing)} images taken out of {model.validation_records} to {model.validation_uri}")
    with ThreadPoolExecutor(max_workers=UPLOAD_WORKERS) as pool:
        uploads = [
            pool.submit(s3.upload_file, str(validation.image_file(image)), bucket, prefix + image)
            for image in missing
        ]
        for upload in uploads:
            upload.result()


def _download(s3: Any, bucket: str, dataset_prefix: str, names: tuple[str, ...], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
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


def check_class_count(model: TrainedModel, validation: ValidationSet) -> None:
    classes = len(validation.class_names)
    if model.num_classes is not None and model.num_classes != classes:
        raise TrainingError(
            f"training job {model.job_name} learned {model.num_classes} classes but "
            f"{validation.root / layout.CLASSES_FILE} lists {classes}: "
            "evaluate on the dataset it was trained on"
        )
