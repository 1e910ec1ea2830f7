"""The local API: API Gateway's checks (unit tests on ``route`` with a recording function), then the
whole of ``python -m local`` in a subprocess, called by the client CLI, the smoke test and raw HTTP."""

from __future__ import annotations

import base64
import io
import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import REPO, local_api_process
from PIL import Image

from core import api_contract
from local.api_server import (
    MAX_REQUEST_BYTES,
    GatewaySettings,
    LocalApi,
    Request,
    request_schema,
    route,
    schema_errors,
)

KEY = "k" * 24


class RecordingFunction:
    def __init__(self, response: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.response = response or {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": "{}",
        }

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        if isinstance(self.response, Exception):
            raise self.response
        return self.response


def settings(tmp_path: Path | None = None, origins: tuple[str, ...] = ("*",)) -> GatewaySettings:
    page = (tmp_path or REPO) / "index.html"
    return GatewaySettings(api_key=KEY, num_classes=120, allowed_origins=origins, page_file=page)


def post(
    body: bytes, content_type: str | None = "application/json", key: str | None = KEY, path: str = "/predict"
):
    headers = [("Host", "127.0.0.1")]
    if content_type:
        headers.append(("Content-Type", content_type))
    if key:
        headers.append(("x-api-key", key))
    return Request("POST", path, headers, body)


def error_of(answer) -> dict[str, str]:
    return json.loads(answer.body)["error"]


def jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (150, 110, 70)).save(buffer, "JPEG")
    return buffer.getvalue()


# --- API Gateway's checks ---------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path"), [("GET", "/predict"), ("POST", "/"), ("POST", "/v1/predict")])
def test_a_route_the_api_lacks_is_403_missing_authentication_token(method: str, path: str) -> None:
    function = RecordingFunction()
    answer = route(Request(method, path, [("x-api-key", KEY)], b"{}"), settings(), function)
    assert answer.status == 403
    assert error_of(answer) == {
        "code": "MISSING_AUTHENTICATION_TOKEN",
        "message": "Missing Authentication Token",
    }
    assert not function.events


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_a_missing_or_wrong_api_key_is_403_invalid_api_key_before_the_function(key: str | None) -> None:
    function = RecordingFunction()
    answer = route(post(b'{"image": "abc"}', key=key), settings(), function)
    assert (answer.status, error_of(answer)["code"]) == (403, "INVALID_API_KEY")
    assert answer.headers["Access-Control-Allow-Origin"] == "*"  # the Gateway Responses carry CORS
    assert not function.events


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"{}",
        b'{"image": 5}',
        b'{"image": ""}',
        b'{"image": "a", "topK": 0}',
        b'{"body": "a", "topK": 121}',
        b'{"image": "a", "topK": 2.5}',
    ],
)
def test_a_json_body_outside_the_request_schema_is_400_bad_request_body(body: bytes) -> None:
    function = RecordingFunction()
    answer = route(post(body), settings(), function)
    assert answer.status == 400
    assert error_of(answer)["code"] == "BadRequestBody"
    assert "<1 to 120>" in error_of(answer)["message"]
    assert not function.events


def test_a_body_without_content_type_is_validated_as_json() -> None:
    assert route(post(b'{"image": 5}', content_type=None), settings(), RecordingFunction()).status == 400


@pytest.mark.parametrize(
    "body", [b'{"image": "abc"}', b'{"body": "abc", "topK": 120}', b'{"image": "a", "extra": 1}']
)
def test_a_json_body_inside_the_schema_reaches_the_function_as_text(body: bytes) -> None:
    function = RecordingFunction()
    assert route(post(body), settings(), function).status == 200
    (event,) = function.events
    assert (event["body"], event["isBase64Encoded"]) == (body.decode(), False)
    assert event["httpMethod"] == "POST" and event["resource"] == api_contract.ROUTE
    assert event["headers"]["x-api-key"] == KEY
    assert event["requestContext"]["identity"]["apiKey"] == KEY


