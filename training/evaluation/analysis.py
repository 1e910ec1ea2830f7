"""The offline half of evaluation: from a prepared dataset's lists and cached predictions to
``metrics.json`` and ``report.html``, without AWS.

Predictions may cover only part of the validation list (an interrupted or sampled collection):
the images present are evaluated and ``metrics.json`` records how many listed images had none
(``missing_predictions``). The loaders refuse predictions for images the list does not have.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from training.errors import TrainingError
from training.evaluation import metrics as model_metrics
from training.evaluation.collection import EVALUATION_DIR, PREDICTIONS_FILE, dataset_cache_dir
from training.evaluation.data import ValidationSet, load_predictions, load_validation_set

METRICS_FILE = "metrics.json"


def evaluate_offline(
    lists_dir: Path,
    predictions_path: Path,
    report_dir: Path,
    *,
    compare_path: Path | None = None,
    suspect_threshold: float = 0.9,
    job: str | None = None,
    dataset_name: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Compute the metrics, write ``report_dir/metrics.json`` and ``report_dir/report.html``, and
    return the metrics. ``compare_path`` names an earlier run's ``metrics.json`` to compare with.

    ``job`` names the evaluated model (default: ``JOB`` when the predictions are the default
    ``evaluation/JOB/predictions.jsonl``), ``dataset_name`` the dataset (default: the folder's
    name). A RecordIO dataset's validation images are extracted next to the predictions.

    Raises ``TrainingError`` for bad input: see ``evaluation_data`` and ``load_previous_metrics``.
    """
    from training.evaluation.report import (
        write_report,  # Pillow loads only when a report is made
    )

    check_report_dir(report_dir)
    if not 0.0 < suspect_threshold <= 1.0:
        raise TrainingError(f"suspect threshold {suspect_threshold}: use a probability in (0, 1], e.g. 0.9")
    validation = load_validation_set(lists_dir, extract_to=extraction_dir(predictions_path))
    predictions = load_predictions(predictions_path, validation)
    previous = load_previous_metrics(compare_path) if compare_path is not None else None
    metrics = compute_metrics(validation, predictions, suspect_threshold)
    metrics = with_provenance(
        metrics,
        validation,
        job=job if job is not None else job_of(predictions_path),
        predictions_path=predictions_path,
        dataset_name=dataset_name,
        now=now or datetime.now(UTC),
    )
    comparison = model_metrics.compare(metrics, previous) if previous is not None else None
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        (report_dir / METRICS_FILE).write_text(metrics_json(metrics), encoding="utf-8")
        write_report(report_dir, metrics, validation, comparison=comparison)
    except OSError as error:
        raise TrainingError(f"cannot write the report to {report_dir}: {error.strerror or error}") from None
    return metrics


def metrics_json(metrics: dict[str, Any]) -> str:
    """``metrics.json``'s text: a key a line, and a list's items (classes, confusion rows) one a line.
    As easy to read as ``indent=2`` and made by json's C encoder, which ``indent`` turns off."""
    fields = []
    for key, value in metrics.items():
        text = json.dumps(value)
        if isinstance(value, list) and value:
            text = "[\n" + ",\n".join(f"    {json.dumps(item)}" for item in value) + "\n  ]"
        fields.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(fields) + "\n}\n"


def compute_metrics(
    validation: ValidationSet, predictions: dict[str, list[float]], suspect_threshold: float
) -> dict[str, Any]:
    """``metrics.compute`` over the listed images that have a prediction, in list order."""
    images = [image for image in validation.images if image in predictions]
    if not images:  # load_predictions already refuses this; kept so the function stands alone
        raise TrainingError("none of the predictions are for images in validation.lst")
    metrics = model_metrics.compute(
        [validation.images[image] for image in images],
        [predictions[image] for image in images],
        validation.class_names,
        images=images,
        suspect_threshold=suspect_threshold,
    )
    metrics["missing_predictions"] = len(validation.images) - len(images)
    return metrics


def with_provenance(
    metrics: dict[str, Any],
    validation: ValidationSet,
    *,
    job: str | None,
    predictions_path: Path,
    dataset_name: str | None,
    now: datetime,
) -> dict[str, Any]:
    """``metrics`` led by what was evaluated: ``model``, ``dataset`` and ``evaluated_at`` (docs/evaluation.md,
    "The files it writes", documents the fields)."""
    provenance = {
        "model": {"job": job, "predictions": str(predictions_path)},
        "evaluated_at": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dataset": {
            "name": dataset_name or validation.name,
            "format": validation.format,
            "sha256": validation.sha256,
            "validation_images": len(validation.images),
            "classes": len(validation.class_names),
        },
    }
    return provenance | metrics


def job_of(predictions_path: Path) -> str | None:
    """``JOB`` of a predictions file at the default place, ``evaluation/JOB/predictions.jsonl``."""
    parent = predictions_path.parent
    if (
        predictions_path.name == PREDICTIONS_FILE
        and parent.parent.name == EVALUATION_DIR.name
        and parent.name
    ):
        return parent.name
    return None


def extraction_dir(predictions_path: Path) -> Path:
    """Where a RecordIO dataset's validation images are extracted: ``dataset/`` next to the predictions."""
    return dataset_cache_dir(predictions_path)


def load_previous_metrics(path: Path) -> dict[str, Any]:
    """An earlier run's ``metrics.json``, checked; ``TrainingError`` says what is wrong with it."""
    hint = "the comparison takes the metrics.json an earlier evaluation wrote"
    if not path.is_file():
        raise TrainingError(f"{path} does not exist: {hint}")
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise TrainingError(f"{path} is not valid JSON ({error}): {hint}") from None
    except OSError as error:
        raise TrainingError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        model_metrics.check_metrics(previous, str(path))
    except TrainingError as error:
        raise TrainingError(f"{error}: {hint}") from None
    return previous


def check_report_dir(report_dir: Path) -> None:
    if report_dir.exists() and not report_dir.is_dir():
        raise TrainingError(f"{report_dir} is a file: the report goes into a folder (created if missing)")
