"""The training workflow's input contract: what `train` sends is exactly what the data check reads."""

from __future__ import annotations

import pytest

from core.workflow_input import WorkflowInput, WorkflowInputError

JOB = "dogbreeds-dev-20261128-170000"


def test_round_trip_through_json_keeps_every_field() -> None:
    sent = WorkflowInput(JOB, "datasets/dogs/", "recordio", {"learning_rate": "0.001"}, 2)
    assert WorkflowInput.from_json(sent.to_json()) == sent


def test_json_form_is_the_state_machines_camel_case_input() -> None:
    assert WorkflowInput(JOB, "datasets/dogs/").to_dict() == {
        "trainingJobName": JOB,
        "dataset": "datasets/dogs/",
        "format": "lst",
        "hyperParameters": {},
        "instanceCount": 1,
    }


def test_missing_optional_fields_take_their_defaults() -> None:
    received = WorkflowInput.from_dict({"trainingJobName": JOB, "dataset": "datasets/dogs"})
    assert (received.format, received.hyperparameters, received.instance_count) == ("lst", {}, 1)
    assert received.dataset == "datasets/dogs/"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"trainingJobName": "bad name!"}, "trainingJobName='bad name!': 1-63 letters, digits and hyphens"),
        ({"trainingJobName": None}, "trainingJobName=None"),
        ({"dataset": "elsewhere/"}, "dataset='elsewhere/': expected a prefix like 'datasets/NAME/'"),
        ({"dataset": "datasets/../x/"}, "dataset='datasets/../x/'"),
        ({"dataset": "datasets/"}, "dataset='datasets/'"),
        ({"format": "tfrecord"}, "format='tfrecord': allowed values are lst, recordio"),
        ({"hyperParameters": ["a"]}, "hyperParameters must be an object of name: value"),
        ({"instanceCount": 0}, "instanceCount=0: expected a whole number of at least 1"),
        ({"instanceCount": True}, "instanceCount=True"),
        ({"instanceCount": "2"}, "instanceCount='2'"),
        ({"extra": 1}, r"unknown fields \['extra'\]"),
    ],
)
def test_bad_input_is_refused_with_what_to_fix(fields, message) -> None:
    with pytest.raises(WorkflowInputError, match=message):
        WorkflowInput.from_dict({"trainingJobName": JOB, "dataset": "datasets/dogs/", **fields})


def test_non_object_input_says_how_to_start_a_run() -> None:
    with pytest.raises(
        WorkflowInputError, match="must be a JSON object; start runs with `python -m training train`"
    ):
        WorkflowInput.from_dict(["not", "an", "object"])


def test_text_that_is_not_json_is_refused() -> None:
    with pytest.raises(WorkflowInputError, match="the execution input is not JSON"):
        WorkflowInput.from_json("{")


def test_instance_count_above_the_stage_maximum_is_refused() -> None:
    request = WorkflowInput(JOB, "datasets/dogs/", instance_count=3)
    request.check_instance_count(3)
    with pytest.raises(WorkflowInputError, match=r"instanceCount=3: allowed values are 1 to 2 \(the stage's"):
        request.check_instance_count(2)


def test_input_is_immutable() -> None:
    request = WorkflowInput(JOB, "datasets/dogs/")
    with pytest.raises(AttributeError):
        request.instance_count = 2  # type: ignore[misc]
