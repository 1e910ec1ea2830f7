"""Send an image to the prediction API and turn its answer into a dict or an ``ApiError``.

Standard library only (``urllib.request``): the client needs nothing beyond Pillow.
"""

from __future__ import annotations

import base64
import email.utils
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from core.api_contract import (
    API_KEY_ENV,
    CLIENT_TIMEOUT_SECONDS,
    DEFAULT_TOP_K,
    IMAGE_FIELD,
    JSON_CONTENT_TYPE,
    NOT_READY,
    ROUTE,
    THROTTLED,
    TOP_K_FIELD,
)

API_KEY_HEADER = "x-api-key"
USER_AGENT = "dog-breeds-client/0.1"
DEFAULT_TIMEOUT_SECONDS = CLIENT_TIMEOUT_SECONDS
MAX_RETRIES = 3
RETRIED_STATUSES = frozenset({THROTTLED.status, NOT_READY.status})
FIRST_BACKOFF_SECONDS = 1.0
MAX_RETRY_WAIT_SECONDS = 60.0
EXAMPLE_STAGE_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/"
# How much of a body that is not the API's JSON (an HTML error page) an error message quotes.
MAX_QUOTED_CHARS = 200


class ApiError(Exception):
    """A failed call: HTTP ``status`` (``None`` when no answer came), ``code`` and ``message``."""

    def __init__(
        self, status: int | None, code: str, message: str, *, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}" if status else f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    @property
    def affects_every_request(self) -> bool:
        """Whether any other image would fail the same way: no answer, or URL or key refused."""
        return self.status is None or self.status in (401, 403, 404)


RetryCallback = Callable[[ApiError, float, int], None]


def endpoint_url(url: str) -> str:
    """The ``/predict`` URL from a stage URL (``.../prod`` or ``.../prod/``) or the full URL.

    Raises ``ValueError`` when ``url`` is not an http(s) URL.
    """
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(
            f"not an http(s) URL: {url!r}; pass the API's stage URL from the stack outputs, "
            f"for example {EXAMPLE_STAGE_URL}"
        )
    path = parts.path.rstrip("/")
    if not path.endswith(ROUTE):
        path += ROUTE
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def predict(
    url: str,
    image_bytes: bytes,
    api_key: str | None = None,
    top_k: int = DEFAULT_TOP_K,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    *,
    retries: int = MAX_RETRIES,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: RetryCallback | None = None,
) -> dict[str, Any]:
    """POST ``image_bytes`` to the API at ``url`` and return its success body.

    Retries throttling (429) and not-ready (503) answers up to ``retries`` times, waiting what
    their ``Retry-After`` says or else 1, 2, 4... seconds; ``on_retry(error, wait, attempt)`` is
    told before each wait. Raises ``ApiError`` for every failure.
    """
    request = build_request(endpoint_url(url), image_bytes, api_key, top_k)
    attempt = 0
    while True:
        try:
            return send(request, timeout)
        except ApiError as error:
            attempt += 1
            if error.status not in RETRIED_STATUSES or attempt > retries:
                raise
            wait = retry_wait(error.retry_after, attempt)
            if on_retry is not None:
                on_retry(error, wait, attempt)
            sleep(wait)


def build_request(url: str, image_bytes: bytes, api_key: str | None, top_k: int) -> urllib.request.Request:
    """The JSON POST: ``{"image": "<base64>", "topK": N}``, with the API key when there is one."""
    body = {IMAGE_FIELD: base64.b64encode(image_bytes).decode("ascii"), TOP_K_FIELD: top_k}
    headers = {
        "Content-Type": JSON_CONTENT_TYPE,
        "Accept": JSON_CONTENT_TYPE,
        "User-Agent": USER_AGENT,
    }
    if api_key:
        headers[API_KEY_HEADER] = api_key
    return urllib.request.Request(  # noqa: S310 - endpoint_url() allows only http(s)
        url, data=json.dumps(body).encode("ascii"), headers=headers, method="POST"
    )


