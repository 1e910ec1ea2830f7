"""Builders for the prediction handler's tests: API Gateway events, images, endpoint answers."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from typing import Any

from PIL import Image, ImageFile

CLASS_NAMES = ["Chihuahua", "Maltese dog", "beagle", "Siberian husky", "malamute", "Eskimo dog", "pug"]
# One probability per class, deliberately not sorted: the API must rank them.
PROBABILITIES = [0.02, 0.05, 0.40, 0.25, 0.20, 0.03, 0.05]
RANKED_BREEDS = ["beagle", "Siberian husky", "malamute", "Maltese dog", "pug", "Eskimo dog", "Chihuahua"]
ENDPOINT_NAME = "dogbreeds-dev-endpoint"
MODEL_VERSION = "image-classification-2026-11-28-12-00-00-000"


# --- Events -----------------------------------------------------------------------------------
def make_event(
    body: str | None,
    *,
    content_type: str | None = "application/json",
    is_base64: bool = False,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST API (payload v1) proxy event for POST /predict."""
    all_headers = {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "User-Agent": "pytest"}
    if content_type is not None:
        all_headers["Content-Type"] = content_type
    all_headers.update(headers or {})
    return {
        "resource": "/predict",
        "path": "/predict",
        "httpMethod": "POST",
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/predict",
            "httpMethod": "POST",
            "stage": "dev",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def json_event(document: Any, **kwargs: Any) -> dict[str, Any]:
    return make_event(json.dumps(document), **kwargs)


def image_json_event(image: bytes, fields: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    """``{"image": <base64>, **fields}``; ``kwargs`` go to ``make_event``."""
    return json_event({"image": b64(image), **(fields or {})}, **kwargs)


def raw_image_event(image: bytes, content_type: str = "image/jpeg", **kwargs: Any) -> dict[str, Any]:
    """A raw image body as API Gateway delivers a binary media type: base64, flagged."""
    return make_event(b64(image), content_type=content_type, is_base64=True, **kwargs)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def body_of(response: dict[str, Any]) -> dict[str, Any]:
    return json.loads(response["body"])


def error_of(response: dict[str, Any]) -> dict[str, str]:
    return body_of(response)["error"]


# --- Images -----------------------------------------------------------------------------------
def jpeg_bytes(size: tuple[int, int] = (32, 24), mode: str = "RGB", **save_options: Any) -> bytes:
    return _encode(Image.new(mode, size, _colour(mode)), "JPEG", **save_options)


def png_bytes(size: tuple[int, int] = (32, 24), mode: str = "RGB", **save_options: Any) -> bytes:
    return _encode(Image.new(mode, size, _colour(mode)), "PNG", **save_options)


def _colour(mode: str) -> Any:
    return {"RGB": (200, 120, 40), "RGBA": (200, 120, 40, 128), "CMYK": (10, 20, 30, 0)}.get(mode, 1)


def _encode(image: Image.Image, image_format: str, **save_options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **save_options)
    return buffer.getvalue()


def exif_bytes() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "Canon EOS R6"  # Model
    return exif.tobytes()


def pillow_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG signature and a valid IHDR chunk (with CRC) for any dimensions; no pixel data."""
    fields = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + fields + struct.pack(">I", zlib.crc32(fields))


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def sof0_segment(width: int, height: int) -> bytes:
    """A baseline frame header for a 3-component image."""
    components = b"".join(bytes([i, 0x11, 0]) for i in (1, 2, 3))
    return jpeg_segment(0xC0, struct.pack(">BHHB", 8, height, width, 3) + components)


def jpeg_header_claiming(width: int, height: int) -> bytes:
    """SOI, a JFIF APP0 and a frame header for any dimensions; no scan data."""
    app0 = jpeg_segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    return b"\xff\xd8" + app0 + sof0_segment(width, height)


# --- Endpoint answers -------------------------------------------------------------------------
def endpoint_answer(probabilities: list[float] | None = None) -> bytes:
    return json.dumps(PROBABILITIES if probabilities is None else probabilities).encode()


def padded_to(data: bytes, length: int) -> bytes:
    """``data`` with zero bytes after its end marker up to ``length``: decoders stop before them."""
    assert len(data) <= length, f"the image is already {len(data)} bytes, over {length}"
    return data + bytes(length - len(data))


def blank_png(width: int, height: int) -> bytes:
    """A real, decodable 1-bit PNG: the fewest bytes per pixel Pillow writes."""
    return _encode(Image.new("1", (width, height), 0), "PNG")


def refusal_message(error: Any, message: str) -> str:
    """The whole message the API sends for ``error`` (an ``core.api_contract.ErrorCode``)."""
    return f"{message}. {error.advice}"


def noise_png(width: int, height: int) -> bytes:
    """A real PNG of random grey pixels: its image data barely compresses, so cuts land inside it."""
    return _encode(Image.effect_noise((width, height), 64), "PNG")


def fully_decodes(image: bytes) -> bool:
    """The judge of every decode test: Pillow's full decode, at full scale, refusing truncated data."""
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    try:
        with Image.open(io.BytesIO(image)) as opened:
            opened.load()
    except Exception:
        return False
    return True
