"""training.evaluation.analysis.evaluate_offline: a prepared dataset and cached predictions in, metrics.json
and report.html out; bad input is a TrainingError saying what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evaluation_fixtures import one_hot, predictions_for, write_dataset, write_predictions

from training.errors import TrainingError
from training.evaluation.analysis import evaluate_offline

CLASS_NAMES = ["Lhasa", "Maltese dog", "Shih-Tzu"]


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    root = tmp_path / "dataset"
    return root, write_dataset(root, CLASS_NAMES, validation_per_class=4, train_per_class=2)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict[str, int]]:
    """One run over every listed image but one, with one Shih-Tzu predicted as Lhasa."""
    root = tmp_path_factory.mktemp("evaluated")
    listed = write_dataset(root / "dataset", CLASS_NAMES, validation_per_class=4, train_per_class=2)
    shih_tzu = [image for image, class_id in listed.items() if class_id == 2]
    predictions = predictions_for(listed, len(CLASS_NAMES), wrong={shih_tzu[0]: 0})
    del predictions[shih_tzu[1]]
    write_predictions(root / "predictions.jsonl", predictions)
    report_dir = root / "new" / "report"
    result = evaluate_offline(root / "dataset", root / "predictions.jsonl", report_dir)
    return report_dir, result, listed


def test_evaluate_offline_writes_metrics_json_and_report_html(evaluated) -> None:
    report_dir, _, _ = evaluated
    assert sorted(path.name for path in report_dir.iterdir()) == ["metrics.json", "report.html"]
    assert "<h2" in (report_dir / "report.html").read_text(encoding="utf-8")


def test_evaluate_offline_returns_what_metrics_json_holds(evaluated) -> None:
    report_dir, result, _ = evaluated
    assert json.loads((report_dir / "metrics.json").read_text(encoding="utf-8")) == result


def test_metrics_json_has_a_field_a_line_and_a_lists_items_one_a_line(evaluated) -> None:
    report_dir, result, _ = evaluated
    lines = (report_dir / "metrics.json").read_text(encoding="utf-8").splitlines()
    assert f'  "accuracy": {json.dumps(result["accuracy"])},' in lines
    assert [f"    {json.dumps(row)}," for row in result["confusion"][:-1]] == [
        line for line in lines if line.startswith("    [")
    ][:-1]
    assert lines[0] == "{" and lines[-1] == "}"


def test_evaluate_offline_evaluates_the_predicted_images_and_counts_the_missing(evaluated) -> None:
    _, result, listed = evaluated
    assert (result["images"], result["missing_predictions"]) == (len(listed) - 1, 1)
    assert result["accuracy"] == pytest.approx(10 / 11, abs=1e-6)
    assert result["suspected_label_errors"][0]["label"] == "Shih-Tzu"


def test_evaluate_offline_compares_with_an_earlier_metrics_json(evaluated, dataset, tmp_path) -> None:
    previous, _, _ = evaluated
    root, listed = dataset
    write_predictions(tmp_path / "p.jsonl", predictions_for(listed, len(CLASS_NAMES)))
    evaluate_offline(root, tmp_path / "p.jsonl", tmp_path / "r", compare_path=previous / "metrics.json")
    assert "Change since the previous model" in (tmp_path / "r" / "report.html").read_text(encoding="utf-8")


def test_evaluate_offline_refuses_a_report_folder_that_is_a_file(dataset, tmp_path) -> None:
    root, listed = dataset
    write_predictions(tmp_path / "p.jsonl", predictions_for(listed, len(CLASS_NAMES)))
    (tmp_path / "taken").write_text("", encoding="utf-8")
    with pytest.raises(TrainingError, match="taken is a file"):
        evaluate_offline(root, tmp_path / "p.jsonl", tmp_path / "taken")


def test_prediction_for_an_image_not_in_the_list_is_refused(dataset, tmp_path) -> None:
    root, listed = dataset
    predictions = {**predictions_for(listed, len(CLASS_NAMES)), "elsewhere/dog.jpg": one_hot(0, 3)}
    write_predictions(tmp_path / "p.jsonl", predictions)
    with pytest.raises(TrainingError, match="'elsewhere/dog.jpg' is not in validation.lst"):
        evaluate_offline(root, tmp_path / "p.jsonl", tmp_path / "report")


def test_probabilities_of_the_wrong_length_are_refused(dataset, tmp_path) -> None:
    root, listed = dataset
    write_predictions(tmp_path / "p.jsonl", predictions_for(listed, 120))
    with pytest.raises(TrainingError, match="120 probabilities for 3 classes"):
        evaluate_offline(root, tmp_path / "p.jsonl", tmp_path / "report")


def test_a_class_id_that_classes_json_lacks_is_refused(dataset, tmp_path) -> None:
    root, listed = dataset
    with (root / "validation.lst").open("a", encoding="utf-8") as lst:
        lst.write("99\t7\tc007/stray.jpg\n")
    write_predictions(tmp_path / "p.jsonl", predictions_for(listed, len(CLASS_NAMES)))
    with pytest.raises(TrainingError, match=r"class id 7 is not in .*classes.json \(0 to 2\)"):
        evaluate_offline(root, tmp_path / "p.jsonl", tmp_path / "report")


def test_an_empty_predictions_file_is_refused(dataset, tmp_path) -> None:
    root, _ = dataset
    (tmp_path / "p.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(TrainingError, match="is empty or missing"):
        evaluate_offline(root, tmp_path / "p.jsonl", tmp_path / "report")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("{not json", "is not valid JSON"),
        ('{"accuracy": 0.8}', "has no numeric 'top5_accuracy'"),
    ],
)
def test_a_bad_compare_file_is_refused_before_anything_is_written(
    dataset, tmp_path, content, message
) -> None:
    root, listed = dataset
    write_predictions(tmp_path / "p.jsonl", predictions_for(listed, len(CLASS_NAMES)))
    compare = tmp_path / "previous.json"
    if content is not None:
        compare.write_text(content, encoding="utf-8")
    with pytest.raises(TrainingError, match=f"{message}.*an earlier evaluation wrote"):
        evaluate_offline(root, tmp_path / "p.jsonl", tmp_path / "report", compare_path=compare)
    assert not (tmp_path / "report").exists()


@pytest.mark.parametrize("threshold", [0.0, 1.5])
def test_a_suspect_threshold_outside_zero_to_one_is_refused(dataset, tmp_path, threshold) -> None:
    root, listed = dataset
    write_predictions(tmp_path / "p.jsonl", predictions_for(listed, len(CLASS_NAMES)))
    with pytest.raises(TrainingError, match="use a probability in"):
        evaluate_offline(root, tmp_path / "p.jsonl", tmp_path / "report", suspect_threshold=threshold)