def send(request: urllib.request.Request, timeout: float) -> dict[str, Any]:
    """One attempt: the parsed success body, or ``ApiError``."""
    url = request.full_url
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read()
    except urllib.error.HTTPError as error:
        raise error_from_response(url, error.code, read_error_body(error), error.headers) from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise timeout_error(url, timeout) from None
        raise ApiError(None, "ConnectionError", f"cannot reach {url} ({error.reason})") from None
    except TimeoutError:
        raise timeout_error(url, timeout) from None
    except (OSError, http.client.HTTPException) as error:
        raise ApiError(None, "ConnectionError", f"the connection to {url} failed ({error!r})") from None
    return parse_success(body)


def read_error_body(error: urllib.error.HTTPError) -> bytes:
    """The body of an error answer; empty when the connection fails while reading it."""
    try:
        with error:
            return error.read()
    except (OSError, http.client.HTTPException):
        return b""


def timeout_error(url: str, timeout: float) -> ApiError:
    return ApiError(None, "Timeout", f"no answer from {url} within {timeout:g} s")


def parse_success(body: bytes) -> dict[str, Any]:
    """The success body, checked enough to print: ``predictions`` of breeds and probabilities."""
    try:
        result = json.loads(body)
        predictions = result["predictions"]
        if not isinstance(predictions, list):
            raise TypeError("predictions is not a list")
        for prediction in predictions:
            if not isinstance(prediction["breed"], str):
                raise TypeError("breed is not a string")
            float(prediction["probability"])
    except (ValueError, TypeError, KeyError) as error:
        raise ApiError(
            200, "BadResponse", f"the API's answer is not a prediction ({error}): {quote(body)}"
        ) from None
    return result


def error_from_response(url: str, status: int, body: bytes, headers: Any) -> ApiError:
    """The ``ApiError`` for an HTTP error answer from the API, or from API Gateway itself."""
    retry_after = parse_retry_after(headers.get("Retry-After") if headers else None)
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        error = payload["error"]
        code = str(error.get("code") or status_code(status))
        message = str(error.get("message") or "no message")
    elif isinstance(payload, dict) and "message" in payload:
        code, message = gateway_error(url, status, str(payload["message"]))
    else:
        code, message = status_code(status), quote(body) or "the answer has no body"
    return ApiError(status, code, message, retry_after=retry_after)


def gateway_error(url: str, status: int, message: str) -> tuple[str, str]:
    """Code and advice for API Gateway's own ``{"message": ...}`` answers."""
    if status == HTTPStatus.FORBIDDEN and message == "Forbidden":
        return "Forbidden", (
            f"the API rejected the API key: pass --api-key or set {API_KEY_ENV} "
            "(the key must belong to a usage plan of this stage)"
        )
    if status == HTTPStatus.FORBIDDEN and message == "Missing Authentication Token":
        return "NotFound", (
            f"API Gateway has no such resource: {url}; pass the stage URL from the stack "
            f"outputs, for example {EXAMPLE_STAGE_URL}"
        )
    return status_code(status), message


def status_code(status: int) -> str:
    """A code in the API's style for an HTTP status: 504 -> ``GatewayTimeout``."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP{status}"
    return "".join(word[:1].upper() + word[1:] for word in phrase.replace("-", " ").split())


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), or ``None``."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def retry_wait(retry_after: float | None, attempt: int) -> float:
    """Seconds before retry number ``attempt`` (1-based): ``Retry-After``, else 1, 2, 4..."""
    wait = retry_after if retry_after is not None else FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1)
    return min(wait, MAX_RETRY_WAIT_SECONDS)


def quote(body: bytes) -> str:
    """The start of a body for an error message, on one line."""
    text = " ".join(body.decode("utf-8", errors="replace").split())
    return text if len(text) <= MAX_QUOTED_CHARS else text[:MAX_QUOTED_CHARS] + "..."
