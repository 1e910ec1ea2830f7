"""A local stand-in for a SageMaker endpoint: the runtime's InvokeEndpoint protocol on 127.0.0.1.

``POST /endpoints/<name>/invocations`` with an image body answers the JSON list of class
probabilities, as the built-in image-classification container does. Errors have the shapes of
botocore's ``sagemaker-runtime`` service model (``x-amzn-ErrorType`` header and a JSON body with
``Message``), so the unchanged boto3 client raises the same ``ClientError`` codes as on AWS:
``ValidationError`` (400) for an unknown endpoint, ``ModelError`` (424, with the container's
``OriginalStatusCode``) for an image the model cannot read. Point a client here with
``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=<url>``. The request's signature is not checked.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

from local.loopback_server import LoopbackServer
from local.model import ImageDecodeError

ACCOUNT_ID = "000000000000"  # what error messages show where AWS names the account
PRODUCTION_VARIANT = "AllTraffic"
# InvokeEndpoint's own limit on the request body.
MAX_BODY_BYTES = 6_291_456
# What the built-in image-classification container accepts and answers.
IMAGE_CONTENT_TYPES = ("application/x-image", "image/jpeg", "image/png")
JSON_CONTENT_TYPE = "application/json"
_INVOCATIONS_PATH = re.compile(r"^/endpoints/(?P<name>[^/]+)/invocations$")
_CORAL = "http://internal.amazon.com/coral/com.amazon.sagemaker.runtime/"

log = logging.getLogger(__name__)


class Model(Protocol):
    """What the server needs of a model (``local.model.CpuModel`` has this shape)."""

    num_classes: int

    def predict(self, image_bytes: bytes) -> list[float]: ...


class InvocationError(Exception):
    """An error answer in the runtime's shape: HTTP status, error code, message, extra fields."""

    def __init__(self, status: int, code: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields


def model_error(endpoint: str, original_status: int, original_message: str) -> InvocationError:
    """The runtime's ``ModelError``: the container answered ``original_status``."""
    kind = "client" if original_status < 500 else "server"
    return InvocationError(
        424,
        "ModelError",
        f"Received {kind} error ({original_status}) from primary with message "
        f'"{original_message}". See the model server\'s output for endpoint {endpoint} '
        f"in account {ACCOUNT_ID} for more information.",
        ErrorCode=f"{kind.upper()}_ERROR_FROM_MODEL",
        OriginalStatusCode=original_status,
        OriginalMessage=original_message,
        LogStreamArn=f"local:{endpoint}",
    )


def invoke(model: Model, endpoint: str, name: str, content_type: str, accept: str, body: bytes) -> bytes:
    """The answer body for one invocation of ``name``, or ``InvocationError``."""
    if name != endpoint:
        raise InvocationError(400, "ValidationError", f"Endpoint {name} of account {ACCOUNT_ID} not found.")
    if len(body) > MAX_BODY_BYTES:
        raise InvocationError(
            400,
            "ValidationError",
            f"Request body of {len(body):,} bytes exceeds the maximum of {MAX_BODY_BYTES:,} bytes.",
        )
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type not in IMAGE_CONTENT_TYPES:
        raise model_error(
            endpoint, 415, f"Content type {media_type or '(none)'} is not supported by this algorithm"
        )
    accepted = [part.partition(";")[0].strip().lower() for part in (accept or "*/*").split(",")]
    if not {JSON_CONTENT_TYPE, "*/*", "application/*"} & set(accepted):
        raise model_error(endpoint, 406, f"Accept {accept} is not supported: use {JSON_CONTENT_TYPE}")
    try:
        probabilities = model.predict(body)
    except ImageDecodeError as error:
        raise model_error(endpoint, 400, f"Unable to decode the image: {error}") from None
    except Exception as error:  # the container answers every failure
        log.exception("The model failed on an invocation of %s", endpoint)
        raise model_error(endpoint, 500, f"The model failed: {type(error).__name__}") from None
    return json.dumps([float(p) for p in probabilities]).encode("ascii")


class _Handler(BaseHTTPRequestHandler):
    server: ModelServer
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold every answer back by about 40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        request_id = str(uuid.uuid4())
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        match = _INVOCATIONS_PATH.match(self.path.partition("?")[0])
        try:
            if match is None:
                raise InvocationError(404, "UnknownOperationException", f"No operation at {self.path}")
            answer = invoke(
                self.server.model,
                self.server.endpoint_name,
                match["name"],
                self.headers.get("Content-Type", ""),
                self.headers.get("Accept", ""),
                body,
            )
        except InvocationError as error:
            payload = {"Message": error.message, **error.fields}
            self._send(
                error.status,
                json.dumps(payload).encode(),
                request_id,
                {"x-amzn-ErrorType": f"{error.code}:{_CORAL}"},
            )
            return
        headers = {"x-Amzn-Invoked-Production-Variant": PRODUCTION_VARIANT}
        self._send(200, answer, request_id, headers)

    def do_GET(self) -> None:
        if self.path == "/ping":  # the container's health check
            self._send(200, b"", str(uuid.uuid4()), {})
            return
        self._send(
            404,
            b'{"Message": "Not found"}',
            str(uuid.uuid4()),
            {"x-amzn-ErrorType": "UnknownOperationException"},
        )

    def _send(self, status: int, body: bytes, request_id: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", JSON_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", request_id)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.debug("model server: " + format, *args)


class ModelServer(LoopbackServer):
    """Serves ``model`` as endpoint ``endpoint_name`` on 127.0.0.1 (port 0: any free port)."""

    def __init__(self, model: Model, endpoint_name: str, port: int = 0) -> None:
        super().__init__(_Handler, port, "model server")
        self.model = model
        self.endpoint_name = endpoint_name
