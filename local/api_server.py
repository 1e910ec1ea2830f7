"""The deployed API on 127.0.0.1: API Gateway's checks in front of the unchanged prediction function.

``LocalApi`` does what the Serving stack's REST API does before and after the function
(stacks/constructs/predict_api.py): it routes ``POST /predict`` and answers anything else with
``403 MISSING_AUTHENTICATION_TOKEN``; it requires the ``x-api-key``; it checks JSON bodies
against the request validator's schema; it base64-encodes the bodies of the binary media types;
it answers CORS preflights; and it gives its own errors the Gateway Responses' shape
``{"error": {"code", "message"}}``. It then builds an API Gateway proxy event and a Lambda
context and calls ``predict_handler.handler`` (lambda/predict, imported, not copied) with the
environment the stack sets. The function's boto3 client reaches a ``ModelServer`` through the
SDK's standard endpoint override, ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME``. ``GET /`` serves the
web page (web/index.html) without a key, as the stack's ``GET /`` route does.

Not emulated: stage throttling and usage-plan quotas, Lambda's 6 MB payload limit and timeouts.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from core import api_contract as contract
from local.loopback_server import LoopbackServer
from local.model_server import Model, ModelServer

REPO = Path(__file__).resolve().parent.parent
FUNCTION_DIR = REPO / "lambda" / "predict"
PAGE_FILE = REPO / "web" / "index.html"
STAGE = "local"
FUNCTION_NAME = f"DogBreeds-{STAGE}-Serving-PredictFunction"
# API Gateway's payload limit for REST APIs.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
# A refused body larger than this is not read: the connection is closed on the client instead.
MAX_DISCARDED_BYTES = 8 * MAX_REQUEST_BYTES
API_KEY_HEADER = "x-api-key"
# The preflight answer of the stack's default_cors_preflight_options.
CORS_ALLOW_METHODS = "POST,OPTIONS"
CORS_ALLOW_HEADERS = "Content-Type,X-Api-Key,Authorization"

log = logging.getLogger(__name__)

LambdaFunction = Callable[[dict[str, Any], Any], dict[str, Any]]


# --- The request validator's schema -----------------------------------------------------------
def request_schema(num_classes: int) -> dict[str, Any]:
    """The JSON schema of predict_api.request_schema, as the template renders it (a test compares)."""
    image = {"type": "string", "minLength": 1}
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": "PredictRequest",
        "type": "object",
        "properties": {
            contract.IMAGE_FIELD: image,
            contract.BLOG_IMAGE_FIELD: image,
            contract.TOP_K_FIELD: {"type": "integer", "minimum": 1, "maximum": num_classes},
        },
        "anyOf": [{"required": [contract.IMAGE_FIELD]}, {"required": [contract.BLOG_IMAGE_FIELD]}],
    }


_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}
_ANNOTATIONS = ("$schema", "title", "description")


def schema_errors(value: Any, schema: Mapping[str, Any], where: str = "body") -> list[str]:
    """Why ``value`` fails ``schema`` (empty: it passes); the draft-4 keywords the API's schema uses.

    Raises ``ValueError`` for a keyword it does not know, so a schema change cannot pass unchecked.
    """
    unknown = set(schema) - {*_ANNOTATIONS, "type", "properties", "required", "anyOf", "minLength"}
    unknown -= {"minimum", "maximum"}
    if unknown:
        raise ValueError(f"the local API cannot check the schema keywords {sorted(unknown)}: add them")
    if "type" in schema and not _JSON_TYPES[schema["type"]](value):
        return [f"{where} must be of type {schema['type']}"]
    errors = []
    if isinstance(value, dict):
        errors += [
            f"{where} lacks required property {name!r}"
            for name in schema.get("required", ())
            if name not in value
        ]
        for name, subschema in schema.get("properties", {}).items():
            if name in value:
                errors += schema_errors(value[name], subschema, f"{where}.{name}")
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        errors.append(f"{where} is shorter than {schema['minLength']} characters")
    if _JSON_TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where} is less than {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where} is greater than {schema['maximum']}")
    if "anyOf" in schema and all(schema_errors(value, option, where) for option in schema["anyOf"]):
        errors.append(f"{where} matches none of the allowed forms")
    return errors


# --- Gateway Responses ------------------------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def gateway_error(status: int, response_type: str, message: str, cors_origin: str | None) -> Answer:
    """API Gateway's own error in the stack's Gateway Response template (DEFAULT_4XX / 5XX)."""
    return gateway_answer(status, {"error": {"code": response_type, "message": message}}, cors_origin)


def gateway_answer(status: int, body: dict[str, Any], cors_origin: str | None) -> Answer:
    headers = {"Content-Type": contract.JSON_CONTENT_TYPE, "x-amzn-ErrorType": _error_type(body)}
    if cors_origin == "*":  # the stack adds it to Gateway Responses only for "*"
        headers["Access-Control-Allow-Origin"] = "*"
    return Answer(status, headers, json.dumps(body).encode())


def _error_type(body: dict[str, Any]) -> str:
    code = body["error"]["code"]
    return {
        "INVALID_API_KEY": "ForbiddenException",
        "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
    }.get(code, "BadRequestException" if code.startswith("BAD_REQUEST") else code)


def bad_request_body(num_classes: int) -> dict[str, Any]:
    """The stack's BAD_REQUEST_BODY Gateway Response (a failed schema check)."""
    return {
        "error": {
            "code": "BadRequestBody",
            "message": (
                "The request body does not match the API contract. Send JSON "
                f'{{"{contract.IMAGE_FIELD}": "<base64 JPEG or PNG>", '
                f'"{contract.TOP_K_FIELD}": <1 to {num_classes}>}} '
                "or a raw image/jpeg or image/png body."
            ),
        }
    }


