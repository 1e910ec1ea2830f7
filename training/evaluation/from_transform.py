"""Predictions by SageMaker Batch Transform (``evaluate transform --job JOB --stage S``): the job's own model
over its validation images in S3, on one instance for as long as that takes, with no endpoint.

What it makes, and where:
- the model ``<job>-eval`` (the job's artifact in the job's image), deleted once the transform ends;
- transform jobs ``<job>-eval-<yymmddHHMMSS>``, tagged with the stage like training jobs;
- outputs in the training job's own output folder, ``training/output/<job>/evaluation/transform/``,
  which the training role may already write: one ``<image>.out`` per image, the algorithm's JSON
  list of probabilities in class-id order.

Resumable: outputs already in S3 are read, not paid for again; a transform still running is waited
for, not started twice; a later transform covers only the images still without an output.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from core import layout
from training import aws
from training.aws import error_code, s3_url
from training.console import say
from training.errors import TrainingError
from training.evaluation import collection, evaluated_job
from training.evaluation.collection import ImageProgress, in_threads
from training.evaluation.data import append_predictions, load_validation_set
from training.evaluation.evaluated_job import TrainedModel, split_s3_uri
from training.jobs.follow import one_line
from training.jobs.stage_jobs import is_not_found

CONTENT_TYPE = layout.CONTENT_TYPES["lst"]  # application/x-image: one image per object
ACCEPT = "application/json"
RUNNING = ("InProgress", "Stopping")
POLL_SECONDS = 30.0
FETCH_WORKERS = 16


def pause(seconds: float) -> None:
    """Waits between checks of a running transform (tests replace it)."""
    time.sleep(seconds)


@dataclass(frozen=True)
class TransformSettings:
    stage: str
    instance_type: str


@dataclass(frozen=True)
class TransformRequest:
    """What ``evaluate transform`` was asked: the job, its stage and instance, where the cache goes, and
    the prepared dataset on disk when there is one (else the job's own lists are downloaded)."""

    job: str
    settings: TransformSettings
    predictions: Path
    lists: Path | None = None


def collect(request: TransformRequest) -> tuple[Path, str | None]:
    """Predictions by Batch Transform; returns the folder with the lists the analysis reads, and the
    dataset's name when its lists were downloaded (a local folder's own name serves otherwise).

    A RecordIO job's validation images are taken out of the ``.rec`` (local with ``lists``, else
    downloaded) and uploaded next to its evaluation outputs, where the transform reads them."""
    with aws.reported_errors():
        sagemaker = aws.client("sagemaker")
        s3 = aws.client("s3", max_pool_connections=FETCH_WORKERS)
        stage = request.settings.stage
        role = aws.stack_outputs(stage, "Training").get(layout.OUTPUT_TRAINING_ROLE)
        model = evaluated_job.trained_model(sagemaker, request.job, stage, role)
        extract_to = collection.dataset_cache_dir(request.predictions)
        dataset_name = None
        if request.lists is not None:
            lists_dir, validation = request.lists, load_validation_set(request.lists, extract_to=extract_to)
        else:
            validation = evaluated_job.download_validation_set(s3, model, extract_to)
            recordio = model.validation_records is not None
            lists_dir = extract_to / evaluated_job.RECORDIO_SOURCE if recordio else extract_to
            dataset_name = model.dataset_name
        evaluated_job.check_class_count(model, validation)
        how = f"{request.job}'s model by Batch Transform"
        pending = collection.announce_pending(validation, request.predictions, how)
        if pending and model.validation_records is not None:
            evaluated_job.upload_extracted_images(s3, model, validation, pending)
        if pending:
            collector = TransformCollector(sagemaker, s3, model, request.settings)
            with collection.appending(request.predictions) as cache:
                whole_set = len(pending) == len(validation.images)
                collector.collect(pending, len(validation.class_names), whole_set, cache)
    return lists_dir, dataset_name


class TransformCollector:
    """Collects one training job's predictions by Batch Transform, with the commands' clients."""

    def __init__(self, sagemaker: Any, s3: Any, model: TrainedModel, settings: TransformSettings) -> None:
        self.sagemaker = sagemaker
        self.s3 = s3
        self.model = model
        self.settings = settings
        self.bucket = split_s3_uri(model.output_uri)[0]

    def collect(self, pending: Sequence[str], classes: int, whole_set: bool, cache: IO[str]) -> None:
        """Append the predictions of the ``pending`` images (``whole_set``: every validation image)
        to ``cache``: from outputs already in S3, else from a transform that makes them."""
        outputs = self.output_keys(pending)
        missing = [image for image in pending if image not in outputs]
        ended = None
        if missing:
            ended = self.run_transform(missing, whole_set and len(missing) == len(pending))
            outputs = self.output_keys(pending)
        else:
            say(f"every image's output is already in {self.model.output_uri}: reading them, no transform")
        self.fetch_outputs(outputs, classes, cache)
        check_complete(self.model, pending, outputs, ended)

    # --- Transform jobs ----------------------------------------------------------------------
    def run_transform(self, images: list[str], whole_set: bool) -> dict[str, Any]:
        """Waits for this job's transform still running, or starts one over ``images``; returns it ended."""
        latest = self.latest_transform()
        if latest is not None and latest["TransformJobStatus"] in RUNNING:
            name = latest["TransformJobName"]
            say(f"transform job {name} (started earlier) is still running: waiting for it")
        else:
            name = self.start_transform(images, whole_set)
        ended = self.wait(name, images)
        self.delete_model()
        return ended

    def latest_transform(self) -> dict[str, Any] | None:
        prefix = f"{self.model.model_name}-"
        response = self.sagemaker.list_transform_jobs(
            NameContains=prefix, SortBy="CreationTime", SortOrder="Descending", MaxResults=10
        )
        summaries = response.get("TransformJobSummaries", [])
        named = [summary for summary in summaries if summary["TransformJobName"].startswith(prefix)]
        return named[0] if named else None

    def start_transform(self, images: list[str], whole_set: bool) -> str:
        """A transform of the whole validation prefix, or of a manifest listing just ``images``."""
        self.ensure_model()
        name = self.model.transform_name(datetime.now(UTC))
        source = {"S3DataType": "S3Prefix", "S3Uri": self.model.validation_uri}
        if not whole_set:
            source = {"S3DataType": "ManifestFile", "S3Uri": self.put_manifest(name, images)}
        instance_type = self.settings.instance_type
        try:
            self.sagemaker.create_transform_job(
                TransformJobName=name,
                ModelName=self.model.model_name,
                BatchStrategy="SingleRecord",
                TransformInput={
                    "DataSource": {"S3DataSource": source},
                    "ContentType": CONTENT_TYPE,
                    "SplitType": "None",
                    "CompressionType": "None",
                },
                TransformOutput={
                    "S3OutputPath": self.model.output_uri,
                    "Accept": ACCEPT,
                    "AssembleWith": "None",
                },
                TransformResources={"InstanceType": instance_type, "InstanceCount": 1},
                Tags=layout.job_tags(self.settings.stage),
            )
        except Exception as error:
            if error_code(error) == "ResourceLimitExceeded":
                raise TrainingError(
                    f"no quota for a {instance_type} transform job: request '{instance_type} for transform "
                    "job usage' in Service Quotas, or pass --instance-type ml.m5.xlarge (CPU, slower)"
                ) from None
            raise
        say(
            f"started transform job {name}: {len(images)} images on 1 x {instance_type}, billed while "
            f"it runs; outputs go to {self.model.output_uri}"
        )
        return name

    def ensure_model(self) -> None:
        """The SageMaker model of the job's artifact, made unless an interrupted run left it."""
        try:
            self.sagemaker.describe_model(ModelName=self.model.model_name)
            return
        except Exception as error:
            if not is_not_found(error):
                raise
        self.sagemaker.create_model(
            ModelName=self.model.model_name,
            ExecutionRoleArn=self.model.role_arn,
            PrimaryContainer={"Image": self.model.image, "ModelDataUrl": self.model.artifact},
            Tags=layout.job_tags(self.settings.stage),
        )

    def delete_model(self) -> None:
        """Tidy up: the model costs nothing, but is needed only while a transform runs."""
        try:
            self.sagemaker.delete_model(ModelName=self.model.model_name)
        except Exception as error:
            if not is_not_found(error):
                say(f"warning: could not delete model {self.model.model_name} ({error}): delete it by hand")

    def put_manifest(self, name: str, images: list[str]) -> str:
        """A manifest of ``images`` under the validation prefix, next to the outputs; its URI."""
        bucket, key = split_s3_uri(f"{self.model.evaluation_uri}manifests/{name}.json")
        body = json.dumps([{"prefix": self.model.validation_uri}, *images])
        self.s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/json")
        return s3_url(bucket, key)

    def wait(self, name: str, images: list[str]) -> dict[str, Any]:
        """Polls until the transform ends, saying how many of ``images`` have an output so far."""
        last_line = None
        try:
            while True:
                job = self.sagemaker.describe_transform_job(TransformJobName=name)
                status = job["TransformJobStatus"]
                line = f"transform job {name} {status}"
                if status in RUNNING:
                    line += f": {len(self.output_keys(images))}/{len(images)} outputs"
                if line != last_line:
                    say(f"[{datetime.now(UTC):%H:%M:%S}] {line}")
                    last_line = line
                if status not in RUNNING:
                    return job
                pause(POLL_SECONDS)
        except KeyboardInterrupt:
            say(
                f"stopped waiting; transform job {name} keeps running (and billing): run the same "
                "command again to wait for it and read its outputs, or stop it with "
                f"`aws sagemaker stop-transform-job --transform-job-name {name}`"
            )
            raise

    # --- Outputs -----------------------------------------------------------------------------
    def output_keys(self, images: Collection[str]) -> dict[str, str]:
        """The output object of each of ``images`` that has one: ``image -> key``."""
        wanted = set(images)
        prefix = split_s3_uri(self.model.output_uri)[1]
        found: dict[str, str] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                image = image_of_output(item["Key"][len(prefix) :], wanted)
                if image is not None:
                    found[image] = item["Key"]
        return found

    def fetch_outputs(self, outputs: dict[str, str], classes: int, cache: IO[str]) -> None:
        """Read each image's output and append it to the cache as it arrives."""
        progress = ImageProgress("read", len(outputs))

        def read(image: str) -> list[float]:
            return read_output(self.s3, self.bucket, outputs[image], classes)

        with in_threads(read, list(outputs), FETCH_WORKERS) as results:
            for image, future in results:
                append_predictions(cache, [(image, future.result())])
                progress.file_done()
        progress.finish()


def image_of_output(relative_key: str, images: Collection[str]) -> str | None:
    """The image an output answers: ``<image>.out`` under the output path. Leading folders that
    are not part of an image's path are skipped: SageMaker's documentation also shows the input
    prefix's last folder in output keys."""
    if not relative_key.endswith(".out"):
        return None
    path = relative_key.removesuffix(".out")
    while path not in images:
        if "/" not in path:
            return None
        path = path.split("/", 1)[1]
    return path


def read_output(s3: Any, bucket: str, key: str, classes: int) -> list[float]:
    """One output: the JSON list of ``classes`` probabilities the algorithm answers for an image."""
    where = s3_url(bucket, key)
    try:
        probabilities = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ValueError:
        probabilities = None
    if not isinstance(probabilities, list) or not all(_is_probability(p) for p in probabilities):
        raise TrainingError(f"{where} is not a JSON list of probabilities (the algorithm's answer)")
    if len(probabilities) != classes:
        raise TrainingError(
            f"{where} has {len(probabilities)} probabilities for {classes} classes: "
            "the model was trained on another class list"
        )
    return [float(p) for p in probabilities]


def _is_probability(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_complete(
    model: TrainedModel, pending: Sequence[str], outputs: dict[str, str], ended: dict[str, Any] | None
) -> None:
    """TrainingError naming the images still without an output, and why, once the rest is cached."""
    without = [image for image in pending if image not in outputs]
    if not without:
        return
    count = f"{len(without)} of {len(pending)} images have no output (e.g. {without[0]})"
    if ended is not None and ended["TransformJobStatus"] != "Completed":
        reason = one_line(ended.get("FailureReason") or "no reason given")
        raise TrainingError(
            f"transform job {ended['TransformJobName']} {ended['TransformJobStatus'].lower()} ({reason}); "
            f"{count}; the others are cached: run again to transform only the missing ones"
        )
    raise TrainingError(
        f"{count} in {model.output_uri}; the others are cached: is the validation list the one "
        f"{model.job_name} was trained with? Run again to transform the missing ones"
    )
