"""The smoke test's fakes: a local stand-in of the deployed API and stubbed AWS clients.

The stand-in checks the API key as API Gateway does and answers each POST with what the test
set; ``Stubber`` plays CloudFormation and API Gateway, so nothing leaves the machine. The fixtures
that start them live in conftest.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import boto3
from botocore.stub import Stubber

from core.api_contract import ROUTE

STAGE = "dev"
MODEL_VERSION = "job-1"
API_KEY_ID = "abc123key"
API_KEY = "s3cr3t-key-value"
BREEDS = ["Siberian husky", "malamute", "Eskimo dog", "Chihuahua", "beagle"]


def prediction(probabilities: list[float] | None = None, model: str = MODEL_VERSION) -> dict[str, Any]:
    probabilities = probabilities or [0.62, 0.2, 0.1, 0.05, 0.03]
    return {
        "predictions": [
            {"breed": breed, "classId": index, "probability": probability}
            for index, (breed, probability) in enumerate(zip(BREEDS, probabilities, strict=False))
        ],
        "model": model,
    }


@dataclass
class StandIn:
    """What the API answers (status, JSON body, headers), and what it received."""

    stage_url: str = ""
    status: int = 200
    body: Any = field(default_factory=prediction)
    headers: dict[str, str] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def predict_url(self) -> str:
        return self.stage_url.rstrip("/") + ROUTE


def handler_for(api: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            api.received.append({"path": self.path, "api_key": self.headers.get("x-api-key"), "body": body})
            if self.headers.get("x-api-key") != API_KEY:
                self.answer(403, {"message": "Forbidden"}, {})
            else:
                self.answer(api.status, api.body, api.headers)

        def answer(self, status: int, body: Any, headers: dict[str, str]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read the smoke test's own messages."""

    return Handler


def aws_client(service: str) -> Any:
    return boto3.client(
        service, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def stack_description(
    outputs: dict[str, str], name: str = f"DogBreeds-{STAGE}-Serving", status: str = "UPDATE_COMPLETE"
) -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackName": name,
                "CreationTime": "2026-11-28T12:00:00Z",
                "StackStatus": status,
                "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()],
            }
        ]
    }


@dataclass
class Aws:
    """Stubbed CloudFormation and API Gateway clients; ``factory`` is what ``smoke.cli.main`` takes."""

    cloudformation: Any
    apigateway: Any
    cloudformation_stub: Stubber
    apigateway_stub: Stubber
    regions: list[str | None] = field(default_factory=list)

    def factory(self, region: str | None) -> tuple[Any, Any]:
        self.regions.append(region)
        return self.cloudformation, self.apigateway

    def serve_stack(self, outputs: dict[str, str], **description: Any) -> None:
        self.cloudformation_stub.add_response(
            "describe_stacks",
            stack_description(outputs, **description),
            {"StackName": f"DogBreeds-{STAGE}-Serving"},
        )

    def serve_api_key(self) -> None:
        self.apigateway_stub.add_response(
            "get_api_key", {"id": API_KEY_ID, "value": API_KEY}, {"apiKey": API_KEY_ID, "includeValue": True}
        )

    def serve_deployed(self, stand_in: StandIn, *, endpoint: bool = True, model: str = MODEL_VERSION) -> None:
        """A deployed stage whose API is ``stand_in``."""
        outputs = {"PredictUrl": stand_in.predict_url, "ModelVersion": model, "ApiKeyId": API_KEY_ID}
        if endpoint:
            outputs["EndpointName"] = f"DogBreeds-{STAGE}-Serving"
        self.serve_stack(outputs)
        self.serve_api_key()
