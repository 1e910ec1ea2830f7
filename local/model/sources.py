"""Where a model comes from: a local path, an ``s3://`` URL of a model.tar.gz, or a training job's name."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

from core.layout import is_sagemaker_name
from core.s3_url import parse_s3_url
from local.model.errors import ModelLoadError
from local.progress import ByteProgress


def split_s3_url(url: str) -> tuple[str, str]:
    location = parse_s3_url(url)
    if location is None:
        raise ModelLoadError(f"{url}: not an s3://bucket/key URL of a model.tar.gz")
    return location.bucket, location.key


def _client(service: str, region: str | None) -> Any:
    import boto3  # only remote sources need it

    return boto3.client(service, region_name=region)


def _advice(error: Exception, what: str) -> ModelLoadError:
    from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError

    if isinstance(error, NoCredentialsError):
        return ModelLoadError(f"{what}: no AWS credentials; configure a profile or pass a local model.tar.gz")
    if isinstance(error, NoRegionError):
        return ModelLoadError(f"{what}: no AWS region; pass --region or set AWS_DEFAULT_REGION")
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", str(error))
        if code in ("404", "NoSuchKey", "NoSuchBucket"):
            return ModelLoadError(f"{what}: not found in S3 ({code})")
        if code in ("403", "AccessDenied"):
            return ModelLoadError(f"{what}: access denied; the credentials may not read this bucket")
        return ModelLoadError(f"{what}: {code}: {message}")
    return ModelLoadError(f"{what}: {error}")


def download_s3(url: str, folder: Path, region: str | None, stream: TextIO | None = None) -> Path:
    """Download the object to ``folder``, printing the progress; returns the local path."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = split_s3_url(url)
    target = Path(folder) / Path(key).name
    try:
        s3 = _client("s3", region)
        size = int(s3.head_object(Bucket=bucket, Key=key)["ContentLength"])
        progress = ByteProgress(f"Downloading {url}", size, stream)
        s3.download_file(bucket, key, str(target), Callback=progress.add)
        progress.finish()
    except (BotoCoreError, ClientError) as error:
        raise _advice(error, url) from error
    return target


def training_job_artifact(name: str, region: str | None) -> str:
    """The S3 URL of a completed training job's model.tar.gz."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        job = _client("sagemaker", region).describe_training_job(TrainingJobName=name)
    except ClientError as error:
        if "not found" in str(error).lower() or "does not exist" in str(error).lower():
            raise ModelLoadError(
                f"{name!r}: no such local file or folder, and no training job of that name in the region"
            ) from error
        raise _advice(error, f"training job {name}") from error
    except BotoCoreError as error:
        raise _advice(error, f"training job {name}") from error
    status = job.get("TrainingJobStatus")
    url = job.get("ModelArtifacts", {}).get("S3ModelArtifacts")
    if status != "Completed" or not url:
        reason = job.get("FailureReason", "")
        raise ModelLoadError(
            f"training job {name} is {status}, not Completed; it has no model yet {reason}".strip()
        )
    return url


def is_training_job_name(text: str) -> bool:
    return is_sagemaker_name(text)
