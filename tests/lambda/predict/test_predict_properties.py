"""Properties: whatever the event, the handler answers a well-formed JSON proxy response, and no
image that Pillow cannot fully decode ever reaches the endpoint."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import predict_handler
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from .conftest import FakeLambdaContext
from .helpers import endpoint_answer, fully_decodes, jpeg_bytes, make_event, noise_png, png_bytes

KNOWN_STATUSES = {200, 400, 413, 415, 429, 500, 502, 503, 504}
CONTENT_TYPES = [
    None, "application/json", "application/json; charset=utf-8", "image/jpeg", "image/png",
    "IMAGE/PNG", "text/plain", "", ";",
]  # fmt: skip
VALID_IMAGES = [
    jpeg_bytes((8, 8)),
    png_bytes((8, 8)),
    jpeg_bytes((40, 30), quality=95, progressive=True),
    jpeg_bytes((24, 16), mode="CMYK"),
    noise_png(20, 12),
]


class AlwaysAnswers:
    """An endpoint client that answers every call with a valid probability vector and keeps each image."""

    received: list[bytes] = []

    def invoke_endpoint(self, **parameters: Any) -> dict[str, Any]:
        AlwaysAnswers.received.append(parameters["Body"])
        return {"Body": io.BytesIO(endpoint_answer()), "ContentType": "application/json"}


@pytest.fixture
def always_answering_endpoint(monkeypatch):
    AlwaysAnswers.received = []
    monkeypatch.setattr(predict_handler, "sagemaker_runtime_client", AlwaysAnswers)
    return AlwaysAnswers


@st.composite
def damaged_images(draw) -> bytes:
    """A valid image cut short, with bytes flipped, or with a stretch of it overwritten."""
    image = bytearray(draw(st.sampled_from(VALID_IMAGES)))
    damage = draw(st.sampled_from(["cut", "flip", "overwrite"]))
    if damage == "cut":
        return bytes(image[: draw(st.integers(0, len(image) - 1))])
    if damage == "flip":
        for _ in range(draw(st.integers(1, 4))):
            position = draw(st.integers(0, len(image) - 1))
            image[position] ^= 1 << draw(st.integers(0, 7))
        return bytes(image)
    start = draw(st.integers(0, len(image) - 1))
    patch = draw(st.binary(min_size=1, max_size=16))
    image[start : start + len(patch)] = patch
    return bytes(image)


def _api_gateway_event(body: Any, content_type: str | None, headers: Any, is_base64: Any) -> dict[str, Any]:
    api_event = make_event(body, content_type=content_type)
    if headers is None:
        api_event["headers"] = None
    else:
        api_event["headers"].update(headers)
    api_event["isBase64Encoded"] = is_base64
    return api_event


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
base64_images = st.sampled_from(VALID_IMAGES).map(lambda image: base64.b64encode(image).decode())
random_base64 = st.binary(max_size=60).map(lambda data: base64.b64encode(data).decode())
top_ks = st.none() | st.integers(-2, 10) | st.floats(0, 10) | st.text(max_size=3) | st.booleans()
json_documents = st.fixed_dictionaries(
    {},
    optional={
        "image": base64_images | random_base64 | json_values,
        "body": base64_images,
        "topK": top_ks,
    },
).map(json.dumps)
bodies = (
    st.none()
    | st.text(max_size=60)
    | json_documents
    | base64_images
    | random_base64
    | json_documents.map(lambda text: base64.b64encode(text.encode()).decode())
)
header_values = st.sampled_from(CONTENT_TYPES) | st.text(max_size=20) | st.none()
header_maps = st.none() | st.dictionaries(
    st.sampled_from(["Content-Type", "content-type", "Origin", "X-Anything"]) | st.text(max_size=10),
    header_values,
    max_size=4,
)
api_gateway_events = st.builds(
    _api_gateway_event,
    bodies,
    st.sampled_from(CONTENT_TYPES),
    header_maps,
    st.booleans() | st.none() | st.sampled_from(["true", 1]),
)
plausible_events = st.builds(
    lambda image, top_k, content_type: make_event(
        json.dumps({"image": image, "topK": top_k}), content_type=content_type
    ),
    base64_images,
    st.none() | st.integers(-1, 9),
    st.sampled_from([None, "application/json", "application/json; charset=utf-8"]),
) | st.builds(
    lambda image, content_type: make_event(image, content_type=content_type, is_base64=True),
    base64_images,
    st.sampled_from(["image/jpeg", "image/png", "IMAGE/PNG"]),
)
damaged_image_events = st.builds(
    lambda image, raw: (
        make_event(base64.b64encode(image).decode(), content_type="image/jpeg", is_base64=True)
        if raw
        else make_event(json.dumps({"image": base64.b64encode(image).decode()}))
    ),
    damaged_images(),
    st.booleans(),
)
arbitrary_events = (
    st.none()
    | json_values
    | st.dictionaries(st.sampled_from(["body", "headers", "isBase64Encoded", "httpMethod"]), json_values)
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(api_event=plausible_events | damaged_image_events | api_gateway_events | arbitrary_events)
def test_any_event_gets_a_well_formed_response(always_answering_endpoint, api_event):
    response = predict_handler.handler(api_event, FakeLambdaContext())
    event(f"status {response['statusCode']}")  # shown by --hypothesis-show-statistics

    assert isinstance(response["statusCode"], int)
    assert response["statusCode"] in KNOWN_STATUSES
    assert response["headers"]["Content-Type"] == "application/json"
    assert response["isBase64Encoded"] is False
    body = json.loads(response["body"])
    assert isinstance(body, dict)
    if response["statusCode"] == 200:
        assert body["predictions"] and isinstance(body["model"], str)
    else:
        assert set(body["error"]) == {"code", "message"}
        assert "Traceback" not in body["error"]["message"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(api_event=damaged_image_events | plausible_events)
def test_no_undecodable_image_reaches_the_endpoint(always_answering_endpoint, api_event):
    always_answering_endpoint.received = []  # the fixture runs once for all examples
    response = predict_handler.handler(api_event, FakeLambdaContext())
    event(f"status {response['statusCode']}")

    for image in always_answering_endpoint.received:
        assert fully_decodes(image), f"an undecodable image reached the endpoint: {image.hex()}"
    if response["statusCode"] == 400:
        assert not always_answering_endpoint.received