@pytest.mark.parametrize("content_type", api_contract.BINARY_MEDIA_TYPES)
def test_a_binary_media_type_body_reaches_the_function_base64_encoded(content_type: str) -> None:
    function = RecordingFunction()
    image = jpeg()
    route(post(image, content_type=content_type), settings(), function)
    (event,) = function.events
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == image


def test_other_bodies_reach_the_function_as_text_with_invalid_utf8_replaced() -> None:
    function = RecordingFunction()
    route(post(b"\xff\xd8\xffabc", content_type="application/octet-stream"), settings(), function)
    (event,) = function.events
    assert event["isBase64Encoded"] is False
    assert event["body"].startswith("\ufffd")


def test_the_functions_proxy_response_becomes_the_http_answer() -> None:
    function = RecordingFunction(
        {
            "statusCode": 413,
            "headers": {"Content-Type": "application/json", "Retry-After": "2"},
            "body": '{"a": 1}',
        }
    )
    answer = route(post(b'{"image": "abc"}'), settings(), function)
    assert (answer.status, answer.headers["Retry-After"], answer.body) == (413, "2", b'{"a": 1}')


@pytest.mark.parametrize("response", [RuntimeError("crash"), {"body": "no status"}, None])
def test_a_failing_or_malformed_function_is_502_internal_server_error(response: Any) -> None:
    function = RecordingFunction(response)
    function.response = response
    answer = route(post(b'{"image": "abc"}'), settings(), function)
    assert answer.status == 502
    assert error_of(answer) == {"code": "DEFAULT_5XX", "message": "Internal server error"}


@pytest.mark.parametrize("path", ["/", "/predict"])
def test_a_preflight_is_answered_without_a_key(path: str) -> None:
    answer = route(
        Request("OPTIONS", path, [("Origin", "https://example.org")], b""), settings(), RecordingFunction()
    )
    assert answer.status == 204
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Api-Key" in answer.headers["Access-Control-Allow-Headers"]
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]


def test_a_preflight_with_listed_origins_echoes_a_listed_origin_only() -> None:
    origins = ("https://a.example", "https://b.example")
    listed = route(
        Request("OPTIONS", "/predict", [("Origin", "https://b.example")], b""),
        settings(origins=origins),
        None,
    )
    other = route(
        Request("OPTIONS", "/predict", [("Origin", "https://evil.example")], b""),
        settings(origins=origins),
        None,
    )
    assert listed.headers["Access-Control-Allow-Origin"] == "https://b.example"
    assert other.headers["Access-Control-Allow-Origin"] != "https://evil.example"


def test_the_page_is_served_at_the_root_without_a_key(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>t</title>")
    answer = route(Request("GET", "/", [], b""), settings(tmp_path), RecordingFunction())
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.body.startswith(b"<!doctype html>")


def test_a_request_over_api_gateways_10_mb_is_413_before_the_function() -> None:
    function = RecordingFunction()
    api = LocalApi(settings(), function).start()
    try:
        request = urllib.request.Request(
            api.predict_url,
            data=bytes(MAX_REQUEST_BYTES + 1),
            headers={"x-api-key": KEY, "Content-Type": "image/jpeg"},
        )
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=30)
        assert raised.value.code == 413
        assert json.loads(raised.value.read())["error"]["code"] == "REQUEST_TOO_LARGE"
    finally:
        api.stop()
    assert not function.events


def test_the_schema_check_refuses_keywords_it_does_not_implement() -> None:
    with pytest.raises(ValueError, match="pattern"):
        schema_errors("x", {"type": "string", "pattern": "^a"})


