"""Sending: URL normalisation, the request, retries and the mapping of failures to ApiError."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from client.api import (
    MAX_RETRY_WAIT_SECONDS,
    ApiError,
    endpoint_url,
    parse_retry_after,
    predict,
    retry_wait,
)
from core.api_contract import (
    IMAGE_FIELD,
    MODEL_ERROR,
    NOT_READY,
    PAYLOAD_TOO_LARGE,
    THROTTLED,
    TOP_K_FIELD,
)

IMAGE = b"\xff\xd8\xff\xe0 a tiny stand-in for a JPEG"
STAGE_HOST = "https://abc123.execute-api.eu-west-1.amazonaws.com"


class RecordedSleep:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


# --- URL ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        f"{STAGE_HOST}/prod",
        f"{STAGE_HOST}/prod/",
        f"{STAGE_HOST}/prod/predict",
        f"{STAGE_HOST}/prod/predict/",
        f"  {STAGE_HOST}/prod/ ",
    ],
)
def test_stage_or_predict_url_becomes_the_predict_url(url):
    assert endpoint_url(url) == f"{STAGE_HOST}/prod/predict"


def test_url_without_a_path_gets_the_route():
    assert endpoint_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080/predict"


def test_url_query_is_kept():
    assert endpoint_url(f"{STAGE_HOST}/prod?trace=1") == f"{STAGE_HOST}/prod/predict?trace=1"


@pytest.mark.parametrize(
    "url", ["abc123.execute-api.eu-west-1.amazonaws.com/prod", "ftp://host/prod", "https://"]
)
def test_url_that_is_not_http_is_refused_with_an_example(url):
    with pytest.raises(ValueError, match=r"not an http\(s\) URL: .* for example https://"):
        endpoint_url(url)


# --- Request ------------------------------------------------------------------------------------
def test_request_is_json_with_the_base64_image_and_top_k(fake_api):
    predict(fake_api.stage_url, IMAGE, top_k=3)

    (request,) = fake_api.requests
    assert request.headers["content-type"] == "application/json"
    assert request.body == {IMAGE_FIELD: base64.b64encode(IMAGE).decode(), TOP_K_FIELD: 3}


def test_api_key_is_sent_as_x_api_key(fake_api):
    fake_api.api_key = "secret-key"

    predict(fake_api.stage_url, IMAGE, api_key="secret-key")

    assert fake_api.requests[0].headers["x-api-key"] == "secret-key"


def test_no_api_key_header_without_a_key(fake_api):
    predict(fake_api.stage_url, IMAGE)

    assert "x-api-key" not in fake_api.requests[0].headers


def test_success_body_is_returned_as_parsed_json(fake_api):
    result = predict(fake_api.predict_url, IMAGE, top_k=2)

    assert result == {
        "predictions": [
            {"breed": "Siberian husky", "classId": 0, "probability": 0.931},
            {"breed": "malamute", "classId": 1, "probability": 0.042},
        ],
        "model": "sha256-abc123",
    }


# --- Retries ------------------------------------------------------------------------------------
def test_throttled_request_is_retried_after_what_retry_after_says(fake_api):
    fake_api.queue_error(THROTTLED, "Too many requests", {"Retry-After": "2"})
    sleep = RecordedSleep()

    result = predict(fake_api.stage_url, IMAGE, sleep=sleep)

    assert sleep.waits == [2.0]
    assert result["model"] == "sha256-abc123"


def test_unavailable_model_is_retried_three_times_with_exponential_backoff(fake_api):
    for _ in range(4):
        fake_api.queue_error(NOT_READY, "The endpoint is Creating")
    sleep = RecordedSleep()

    with pytest.raises(ApiError) as raised:
        predict(fake_api.stage_url, IMAGE, sleep=sleep)

    assert (raised.value.status, raised.value.code) == (503, "ModelUnavailable")
    assert sleep.waits == [1.0, 2.0, 4.0]
    assert len(fake_api.requests) == 4


def test_each_retry_is_reported_before_waiting(fake_api):
    fake_api.queue_error(THROTTLED, "Too many requests", {"Retry-After": "0"})
    reported = []

    predict(fake_api.stage_url, IMAGE, sleep=RecordedSleep(), on_retry=lambda *a: reported.append(a))

    ((error, wait, attempt),) = reported
    assert (error.status, wait, attempt) == (429, 0.0, 1)


@pytest.mark.parametrize("error", [PAYLOAD_TOO_LARGE, MODEL_ERROR])
def test_other_errors_are_not_retried(fake_api, error):
    fake_api.queue_error(error, "No")

    with pytest.raises(ApiError):
        predict(fake_api.stage_url, IMAGE, sleep=RecordedSleep())

    assert len(fake_api.requests) == 1


@pytest.mark.parametrize(
    ("retry_after", "attempt", "wait"),
    [(None, 1, 1.0), (None, 2, 2.0), (None, 3, 4.0), (0.0, 3, 0.0), (7.0, 1, 7.0)],
)
def test_retry_wait_is_retry_after_or_else_doubles(retry_after, attempt, wait):
    assert retry_wait(retry_after, attempt) == wait


def test_retry_wait_is_capped():
    assert retry_wait(3600.0, 1) == MAX_RETRY_WAIT_SECONDS


def test_retry_after_as_an_http_date_is_seconds_from_now():
    in_ten_seconds = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)

    assert 8 <= parse_retry_after(in_ten_seconds) <= 10


@pytest.mark.parametrize("value", [None, "", "soon"])
def test_missing_or_unreadable_retry_after_is_none(value):
    assert parse_retry_after(value) is None


# --- Errors -------------------------------------------------------------------------------------
def test_api_error_body_becomes_status_code_and_message(fake_api):
    fake_api.queue_error(PAYLOAD_TOO_LARGE, "The image has 5000000 bytes")

    with pytest.raises(ApiError) as raised:
        predict(fake_api.stage_url, IMAGE)

    assert str(raised.value).startswith("413 PayloadTooLarge: The image has 5000000 bytes. ")


def test_gateway_forbidden_says_the_api_key_was_rejected(fake_api):
    fake_api.api_key = "right-key"

    with pytest.raises(ApiError) as raised:
        predict(fake_api.stage_url, IMAGE, api_key="wrong-key")

    assert raised.value.status == 403
    assert raised.value.message.startswith(
        "the API rejected the API key: pass --api-key or set DOG_BREEDS_API_KEY"
    )


def test_gateway_missing_authentication_token_says_the_url_is_wrong(fake_api):
    wrong_stage = fake_api.stage_url.replace("/prod/", "/dev/")

    with pytest.raises(ApiError, match=r"403 NotFound: API Gateway has no such resource: .*/dev/"):
        predict(wrong_stage, IMAGE)


def test_gateway_message_of_another_status_is_kept(fake_api):
    fake_api.queue(504, {"message": "Endpoint request timed out"})

    with pytest.raises(ApiError, match=r"^504 GatewayTimeout: Endpoint request timed out$"):
        predict(fake_api.stage_url, IMAGE)


def test_error_body_that_is_not_json_is_quoted(fake_api):
    fake_api.queue(502, b"<html><body>Bad   gateway</body></html>")

    with pytest.raises(ApiError, match=r"^502 BadGateway: <html><body>Bad gateway</body></html>$"):
        predict(fake_api.stage_url, IMAGE)


def test_success_status_with_an_unexpected_body_is_an_error(fake_api):
    fake_api.queue(200, {"result": "husky"})

    with pytest.raises(ApiError, match=r"^200 BadResponse: the API's answer is not a prediction"):
        predict(fake_api.stage_url, IMAGE)


def test_no_answer_within_the_timeout_is_an_error_naming_the_url(fake_api):
    fake_api.delay_seconds = 0.3

    with pytest.raises(ApiError) as raised:
        predict(fake_api.stage_url, IMAGE, timeout=0.05)

    assert str(raised.value) == f"Timeout: no answer from {fake_api.predict_url} within 0.05 s"


def test_refused_connection_is_an_error_naming_the_url(unreachable_url):
    with pytest.raises(ApiError) as raised:
        predict(unreachable_url, IMAGE, timeout=2)

    assert raised.value.status is None
    assert f"cannot reach {unreachable_url}predict" in str(raised.value)


@pytest.mark.parametrize(
    ("status", "affects"), [(None, True), (403, True), (404, True), (413, False), (502, False)]
)
def test_only_network_url_and_key_errors_affect_every_request(status, affects):
    assert ApiError(status, "Code", "message").affects_every_request is affects
