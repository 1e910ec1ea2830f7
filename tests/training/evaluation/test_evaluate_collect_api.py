"""``evaluate api --url URL --lists OUT``: predictions from a stand-in API on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_aws_helpers import run_cli
from evaluate_collect_helpers import (
    JOB,
    VALIDATION,
    StandInApi,
    probabilities_for,
    serving,
    write_local_dataset,
)

IMAGES = list(VALIDATION)
FAILING = IMAGES[3]


@pytest.fixture
def lists(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DOG_BREEDS_API_KEY", raising=False)
    return write_local_dataset(tmp_path / "out")


@pytest.fixture
def predictions(tmp_path):
    return tmp_path / "predictions.jsonl"


def collect(capsys, url, lists, predictions, *extra):
    return run_cli(
        capsys,
        "evaluate",
        "api",
        "--url",
        url,
        "--api-key",
        "test-key",
        "--lists",
        lists,
        "--predictions",
        predictions,
        "--collect-only",
        *extra,
    )


def cached(predictions: Path) -> dict[str, list[float]]:
    records = [json.loads(line) for line in predictions.read_text().splitlines()]
    return {record["image"]: record["probabilities"] for record in records}


def test_api_answers_become_probability_vectors_in_class_id_order(lists, predictions, capsys):
    with serving(StandInApi()) as url:
        status, _, _ = collect(capsys, url, lists, predictions)

    assert status == 0
    assert cached(predictions) == {image: probabilities_for(image) for image in IMAGES}


def test_api_key_is_sent_with_every_request(lists, predictions, capsys):
    api = StandInApi()
    with serving(api) as url:
        collect(capsys, url, lists, predictions)

    assert api.api_keys == {"test-key"}


def test_throttled_image_is_retried_after_retry_after(lists, predictions, capsys):
    api = StandInApi(throttle_once={IMAGES[0]})
    with serving(api) as url:
        _, _, err = collect(capsys, url, lists, predictions)

    assert api.requests.count(IMAGES[0]) == 2
    assert IMAGES[0] in cached(predictions)
    assert f"{IMAGES[0]}: 429 TooManyRequests: slow down; retrying in 0 s (1/3)" in err


def test_failing_image_is_reported_and_left_out_while_the_others_are_cached(lists, predictions, capsys):
    with serving(StandInApi(always_fail={FAILING})) as url:
        status, _, err = collect(capsys, url, lists, predictions)

    assert status == 1
    assert f"error: {FAILING}: 500 InternalError" in err
    assert "1 of 6 images failed (see above) and have no prediction: run the same command again" in err
    assert set(cached(predictions)) == set(IMAGES) - {FAILING}


def test_rerun_sends_only_the_images_without_a_prediction(lists, predictions, capsys):
    with serving(StandInApi(always_fail={FAILING})) as url:
        collect(capsys, url, lists, predictions)
    api = StandInApi()
    with serving(api) as url:
        status, _, _ = collect(capsys, url, lists, predictions)

    assert status == 0
    assert api.requests == [FAILING]
    assert set(cached(predictions)) == set(IMAGES)


def test_no_more_requests_at_a_time_than_the_concurrency(lists, predictions, capsys):
    api = StandInApi(delay_seconds=0.1)
    with serving(api) as url:
        collect(capsys, url, lists, predictions, "--concurrency", "2")

    assert api.max_concurrent == 2


def test_api_serving_another_model_than_the_job_stops_the_run(lists, predictions, capsys):
    with serving(StandInApi(model="dogbreeds-dev-20251231-000000")) as url:
        status, _, err = collect(capsys, url, lists, predictions, "--job", JOB)

    assert status == 1
    assert f"serves model dogbreeds-dev-20251231-000000, not {JOB}" in err
    assert predictions.read_text() == ""


def test_job_names_the_default_predictions_path(lists, capsys):
    with serving(StandInApi()) as url:
        status, out, _ = run_cli(
            capsys, "evaluate", "api", "--url", url, "--lists", lists, "--job", JOB, "--collect-only"
        )

    assert status == 0
    assert set(cached(Path("evaluation") / JOB / "predictions.jsonl")) == set(IMAGES)
    assert f"predictions: evaluation/{JOB}/predictions.jsonl" in out
