"""How endpoint failures reach the client: status, error code, and nothing from inside."""

from __future__ import annotations

import json

import boto3
import predict_handler
import predict_request
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from core import api_contract

from .helpers import CLASS_NAMES, ENDPOINT_NAME, error_of, image_json_event, jpeg_bytes

SDK_MESSAGE = "Received server error (500) from primary with message SECRET-SDK-DETAIL"
ENDPOINT_URL = "https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/x/invocations"


def call(event, context):
    return predict_handler.handler(event, context)


def request(context):
    return call(image_json_event(jpeg_bytes()), context)


def assert_failed_without_leaking(response, error: api_contract.ErrorCode, *leaks: str) -> None:
    assert response["statusCode"] == error.status
    assert error_of(response)["code"] == error.code
    for leak in ("Traceback", "SECRET", *leaks):
        assert leak not in response["body"]


@pytest.mark.parametrize(
    "sdk_code, http_status, error",
    [
        ("ModelError", 424, api_contract.MODEL_ERROR),
        ("ThrottlingException", 400, api_contract.THROTTLED),
        ("Throttling", 400, api_contract.THROTTLED),
        ("TooManyRequestsException", 429, api_contract.THROTTLED),
        ("ModelNotReadyException", 429, api_contract.NOT_READY),
        ("ServiceUnavailable", 503, api_contract.NOT_READY),
        ("InternalFailure", 500, api_contract.MODEL_SERVICE_ERROR),
        ("InternalDependencyException", 530, api_contract.MODEL_SERVICE_ERROR),
        ("AccessDeniedException", 403, api_contract.INTERNAL),
        ("ValidationError", 400, api_contract.INTERNAL),
    ],
)
def test_sdk_error_maps_to_its_api_error_without_the_sdk_message(
    endpoint, lambda_context, sdk_code, http_status, error
):
    endpoint.fails(sdk_code, SDK_MESSAGE, http_status)

    response = request(lambda_context)

    assert_failed_without_leaking(response, error, SDK_MESSAGE)


def test_model_error_is_a_bad_gateway(endpoint, lambda_context):
    endpoint.fails("ModelError", SDK_MESSAGE, 424)

    response = request(lambda_context)

    assert (response["statusCode"], error_of(response)["code"]) == (502, "ModelError")


def test_throttling_is_too_many_requests_with_retry_after(endpoint, lambda_context):
    endpoint.fails("ThrottlingException", "Rate exceeded", 400)

    response = request(lambda_context)

    assert response["statusCode"] == 429
    assert response["headers"]["Retry-After"] == str(api_contract.RETRY_AFTER_SECONDS)


def test_missing_endpoint_is_unavailable(endpoint, lambda_context):
    endpoint.fails("ValidationError", f"Endpoint {ENDPOINT_NAME} of account 123456789012 not found.")

    response = request(lambda_context)

    assert_failed_without_leaking(response, api_contract.NOT_READY, "123456789012")


def test_model_not_ready_is_unavailable(endpoint, lambda_context):
    endpoint.fails("ModelNotReadyException", "Model is not ready", 429)

    response = request(lambda_context)

    assert response["statusCode"] == 503


@pytest.mark.parametrize("name", ["", "   "])
def test_stage_without_a_model_is_unavailable_and_says_how_to_pin_one(
    endpoint, lambda_context, monkeypatch, name
):
    monkeypatch.setenv("ENDPOINT_NAME", name)

    response = request(lambda_context)

    assert response["statusCode"] == 503
    assert error_of(response)["code"] == "ModelUnavailable"
    message = error_of(response)["message"]
    assert "no model is deployed for this stage" in message
    assert "models/<stage>.json" in message
    assert "-c modelDataUrl=" in message
    assert "redeploy" in message


@pytest.mark.parametrize(
    "timeout",
    [ReadTimeoutError(endpoint_url=ENDPOINT_URL), ConnectTimeoutError(endpoint_url=ENDPOINT_URL)],
    ids=["read", "connect"],
)
def test_endpoint_timeout_is_a_gateway_timeout(endpoint, lambda_context, timeout):
    endpoint.raises(timeout)

    response = request(lambda_context)

    assert_failed_without_leaking(response, api_contract.TIMEOUT, ENDPOINT_URL)


def test_unreachable_endpoint_is_unavailable(endpoint, lambda_context):
    endpoint.raises(EndpointConnectionError(endpoint_url=ENDPOINT_URL))

    response = request(lambda_context)

    assert_failed_without_leaking(response, api_contract.NOT_READY, ENDPOINT_URL)


@pytest.mark.parametrize(
    "answer",
    [
        json.dumps([0.5, 0.5]),  # fewer classes than the class list
        json.dumps([0.1] * (len(CLASS_NAMES) + 1)),
        json.dumps({"predictions": [0.1] * len(CLASS_NAMES)}),
        json.dumps(["0.1"] * len(CLASS_NAMES)),
        json.dumps([True] * len(CLASS_NAMES)),
        "[" + ",".join(["NaN"] * len(CLASS_NAMES)) + "]",
        "not json",
    ],
    ids=["short", "long", "object", "strings", "booleans", "nan", "text"],
)
def test_answer_that_is_not_one_probability_per_class_is_a_bad_gateway(endpoint, lambda_context, answer):
    endpoint.answers(answer.encode())

    response = request(lambda_context)

    assert_failed_without_leaking(response, api_contract.MODEL_SERVICE_ERROR)
    assert f"{len(CLASS_NAMES)} probabilities" in error_of(response)["message"]


