"""Uploaded datasets in the data bucket: which one, its format and its counts.

An uploaded dataset is complete once its ``report.json`` is in S3: ``upload`` writes it last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import dataset_check, layout
from core.s3_url import parse_s3_url, s3_url
from training.aws import error_code, read_s3_json
from training.errors import TrainingError


def dataset_name(*, explicit: str | None, subset: bool) -> str:
    if explicit:
        return explicit
    return layout.SUBSET_DATASET_NAME if subset else layout.DEFAULT_DATASET_NAME


@dataclass(frozen=True)
class UploadedDataset:
    bucket: str
    name: str
    format: layout.Format
    report: dict[str, Any]

    @property
    def prefix(self) -> str:
        return layout.dataset_prefix(self.name)

    @property
    def url(self) -> str:
        return s3_url(self.bucket, self.prefix)

    def key(self, file: str) -> str:
        return self.prefix + file


def find_uploaded(s3: Any, bucket: str, name: str, stage: str) -> UploadedDataset:
    """The dataset ``name`` in ``bucket``; TrainingError when it is missing or incompletely uploaded."""
    report = read_s3_json(s3, bucket, layout.dataset_prefix(name) + layout.REPORT_FILE)
    if report is None:
        raise TrainingError(
            f"dataset {name!r} is not uploaded: {s3_url(bucket, layout.dataset_prefix(name))} has no "
            f"{layout.REPORT_FILE} (upload writes it last): run `python -m training upload OUT "
            f"--stage {stage} --dataset {name}`"
        )
    fmt = report.get("format") if isinstance(report, dict) else None
    if fmt not in layout.FORMATS:
        fmt = _detected_format(s3, bucket, name)
    return UploadedDataset(bucket=bucket, name=name, format=fmt, report=report)


def _detected_format(s3: Any, bucket: str, name: str) -> layout.Format:
    prefix = layout.dataset_prefix(name)
    if _exists(s3, bucket, prefix + layout.list_file("train")):
        return "lst"
    if _exists(s3, bucket, prefix + layout.record_file("train")):
        return "recordio"
    raise TrainingError(
        f"{s3_url(bucket, prefix)} has neither {layout.list_file('train')} nor "
        f"{layout.record_file('train')}: prepare and upload the dataset again"
    )


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except Exception as error:
        if error_code(error) in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def read_classes(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    """The dataset's ``classes.json``: ``[{"id": 0, "name": ..., "wnid": ...}, ...]``."""
    classes = read_s3_json(s3, bucket, prefix + layout.CLASSES_FILE)
    if not isinstance(classes, list) or not classes:
        raise TrainingError(
            f"{s3_url(bucket, prefix + layout.CLASSES_FILE)} is missing or not a list of classes: "
            "upload the prepared dataset again"
        )
    return classes


def counts(s3: Any, dataset: UploadedDataset) -> tuple[int, int]:
    """``(num_classes, num_training_samples)``, after the same checks the training workflow makes."""
    try:
        found = dataset_check.count_dataset(s3, dataset.bucket, dataset.prefix, dataset.format)
    except dataset_check.DatasetError as error:
        raise TrainingError(str(error)) from None
    return found.num_classes, found.num_training_samples


def dataset_of_channel(uri: str) -> tuple[str, str]:
    """``(bucket, dataset prefix)`` of a channel URI like ``s3://b/datasets/NAME/train/``."""
    location = parse_s3_url(uri)
    key = location.key if location else ""
    name = key.removeprefix(layout.DATASETS_PREFIX).split("/", 1)[0]
    if location is None or not key.startswith(layout.DATASETS_PREFIX) or not name:
        raise TrainingError(f"the job's train channel {uri} is not under {layout.DATASETS_PREFIX}<name>/")
    return location.bucket, layout.dataset_prefix(name)
