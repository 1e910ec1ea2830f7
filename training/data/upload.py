"""Resumable, idempotent upload of a prepared dataset folder to its S3 prefix, which it leaves
equal to the folder.

A file is skipped when an object of the same size and content is already there: a single-part
object's ETag is its MD5 (SSE-S3), otherwise the SHA-256 that every upload stores in the object's
metadata decides. An interrupted upload resumes where it stopped: finished objects compare equal.
Objects under the prefix that the folder no longer has (a re-prepared split moves images between
``train/`` and ``validation/``) are deleted once the files are up; nothing outside the prefix is
ever deleted. ``report.json`` goes last, and a stale one is deleted first, so a dataset whose
report.json is in S3 is complete.

A file under the multipart threshold (almost all of them: images, lists) is one ``put_object``;
only larger ones (``.rec`` files) go through boto3's transfer manager, whose per-file set-up and
threads cost more client CPU than the request itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from core import layout
from training.aws import error_code
from training.console import Progress, human_bytes
from training.errors import TrainingError

SHA256_METADATA = "sha256"  # x-amz-meta-sha256
MIB = 1024 * 1024
MULTIPART_THRESHOLD = 64 * MIB
DELETE_BATCH = 1000  # keys per DeleteObjects request, S3's maximum
Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


@dataclass(frozen=True)
class LocalFile:
    path: Path
    key: str
    size: int
    sha256: str
    md5: str


@dataclass
class Plan:
    """What an upload has to do: files to send, how many are already there, and the report."""

    bucket: str
    prefix: str
    to_upload: list[LocalFile] = field(default_factory=list)
    unchanged: list[LocalFile] = field(default_factory=list)
    report: LocalFile | None = None
    report_is_current: bool = False
    remote_report_exists: bool = False
    to_delete: list[str] = field(default_factory=list)  # keys under prefix the folder does not have
    compared: bool = True  # False: S3 was out of reach, so every file is listed and none is known there

    @property
    def upload_count(self) -> int:
        return len(self.to_upload) + (0 if self.report_is_current else 1)

    @property
    def upload_bytes(self) -> int:
        report_bytes = 0 if self.report_is_current or self.report is None else self.report.size
        return sum(file.size for file in self.to_upload) + report_bytes

    def summary(self) -> str:
        files = len(self.to_upload) + len(self.unchanged) + 1
        if not self.compared:
            return (
                f"{files} files ({human_bytes(self.upload_bytes)}) to upload to "
                f"s3://{self.bucket}/{self.prefix} unless already there; not compared with S3"
            )
        return (
            f"{files} files; {len(self.unchanged) + int(self.report_is_current)} already in "
            f"s3://{self.bucket}/{self.prefix}, {self.upload_count} to upload "
            f"({human_bytes(self.upload_bytes)}), {len(self.to_delete)} to delete"
        )


def dataset_files(root: Path) -> list[Path]:
    """Every file under ``root`` but hidden ones (``.DS_Store``, editor files), sorted."""
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts)
    )


def digest(path: Path, key: str) -> LocalFile:
    sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(MIB):
            sha256.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return LocalFile(path=path, key=key, size=size, sha256=sha256.hexdigest(), md5=md5.hexdigest())


def remote_objects(s3: Any, bucket: str, prefix: str) -> dict[str, dict[str, Any]]:
    """Key -> listing entry (Size, ETag) of every object under ``prefix``."""
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            objects[entry["Key"]] = entry
    return objects


def is_current(s3: Any, bucket: str, file: LocalFile, listed: dict[str, Any] | None) -> bool:
    if listed is None or listed["Size"] != file.size:
        return False
    etag = listed["ETag"].strip('"')
    if "-" not in etag and etag == file.md5:
        return True
    try:
        metadata = s3.head_object(Bucket=bucket, Key=file.key).get("Metadata", {})
    except Exception as error:
        if error_code(error) in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return metadata.get(SHA256_METADATA) == file.sha256


def check_dataset_prefix(prefix: str) -> None:
    """Deletion stays inside one dataset: ``datasets/<name>/``, with its slash, never a shorter prefix."""
    name = prefix.removeprefix(layout.DATASETS_PREFIX).removesuffix("/")
    if prefix != layout.dataset_prefix(name) or not name or "/" in name:
        raise TrainingError(f"{prefix!r} is not a dataset prefix ({layout.dataset_prefix('<name>')})")


def stale_keys(listed: Iterable[str], local: set[str], prefix: str) -> list[str]:
    """Keys under ``prefix`` (and only there) that no local file has, sorted."""
    check_dataset_prefix(prefix)
    return sorted(key for key in listed if key.startswith(prefix) and key not in local)


def plan_upload(s3: Any, bucket: str, prefix: str, root: Path, workers: int) -> Plan:
    check_dataset_prefix(prefix)
    paths = dataset_files(root)
    listed = remote_objects(s3, bucket, prefix)
    progress = Progress("compared", len(paths), sum(path.stat().st_size for path in paths))

    def compare(path: Path) -> tuple[LocalFile, bool]:
        file = digest(path, prefix + path.relative_to(root).as_posix())
        current = is_current(s3, bucket, file, listed.get(file.key))
        progress.add_bytes(file.size)
        progress.file_done()
        return file, current

    plan = Plan(bucket=bucket, prefix=prefix)
    plan.remote_report_exists = prefix + layout.REPORT_FILE in listed
    local_keys = {prefix + path.relative_to(root).as_posix() for path in paths}
    plan.to_delete = stale_keys(listed, local_keys, prefix)
    for file, current in in_parallel(compare, paths, workers):
        if file.key == prefix + layout.REPORT_FILE:
            plan.report, plan.report_is_current = file, current
        else:
            (plan.unchanged if current else plan.to_upload).append(file)
    progress.finish()
    if plan.report is None:
        raise TrainingError(f"{root} has no {layout.REPORT_FILE}: it is not a prepared dataset")
    return plan


def offline_plan(bucket: str, prefix: str, root: Path) -> Plan:
    """Every file of ``root`` to upload, for a dry run that cannot reach S3. The files' digests
    are left empty: there is nothing to compare them with."""
    check_dataset_prefix(prefix)
    plan = Plan(bucket=bucket, prefix=prefix, compared=False)
    for path in dataset_files(root):
        file = LocalFile(path, prefix + path.relative_to(root).as_posix(), path.stat().st_size, "", "")
        if file.key == prefix + layout.REPORT_FILE:
            plan.report = file
        else:
            plan.to_upload.append(file)
    if plan.report is None:
        raise TrainingError(f"{root} has no {layout.REPORT_FILE}: it is not a prepared dataset")
    return plan


def execute(s3: Any, plan: Plan, workers: int, transfer_config: Any) -> None:
    """Uploads the plan's files, deletes the stale objects (listing each first), then uploads the
    report; TrainingError listing failures (report withheld)."""
    changes = plan.to_upload or plan.to_delete
    if changes and plan.remote_report_exists and not plan.report_is_current:
        s3.delete_object(Bucket=plan.bucket, Key=plan.prefix + layout.REPORT_FILE)
    progress = Progress("uploaded", plan.upload_count, plan.upload_bytes)

    def send(file: LocalFile) -> Exception | None:
        try:
            put(s3, plan.bucket, file, transfer_config, progress.add_bytes)
        except Exception as error:  # reported together below; the other files go on
            return error
        progress.file_done()
        return None

    errors = [
        (file, error)
        for file, error in zip(plan.to_upload, in_parallel(send, plan.to_upload, workers), strict=True)
        if error
    ]
    if errors:
        progress.finish()
        file, error = errors[0]
        raise TrainingError(
            f"{len(errors)} of {len(plan.to_upload)} files failed to upload (first: {file.key}: {error}); "
            f"{layout.REPORT_FILE} was not uploaded, so the dataset reads as incomplete: run the same "
            "command again to upload the rest"
        )
    delete_stale(s3, plan)
    if not plan.report_is_current and plan.report is not None:
        failure = send(plan.report)
        if failure:
            raise TrainingError(f"{plan.report.key} failed to upload ({failure}): run the same command again")
    progress.finish()


def delete_stale(s3: Any, plan: Plan) -> None:
    """Deletes ``plan.to_delete``, printing each key first; TrainingError naming what S3 refused."""
    stale = stale_keys(plan.to_delete, set(), plan.prefix)  # checked again: nothing outside the prefix
    for key in stale:
        print(f"delete s3://{plan.bucket}/{key} (not in the local dataset)")
    failed = []
    for start in range(0, len(stale), DELETE_BATCH):
        batch = [{"Key": key} for key in stale[start : start + DELETE_BATCH]]
        answer = s3.delete_objects(Bucket=plan.bucket, Delete={"Objects": batch, "Quiet": True})
        failed += [f"{error['Key']} ({error.get('Code')})" for error in answer.get("Errors", [])]
    if failed:
        raise TrainingError(
            f"{len(failed)} stale objects could not be deleted (first: {failed[0]}); "
            f"{layout.REPORT_FILE} was not uploaded: run the same command again"
        )


def put(s3: Any, bucket: str, file: LocalFile, transfer_config: Any, on_bytes: Callable[[int], None]) -> None:
    """One ``put_object`` under the multipart threshold, else boto3's multipart transfer."""
    metadata = {SHA256_METADATA: file.sha256}
    if file.size < transfer_config.multipart_threshold:
        with file.path.open("rb") as body:
            s3.put_object(Bucket=bucket, Key=file.key, Body=body, Metadata=metadata)
        on_bytes(file.size)
        return
    s3.upload_file(
        str(file.path),
        bucket,
        file.key,
        ExtraArgs={"Metadata": metadata},
        Config=transfer_config,
        Callback=on_bytes,
    )


def in_parallel(work: Callable[[Item], Outcome], items: Iterable[Item], workers: int) -> list[Outcome]:
    """``work`` on every item, ``workers`` at a time; Ctrl-C cancels what has not started."""
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        results = list(pool.map(work, items))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results
