"""training.evaluation.metrics.compare: per-class changes between two metrics.json contents."""

from __future__ import annotations

import pytest

from training.errors import TrainingError
from training.evaluation import metrics


def metrics_json(accuracy: float, top5: float, recalls: dict[str, float]) -> dict:
    """A minimal metrics.json: precision and f1 follow recall so each delta is checkable."""
    classes = [
        {"id": i, "name": name, "precision": recall / 2, "recall": recall, "f1": recall / 4, "support": 10}
        for i, (name, recall) in enumerate(recalls.items())
    ]
    return {"accuracy": accuracy, "top5_accuracy": top5, "classes": classes}


CURRENT = metrics_json(0.83, 0.97, {"malamute": 0.8, "Eskimo dog": 0.3, "Siberian husky": 0.6, "new": 1.0})
PREVIOUS = metrics_json(0.80, 0.95, {"Siberian husky": 0.9, "malamute": 0.7, "Eskimo dog": 0.03, "old": 0.5})


def test_compare_reports_accuracy_and_top5_changes() -> None:
    result = metrics.compare(CURRENT, PREVIOUS)
    assert result["accuracy"] == {"current": 0.83, "previous": 0.80, "delta": pytest.approx(0.03)}
    assert result["top5_accuracy"] == {"current": 0.97, "previous": 0.95, "delta": pytest.approx(0.02)}


def test_compare_matches_classes_by_name_and_reports_each_delta() -> None:
    eskimo = next(c for c in metrics.compare(CURRENT, PREVIOUS)["classes"] if c["name"] == "Eskimo dog")
    assert eskimo == {
        "name": "Eskimo dog",
        "recall": 0.3,
        "previous_recall": 0.03,
        "recall_delta": pytest.approx(0.27),
        "precision_delta": pytest.approx(0.135),
        "f1_delta": pytest.approx(0.0675),
        "support": 10,
        "previous_support": 10,
        "beyond_noise": True,
    }


def test_compare_lists_the_largest_recall_drop_first() -> None:
    result = metrics.compare(CURRENT, PREVIOUS)
    assert [c["name"] for c in result["classes"]] == ["Siberian husky", "malamute", "Eskimo dog"]


def test_compare_names_classes_found_on_one_side_only() -> None:
    result = metrics.compare(CURRENT, PREVIOUS)
    assert (result["only_current"], result["only_previous"]) == (["new"], ["old"])


def test_compare_of_a_model_with_itself_has_no_changes() -> None:
    result = metrics.compare(CURRENT, CURRENT)
    assert {c["recall_delta"] for c in result["classes"]} == {0.0} and result["accuracy"]["delta"] == 0.0


@pytest.mark.parametrize(
    ("previous", "message"),
    [
        ([1, 2], "not a JSON object"),
        ({"top5_accuracy": 0.9, "classes": []}, "no numeric 'accuracy'"),
        ({"accuracy": 0.9, "top5_accuracy": 0.9}, "no 'classes' list"),
        ({"accuracy": 0.9, "top5_accuracy": 0.9, "classes": [{"name": "a"}]}, "needs a name and precision"),
    ],
)
def test_compare_refuses_previous_metrics_that_are_not_a_metrics_json(previous, message) -> None:
    with pytest.raises(TrainingError, match=message):
        metrics.compare(CURRENT, previous)
