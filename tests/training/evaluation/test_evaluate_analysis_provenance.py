"""metrics.json and the report say which model was evaluated, when, and on which dataset."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from evaluation_fixtures import predictions_for, write_dataset, write_predictions

from training.evaluation.analysis import evaluate_offline

CLASS_NAMES = ["Lhasa", "Maltese dog", "Shih-Tzu"]
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def evaluated(tmp_path: Path, predictions: Path, **options) -> dict:
    listed = write_dataset(tmp_path / "dogs", CLASS_NAMES, validation_per_class=2, train_per_class=1)
    predictions.parent.mkdir(parents=True, exist_ok=True)
    write_predictions(predictions, predictions_for(listed, len(CLASS_NAMES)))
    return evaluate_offline(tmp_path / "dogs", predictions, tmp_path / "report", now=WHEN, **options)


def test_metrics_json_leads_with_model_date_and_dataset(tmp_path: Path) -> None:
    result = evaluated(tmp_path, tmp_path / "p.jsonl", job="dogbreeds-dev-20260101-120000")
    assert list(result)[:3] == ["model", "evaluated_at", "dataset"]
    assert result["model"] == {
        "job": "dogbreeds-dev-20260101-120000",
        "predictions": str(tmp_path / "p.jsonl"),
    }
    assert result["evaluated_at"] == "2026-01-02T03:04:05Z"
    digest = hashlib.sha256(
        (tmp_path / "dogs" / "classes.json").read_bytes()
        + (tmp_path / "dogs" / "validation.lst").read_bytes()
    ).hexdigest()
    assert result["dataset"] == {
        "name": "dogs",
        "format": "lst",
        "sha256": digest,
        "validation_images": 6,
        "classes": 3,
    }
    assert json.loads((tmp_path / "report" / "metrics.json").read_text(encoding="utf-8")) == result


def test_the_job_is_read_from_the_default_predictions_path(tmp_path: Path) -> None:
    result = evaluated(tmp_path, tmp_path / "evaluation" / "dogbreeds-dev-1" / "predictions.jsonl")
    assert result["model"]["job"] == "dogbreeds-dev-1"


def test_without_a_job_the_model_is_unnamed(tmp_path: Path) -> None:
    result = evaluated(tmp_path, tmp_path / "elsewhere.jsonl", dataset_name="stanford-dogs")
    assert result["model"]["job"] is None and result["dataset"]["name"] == "stanford-dogs"
    assert "unnamed (offline analysis)" in (tmp_path / "report" / "report.html").read_text(encoding="utf-8")


def test_report_header_names_the_job_date_and_dataset_hash(tmp_path: Path) -> None:
    result = evaluated(tmp_path, tmp_path / "p.jsonl", job="dogbreeds-dev-7")
    header = (tmp_path / "report" / "report.html").read_text(encoding="utf-8").split('<div class="cards">')[0]
    assert "dogbreeds-dev-7" in header and "2026-01-02T03:04:05Z" in header
    assert result["dataset"]["sha256"][:12] in header and "6 validation images" in header
