"""The training workflow's first step: catch data mistakes before any GPU is paid for.

Reads the uploaded dataset's lists (or RecordIO indexes) and class list from the data bucket,
counts classes and training samples, checks that every channel exists, that class ids are 0-based
and contiguous, and that the hyperparameters (the state machine's defaults plus the request's
overrides) fit the data. Returns what the training job needs; raises ``DataCheckError`` with a
message that says what is wrong and how to fix it, which the state machine reports as the cause.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import boto3

from training import layout
from training.hyperparameters import HyperparameterError, resolve

_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
CONTENT_TYPES = {"lst": "application/x-image", "recordio": "application/x-recordio"}


class DataCheckError(Exception):
    """The request or the uploaded data cannot train a model."""


@dataclass(frozen=True)
class Counts:
    num_classes: int
    num_training_samples: int
    num_validation_samples: int


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
        "channels": channels(bucket, dataset, data_format),
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


def count_dataset(s3: Any, bucket: str, dataset: str, data_format: str) -> Counts:
    """Classes and samples of an uploaded dataset, after checking it is complete and consistent."""
    where = f"s3://{bucket}/{dataset}"
    classes = _read_json(s3, bucket, dataset + layout.CLASSES_FILE, where)
    if not isinstance(classes, list) or len(classes) < 2:
        raise DataCheckError(f"{where}{layout.CLASSES_FILE} must list at least 2 classes")
    num_classes = len(classes)
    if data_format == "recordio":
        return Counts(
            num_classes,
            _record_count(s3, bucket, dataset, "train", where),
            _record_count(s3, bucket, dataset, "validation", where),
        )
    train_ids = _list_class_ids(s3, bucket, dataset, "train", where)
    validation_ids = _list_class_ids(s3, bucket, dataset, "validation", where)
    for split in layout.SPLITS:
        _require_objects(s3, bucket, dataset + layout.image_dir(split), where)
    _check_class_ids(train_ids, validation_ids, num_classes, where)
    return Counts(num_classes, len(train_ids), len(validation_ids))


def _list_class_ids(s3: Any, bucket: str, dataset: str, split: str, where: str) -> list[int]:
    name = layout.list_file(split)
    text = _read_text(s3, bucket, dataset + name, where)
    ids = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not fields[1].strip().replace(".", "", 1).isdigit():
            raise DataCheckError(f"{where}{name} line {number}: expected index<TAB>class_id<TAB>path")
        ids.append(int(float(fields[1])))
    if not ids:
        raise DataCheckError(f"{where}{name} is empty: run `python -m training prepare` and upload again")
    return ids


def _record_count(s3: Any, bucket: str, dataset: str, split: str, where: str) -> int:
    _require_objects(s3, bucket, dataset + layout.record_file(split), where)
    index = _read_text(s3, bucket, dataset + layout.index_file(split), where)
    count = sum(1 for line in index.splitlines() if line.strip())
    if count == 0:
        raise DataCheckError(f"{where}{layout.index_file(split)} is empty")
    return count


def _check_class_ids(train: list[int], validation: list[int], num_classes: int, where: str) -> None:
    seen = set(train)
    if seen != set(range(num_classes)):
        missing = sorted(set(range(num_classes)) - seen)[:10]
        extra = sorted(seen - set(range(num_classes)))[:10]
        raise DataCheckError(
            f"{where}: class ids in train.lst must be 0..{num_classes - 1} (classes.json has {num_classes}); "
            f"missing {missing}, unexpected {extra}"
        )
    unknown = sorted(set(validation) - seen)[:10]
    if unknown:
        raise DataCheckError(f"{where}: validation.lst has class ids {unknown} that train.lst lacks")


def channels(bucket: str, dataset: str, data_format: str) -> list[dict[str, Any]]:
    """The algorithm's input channels; train and validation images under separate prefixes."""
    base = f"s3://{bucket}/{dataset}"
    if data_format == "lst":
        sources = {
            "train": base + layout.image_dir("train"),
            "validation": base + layout.image_dir("validation"),
            "train_lst": base + layout.list_file("train"),
            "validation_lst": base + layout.list_file("validation"),
        }
    else:
        sources = {split: base + layout.record_file(split) for split in layout.SPLITS}
    return [
        {
            "ChannelName": name,
            "ContentType": CONTENT_TYPES[data_format],
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": uri,
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
        }
        for name, uri in sources.items()
    ]


def _read_text(s3: Any, bucket: str, key: str, where: str) -> str:
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    except s3.exceptions.NoSuchKey:
        raise DataCheckError(
            f"s3://{bucket}/{key} is missing: upload the dataset with `python -m training upload` "
            f"(expected the layout of `python -m training prepare` under {where})"
        ) from None


def _read_json(s3: Any, bucket: str, key: str, where: str) -> Any:
    try:
        return json.loads(_read_text(s3, bucket, key, where))
    except ValueError as error:
        raise DataCheckError(f"s3://{bucket}/{key} is not valid JSON: {error}") from None


def _require_objects(s3: Any, bucket: str, prefix: str, where: str) -> None:
    if s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("KeyCount", 0) == 0:
        raise DataCheckError(f"s3://{bucket}/{prefix} is missing or empty: upload the dataset again")
