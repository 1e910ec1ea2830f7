"""Predictions from the deployed API (``evaluate api --url URL``): the local validation images, a few
at a time, through ``client.api.predict`` and its retries on 429/503 (honouring ``Retry-After``).

Each answer asks for every class (``topK`` = the class count) and becomes the probability vector
in class-id order. Workers only predict; the calling thread appends each result to the cache as it
completes, so an interruption keeps everything answered so far. An image that fails is reported and
left out (a re-run retries it); a failure every image would meet (URL, key, network, another
model or class list behind the API) stops the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from client.api import DEFAULT_TIMEOUT_SECONDS, MAX_RETRIES, ApiError, predict
from client.images import ImageError, prepare_image
from training.console import say
from training.errors import TrainingError
from training.evaluation import collection
from training.evaluation.collection import ImageProgress, in_threads
from training.evaluation.data import ValidationSet, append_predictions, load_validation_set


@dataclass(frozen=True)
class ApiTarget:
    """Where to send the images and what model must answer (the job's name, when known)."""

    url: str
    api_key: str | None
    expected_model: str | None
    concurrency: int
    timeout: float = DEFAULT_TIMEOUT_SECONDS


def collect(target: ApiTarget, lists: Path, predictions: Path) -> None:
    """Predict the images of ``lists`` the cache at ``predictions`` lacks through the API.

    Raises ``TrainingError`` when some images failed (after caching all the others)."""
    validation = load_validation_set(lists, extract_to=collection.dataset_cache_dir(predictions))
    how = f"{target.url}, {target.concurrency} at a time"
    pending = collection.announce_pending(validation, predictions, how)
    if not pending:
        return
    with collection.appending(predictions) as cache:
        failures = collect_from_api(target, validation, pending, cache)
    if failures:
        raise TrainingError(
            f"{len(failures)} of {len(pending)} images failed (see above) and have no prediction: run the "
            "same command again to retry only those, or analyse what was collected with "
            f"`python -m training evaluate predictions --lists {lists} --predictions {predictions}`"
        )


def collect_from_api(
    target: ApiTarget, validation: ValidationSet, images: Sequence[str], cache: IO[str]
) -> dict[str, str]:
    """Predict ``images`` and append each to ``cache``; returns the failed images with the reason.

    Raises ``TrainingError`` (after cancelling what was not sent yet) for a failure that every
    image would meet.
    """
    progress = ImageProgress("predicted", len(images))
    failures: dict[str, str] = {}

    def work(image: str) -> list[float]:
        return predict_image(target, validation, image)

    with in_threads(work, images, target.concurrency) as results:
        for image, future in results:
            probabilities = result_or_failure(future, image, failures)
            if probabilities is None:
                progress.image_failed()
            else:
                append_predictions(cache, [(image, probabilities)])
                progress.file_done()
    progress.finish()
    return failures


def result_or_failure(
    future: Future[list[float]], image: str, failures: dict[str, str]
) -> list[float] | None:
    """The image's probabilities; None after recording a failure of this image alone."""
    try:
        return future.result()
    except ImageError as error:
        reason = error.reason
    except ApiError as error:
        if error.affects_every_request:
            raise TrainingError(
                f"{image}: {error}; stopped, as every other image would fail the same way "
                "(what was predicted is kept: run again to predict the rest)"
            ) from None
        reason = str(error)
    failures[image] = reason
    say(f"error: {image}: {reason}")
    return None


def predict_image(target: ApiTarget, validation: ValidationSet, image: str) -> list[float]:
    """One image's probabilities in class-id order (runs in a worker thread)."""
    prepared = prepare_image(validation.image_file(image))

    def tell_retry(error: ApiError, wait: float, attempt: int) -> None:
        say(f"{image}: {str(error).rstrip('.')}; retrying in {wait:g} s ({attempt}/{MAX_RETRIES})")

    answer = predict(
        target.url,
        prepared.data,
        target.api_key,
        top_k=len(validation.class_names),
        timeout=target.timeout,
        on_retry=tell_retry,
    )
    check_model(answer, target)
    return probability_vector(answer, validation.class_names)


def check_model(answer: dict[str, Any], target: ApiTarget) -> None:
    model = answer.get("model")
    if target.expected_model is not None and model != target.expected_model:
        raise TrainingError(
            f"the API at {target.url} serves model {model}, not {target.expected_model}: evaluate "
            f"with --job {model}, or promote and deploy {target.expected_model} first"
        )


def probability_vector(answer: dict[str, Any], class_names: Sequence[str]) -> list[float]:
    """The answer's predictions (breed, classId, probability for every class) in class-id order.

    Raises ``TrainingError`` when the API's classes are not the local list's: another model.
    """
    vector: list[float | None] = [None] * len(class_names)
    for prediction in answer["predictions"]:
        class_id = prediction.get("classId")
        if not isinstance(class_id, int) or not 0 <= class_id < len(class_names):
            raise TrainingError(
                f"the API answered class id {class_id!r}, but --lists has {len(class_names)} classes: "
                "the API serves a model trained on another class list"
            )
        if prediction["breed"] != class_names[class_id]:
            raise TrainingError(
                f"the API calls class {class_id} {prediction['breed']!r}, --lists calls it "
                f"{class_names[class_id]!r}: the API serves a model trained on another class list"
            )
        vector[class_id] = float(prediction["probability"])
    missing = [class_id for class_id, value in enumerate(vector) if value is None]
    if missing:
        raise TrainingError(
            f"the API answered {len(class_names) - len(missing)} of {len(class_names)} classes "
            f"(asked for all): it serves a model trained on another class list"
        )
    return [value for value in vector if value is not None]
