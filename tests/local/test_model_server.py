"""The local SageMaker-runtime stand-in, called by the unchanged boto3 client through the SDK's
standard endpoint override: answers and errors must map to the same ClientError codes as on AWS."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from local.model import ImageDecodeError
from local.model_server import ModelServer

ENDPOINT = "DogBreeds-local-Serving"


class StandInModel:
    """The CpuModel shape: three classes, refuses bytes that are not a JPEG."""

    num_classes = 3
    image_shape = (3, 8, 8)

    def predict(self, image_bytes: bytes) -> list[float]:
        if not image_bytes.startswith(b"\xff\xd8\xff"):
            raise ImageDecodeError("cannot identify image file")
        if image_bytes.endswith(b"boom"):
            raise RuntimeError("the runtime crashed")
        return [0.7, 0.2, 0.1]


@pytest.fixture
def runtime(fake_aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    server = ModelServer(StandInModel(), ENDPOINT).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", server.url)
    yield boto3.client("sagemaker-runtime", config=boto3.session.Config(retries={"total_max_attempts": 1}))
    server.stop()


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "brown").save(buffer, "JPEG")
    return buffer.getvalue()


def invoke(client, body: bytes, endpoint: str = ENDPOINT, content_type: str = "application/x-image"):
    return client.invoke_endpoint(
        EndpointName=endpoint, ContentType=content_type, Accept="application/json", Body=body
    )


def test_an_image_is_answered_with_the_json_probabilities(runtime) -> None:
    response = invoke(runtime, jpeg())
    assert json.loads(response["Body"].read()) == [0.7, 0.2, 0.1]
    assert response["ContentType"] == "application/json"
    assert response["InvokedProductionVariant"] == "AllTraffic"


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png"])
def test_the_algorithms_other_image_content_types_are_accepted(runtime, content_type: str) -> None:
    assert json.loads(invoke(runtime, jpeg(), content_type=content_type)["Body"].read())


def test_an_unknown_endpoint_is_a_validation_error_saying_not_found(runtime) -> None:
    with pytest.raises(ClientError) as raised:
        invoke(runtime, jpeg(), endpoint="other")
    error = raised.value.response
    assert error["Error"]["Code"] == "ValidationError"
    assert "Endpoint other of account" in error["Error"]["Message"]
    assert "not found" in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_an_undecodable_image_is_a_model_error_with_the_containers_400(runtime) -> None:
    with pytest.raises(ClientError) as raised:
        invoke(runtime, b"not an image")
    error = raised.value.response
    assert error["Error"]["Code"] == "ModelError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == 400
    assert "cannot identify image file" in error["OriginalMessage"]


def test_a_model_failure_is_a_model_error_with_the_containers_500(runtime) -> None:
    with pytest.raises(ClientError) as raised:
        invoke(runtime, jpeg() + b"boom")
    assert raised.value.response["Error"]["Code"] == "ModelError"
    assert raised.value.response["OriginalStatusCode"] == 500


def test_a_content_type_the_algorithm_does_not_take_is_a_model_error_415(runtime) -> None:
    with pytest.raises(ClientError) as raised:
        invoke(runtime, jpeg(), content_type="text/csv")
    assert raised.value.response["Error"]["Code"] == "ModelError"
    assert raised.value.response["OriginalStatusCode"] == 415


def test_a_body_over_invokeendpoints_limit_is_a_validation_error(runtime) -> None:
    with pytest.raises(ClientError) as raised:
        invoke(runtime, jpeg() + bytes(6_291_456))
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert "6,291,456" in raised.value.response["Error"]["Message"]
