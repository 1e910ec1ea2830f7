"""The prediction function's log and metric lines keep the shape Powertools gave them.

The keys below are what Powertools 3.37's ``Logger`` and ``Metrics`` wrote for this handler (the
function used them until the cold-start work; README, Decisions): log queries, the EMF metrics and
anything built on them depend on these names.
"""

from __future__ import annotations

import json

import predict_handler
import pytest
import telemetry

from .helpers import image_json_event, jpeg_bytes, make_event

CONTEXT_KEYS = ["function_name", "function_memory_size", "function_arn", "function_request_id"]
RECORD_START = ["level", "location", "message", "timestamp", "service", "cold_start", *CONTEXT_KEYS]


def lines(captured: str) -> list[dict]:
    return [json.loads(line) for line in captured.splitlines()]


def logs(captured: str) -> list[dict]:
    return [record for record in lines(captured) if "_aws" not in record]


def metric_records(captured: str) -> list[dict]:
    return [record for record in lines(captured) if "_aws" in record]


@pytest.fixture
def fresh_container(monkeypatch):
    """The next invocation is this container's first."""
    monkeypatch.setattr(predict_handler, "_cold_start", True)


def test_refusal_log_has_powertools_keys_in_order_then_its_own(lambda_context, capsys, monkeypatch):
    monkeypatch.setenv(
        "_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f;Sampled=1"
    )

    predict_handler.handler(make_event("not json"), lambda_context)

    (record,) = logs(capsys.readouterr().out)
    assert list(record) == [*RECORD_START, "status", "code", "reason", "xray_trace_id"]
    assert record["level"] == "INFO"
    assert record["message"] == "Request refused"
    assert record["location"].startswith("respond_safely:")
    assert record["service"] == "predict"
    assert record["function_name"] == lambda_context.function_name
    assert record["function_memory_size"] == lambda_context.memory_limit_in_mb
    assert record["function_arn"] == lambda_context.invoked_function_arn
    assert record["function_request_id"] == lambda_context.aws_request_id
    assert record["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert (record["status"], record["code"]) == (400, "BadRequest")


def test_timestamp_is_utc_with_milliseconds_as_powertools_writes_it(lambda_context, capsys):
    predict_handler.handler(make_event("not json"), lambda_context)

    (record,) = logs(capsys.readouterr().out)
    date, clock = record["timestamp"].split(" ")
    assert len(date) == 10 and date[4] == date[7] == "-"
    assert clock[8] == "," and clock.endswith("+0000") and len(clock) == len("12:00:00,123+0000")


def test_prediction_log_keeps_its_fields(endpoint, lambda_context, capsys):
    endpoint.answers()

    predict_handler.handler(image_json_event(jpeg_bytes((32, 24))), lambda_context)

    (record,) = logs(capsys.readouterr().out)
    assert record["message"] == "Prediction served"
    assert list(record)[len(RECORD_START) :] == ["image", "top_k", "best", "model"]
    assert record["image"] == {
        "format": "jpeg",
        "width": 32,
        "height": 24,
        "bytes": len(jpeg_bytes((32, 24))),
    }


def test_unexpected_error_is_logged_with_its_exception_and_stack(lambda_context, capsys, monkeypatch):
    def fail(event):
        raise RuntimeError("boom")

    monkeypatch.setattr(predict_handler, "respond", fail)

    predict_handler.handler(make_event("{}"), lambda_context)

    (record,) = logs(capsys.readouterr().out)
    assert record["level"] == "ERROR"
    assert list(record)[len(RECORD_START) :] == ["exception", "exception_name", "stack_trace"]
    assert record["exception"].startswith("Traceback (most recent call last):")
    assert record["exception"].endswith("RuntimeError: boom")
    assert record["exception_name"] == "RuntimeError"
    stack = record["stack_trace"]
    assert (stack["type"], stack["value"], stack["module"]) == ("RuntimeError", "boom", "builtins")
    assert stack["frames"][-1]["function"] == "fail"


def test_first_invocation_is_a_cold_start_and_the_next_is_not(lambda_context, capsys, fresh_container):
    predict_handler.handler(make_event("not json"), lambda_context)
    predict_handler.handler(make_event("not json"), lambda_context)

    first, second = logs(capsys.readouterr().out)
    assert (first["cold_start"], second["cold_start"]) == (True, False)


def test_cold_start_metric_has_function_name_and_service_dimensions(lambda_context, capsys, fresh_container):
    predict_handler.handler(make_event("not json"), lambda_context)
    predict_handler.handler(make_event("not json"), lambda_context)

    records = metric_records(capsys.readouterr().out)
    cold_starts = [r for r in records if "ColdStart" in r]
    assert len(cold_starts) == 1
    (cold_start,) = cold_starts
    (directive,) = cold_start["_aws"]["CloudWatchMetrics"]
    assert directive == {
        "Namespace": "DogBreedsTest",
        "Dimensions": [["function_name", "service"]],
        "Metrics": [{"Name": "ColdStart", "Unit": "Count"}],
    }
    assert cold_start["function_name"] == lambda_context.function_name
    assert cold_start["service"] == "predict"
    assert cold_start["ColdStart"] == [1.0]
    assert isinstance(cold_start["_aws"]["Timestamp"], int)


def test_outcome_metric_is_one_count_with_the_service_dimension(lambda_context, capsys):
    predict_handler.handler(make_event("not json"), lambda_context)

    (record,) = [r for r in metric_records(capsys.readouterr().out) if "ColdStart" not in r]
    assert record["_aws"]["CloudWatchMetrics"] == [
        {
            "Namespace": "DogBreedsTest",
            "Dimensions": [["service"]],
            "Metrics": [{"Name": "BadRequest", "Unit": "Count"}],
        }
    ]
    assert record["service"] == "predict"
    assert record["BadRequest"] == [1.0]


def test_metrics_without_a_namespace_say_which_variable_to_set():
    metrics = telemetry.EmbeddedMetrics()
    metrics.namespace = None
    metrics.add_count("Predictions")

    with pytest.raises(ValueError, match=r"^no metrics namespace: set POWERTOOLS_METRICS_NAMESPACE "):
        metrics.flush()


def test_records_below_the_log_level_are_not_written(capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "warning")
    logger = telemetry.StructuredLogger()

    logger.info("hidden")
    logger.warning("shown")

    assert [r["message"] for r in logs(capsys.readouterr().out)] == ["shown"]
