"""The predictions cache while collecting: resuming after a torn last line, refusing another dataset's."""

from __future__ import annotations

import json

import pytest
from cli_aws_helpers import run_cli
from evaluate_collect_helpers import VALIDATION, StandInApi, probabilities_for, serving, write_local_dataset

from training.errors import TrainingError
from training.evaluation.collection import ImageProgress, appending, pending_images
from training.evaluation.data import load_predictions, load_validation_set

IMAGES = list(VALIDATION)


@pytest.fixture
def lists(tmp_path):
    return write_local_dataset(tmp_path / "out")


def line(image: str) -> str:
    return json.dumps({"image": image, "probabilities": probabilities_for(image)})


def test_rerun_after_a_torn_last_line_predicts_that_image_again_and_leaves_a_loadable_file(
    lists, tmp_path, capsys
):
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text(line(IMAGES[0]) + "\n" + line(IMAGES[1]) + "\n" + line(IMAGES[2])[:25])
    api = StandInApi()

    with serving(api) as url:
        status, _, _ = run_cli(
            capsys,
            *("evaluate", "api", "--url", url, "--lists", lists),
            *("--predictions", predictions, "--collect-only"),
        )

    assert status == 0
    assert sorted(api.requests) == sorted(IMAGES[2:])
    assert set(load_predictions(predictions, load_validation_set(lists))) == set(IMAGES)


def test_a_complete_last_line_missing_only_its_newline_is_kept(tmp_path):
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text(line(IMAGES[0]))

    with appending(predictions) as cache:
        cache.write(line(IMAGES[1]) + "\n")

    assert predictions.read_text() == line(IMAGES[0]) + "\n" + line(IMAGES[1]) + "\n"


def test_pending_images_are_the_listed_ones_without_a_prediction_in_list_order(lists, tmp_path):
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text(line(IMAGES[1]) + "\n" + line(IMAGES[4]) + "\n")

    pending = pending_images(load_validation_set(lists), predictions)

    assert pending == [IMAGES[0], IMAGES[2], IMAGES[3], IMAGES[5]]


def test_a_cache_of_another_dataset_is_refused_before_anything_is_predicted(lists, tmp_path):
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text(json.dumps({"image": "n099/elsewhere.jpg", "probabilities": [1.0, 0, 0]}) + "\n")

    with pytest.raises(
        TrainingError, match="holds predictions for 1 images that are not in the validation list"
    ):
        pending_images(load_validation_set(lists), predictions)


def test_progress_line_counts_images_and_failures(tmp_path):
    with (tmp_path / "progress.txt").open("w") as stream:
        progress = ImageProgress("predicted", 6, stream=stream)
        progress.file_done()
        progress.image_failed()

        assert progress.line() == "predicted 2/6 images, 1 failed"