def test_the_local_schema_is_the_one_the_stack_deploys() -> None:
    from aws_cdk import App, Stack
    from aws_cdk import aws_apigateway as apigw
    from aws_cdk.assertions import Template

    from stacks.constructs.predict_api import request_schema as deployed_schema

    stack = Stack(App(), "SchemaOnly")
    api = apigw.RestApi(stack, "Api")
    api.root.add_method("ANY")
    api.add_model("Model", content_type="application/json", schema=deployed_schema(120))
    (model,) = Template.from_stack(stack).find_resources("AWS::ApiGateway::Model").values()
    assert model["Properties"]["Schema"] == request_schema(120)


# --- python -m local, end to end ---------------------------------------------------------------
@pytest.fixture(scope="module")
def local_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with local_api_process(cache=tmp_path_factory.mktemp("cache")) as api:
        yield api


def call(api, body: bytes, content_type: str, key: str | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        api.predict_url, data=body, headers={"x-api-key": key or api.api_key, "Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_it_says_the_test_model_is_meaningless_and_how_to_serve_a_real_one(local_api) -> None:
    printed = "".join(local_api.output)
    assert "TEST MODEL" in printed and "meaningless" in printed
    assert "--model model.tar.gz" in printed
    assert f"ApiKey: {local_api.api_key}" in printed


def test_a_raw_jpeg_gets_five_breeds_from_the_cpu_model(local_api) -> None:
    status, body = call(local_api, jpeg(), "image/jpeg")
    assert status == 200
    assert len(body["predictions"]) == 5
    assert body["model"] == "local-test-model"
    probabilities = [p["probability"] for p in body["predictions"]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(isinstance(p["breed"], str) and p["breed"] for p in body["predictions"])


def test_the_same_image_as_json_gets_the_same_answer(local_api) -> None:
    image = jpeg()
    raw = call(local_api, image, "image/jpeg")[1]
    as_json = call(
        local_api,
        json.dumps({"image": base64.b64encode(image).decode(), "topK": 5}).encode(),
        "application/json",
    )[1]
    assert raw == as_json


def test_the_client_cli_works_against_it_unchanged(local_api, tmp_path: Path) -> None:
    photo = tmp_path / "dog.jpg"
    photo.write_bytes(jpeg((3000, 2000)))
    env = {
        "PATH": "/usr/bin:/bin",
        "DOG_BREEDS_API_URL": local_api.predict_url,
        "DOG_BREEDS_API_KEY": local_api.api_key,
    }
    result = subprocess.run(
        [sys.executable, "-m", "client", "predict", str(photo), "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout.splitlines()[-1])["predictions"]) == 5


def test_the_smoke_test_passes_against_it_unchanged(local_api, capsys: pytest.CaptureFixture[str]) -> None:
    import boto3
    from botocore.stub import Stubber

    from smoke.cli import main

    cloudformation = boto3.client(
        "cloudformation", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    apigateway = boto3.client(
        "apigateway", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    outputs = {"PredictUrl": local_api.predict_url, "ModelVersion": "local-test-model", "ApiKeyId": "local"}
    stack = {
        "StackName": "DogBreeds-dev-Serving",
        "CreationTime": "2026-11-30T00:00:00Z",
        "StackStatus": "CREATE_COMPLETE",
        "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()],
    }
    with Stubber(cloudformation) as cfn, Stubber(apigateway) as apig:
        cfn.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "DogBreeds-dev-Serving"})
        apig.add_response(
            "get_api_key", {"value": local_api.api_key}, {"apiKey": "local", "includeValue": True}
        )
        exit_status = main(["--stage", "dev"], clients=lambda region: (cloudformation, apigateway))
    assert exit_status == 0, capsys.readouterr().err
    assert "smoke test passed" in capsys.readouterr().out


def test_ctrl_c_stops_it_cleanly(tmp_path: Path) -> None:
    with local_api_process(cache=tmp_path) as api:
        api.process.send_signal(signal.SIGINT)
        assert api.process.wait(timeout=15) == 0
    assert "Stopped." in "".join(api.output)
    assert "Traceback" not in "".join(api.output)
