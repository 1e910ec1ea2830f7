"""The proxy response every request gets: shape, content type, CORS, and the outcome metric."""

from __future__ import annotations

import json

import predict_handler
import pytest

from .helpers import image_json_event, jpeg_bytes, make_event

ORIGIN = "https://dogs.example.com"


def call(event, context):
    return predict_handler.handler(event, context)


def success(endpoint, context, **event_kwargs):
    endpoint.answers()
    return call(image_json_event(jpeg_bytes(), **event_kwargs), context)


def bad_request(context, **event_kwargs):
    return call(make_event("not json", **event_kwargs), context)


def emitted_metrics(captured_stdout: str) -> dict[str, list[float]]:
    """Metric name -> values, from the Embedded Metric Format lines the handler prints."""
    metrics = {}
    for line in captured_stdout.splitlines():
        record = json.loads(line) if line.startswith('{"_aws"') else {}
        for directive in record.get("_aws", {}).get("CloudWatchMetrics", []):
            for metric in directive["Metrics"]:
                metrics[metric["Name"]] = record[metric["Name"]]
    return metrics


def test_success_is_a_compact_json_proxy_response(endpoint, lambda_context):
    response = success(endpoint, lambda_context)

    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is False
    assert response["headers"]["Content-Type"] == "application/json"
    assert response["body"] == json.dumps(json.loads(response["body"]), separators=(",", ":"))


def test_error_is_a_compact_json_proxy_response(lambda_context):
    response = bad_request(lambda_context)

    assert response["isBase64Encoded"] is False
    assert response["headers"]["Content-Type"] == "application/json"
    assert set(json.loads(response["body"])["error"]) == {"code", "message"}


def test_error_message_says_what_was_wrong_then_how_to_fix_it(lambda_context):
    message = json.loads(bad_request(lambda_context)["body"])["error"]["message"]

    assert message.startswith("the body is not valid JSON")
    assert 'Send JSON {"image": "<base64 JPEG or PNG>", "topK": 5}' in message


def test_any_origin_is_allowed_when_allowed_origins_is_a_star(endpoint, lambda_context):
    response = success(endpoint, lambda_context, headers={"Origin": ORIGIN})

    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    assert "Vary" not in response["headers"]


def test_star_among_listed_origins_allows_any_origin(lambda_context, monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", f"{ORIGIN},*")

    response = bad_request(lambda_context)

    assert response["headers"]["Access-Control-Allow-Origin"] == "*"


def test_listed_origin_is_echoed_with_vary(endpoint, lambda_context, monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", f"https://other.example.com, {ORIGIN}")

    response = success(endpoint, lambda_context, headers={"origin": ORIGIN})

    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    assert response["headers"]["Vary"] == "Origin"


def test_unlisted_origin_gets_no_allow_origin_header(lambda_context, monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", ORIGIN)

    response = bad_request(lambda_context, headers={"Origin": "https://evil.example.com"})

    assert "Access-Control-Allow-Origin" not in response["headers"]
    assert response["headers"]["Vary"] == "Origin"


def test_error_responses_carry_cors_headers_too(lambda_context, monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", ORIGIN)

    response = bad_request(lambda_context, headers={"Origin": ORIGIN})

    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN


def test_success_counts_one_prediction(endpoint, lambda_context, capsys):
    success(endpoint, lambda_context)

    metrics = emitted_metrics(capsys.readouterr().out)

    assert metrics["Predictions"] == [1.0]
    assert "BadRequest" not in metrics


def test_error_counts_one_of_its_code(lambda_context, capsys):
    bad_request(lambda_context)

    metrics = emitted_metrics(capsys.readouterr().out)

    assert metrics["BadRequest"] == [1.0]
    assert "Predictions" not in metrics


def test_metrics_never_warn_about_being_empty(lambda_context, recwarn):
    bad_request(lambda_context)

    assert not [w for w in recwarn if "No application metrics" in str(w.message)]


@pytest.mark.parametrize(
    "event",
    [None, [], "text", {"body": None, "headers": None}, {"body": 42, "headers": {"Origin": None}}],
    ids=["none", "list", "string", "null-headers", "number-body"],
)
def test_malformed_events_get_a_bad_request(lambda_context, event):
    response = call(event, lambda_context)

    assert response["statusCode"] == 400
    assert response["headers"]["Content-Type"] == "application/json"