# --- The proxy integration --------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path and query
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return values[-1] if values else None

    @property
    def media_type(self) -> str:
        return (self.header("Content-Type") or "").partition(";")[0].strip().lower()


def proxy_event(request: Request, api_key: str, request_id: str) -> dict[str, Any]:
    """The API Gateway REST proxy event (payload v1) for ``request`` on the ``/predict`` resource."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    query = parse_qs(urlsplit(request.target).query, keep_blank_values=True)
    is_binary = request.media_type in contract.BINARY_MEDIA_TYPES
    if not request.body:
        body = None
    elif is_binary:
        body = base64.b64encode(request.body).decode("ascii")
    else:
        body = request.body.decode("utf-8", errors="replace")
    now = time.time()
    return {
        "resource": contract.ROUTE,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": contract.ROUTE,
            "httpMethod": request.method,
            "path": f"/{STAGE}{request.path}",
            "stage": STAGE,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "accountId": "000000000000",
            "apiId": "local",
            "protocol": "HTTP/1.1",
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "domainName": request.header("Host") or "127.0.0.1",
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": request.header("User-Agent"),
                "apiKey": api_key,
            },
        },
        "body": body,
        "isBase64Encoded": is_binary and body is not None,
    }


@dataclass
class LambdaContext:
    """The Lambda context fields the handler and Powertools read."""

    aws_request_id: str
    function_name: str = FUNCTION_NAME
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:us-east-1:000000000000:function:{FUNCTION_NAME}"
    log_group_name: str = f"/aws/lambda/{FUNCTION_NAME}"
    log_stream_name: str = "local"
    deadline: float = field(default_factory=lambda: time.monotonic() + contract.LAMBDA_TIMEOUT_SECONDS)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def proxy_answer(response: Any) -> Answer | None:
    """The HTTP answer for a Lambda proxy response, ``None`` when it is malformed (API Gateway: 502)."""
    if not isinstance(response, dict) or not isinstance(response.get("statusCode"), int):
        return None
    headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[str(name)] = ",".join(str(v) for v in values)
    body = response.get("body") or ""
    if not isinstance(body, str):
        return None
    data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    return Answer(response["statusCode"], headers, data)


class FunctionRunner:
    """The prediction function in this process, one invocation at a time as in one Lambda sandbox.

    ``environment`` is put into ``os.environ`` (the process is the function's sandbox) before the
    handler module is first imported, since Powertools reads it at import.
    """

    def __init__(self, environment: Mapping[str, str]) -> None:
        os.environ.update(environment)
        for folder in (str(REPO), str(FUNCTION_DIR)):
            if folder not in sys.path:
                sys.path.insert(0, folder)
        self.module = importlib.import_module("predict_handler")
        # Per-sandbox caches: a new runner is a new sandbox (new classes file, new endpoint URL).
        self.module.load_class_names.cache_clear()
        self.module.sagemaker_runtime_client.cache_clear()
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self._lock:
            return self.module.handler(event, context)


def function_environment(
    *, endpoint_name: str, model_version: str, classes_file: Path, model_server_url: str, allowed_origins: str
) -> dict[str, str]:
    """What PredictFunction sets, plus the local endpoint override and dummy credentials."""
    return {
        # As stacks/constructs/predict_function.py sets them:
        "ENDPOINT_NAME": endpoint_name,
        "MODEL_VERSION": model_version,
        "ALLOWED_ORIGINS": allowed_origins,
        "POWERTOOLS_SERVICE_NAME": "predict",
        "POWERTOOLS_METRICS_NAMESPACE": "DogBreeds",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        # The bundle's generated classes.json, here a file of the local model's classes:
        "CLASSES_FILE": str(classes_file),
        # The SDK's standard per-service endpoint override; nothing reaches AWS.
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": model_server_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
    }


# --- The gateway ------------------------------------------------------------------------------
@dataclass(frozen=True)
class GatewaySettings:
    api_key: str
    num_classes: int
    allowed_origins: tuple[str, ...] = ("*",)
    page_file: Path = PAGE_FILE


def route(request: Request, settings: GatewaySettings, function: LambdaFunction) -> Answer:
    """API Gateway's answer to ``request``: routing, preflight, key, validation, then the function."""
    request_id = str(uuid.uuid4())
    cors = "*" if "*" in settings.allowed_origins else None
    path = request.path
    if request.method == "OPTIONS" and path in ("/", contract.ROUTE):
        return preflight(request, settings.allowed_origins)
    if request.method == "GET" and path == "/":
        return page(settings.page_file)
    if request.method != "POST" or path != contract.ROUTE:
        return gateway_error(403, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token", cors)
    if request.header(API_KEY_HEADER) != settings.api_key:
        return gateway_error(403, "INVALID_API_KEY", "Forbidden", cors)
    if request.media_type in ("", contract.JSON_CONTENT_TYPE) and not valid_json_body(request.body, settings):
        return gateway_answer(400, bad_request_body(settings.num_classes), cors)
    event = proxy_event(request, settings.api_key, request_id)
    try:
        answer = proxy_answer(function(event, LambdaContext(aws_request_id=request_id)))
    except Exception:
        log.exception("The prediction function raised")
        answer = None
    if answer is None:
        return gateway_error(502, "DEFAULT_5XX", "Internal server error", cors)
    return answer


def valid_json_body(body: bytes, settings: GatewaySettings) -> bool:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return not schema_errors(document, request_schema(settings.num_classes))


def preflight(request: Request, allowed_origins: tuple[str, ...]) -> Answer:
    headers = {
        "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
        "Access-Control-Allow-Methods": CORS_ALLOW_METHODS,
    }
    if "*" in allowed_origins:
        headers["Access-Control-Allow-Origin"] = "*"
    else:
        origin = request.header("Origin")
        headers["Access-Control-Allow-Origin"] = origin if origin in allowed_origins else allowed_origins[0]
        headers["Vary"] = "Origin"
    return Answer(204, headers, b"")


def page(page_file: Path) -> Answer:
    try:
        html = page_file.read_bytes()
    except OSError:
        return Answer(404, {"Content-Type": "text/plain"}, f"{page_file} is missing".encode())
    return Answer(200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache"}, html)


class _GatewayHandler(BaseHTTPRequestHandler):
    server: LocalApi
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold every answer back by about 40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            cors = "*" if "*" in self.server.settings.allowed_origins else None
            self._discard(length)
            self.close_connection = True
            self._send(gateway_error(413, "REQUEST_TOO_LARGE", "Request Too Long", cors))
            return
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
        self._send(route(request, self.server.settings, self.server.function))

    def _discard(self, length: int) -> None:
        """Read and drop a refused body (up to a bound), so the client reads the answer, not a reset."""
        left = min(length, MAX_DISCARDED_BYTES)
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 16))
            if not chunk:
                break
            left -= len(chunk)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _handle

    def _send(self, answer: Answer) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.info("%s %s", self.address_string(), format % args)


class LocalApi(LoopbackServer):
    """The gateway on 127.0.0.1 (port 0: any free port) in front of ``function``."""

    def __init__(self, settings: GatewaySettings, function: LambdaFunction, port: int = 0) -> None:
        super().__init__(_GatewayHandler, port, "local API")
        self.settings = settings
        self.function = function

    @property
    def predict_url(self) -> str:
        return self.url + contract.ROUTE


# --- The whole API ----------------------------------------------------------------------------
ENDPOINT_NAME = f"DogBreeds-{STAGE}-Serving"  # the stack names its endpoint after itself


@dataclass
class RunningApi:
    """A model server and the gateway in front of the function, both serving in threads."""

    api: LocalApi
    model_server: ModelServer

    @property
    def predict_url(self) -> str:
        return self.api.predict_url

    @property
    def url(self) -> str:
        return self.api.url

    def stop(self) -> None:
        self.api.stop()
        self.model_server.stop()


def start_api(
    model: Model,
    *,
    api_key: str,
    class_names: list[str],
    model_version: str,
    work_dir: Path,
    port: int = 0,
    allowed_origins: tuple[str, ...] = ("*",),
    page_file: Path = PAGE_FILE,
) -> RunningApi:
    """Serve ``model`` behind the whole API on 127.0.0.1; ``stop()`` the result when done."""
    if len(class_names) != model.num_classes:
        raise ValueError(
            f"the model has {model.num_classes} classes but the class list has {len(class_names)} names: "
            "pass the classes.json the model was trained with"
        )
    work_dir.mkdir(parents=True, exist_ok=True)
    classes_file = work_dir / "classes.json"
    classes_file.write_text(json.dumps(class_names, ensure_ascii=False), encoding="utf-8")
    model_server = ModelServer(model, ENDPOINT_NAME).start()
    try:
        function = FunctionRunner(
            function_environment(
                endpoint_name=ENDPOINT_NAME,
                model_version=model_version,
                classes_file=classes_file,
                model_server_url=model_server.url,
                allowed_origins=",".join(allowed_origins),
            )
        )
        settings = GatewaySettings(api_key, len(class_names), allowed_origins, page_file)
        api = LocalApi(settings, function, port).start()
    except BaseException:
        model_server.stop()
        raise
    return RunningApi(api, model_server)
