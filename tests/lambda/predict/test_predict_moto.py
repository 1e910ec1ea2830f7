"""End to end through boto3 against moto's SageMaker: a canned answer becomes ranked breeds."""

from __future__ import annotations

import json

import boto3
import predict_handler
import pytest
import requests
from moto import mock_aws
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from .helpers import CLASS_NAMES, ENDPOINT_NAME, MODEL_VERSION, body_of, image_json_event, jpeg_bytes

REGION = "us-east-1"
MOTO_ENDPOINT_RESULTS = "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results"


@pytest.fixture
def binary_bodies_in_moto(monkeypatch):
    """moto 5.2.5 decodes every InvokeEndpoint body as UTF-8, which fails on image bytes; its
    backend only uses the body as a key, so decode it losslessly as Latin-1 instead."""
    original = SageMakerRuntimeResponse.setup_class

    def setup_class(self, request, full_url=None, headers=None, use_raw_body=None):
        original(self, request, full_url, headers, use_raw_body=True)
        if isinstance(self.body, bytes):
            self.body = self.body.decode("latin-1")

    monkeypatch.setattr(SageMakerRuntimeResponse, "setup_class", setup_class)


@pytest.fixture
def moto_endpoint(binary_bodies_in_moto):
    with mock_aws():
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        sagemaker.create_model(
            ModelName="dogbreeds-model",
            ExecutionRoleArn="arn:aws:iam::123456789012:role/SageMakerExecution",
            PrimaryContainer={
                "Image": "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1",
                "ModelDataUrl": "s3://dogbreeds-models/job-1/output/model.tar.gz",
            },
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName="dogbreeds-config",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "dogbreeds-model",
                    "InstanceType": "ml.g4dn.xlarge",
                    "InitialInstanceCount": 1,
                }
            ],
        )
        sagemaker.create_endpoint(EndpointName=ENDPOINT_NAME, EndpointConfigName="dogbreeds-config")
        predict_handler.sagemaker_runtime_client.cache_clear()  # a client made inside the mock
        yield
        predict_handler.sagemaker_runtime_client.cache_clear()


def queue_endpoint_answer(probabilities: list[float]) -> None:
    result = {"Body": json.dumps(probabilities), "ContentType": "application/json"}
    response = requests.post(MOTO_ENDPOINT_RESULTS, json={"region": REGION, "results": [result]}, timeout=5)
    response.raise_for_status()


def test_canned_answer_comes_back_as_the_top_k_breeds_in_order(moto_endpoint, lambda_context):
    probabilities = [0.01, 0.02, 0.03, 0.04, 0.60, 0.25, 0.05]  # malamute, Eskimo dog, pug
    queue_endpoint_answer(probabilities)

    response = predict_handler.handler(image_json_event(jpeg_bytes(), {"topK": 3}), lambda_context)

    assert response["statusCode"] == 200
    assert body_of(response) == {
        "predictions": [
            {"breed": "malamute", "classId": 4, "probability": 0.60},
            {"breed": "Eskimo dog", "classId": 5, "probability": 0.25},
            {"breed": "pug", "classId": 6, "probability": 0.05},
        ],
        "model": MODEL_VERSION,
    }


def test_canned_answer_of_the_wrong_length_is_a_bad_gateway(moto_endpoint, lambda_context):
    queue_endpoint_answer([0.5] * (len(CLASS_NAMES) - 1))

    response = predict_handler.handler(image_json_event(jpeg_bytes()), lambda_context)

    assert response["statusCode"] == 502
    assert body_of(response)["error"]["code"] == "ModelServiceError"
