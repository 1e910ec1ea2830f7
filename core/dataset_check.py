"""Checks an uploaded dataset is complete and consistent, and counts its classes and samples.

Shared by the training workflow's data check (a Lambda, which bundles this module) and by
``python -m training tune``, so both refuse the same mistakes before any GPU is paid for.
Standard library only; the caller passes its S3 client.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core import layout


class DatasetError(Exception):
    """The uploaded dataset cannot train a model; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class Counts:
    num_classes: int
    num_training_samples: int
    num_validation_samples: int


def count_dataset(s3: Any, bucket: str, dataset: str, data_format: str) -> Counts:
    """Classes and samples of an uploaded dataset, after checking it is complete and consistent."""
    where = f"s3://{bucket}/{dataset}"
    classes = _read_json(s3, bucket, dataset + layout.CLASSES_FILE, where)
    if not isinstance(classes, list) or len(classes) < 2:
        raise DatasetError(f"{where}{layout.CLASSES_FILE} must list at least 2 classes")
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
            raise DatasetError(f"{where}{name} line {number}: expected index<TAB>class_id<TAB>path")
        ids.append(int(float(fields[1])))
    if not ids:
        raise DatasetError(f"{where}{name} is empty: run `python -m training prepare` and upload again")
    return ids


def _record_count(s3: Any, bucket: str, dataset: str, split: str, where: str) -> int:
    _require_objects(s3, bucket, dataset + layout.record_file(split), where)
    index = _read_text(s3, bucket, dataset + layout.index_file(split), where)
    count = sum(1 for line in index.splitlines() if line.strip())
    if count == 0:
        raise DatasetError(f"{where}{layout.index_file(split)} is empty")
    return count


def _check_class_ids(train: list[int], validation: list[int], num_classes: int, where: str) -> None:
    seen = set(train)
    if seen != set(range(num_classes)):
        missing = sorted(set(range(num_classes)) - seen)[:10]
        extra = sorted(seen - set(range(num_classes)))[:10]
        raise DatasetError(
            f"{where}: class ids in train.lst must be 0..{num_classes - 1} (classes.json has {num_classes}); "
            f"missing {missing}, unexpected {extra}"
        )
    unknown = sorted(set(validation) - seen)[:10]
    if unknown:
        raise DatasetError(f"{where}: validation.lst has class ids {unknown} that train.lst lacks")


def _read_text(s3: Any, bucket: str, key: str, where: str) -> str:
    try:
        body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body.decode("utf-8")
    except s3.exceptions.NoSuchKey:
        raise DatasetError(
            f"s3://{bucket}/{key} is missing: upload the dataset with `python -m training upload` "
            f"(expected the layout of `python -m training prepare` under {where})"
        ) from None


def _read_json(s3: Any, bucket: str, key: str, where: str) -> Any:
    try:
        return json.loads(_read_text(s3, bucket, key, where))
    except ValueError as error:
        raise DatasetError(f"s3://{bucket}/{key} is not valid JSON: {error}") from None


def _require_objects(s3: Any, bucket: str, prefix: str, where: str) -> None:
    if s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("KeyCount", 0) == 0:
        raise DatasetError(f"s3://{bucket}/{prefix} is missing or empty: upload the dataset again")
