"""The prediction API contract: one place for its shapes, limits and error codes.

Imported by the prediction Lambda (copied into its bundle), the CDK stacks (timeouts, binary media
types) and the client CLI (limits it shrinks images to). Standard library only: it runs in Lambda.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from typing import Any

ROUTE = "/predict"

# --- Requests ---------------------------------------------------------------------------------
JSON_CONTENT_TYPE = "application/json"
IMAGE_CONTENT_TYPES = ("image/jpeg", "image/png")
# API Gateway base64-encodes only these bodies; JSON stays JSON (never use "*/*").
BINARY_MEDIA_TYPES = IMAGE_CONTENT_TYPES
IMAGE_FIELD = "image"
BLOG_IMAGE_FIELD = "body"  # the blog's client sent {"body": "<base64>"}
TOP_K_FIELD = "topK"
DEFAULT_TOP_K = 5

# Lambda's synchronous payload is 6 MB including the event around the body, and base64 adds a
# third, so 4 MiB of raw image is what fits with room for headers. The endpoint's own limit
# (6,291,456 bytes) is higher, so this is the binding one.
MAX_IMAGE_BYTES = 4 * 1024 * 1024
MAX_IMAGE_BASE64_CHARS = 4 * ((MAX_IMAGE_BYTES + 2) // 3)
# A JSON body is the base64 image plus a little structure (field names, topK, whitespace).
MAX_JSON_BODY_CHARS = MAX_IMAGE_BASE64_CHARS + 64 * 1024
# The model sees 224x224 pixels. 8192x6144 fits the full-resolution output of a 48 MP or 50 MP phone
# sensor (8000x6000, 8160x6120) and keeps a decoded image near 150 MB of RGB on the endpoint.
MAX_IMAGE_PIXELS = 8192 * 6144  # 50,331,648
# Photographs hold at most about 170 pixels per byte of file, even as a quality-1 progressive
# grayscale JPEG of a smooth, upscaled scene (measured); a flat 1-bit PNG reaches over 8,000.
# Above this an image is a decompression bomb or a drawing, never a photo worth a GPU call.
MAX_PIXELS_PER_BYTE = 1_000

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# --- Endpoint call budget ---------------------------------------------------------------------
# API Gateway gives an integration 29 s. The Lambda stops at 25 s, and the SDK's worst case
# (every attempt connecting and reading until its timeout, plus the retry backoff) stays below.
ENDPOINT_CONTENT_TYPE = "application/x-image"
LAMBDA_TIMEOUT_SECONDS = 25
API_GATEWAY_TIMEOUT_SECONDS = 29
ENDPOINT_CONNECT_TIMEOUT_SECONDS = 2
ENDPOINT_READ_TIMEOUT_SECONDS = 9
ENDPOINT_MAX_ATTEMPTS = 2  # one retry: botocore's standard mode retries throttles and 5xx
ENDPOINT_MAX_BACKOFF_SECONDS = 2  # standard mode's jittered backoff before the second attempt
RETRY_AFTER_SECONDS = 2

# --- The client (python -m client) ------------------------------------------------------------
# Its settings from the environment, which its callers (the smoke test, evaluate's API source) set.
API_URL_ENV = "DOG_BREEDS_API_URL"
API_KEY_ENV = "DOG_BREEDS_API_KEY"
# How long it waits for one answer: above API Gateway's 29 s, which answers 504 first.
CLIENT_TIMEOUT_SECONDS = 30.0


def base64_length(raw_bytes: int) -> int:
    """Characters of standard, padded base64 for ``raw_bytes`` bytes."""
    return 4 * ((raw_bytes + 2) // 3)


def decode_base64(text: str) -> bytes:
    """Strictly decode standard base64; tolerates a ``data:image/...;base64,`` prefix and line breaks.

    Raises ``ValueError`` with a message fit for a client.
    """
    if text.startswith("data:"):
        header, sep, text = text.partition(",")
        if not sep or not header.endswith(";base64"):
            raise ValueError("a data URL must look like 'data:image/jpeg;base64,<data>'")
    try:
        # strict_mode checks the alphabet and padding in C: far cheaper than a regex over megabytes.
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        compact = "".join(text.split())  # line breaks from tools like `base64` without -w0
        if compact != text:
            return decode_base64(compact)
        raise ValueError(_base64_problem(text)) from None


_BASE64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def _base64_problem(text: str) -> str:
    """What is wrong with base64 that failed to decode, in the API's words (never binascii's)."""
    for position, character in enumerate(text):
        if character not in _BASE64_ALPHABET:
            return (
                f"the image is not valid base64: character {position:,} is {character!r}, "
                "outside A-Z, a-z, 0-9, '+' and '/'"
            )
    if len(text) % 4:
        return (
            f"the image is not valid base64: {len(text):,} characters is not a multiple of 4 "
            "(cut short, or missing its '=' padding)"
        )
    return "the image is not valid base64: '=' padding may only end it"


# --- Responses --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ErrorCode:
    """An error the API answers with: HTTP status, machine-readable code, and advice."""

    status: int
    code: str
    advice: str
    retry_after_seconds: int | None = None  # sent as Retry-After: the error is worth retrying


BAD_REQUEST = ErrorCode(
    400,
    "BadRequest",
    f'Send JSON {{"{IMAGE_FIELD}": "<base64 JPEG or PNG>", "{TOP_K_FIELD}": 5}} '
    "or a raw image/jpeg or image/png body.",
)
PAYLOAD_TOO_LARGE = ErrorCode(
    413,
    "PayloadTooLarge",
    f"Send at most {MAX_IMAGE_BYTES:,} bytes of image and at most {MAX_IMAGE_PIXELS:,} pixels; "
    "the model sees 224x224 pixels, so a phone photo resized to 1024 px loses nothing "
    "(the client CLI does this for you).",
)
UNSUPPORTED_MEDIA_TYPE = ErrorCode(
    415,
    "UnsupportedMediaType",
    "Send a JPEG or PNG image; convert other formats (HEIC, GIF, WebP) first.",
)
MODEL_ERROR = ErrorCode(
    502, "ModelError", "The model could not classify this image; check that it is a valid photo."
)
# Not the image's fault: SageMaker failed internally, or the model's answer does not fit the class list.
MODEL_SERVICE_ERROR = ErrorCode(
    502,
    "ModelServiceError",
    "The model service failed or answered in an unexpected form; retry later, and if it persists "
    "check the deployed model against its class list and the function's logs.",
)
THROTTLED = ErrorCode(
    429, "TooManyRequests", f"Retry after {RETRY_AFTER_SECONDS} seconds, with backoff.", RETRY_AFTER_SECONDS
)
NOT_READY = ErrorCode(
    503,
    "ModelUnavailable",
    "The model endpoint is missing or not in service yet; retry later or check the deployment.",
    RETRY_AFTER_SECONDS,
)
TIMEOUT = ErrorCode(504, "ModelTimeout", "The model did not answer in time; retry later.")
INTERNAL = ErrorCode(500, "InternalError", "Retry later; if it persists, check the function's logs.")


def error_body(error: ErrorCode, message: str) -> dict[str, Any]:
    """``{"error": {"code", "message"}}``: what was wrong, then how to fix it."""
    return {"error": {"code": error.code, "message": f"{message}. {error.advice}"}}


def prediction_body(
    probabilities: list[float], class_names: list[str], top_k: int, model_version: str
) -> dict[str, Any]:
    """The success body: the ``top_k`` most probable classes, most probable first."""
    ranked = sorted(range(len(probabilities)), key=lambda i: (-probabilities[i], i))[:top_k]
    return {
        "predictions": [
            {"breed": class_names[i], "classId": i, "probability": float(probabilities[i])} for i in ranked
        ],
        "model": model_version,
    }
