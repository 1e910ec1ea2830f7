"""Request checks for POST /predict: the image and topK out of an API Gateway proxy event.

Cheapest checks first (sizes before parsing, parsing before decoding, headers before pixels), so
a bad request costs little. Every refusal is an ``ApiError`` whose message is written for clients.
"""

from __future__ import annotations

import binascii
import json
from typing import Any

from image_decode import UndecodableImage, check_decodes
from image_header import CorruptImage, ImageHeader, UnsupportedImageType, read_image_header

from core import api_contract as contract

# Image bytes that API Gateway passed on as text, or base64 text sent as if it were the image.
_RAW_IMAGE_TEXT_STARTS = ("\xff\xd8\xff", "\x89PNG", "\ufffdPNG", "\ufffd\ufffd")
_BASE64_IMAGE_STARTS = (b"/9j/", b"iVBORw0KGgo")


class ApiError(Exception):
    """A request the API refuses; ``message`` says what was wrong, the error code how to fix it."""

    def __init__(self, error: contract.ErrorCode, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.error = error
        self.message = message
        self.detail = detail  # for the log only: a library's own words, never sent to the client


def lowercase_headers(event: Any) -> dict[str, str]:
    headers = event.get("headers") if isinstance(event, dict) else None
    if not isinstance(headers, dict):
        return {}
    return {str(name).lower(): value for name, value in headers.items() if isinstance(value, str)}


def parse_request(event: Any) -> tuple[bytes, ImageHeader, Any]:
    """The image, its header and the raw topK of a request; checked cheapest first."""
    if not isinstance(event, dict):
        raise ApiError(contract.BAD_REQUEST, "the event is not an API Gateway proxy request")
    body = event.get("body")
    if not isinstance(body, str) or not body:
        raise ApiError(contract.BAD_REQUEST, "the request has no body")
    is_base64 = event.get("isBase64Encoded") is True
    media_type = request_media_type(lowercase_headers(event))
    if media_type in contract.IMAGE_CONTENT_TYPES:
        base64_image, top_k = raw_image_body(body, is_base64, media_type), None
    elif media_type == contract.JSON_CONTENT_TYPE:
        base64_image, top_k = json_body_fields(body, is_base64)
    else:
        raise ApiError(
            contract.UNSUPPORTED_MEDIA_TYPE,
            f"the Content-Type {media_type!r} is not accepted: use {contract.JSON_CONTENT_TYPE}, "
            + " or ".join(contract.IMAGE_CONTENT_TYPES),
        )
    image = decode_image(base64_image)
    return image, check_image(image), top_k


def request_media_type(headers: dict[str, str]) -> str:
    """The Content-Type without parameters; a request without one is taken as JSON."""
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    return media_type or contract.JSON_CONTENT_TYPE


def raw_image_body(body: str, is_base64: bool, media_type: str) -> str:
    if not is_base64:
        raise ApiError(
            contract.BAD_REQUEST,
            f"the {media_type} body arrived as text, not base64, so its bytes may be altered: "
            f'send JSON {{"{contract.IMAGE_FIELD}": "<base64>"}} instead, or make sure the API '
            f"lists {media_type} as a binary media type",
        )
    return body


def json_body_fields(body: str, is_base64: bool) -> tuple[str, Any]:
    """The base64 image and the raw topK of a JSON body."""
    text: str | bytes = body
    if is_base64:  # a JSON body API Gateway encoded anyway (binary media type "*/*")
        _check_length(body, contract.base64_length(contract.MAX_JSON_BODY_CHARS), "JSON body")
        text = _decode_base64_body(body)
    else:
        _check_length(body, contract.MAX_JSON_BODY_CHARS, "JSON body")
    document = _parse_json(text)
    if not isinstance(document, dict):
        raise ApiError(contract.BAD_REQUEST, f"the JSON body must be an object, not {_json_type(document)}")
    image_field = contract.IMAGE_FIELD if contract.IMAGE_FIELD in document else contract.BLOG_IMAGE_FIELD
    if image_field not in document:
        raise ApiError(contract.BAD_REQUEST, f'the JSON body has no "{contract.IMAGE_FIELD}" field')
    base64_image = document[image_field]
    if not isinstance(base64_image, str):
        raise ApiError(
            contract.BAD_REQUEST,
            f'the "{image_field}" field must be a base64 string, not {_json_type(base64_image)}',
        )
    return base64_image, document.get(contract.TOP_K_FIELD)


def _check_length(text: str, limit: int, what: str) -> None:
    if len(text) > limit:
        raise ApiError(
            contract.PAYLOAD_TOO_LARGE,
            f"the {what} is {len(text):,} characters, over the {limit:,}-character limit",
        )


def _decode_base64_body(body: str) -> bytes:
    try:
        return binascii.a2b_base64(body, strict_mode=True)
    except (binascii.Error, ValueError):
        raise ApiError(
            contract.BAD_REQUEST, "the body is marked isBase64Encoded but is not valid base64"
        ) from None


def _parse_json(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        message = "the body is not valid JSON"
        if isinstance(error, json.JSONDecodeError):
            message += f" (at character {error.pos:,})"
        if _looks_like_raw_image(text):
            message += ": it looks like raw image bytes; send them with Content-Type " + " or ".join(
                contract.IMAGE_CONTENT_TYPES
            )
        raise ApiError(contract.BAD_REQUEST, message) from None


def _looks_like_raw_image(text: str | bytes) -> bool:
    if isinstance(text, bytes):
        return text.startswith((contract.JPEG_MAGIC, contract.PNG_MAGIC))
    return text.startswith(_RAW_IMAGE_TEXT_STARTS)


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def decode_image(base64_image: str) -> bytes:
    if len(base64_image) > contract.MAX_IMAGE_BASE64_CHARS:
        raise ApiError(
            contract.PAYLOAD_TOO_LARGE,
            f"the image is about {len(base64_image) * 3 // 4:,} bytes "
            f"({len(base64_image):,} base64 characters), "
            f"over the {contract.MAX_IMAGE_BYTES:,}-byte limit",
        )
    try:
        image = contract.decode_base64(base64_image)
    except ValueError as error:  # decode_base64's messages are written for clients
        raise ApiError(contract.BAD_REQUEST, str(error)) from None
    if len(image) > contract.MAX_IMAGE_BYTES:
        raise ApiError(
            contract.PAYLOAD_TOO_LARGE,
            f"the image is {len(image):,} bytes, over the {contract.MAX_IMAGE_BYTES:,}-byte limit",
        )
    if not image:
        raise ApiError(contract.BAD_REQUEST, "the image is empty")
    return image


def check_image(image: bytes) -> ImageHeader:
    """The header of an image the endpoint can decode; pixel limits first, then a full decode."""
    try:
        header = read_image_header(image)
    except UnsupportedImageType as error:
        message = str(error)  # image_header's messages are written for clients
        if image.startswith(_BASE64_IMAGE_STARTS):
            message = "the image is base64 text, not image bytes: send the file itself as the body"
        raise ApiError(contract.UNSUPPORTED_MEDIA_TYPE, message) from None
    except CorruptImage as error:
        raise ApiError(contract.BAD_REQUEST, str(error)) from None
    if header.pixels > contract.MAX_IMAGE_PIXELS:
        raise ApiError(
            contract.PAYLOAD_TOO_LARGE,
            f"the image is {header.width:,}x{header.height:,} = {header.pixels:,} pixels, "
            f"over the {contract.MAX_IMAGE_PIXELS:,}-pixel limit",
        )
    if header.pixels > contract.MAX_PIXELS_PER_BYTE * len(image):
        raise ApiError(
            contract.BAD_REQUEST,
            f"the image claims {header.width:,}x{header.height:,} = {header.pixels:,} pixels in only "
            f"{len(image):,} bytes, over {contract.MAX_PIXELS_PER_BYTE:,} pixels per byte: "
            "no photograph compresses that far",
        )
    try:
        check_decodes(image, header)
    except UndecodableImage as error:
        raise ApiError(contract.BAD_REQUEST, str(error), detail=error.detail) from None
    return header


def validate_top_k(requested: Any, class_count: int) -> int:
    """``topK`` as given (``None`` or absent: the default) if it is a whole number in range."""
    if requested is None:
        return min(contract.DEFAULT_TOP_K, class_count)
    is_whole_number = isinstance(requested, int) and not isinstance(requested, bool)
    if not (is_whole_number and 1 <= requested <= class_count):
        shown = json.dumps(requested)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise ApiError(
            contract.BAD_REQUEST,
            f'"{contract.TOP_K_FIELD}" must be a whole number from 1 to {class_count}, not {shown}',
        )
    return int(requested)