def test_answer_of_the_wrong_length_is_logged_as_a_class_list_mismatch(endpoint, lambda_context, monkeypatch):
    logged = []
    monkeypatch.setattr(predict_handler.logger, "error", lambda message, **kw: logged.append((message, kw)))
    endpoint.answers(json.dumps([0.5, 0.5]).encode())

    request(lambda_context)

    message, details = logged[0]
    assert "class list and the deployed model disagree" in message
    assert details["extra"]["class_count"] == len(CLASS_NAMES)


def test_unexpected_exception_from_the_client_is_an_internal_error_without_its_text(endpoint, lambda_context):
    endpoint.raises(RuntimeError("SECRET internal detail"))

    response = request(lambda_context)

    assert_failed_without_leaking(response, api_contract.INTERNAL, "RuntimeError", "internal detail")


def test_unexpected_exception_anywhere_is_an_internal_error(endpoint, lambda_context, monkeypatch):
    def broken(_image):
        raise KeyError("SECRET")

    monkeypatch.setattr(predict_request, "check_image", broken)

    response = request(lambda_context)

    assert_failed_without_leaking(response, api_contract.INTERNAL, "KeyError")


def test_missing_class_list_is_an_internal_error(endpoint, lambda_context, handler_environment):
    handler_environment.unlink()

    response = request(lambda_context)

    assert_failed_without_leaking(response, api_contract.INTERNAL, str(handler_environment))


def test_class_list_that_is_not_a_list_of_names_is_an_internal_error(
    endpoint, lambda_context, handler_environment
):
    handler_environment.write_text(json.dumps([{"id": 0, "name": "beagle"}]))

    response = request(lambda_context)

    assert_failed_without_leaking(response, api_contract.INTERNAL)


def test_class_list_is_read_once_per_container(endpoint, lambda_context, handler_environment):
    endpoint.answers()
    endpoint.answers()
    request(lambda_context)
    handler_environment.unlink()

    response = request(lambda_context)

    assert response["statusCode"] == 200


# --- Answers that are not the SDK's kind of error ---------------------------------------------


class _RawBody:
    """The raw HTTP body botocore's parser streams from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_):
        yield self._data


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_html_error_page_from_the_endpoint_is_a_bad_gateway(lambda_context, monkeypatch, status):
    # A real client and botocore's real parser, fed the HTML page a gateway in front of the model
    # answers with: the SDK names no error code, only the status ("502").
    html = b"<html><head><title>Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
    config = predict_handler.ENDPOINT_CLIENT_CONFIG.merge(Config(retries={"total_max_attempts": 1}))
    client = boto3.client("sagemaker-runtime", region_name="us-east-1", config=config)
    client.meta.events.register(
        "before-send",
        lambda request, **_: AWSResponse(request.url, status, {"Content-Type": "text/html"}, _RawBody(html)),
    )
    monkeypatch.setattr(predict_handler, "sagemaker_runtime_client", lambda: client)

    response = request(lambda_context)

    assert response["statusCode"] == 502
    assert error_of(response) == {
        "code": "ModelServiceError",
        "message": "the model service answered with a server error. "
        + api_contract.MODEL_SERVICE_ERROR.advice,
    }


def test_unnamed_client_error_below_500_stays_an_internal_error(endpoint, lambda_context):
    endpoint.fails("418", "I'm a teapot", 418)

    response = request(lambda_context)

    assert response["statusCode"] == 500


@pytest.mark.parametrize(
    "fail",
    [
        lambda endpoint, monkeypatch: endpoint.fails("ModelNotReadyException", "Model is not ready", 429),
        lambda endpoint, monkeypatch: endpoint.fails("ValidationError", "Endpoint x not found."),
        lambda endpoint, monkeypatch: endpoint.raises(EndpointConnectionError(endpoint_url=ENDPOINT_URL)),
        lambda endpoint, monkeypatch: monkeypatch.setenv("ENDPOINT_NAME", ""),
    ],
    ids=["not-ready", "missing", "unreachable", "no-model-deployed"],
)
def test_model_unavailable_carries_retry_after(endpoint, lambda_context, monkeypatch, fail):
    fail(endpoint, monkeypatch)

    response = request(lambda_context)

    assert (response["statusCode"], error_of(response)["code"]) == (503, "ModelUnavailable")
    assert response["headers"]["Retry-After"] == str(api_contract.RETRY_AFTER_SECONDS)


def test_errors_not_worth_retrying_carry_no_retry_after(endpoint, lambda_context):
    endpoint.fails("ModelError", SDK_MESSAGE, 424)

    response = request(lambda_context)

    assert "Retry-After" not in response["headers"]
