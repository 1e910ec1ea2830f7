"""POST /predict: check an image request, classify it on the SageMaker endpoint, answer JSON.

The entry point of an API Gateway REST proxy integration (payload v1). ``handler`` is thin: it
counts the outcome and shapes the proxy response; ``respond`` turns an event into a ``Reply``
with the request checks of ``predict_request`` and the endpoint call below. No Powertools
resolver or Tracer: each costs cold-start time this single route does not need; logs and metrics
are written by ``telemetry`` in Powertools' format (see its docstring for why not Powertools).
"""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from predict_request import ApiError, lowercase_headers, parse_request, validate_top_k
from telemetry import EmbeddedMetrics, StructuredLogger

from core import api_contract as contract

logger = StructuredLogger()
metrics = EmbeddedMetrics()
_cold_start = True  # until this container's first invocation

ENDPOINT_CLIENT_CONFIG = Config(
    connect_timeout=contract.ENDPOINT_CONNECT_TIMEOUT_SECONDS,
    read_timeout=contract.ENDPOINT_READ_TIMEOUT_SECONDS,
    retries={"total_max_attempts": contract.ENDPOINT_MAX_ATTEMPTS, "mode": "standard"},
)
DEFAULT_CLASSES_FILE = Path(__file__).with_name("classes.json")
SUCCESS_METRIC = "Predictions"

THROTTLING_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "SlowDown",
    }
)
NOT_READY_ERROR_CODES = frozenset(
    {"ModelNotReadyException", "ServiceUnavailable", "ServiceUnavailableException"}
)
SAGEMAKER_INTERNAL_ERROR_CODES = frozenset({"InternalFailure", "InternalDependencyException"})


# --- Entry point ------------------------------------------------------------------------------
def handler(event: Any, context: Any) -> dict[str, Any]:
    global _cold_start
    cold_start, _cold_start = _cold_start, False
    logger.set_context(context, cold_start=cold_start)
    reply = respond_safely(event)
    if cold_start:
        metrics.cold_start(getattr(context, "function_name", ""))
    metrics.add_count(reply.outcome)  # every invocation counts exactly one outcome
    metrics.flush()
    return proxy_response(reply, lowercase_headers(event).get("origin"))


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    outcome: str  # the metric this request counts towards
    headers: dict[str, str] = field(default_factory=dict)


def respond_safely(event: Any) -> Reply:
    try:
        return respond(event)
    except ApiError as error:
        logger.info(
            "Request refused",
            extra={
                "status": error.error.status,
                "code": error.error.code,
                "reason": error.message,
                **({"detail": error.detail} if error.detail else {}),
            },
        )
        return refusal(error)
    except Exception:
        logger.exception("Unexpected error while handling a prediction request")
        return refusal(ApiError(contract.INTERNAL, "the function failed unexpectedly"))


def refusal(error: ApiError) -> Reply:
    body = contract.error_body(error.error, error.message)
    retry_after = error.error.retry_after_seconds
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    return Reply(error.error.status, body, error.error.code, headers)


def respond(event: Any) -> Reply:
    image, header, requested_top_k = parse_request(event)
    class_names = load_class_names()
    top_k = validate_top_k(requested_top_k, len(class_names))
    probabilities = classify(image, len(class_names))
    body = contract.prediction_body(probabilities, list(class_names), top_k, model_version())
    best = body["predictions"][0]
    logger.info(
        "Prediction served",
        extra={
            "image": {
                "format": header.format,
                "width": header.width,
                "height": header.height,
                "bytes": len(image),
            },
            "top_k": top_k,
            "best": best,
            "model": body["model"],
        },
    )
    return Reply(200, body, SUCCESS_METRIC)


