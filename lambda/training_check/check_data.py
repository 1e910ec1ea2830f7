"""The training workflow's first step: catch data mistakes before any GPU is paid for.

Reads the uploaded dataset's lists (or RecordIO indexes) and class list from the data bucket,
counts classes and training samples, checks that every channel exists, that class ids are 0-based
and contiguous, and that the hyperparameters (the state machine's defaults plus the request's
overrides) fit the data. Returns what the training job needs; raises ``DataCheckError`` with a
message that says what is wrong and how to fix it, which the state machine reports as the cause.
"""

from __future__ import annotations

import re
from typing import Any

import boto3

from core import dataset_check, layout
from core.dataset_check import Counts
from core.hyperparameters import HyperparameterError, resolve

_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


class DataCheckError(Exception):
    """The request or the uploaded data cannot train a model."""


def count_dataset(s3: Any, bucket: str, dataset: str, data_format: str) -> Counts:
    try:
        return dataset_check.count_dataset(s3, bucket, dataset, data_format)
    except dataset_check.DatasetError as error:
        raise DataCheckError(str(error)) from None


def handler(event: dict[str, Any], _context: Any = None) -> dict[str, Any]:
    """``event``: ``{"request": <execution input>, "bucket", "defaults", "maxInstanceCount"}``."""
    request = event.get("request")
    if not isinstance(request, dict):
        raise DataCheckError(
            "the execution input must be a JSON object; start runs with `python -m training train`"
        )
    job_name, dataset, data_format, overrides, instance_count = _check_request(
        request, int(event["maxInstanceCount"])
    )
    bucket = event["bucket"]
    counts = count_dataset(boto3.client("s3"), bucket, dataset, data_format)
    try:
        hyperparameters = resolve(
            overrides,
            num_classes=counts.num_classes,
            num_training_samples=counts.num_training_samples,
            defaults=event["defaults"],
        )
    except HyperparameterError as error:
        raise DataCheckError(str(error)) from None
    return {
        "trainingJobName": job_name,
        "hyperParameters": hyperparameters,
        "channels": layout.input_channels(bucket, dataset, data_format),
        "instanceCount": instance_count,
        "checkpointUri": f"s3://{bucket}/{layout.CHECKPOINTS_PREFIX}{job_name}/",
        "numClasses": counts.num_classes,
        "numTrainingSamples": counts.num_training_samples,
        "numValidationSamples": counts.num_validation_samples,
    }


def _check_request(request: dict[str, Any], max_instance_count: int) -> tuple[str, str, str, dict, int]:
    job_name = request.get("trainingJobName")
    if not isinstance(job_name, str) or not _JOB_NAME.match(job_name):
        raise DataCheckError(
            f"trainingJobName={job_name!r}: 1-63 letters, digits and hyphens, starting with a letter or digit"
        )
    dataset = request.get("dataset")
    if not isinstance(dataset, str) or not dataset.startswith(layout.DATASETS_PREFIX) or ".." in dataset:
        raise DataCheckError(f"dataset={dataset!r}: expected a prefix like {layout.dataset_prefix('NAME')!r}")
    data_format = request.get("format", "lst")
    if data_format not in layout.FORMATS:
        raise DataCheckError(f"format={data_format!r}: allowed values are {', '.join(layout.FORMATS)}")
    overrides = request.get("hyperParameters") or {}
    if not isinstance(overrides, dict):
        raise DataCheckError("hyperParameters must be an object of name: value")
    instance_count = request.get("instanceCount", 1)
    if (
        not isinstance(instance_count, int)
        or isinstance(instance_count, bool)
        or not (1 <= instance_count <= max_instance_count)
    ):
        raise DataCheckError(
            f"instanceCount={instance_count!r}: allowed values are 1 to {max_instance_count} "
            "(the stage's training_max_instance_count)"
        )
    return (
        job_name,
        layout.dataset_prefix(dataset[len(layout.DATASETS_PREFIX) :]),
        data_format,
        overrides,
        instance_count,
    )
