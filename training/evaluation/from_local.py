"""Predictions on this machine's CPU (``evaluate local --model SOURCE``): the trained model run by the
same runtime as ``python -m local`` (``local.model``: the MXNet artifact converted to ONNX), over the
local validation images, with no Batch Transform and no endpoint.

Images go through ``CpuModel.predict_batch`` a batch at a time (one ONNX Runtime call per batch: about
1.5x the images per second of one call per image on a ResNet-50), and each batch's predictions are
appended to the cache as soon as it is done, so an interruption loses at most one batch. An image that
does not decode is reported and left out; the rest of its batch is predicted one by one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from training.console import say
from training.errors import TrainingError
from training.evaluation import collection
from training.evaluation.collection import ImageProgress
from training.evaluation.data import ValidationSet, append_predictions, load_validation_set

DEFAULT_BATCH_SIZE = 16
JOB_ARTIFACT = re.compile(r"^s3://[^/]+/(?:.*/)?([A-Za-z0-9](?:-*[A-Za-z0-9]){0,62})/output/model\.tar\.gz$")
JOB_NAME = re.compile(r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$")


@dataclass(frozen=True)
class LocalRequest:
    """What ``evaluate local`` was asked: the model, the prepared dataset and the cache."""

    model_source: str  # model.tar.gz, an extracted folder, s3://.../model.tar.gz or a training job name
    lists: Path
    predictions: Path
    batch_size: int = DEFAULT_BATCH_SIZE


def job_of_model(source: str) -> str | None:
    """The training job a model source names: itself when it is a job name (and no such local path),
    or ``JOB`` in a training job's artifact URL ``s3://.../JOB/output/model.tar.gz``; else None."""
    match = JOB_ARTIFACT.match(source)
    if match:
        return match.group(1)
    if JOB_NAME.match(source) and not Path(source).expanduser().exists():
        return source
    return None


def collect(request: LocalRequest) -> None:
    """Predict the validation images the cache lacks with the model on the CPU, appending to the cache.

    Raises ``TrainingError`` when the model cannot be loaded, has another number of classes than the
    dataset, or some images could not be predicted (after caching all the others).
    """
    validation = load_validation_set(
        request.lists, extract_to=collection.dataset_cache_dir(request.predictions)
    )
    pending = collection.announce_pending(
        validation, request.predictions, f"{request.model_source} on this CPU, {request.batch_size} at a time"
    )
    if not pending:
        return
    model = load_model(request.model_source)
    if model.num_classes != len(validation.class_names):
        raise TrainingError(
            f"{request.model_source} has {model.num_classes} classes, {request.lists} has "
            f"{len(validation.class_names)}: the model was trained on another class list"
        )
    with collection.appending(request.predictions) as cache:
        failures = predict_images(model, validation, pending, cache, request.batch_size)
    if failures:
        raise TrainingError(
            f"{len(failures)} of {len(pending)} images could not be predicted (see above) and have no "
            "prediction; the others are cached: analyse them with `python -m training evaluate "
            f"predictions --lists {request.lists} --predictions {request.predictions}`"
        )


def load_model(source: str) -> Any:
    """``local.model.load(source)``, its errors as ``TrainingError`` (ONNX Runtime loads only here)."""
    from local.model import ModelLoadError, load

    say(f"loading {source} for the CPU (converting it to ONNX)")
    try:
        return load(source)
    except ModelLoadError as error:
        raise TrainingError(f"cannot load the model: {error}") from None


def predict_images(
    model: Any, validation: ValidationSet, images: Sequence[str], cache: IO[str], batch_size: int
) -> dict[str, str]:
    """Predict ``images`` ``batch_size`` at a time, appending each batch to ``cache``; returns the
    images that failed with the reason (each also said on stderr)."""
    failures: dict[str, str] = {}
    progress = ImageProgress("predicted", len(images), rate=True)
    try:
        for first in range(0, len(images), batch_size):
            batch = list(images[first : first + batch_size])
            predicted = predict_batch(model, validation, batch, failures)
            append_predictions(cache, predicted)
            for _ in predicted:
                progress.file_done()
            for _ in range(len(batch) - len(predicted)):
                progress.image_failed()
    finally:
        progress.finish()
    return failures


def predict_batch(
    model: Any, validation: ValidationSet, batch: list[str], failures: dict[str, str]
) -> list[tuple[str, list[float]]]:
    """The batch's predictions in one runtime call; when an image in it fails, one by one instead."""
    from local.model import ImageDecodeError

    readable = {}
    for image in batch:
        try:
            readable[image] = validation.image_file(image).read_bytes()
        except OSError as error:
            fail(image, f"cannot read {validation.image_file(image)}: {error.strerror or error}", failures)
    try:
        return list(zip(readable, model.predict_batch(list(readable.values())), strict=True))
    except ImageDecodeError:
        pass
    predicted = []
    for image, data in readable.items():
        try:
            predicted.append((image, model.predict(data)))
        except ImageDecodeError as error:
            fail(image, str(error), failures)
    return predicted


def fail(image: str, reason: str, failures: dict[str, str]) -> None:
    failures[image] = reason
    say(f"error: {image}: {reason}")
