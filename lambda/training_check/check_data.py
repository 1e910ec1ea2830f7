"""The training workflow's first step: catch data mistakes before any GPU is paid for.

Reads the uploaded dataset's lists (or RecordIO indexes) and class list from the data bucket,
counts classes and training samples, checks that every channel exists, that class ids are 0-based
and contiguous, and that the hyperparameters (the state machine's defaults plus the request's
overrides) fit the data. Returns what the training job needs; raises ``DataCheckError`` with a
message that says what is wrong and how to fix it, which the state machine reports as the cause.
"""

from __future__ import annotations

from typing import Any

import boto3

from core import dataset_check, layout
from core.dataset_check import Counts
from core.hyperparameters import HyperparameterError, resolve
from core.training_job import checkpoint_uri
from core.workflow_input import WorkflowInput, WorkflowInputError


class DataCheckError(Exception):
    """The request or the uploaded data cannot train a model."""


def count_dataset(s3: Any, bucket: str, dataset: str, data_format: str) -> Counts:
    try:
        return dataset_check.count_dataset(s3, bucket, dataset, data_format)
    except dataset_check.DatasetError as error:
        raise DataCheckError(str(error)) from None


def handler(event: dict[str, Any], _context: Any = None) -> dict[str, Any]:
    """``event``: ``{"request": <WorkflowInput's JSON form>, "bucket", "defaults", "maxInstanceCount"}``."""
    try:
        request = WorkflowInput.from_dict(event.get("request"))
        request.check_instance_count(int(event["maxInstanceCount"]))
    except WorkflowInputError as error:
        raise DataCheckError(str(error)) from None
    bucket = event["bucket"]
    counts = count_dataset(boto3.client("s3"), bucket, request.dataset, request.format)
    try:
        hyperparameters = resolve(
            request.hyperparameters,
            num_classes=counts.num_classes,
            num_training_samples=counts.num_training_samples,
            defaults=event["defaults"],
        )
    except HyperparameterError as error:
        raise DataCheckError(str(error)) from None
    return {
        "trainingJobName": request.training_job_name,
        "hyperParameters": hyperparameters,
        "channels": layout.input_channels(bucket, request.dataset, request.format),
        "instanceCount": request.instance_count,
        "checkpointUri": checkpoint_uri(bucket, request.training_job_name),
        "numClasses": counts.num_classes,
        "numTrainingSamples": counts.num_training_samples,
        "numValidationSamples": counts.num_validation_samples,
    }
