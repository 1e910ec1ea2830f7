"""Fixtures for the prediction handler's tests: its environment, a Lambda context, a stubbed endpoint."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from core import api_contract

from .helpers import CLASS_NAMES, ENDPOINT_NAME, MODEL_VERSION, endpoint_answer

# predict_handler's telemetry reads these (Powertools' names) when it is first imported, as Lambda's
# environment (set by the CDK) provides them; without a namespace every metrics flush fails.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "DogBreedsTest")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "predict")

import predict_handler  # noqa: E402


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "DogBreeds-dev-Serving-PredictFunction"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:DogBreeds-dev-Serving-PredictFunction"
    )
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture(autouse=True)
def handler_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_aws: dict) -> Iterator[Path]:
    """What the CDK sets for the function, fake AWS credentials, and fresh per-container caches."""
    classes_file = tmp_path / "classes.json"
    classes_file.write_text(json.dumps(CLASS_NAMES))
    monkeypatch.setenv("CLASSES_FILE", str(classes_file))
    monkeypatch.setenv("ENDPOINT_NAME", ENDPOINT_NAME)
    monkeypatch.setenv("MODEL_VERSION", MODEL_VERSION)
    monkeypatch.setenv("ALLOWED_ORIGINS", "*")
    # In case another test imported the module before the namespace was set.
    monkeypatch.setattr(predict_handler.metrics, "namespace", "DogBreedsTest")
    caches = (predict_handler.load_class_names, predict_handler.sagemaker_runtime_client)
    for cached in caches:
        cached.cache_clear()
    yield classes_file
    for cached in caches:
        cached.cache_clear()


class FakeEndpoint:
    """The handler's SageMaker runtime client with botocore's Stubber: queue answers or failures."""

    def __init__(self, client: Any, stubber: Stubber, monkeypatch: pytest.MonkeyPatch) -> None:
        self.client = client
        self._stubber = stubber
        self._monkeypatch = monkeypatch

    def answers(self, body: bytes | None = None, *, for_image: bytes | None = None) -> None:
        """Queue one successful answer; with ``for_image``, also check the request's parameters."""
        body = endpoint_answer() if body is None else body
        response = {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentType": "application/json"}
        expected = None
        if for_image is not None:
            expected = {
                "EndpointName": ENDPOINT_NAME,
                "ContentType": api_contract.ENDPOINT_CONTENT_TYPE,
                "Accept": "application/json",
                "Body": for_image,
            }
        self._stubber.add_response("invoke_endpoint", response, expected)

    def fails(self, code: str, message: str, http_status: int = 400) -> None:
        self._stubber.add_client_error(
            "invoke_endpoint",
            service_error_code=code,
            service_message=message,
            http_status_code=http_status,
        )

    def raises(self, error: BaseException) -> None:
        """Make the call raise ``error``: for what Stubber cannot produce (timeouts, bugs)."""

        def invoke_endpoint(**_: Any) -> Any:
            raise error

        self._monkeypatch.setattr(self.client, "invoke_endpoint", invoke_endpoint)

    def assert_all_answers_used(self) -> None:
        self._stubber.assert_no_pending_responses()


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEndpoint]:
    client = boto3.client(
        "sagemaker-runtime", region_name="us-east-1", config=predict_handler.ENDPOINT_CLIENT_CONFIG
    )
    monkeypatch.setattr(predict_handler, "sagemaker_runtime_client", lambda: client)
    with Stubber(client) as stubber:
        fake = FakeEndpoint(client, stubber, monkeypatch)
        yield fake
        fake.assert_all_answers_used()
