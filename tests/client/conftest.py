"""Fixtures for the client tests: a local stand-in of the API, and images made on the fly.

The stand-in validates requests as the deployed API does (API Gateway's key check and unknown
routes, then the Lambda's body checks) and answers from the API contract, unless a test queued
canned answers.
"""

from __future__ import annotations

import json
import random
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core.api_contract import (
    BAD_REQUEST,
    IMAGE_FIELD,
    JPEG_MAGIC,
    JSON_CONTENT_TYPE,
    MAX_IMAGE_BYTES,
    MAX_JSON_BODY_CHARS,
    PAYLOAD_TOO_LARGE,
    PNG_MAGIC,
    ROUTE,
    TOP_K_FIELD,
    UNSUPPORTED_MEDIA_TYPE,
    ErrorCode,
    decode_base64,
    error_body,
    prediction_body,
)

STAGE = "prod"
MODEL_VERSION = "sha256-abc123"
BREEDS = ["Siberian husky", "malamute", "Eskimo dog", "Chihuahua", "beagle", "papillon"]
PROBABILITIES = [0.931, 0.042, 0.015, 0.007, 0.004, 0.001]


@dataclass
class Answer:
    status: int
    body: Any  # JSON-serialisable, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any
    image: bytes | None
    top_k: int | None


class FakeApi:
    """What a test controls and inspects: the API key, canned answers and received requests."""

    def __init__(self) -> None:
        self.stage_url = ""
        self.api_key: str | None = None
        self.delay_seconds = 0.0
        self.answers: deque[Answer] = deque()
        self.requests: list[ReceivedRequest] = []

    @property
    def predict_url(self) -> str:
        return self.stage_url.rstrip("/") + ROUTE

    def queue(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """Answer the next valid request with this instead of a prediction."""
        self.answers.append(Answer(status, body, headers or {}))

    def queue_error(self, error: ErrorCode, message: str, headers: dict[str, str] | None = None):
        self.queue(error.status, error_body(error, message), headers)

    def answer(self, request: ReceivedRequest, raw_body: bytes) -> Answer:
        if request.path != f"/{STAGE}{ROUTE}":
            return Answer(403, {"message": "Missing Authentication Token"})
        if self.api_key is not None and request.headers.get("x-api-key") != self.api_key:
            return Answer(403, {"message": "Forbidden"})
        problem = validate(request, raw_body)
        if problem is not None:
            return problem
        if self.answers:
            return self.answers.popleft()
        return Answer(200, prediction_body(PROBABILITIES, BREEDS, request.top_k, MODEL_VERSION))


def validate(request: ReceivedRequest, raw_body: bytes) -> Answer | None:
    """The Lambda's checks of a JSON request; ``None`` when it is valid."""

    def bad(error: ErrorCode, message: str) -> Answer:
        return Answer(error.status, error_body(error, message))

    if request.headers.get("content-type") != JSON_CONTENT_TYPE:
        return bad(UNSUPPORTED_MEDIA_TYPE, f"content type {request.headers.get('content-type')}")
    if len(raw_body) > MAX_JSON_BODY_CHARS:
        return bad(PAYLOAD_TOO_LARGE, "the body is too large")
    if not isinstance(request.body, dict) or not isinstance(request.body.get(IMAGE_FIELD), str):
        return bad(BAD_REQUEST, f"the body is not a JSON object with a string {IMAGE_FIELD!r}")
    if not isinstance(request.top_k, int) or request.top_k < 1:
        return bad(BAD_REQUEST, f"{TOP_K_FIELD} must be a positive integer")
    if request.image is None:
        return bad(BAD_REQUEST, "the image is not valid base64")
    if len(request.image) > MAX_IMAGE_BYTES:
        return bad(PAYLOAD_TOO_LARGE, f"the image has {len(request.image)} bytes")
    if not request.image.startswith((JPEG_MAGIC, PNG_MAGIC)):
        return bad(UNSUPPORTED_MEDIA_TYPE, "the image is neither JPEG nor PNG")
    return None


def parse_request(path: str, headers: dict[str, str], raw_body: bytes) -> ReceivedRequest:
    try:
        body = json.loads(raw_body)
    except ValueError:
        body = None
    image = top_k = None
    if isinstance(body, dict):
        top_k = body.get(TOP_K_FIELD)
        encoded = body.get(IMAGE_FIELD)
        if isinstance(encoded, str):
            try:
                image = decode_base64(encoded)
            except ValueError:
                image = None
    return ReceivedRequest(path, headers, body, image, top_k)


def handler_for(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw_body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            request = parse_request(self.path, headers, raw_body)
            api.requests.append(request)
            answer = api.answer(request, raw_body)
            time.sleep(api.delay_seconds)
            body = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body)
            payload = body.encode() if isinstance(body, str) else body
            self.send_response(answer.status)
            self.send_header("Content-Type", JSON_CONTENT_TYPE)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests capture stderr to check the CLI's own messages."""

    return Handler


@pytest.fixture
def fake_api(local_http) -> FakeApi:
    api = FakeApi()
    api.stage_url = f"{local_http(handler_for(api))}/{STAGE}/"
    return api


@pytest.fixture
def unreachable_url() -> str:
    """A stage URL on a local port nothing listens on (once the probe socket closes)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/{STAGE}/"


TEST_API_KEY = "test-key"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No API settings or proxies from the machine running the tests, and a test API key in
    DOG_BREEDS_API_KEY (the CLI refuses to send without one; tests about that remove it)."""
    monkeypatch.delenv("DOG_BREEDS_API_URL", raising=False)
    monkeypatch.setenv("DOG_BREEDS_API_KEY", TEST_API_KEY)
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


ImageFactory = Callable[..., Path]


@pytest.fixture
def make_image(tmp_path: Path) -> ImageFactory:
    """``make_image("dog.jpg", size=(64, 48), mode="RGB", noise=False, **save_options)``: a file
    in ``tmp_path``, its format from the suffix; ``noise`` makes it hard to compress."""

    def make(
        name: str,
        size: tuple[int, int] = (64, 48),
        mode: str = "RGB",
        *,
        noise: bool = False,
        **save_options: Any,
    ) -> Path:
        path = tmp_path / name
        image_of(size, mode, noise=noise).save(path, **save_options)
        return path

    return make


def image_of(size: tuple[int, int], mode: str = "RGB", *, noise: bool = False) -> Image.Image:
    if noise:
        data = random.Random(0).randbytes(size[0] * size[1] * 3)
        return Image.frombytes("RGB", size, data).convert(mode)
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    return image.convert(mode)