def proxy_response(reply: Reply, request_origin: str | None) -> dict[str, Any]:
    headers = {"Content-Type": contract.JSON_CONTENT_TYPE}
    headers.update(cors_headers(request_origin, os.environ.get("ALLOWED_ORIGINS", "")))
    headers.update(reply.headers)
    return {
        "statusCode": reply.status,
        "headers": headers,
        "body": json.dumps(reply.body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def cors_headers(request_origin: str | None, allowed_origins: str) -> dict[str, str]:
    allowed = _parse_origins(allowed_origins)
    if "*" in allowed:
        return {"Access-Control-Allow-Origin": "*"}
    headers = {"Vary": "Origin"}  # the answer depends on the Origin: caches must know
    if request_origin in allowed:
        headers["Access-Control-Allow-Origin"] = request_origin
    return headers


@functools.cache
def _parse_origins(allowed_origins: str) -> frozenset[str]:
    return frozenset(origin.strip() for origin in allowed_origins.split(",") if origin.strip())


# --- Settings ---------------------------------------------------------------------------------
@functools.cache
def load_class_names() -> tuple[str, ...]:
    """The class names in class-id order, read once per container from ``CLASSES_FILE``."""
    path = Path(os.environ.get("CLASSES_FILE") or DEFAULT_CLASSES_FILE)
    names = json.loads(path.read_text(encoding="utf-8"))
    if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
        raise ValueError(f"{path} must hold a non-empty JSON list of class names")
    return tuple(names)


@functools.cache
def sagemaker_runtime_client() -> Any:
    """The endpoint client, created on first use (after moto starts, in tests) and then reused."""
    return boto3.client("sagemaker-runtime", config=ENDPOINT_CLIENT_CONFIG)


def model_version() -> str:
    return os.environ.get("MODEL_VERSION") or "unknown"


# --- Endpoint ---------------------------------------------------------------------------------
def endpoint_name() -> str:
    name = os.environ.get("ENDPOINT_NAME", "").strip()
    if not name:
        raise ApiError(
            contract.NOT_READY,
            "no model is deployed for this stage: pin one in models/<stage>.json "
            "or deploy with `-c modelDataUrl=s3://.../model.tar.gz`, then redeploy "
            "(or, if the stage was deployed with `-c endpoint=off`, deploy it with `-c endpoint=on`)",
        )
    return name


def classify(image: bytes, class_count: int) -> list[float]:
    """The endpoint's probability per class, in class-id order."""
    name = endpoint_name()
    try:
        response = sagemaker_runtime_client().invoke_endpoint(
            EndpointName=name,
            ContentType=contract.ENDPOINT_CONTENT_TYPE,
            Accept=contract.JSON_CONTENT_TYPE,
            Body=image,
        )
        answer = response["Body"].read()
    except ClientError as error:
        raise endpoint_error(error, name) from None
    except (ReadTimeoutError, ConnectTimeoutError):
        logger.exception("The endpoint timed out", extra={"endpoint": name})
        raise ApiError(contract.TIMEOUT, "the model did not answer in time") from None
    except EndpointConnectionError:
        logger.exception("Could not connect to the endpoint", extra={"endpoint": name})
        raise ApiError(contract.NOT_READY, "the model endpoint could not be reached") from None
    return parse_probabilities(answer, class_count)


def endpoint_error(error: ClientError, name: str) -> ApiError:
    """The API's answer to an SDK error; the SDK's own message goes to the log only."""
    details = error.response.get("Error", {})
    code, sdk_message = details.get("Code", ""), details.get("Message", "")
    logger.error(
        "The endpoint call failed",
        extra={"endpoint": name, "sdk_error_code": code, "sdk_error_message": sdk_message},
    )
    if code == "ModelError":
        return ApiError(contract.MODEL_ERROR, "the model failed on this image")
    if code in THROTTLING_ERROR_CODES:
        return ApiError(contract.THROTTLED, "the model is busy")
    if code in NOT_READY_ERROR_CODES or (code == "ValidationError" and "not found" in sdk_message.lower()):
        return ApiError(contract.NOT_READY, "the model endpoint is not available")
    if code in SAGEMAKER_INTERNAL_ERROR_CODES:
        return ApiError(contract.MODEL_SERVICE_ERROR, "SageMaker failed to run the model")
    if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
        # A 5xx the SDK could not name, such as a gateway's HTML error page: the service failed.
        return ApiError(contract.MODEL_SERVICE_ERROR, "the model service answered with a server error")
    return ApiError(contract.INTERNAL, "the function could not call the model")


def parse_probabilities(answer: bytes, class_count: int) -> list[float]:
    try:
        probabilities = json.loads(answer)
    except (ValueError, RecursionError):
        probabilities = None
    if not _is_probability_vector(probabilities, class_count):
        logger.error(
            "The model's answer is not one probability per class: "
            "the class list and the deployed model disagree, or the model is not image-classification",
            extra={
                "class_count": class_count,
                "answer_bytes": len(answer),
                "answer_start": answer[:200].decode("utf-8", errors="replace"),
            },
        )
        raise ApiError(
            contract.MODEL_SERVICE_ERROR,
            f"the model did not answer with {class_count} probabilities, one per breed",
        )
    return probabilities


def _is_probability_vector(value: Any, length: int) -> TypeGuard[list[float]]:
    return (
        isinstance(value, list)
        and len(value) == length
        and all(isinstance(p, int | float) and not isinstance(p, bool) and math.isfinite(p) for p in value)
    )
