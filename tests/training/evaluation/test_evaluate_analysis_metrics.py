"""training.evaluation.metrics: the gate, and compute() checked against numpy and scikit-learn."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
from evaluation_fixtures import eskimo_dog_predictions, image_names, names, one_hot, random_predictions
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    precision_recall_fscore_support,
    top_k_accuracy_score,
)

from training.evaluation import metrics

CLASSES, IMAGES, SEED = 6, 200, 7


@pytest.fixture(scope="module")
def seeded() -> tuple[np.ndarray, np.ndarray, dict]:
    labels, probabilities = random_predictions(CLASSES, IMAGES, SEED)
    result = metrics.compute(labels, probabilities, names(CLASSES), images=image_names(IMAGES))
    return np.array(labels), np.array(probabilities), result


def test_gate_metric_is_the_metric_tuning_maximises() -> None:
    assert metrics.GATE_METRIC == "validation:accuracy"


def test_meets_gate_passes_accuracy_equal_to_the_minimum() -> None:
    assert metrics.meets_gate(0.8, 0.8)


def test_meets_gate_fails_accuracy_below_the_minimum() -> None:
    assert not metrics.meets_gate(0.7999, 0.8)


def test_importing_metrics_loads_neither_numpy_nor_scikit_learn() -> None:
    code = "import sys, training.evaluation.metrics; print(sorted({'numpy', 'sklearn'} & set(sys.modules)))"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "[]"


def test_accuracy_matches_numpy(seeded) -> None:
    labels, probabilities, result = seeded
    assert result["accuracy"] == pytest.approx(np.mean(probabilities.argmax(axis=1) == labels), abs=1e-6)


def test_top5_accuracy_matches_numpy(seeded) -> None:
    labels, probabilities, result = seeded
    top5 = np.argsort(-probabilities, axis=1)[:, :5]
    expected = np.mean([label in row for label, row in zip(labels, top5, strict=True)])
    assert 0 < expected < 1
    assert result["top5_accuracy"] == pytest.approx(expected, abs=1e-6)


def test_per_class_precision_recall_f1_support_match_numpy(seeded) -> None:
    labels, probabilities, result = seeded
    predicted = probabilities.argmax(axis=1)
    for class_id, entry in enumerate(result["classes"]):
        hits = np.sum((predicted == class_id) & (labels == class_id))
        precision = hits / max(np.sum(predicted == class_id), 1)
        recall = hits / np.sum(labels == class_id)
        f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
        measured = {key: value for key, value in entry.items() if not key.startswith("recall_")}
        assert measured == {
            "id": class_id,
            "name": names(CLASSES)[class_id],
            "precision": pytest.approx(precision, abs=1e-6),
            "recall": pytest.approx(recall, abs=1e-6),
            "f1": pytest.approx(f1, abs=1e-6),
            "support": int(np.sum(labels == class_id)),
        }


def test_confusion_matrix_matches_numpy_with_true_rows_and_predicted_columns(seeded) -> None:
    labels, probabilities, result = seeded
    expected = np.zeros((CLASSES, CLASSES), dtype=int)
    np.add.at(expected, (labels, probabilities.argmax(axis=1)), 1)
    assert result["confusion"] == expected.tolist()


@st.composite
def prediction_sets(draw: st.DrawFn) -> tuple[list[int], list[list[float]], int]:
    classes = draw(st.integers(min_value=2, max_value=8))
    images = draw(st.integers(min_value=1, max_value=25))
    labels = draw(st.lists(st.integers(0, classes - 1), min_size=images, max_size=images))
    row = st.lists(st.floats(0.0, 1.0), min_size=classes, max_size=classes)
    probabilities = draw(st.lists(row, min_size=images, max_size=images))
    return labels, probabilities, classes


@settings(max_examples=60, deadline=None)
@given(prediction_sets())
def test_metrics_match_scikit_learn_for_any_small_prediction_set(case) -> None:
    labels, probabilities, classes = case
    result = metrics.compute(labels, probabilities, names(classes), images=image_names(len(labels)))
    ids = list(range(classes))
    predicted = np.array(probabilities).argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=ids, zero_division=0
    )
    top5 = top_k_accuracy_score(labels, probabilities, k=5, labels=ids) if classes > 5 else 1.0
    assert result["accuracy"] == pytest.approx(accuracy_score(labels, predicted), abs=1e-6)
    assert result["top5_accuracy"] == pytest.approx(top5, abs=1e-6)
    assert [c["precision"] for c in result["classes"]] == pytest.approx(precision.tolist(), abs=1e-6)
    assert [c["recall"] for c in result["classes"]] == pytest.approx(recall.tolist(), abs=1e-6)
    assert [c["f1"] for c in result["classes"]] == pytest.approx(f1.tolist(), abs=1e-6)
    assert [c["support"] for c in result["classes"]] == support.tolist()
    assert result["confusion"] == confusion_matrix(labels, predicted, labels=ids).tolist()


def test_top5_accuracy_is_one_with_five_classes_or_fewer() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scikit-learn would warn that k >= classes
        result = metrics.compute(
            [0, 1, 2], [one_hot(2, 5), one_hot(0, 5), one_hot(1, 5)], names(5), images=image_names(3)
        )
    assert (result["accuracy"], result["top5_accuracy"]) == (0.0, 1.0)


def test_metrics_are_plain_json_serialisable_values(seeded) -> None:
    result = seeded[2]
    assert json.loads(json.dumps(result)) == result
    assert type(result["accuracy"]) is float and type(result["confusion"][0][0]) is int


def test_most_confused_lists_most_frequent_pairs_first_then_by_name() -> None:
    # true 0 -> 2 twice; true 1 -> 0 and true 2 -> 1 once each (ties: by true name)
    labels = [0, 0, 2, 1, 0]
    probabilities = [one_hot(2, 3), one_hot(2, 3), one_hot(1, 3), one_hot(0, 3), one_hot(0, 3)]
    result = metrics.compute(labels, probabilities, ["c", "b", "a"], images=image_names(5))
    assert result["most_confused"] == [
        {"true": "c", "predicted": "a", "count": 2},
        {"true": "a", "predicted": "b", "count": 1},
        {"true": "b", "predicted": "c", "count": 1},
    ]


def test_most_confused_is_empty_when_every_prediction_is_right() -> None:
    result = metrics.compute([0, 1], [one_hot(0, 3), one_hot(1, 3)], names(3), images=image_names(2))
    assert result["most_confused"] == []


def test_suspected_label_errors_need_another_class_at_or_above_the_threshold() -> None:
    probabilities = [one_hot(1, 3, 0.9), one_hot(1, 3, 0.89), one_hot(0, 3, 0.99)]
    result = metrics.compute([0, 0, 0], probabilities, names(3), images=["at", "below", "right"])
    assert [s["image"] for s in result["suspected_label_errors"]] == ["at"]
    assert result["suspected_label_errors"][0] == {
        "image": "at",
        "label": "breed 00",
        "predicted": "breed 01",
        "confidence": 0.9,
    }


def test_suspected_label_errors_are_most_confident_first() -> None:
    probabilities = [one_hot(1, 3, 0.92), one_hot(2, 3, 0.99), one_hot(1, 3, 0.95)]
    result = metrics.compute([0, 0, 0], probabilities, names(3), images=["a", "b", "c"])
    assert [s["confidence"] for s in result["suspected_label_errors"]] == [0.99, 0.95, 0.92]


def test_eskimo_dog_has_low_recall_and_its_look_alikes_top_most_confused() -> None:
    labels, probabilities, breeds = eskimo_dog_predictions()
    result = metrics.compute(labels, probabilities, breeds, images=image_names(len(labels)))
    eskimo = next(c for c in result["classes"] if c["name"] == "Eskimo dog")
    assert eskimo["recall"] == pytest.approx(0.1)
    assert result["most_confused"][:2] == [
        {"true": "Eskimo dog", "predicted": "malamute", "count": 5},
        {"true": "Eskimo dog", "predicted": "Siberian husky", "count": 4},
    ]


def test_compute_refuses_probabilities_that_do_not_fit_the_class_list() -> None:
    with pytest.raises(ValueError, match="do not fit 3 classes"):
        metrics.compute([0], [[0.5, 0.5]], names(3), images=["a"])
