"""What reaches the endpoint: images within the pixel limits that decode completely.

Each limit is tested at its edge and one past it, and each refusal by its whole message, so that a
limit that moves or a check that disappears fails a test. A refused request never calls the
endpoint: the stubbed endpoint has no answer queued and would fail the request with a 500.
"""

from __future__ import annotations

import predict_handler
import pytest

from core import api_contract

from .helpers import (
    b64,
    blank_png,
    error_of,
    image_json_event,
    jpeg_bytes,
    jpeg_header_claiming,
    noise_png,
    padded_to,
    png_bytes,
    png_header_claiming,
    raw_image_event,
    refusal_message,
    sof0_segment,
)

LIMIT = api_contract.MAX_IMAGE_PIXELS
DENSITY = api_contract.MAX_PIXELS_PER_BYTE
LIMIT_WIDTH, LIMIT_HEIGHT = 8192, 6144  # a 48 MP photo (8000x6000) fits inside


def call(image: bytes, context):
    return predict_handler.handler(image_json_event(image), context)


def assert_refused_with(response, error: api_contract.ErrorCode, message: str) -> None:
    assert response["statusCode"] == error.status
    assert error_of(response) == {"code": error.code, "message": refusal_message(error, message)}


def fewest_bytes_for(pixels: int) -> int:
    """The smallest file within the pixels-per-byte bound."""
    return -(-pixels // DENSITY)


# --- Pixel limit ------------------------------------------------------------------------------


def test_pixel_limit_fits_a_48_megapixel_phone_photo():
    assert LIMIT == LIMIT_WIDTH * LIMIT_HEIGHT == 50_331_648
    assert LIMIT >= 8000 * 6000


def test_png_at_the_pixel_limit_is_accepted(endpoint, lambda_context):
    image = padded_to(blank_png(LIMIT_WIDTH, LIMIT_HEIGHT), fewest_bytes_for(LIMIT))
    endpoint.answers(for_image=image)

    response = call(image, lambda_context)

    assert response["statusCode"] == 200


def test_jpeg_at_the_pixel_limit_is_accepted(endpoint, lambda_context):
    image = jpeg_bytes((LIMIT_WIDTH, LIMIT_HEIGHT), mode="L", quality=10)
    image = padded_to(image, max(len(image), fewest_bytes_for(LIMIT)))
    endpoint.answers(for_image=image)

    response = call(image, lambda_context)

    assert response["statusCode"] == 200


@pytest.mark.parametrize(
    "header, pixels, size",
    [
        (png_header_claiming(LIMIT + 1, 1), LIMIT + 1, "50,331,649x1"),
        (jpeg_header_claiming(LIMIT_WIDTH + 1, LIMIT_HEIGHT), LIMIT + LIMIT_HEIGHT, "8,193x6,144"),
    ],
    ids=["png-one-pixel-past", "jpeg-one-column-past"],
)
def test_image_past_the_pixel_limit_is_too_large(endpoint, lambda_context, header, pixels, size):
    image = padded_to(header, fewest_bytes_for(pixels))  # dense enough: only the pixel count is wrong

    response = call(image, lambda_context)

    assert_refused_with(
        response,
        api_contract.PAYLOAD_TOO_LARGE,
        f"the image is {size} = {pixels:,} pixels, over the 50,331,648-pixel limit",
    )


def test_the_issues_9000_by_9000_one_bit_png_is_too_large(endpoint, lambda_context):
    image = blank_png(9000, 9000)
    assert len(image) < 12_000  # about 9,912 bytes for 81 M pixels

    response = call(image, lambda_context)

    assert response["statusCode"] == 413
    assert error_of(response)["message"].startswith("the image is 9,000x9,000 = 81,000,000 pixels, over")


# --- Pixels per byte --------------------------------------------------------------------------


def test_image_at_the_pixels_per_byte_bound_is_accepted(endpoint, lambda_context):
    image = padded_to(blank_png(1000, 1000), 1_000_000 // DENSITY)
    endpoint.answers(for_image=image)

    response = call(image, lambda_context)

    assert response["statusCode"] == 200


def test_image_one_byte_short_of_the_pixels_per_byte_bound_is_refused(endpoint, lambda_context):
    image = padded_to(blank_png(1000, 1000), 1_000_000 // DENSITY - 1)

    response = call(image, lambda_context)

    assert_refused_with(
        response,
        api_contract.BAD_REQUEST,
        "the image claims 1,000x1,000 = 1,000,000 pixels in only 999 bytes, over 1,000 pixels per byte: "
        "no photograph compresses that far",
    )


# --- Full decode ------------------------------------------------------------------------------
JPEG = jpeg_bytes((64, 48), quality=90)
PNG = png_bytes((64, 48))
NOISY_PNG = noise_png(64, 48)
_SCAN = JPEG.index(b"\xff\xda")
_DHT = JPEG.index(b"\xff\xc4")
UNDECODABLE = {
    "jpeg-cut-in-its-scan": JPEG[: (_SCAN + len(JPEG)) // 2],
    "jpeg-without-end-marker": JPEG[:-2],
    "jpeg-header-only": jpeg_header_claiming(64, 48),
    "jpeg-bogus-huffman-table": JPEG[: _DHT + 5] + b"\xff" * 16 + JPEG[_DHT + 21 :],
    "png-header-only": png_header_claiming(64, 48),
    "png-cut-in-its-image-data": NOISY_PNG[: len(NOISY_PNG) // 2],
    "png-image-data-bit-flipped": PNG.replace(b"IDAT", b"IDAT\xff", 1)[: len(PNG)],
}


@pytest.mark.parametrize("image", UNDECODABLE.values(), ids=UNDECODABLE.keys())
def test_image_that_does_not_decode_is_a_bad_request(endpoint, lambda_context, image):
    name = "JPEG" if image.startswith(api_contract.JPEG_MAGIC) else "PNG"

    response = call(image, lambda_context)

    assert_refused_with(
        response,
        api_contract.BAD_REQUEST,
        f"the {name} cannot be decoded: its image data is cut short or corrupt",
    )


def test_undecodable_image_sent_raw_is_a_bad_request_too(endpoint, lambda_context):
    response = predict_handler.handler(raw_image_event(JPEG[:-2]), lambda_context)

    assert response["statusCode"] == 400


def test_decoder_message_goes_to_the_log_not_to_the_client(endpoint, lambda_context, monkeypatch):
    logged = []
    monkeypatch.setattr(predict_handler.logger, "info", lambda message, **kw: logged.append(kw))

    response = call(JPEG[:-2], lambda_context)

    assert "truncated" not in response["body"]
    assert logged[0]["extra"]["detail"].startswith("OSError: image file is truncated")


def test_jpeg_that_declares_two_sizes_is_a_bad_request(endpoint, lambda_context):
    # A small first frame header passes the pixel checks; the decoder reads the later, larger one.
    image = JPEG[:2] + sof0_segment(8, 8) + JPEG[2:]

    response = call(image, lambda_context)

    assert_refused_with(
        response, api_contract.BAD_REQUEST, "the JPEG is malformed: it declares 8x8 pixels, then 64x48"
    )


@pytest.mark.parametrize("image", [JPEG, PNG, jpeg_bytes(mode="CMYK"), png_bytes(mode="RGBA")])
def test_decodable_image_reaches_the_endpoint_unchanged(endpoint, lambda_context, image):
    endpoint.answers(for_image=image)

    response = call(image, lambda_context)

    assert response["statusCode"] == 200


def test_image_at_the_byte_limit_that_decodes_is_accepted(endpoint, lambda_context):
    image = padded_to(JPEG, api_contract.MAX_IMAGE_BYTES)
    endpoint.answers(for_image=image)

    response = predict_handler.handler(raw_image_event(image), lambda_context)

    assert response["statusCode"] == 200
    assert len(b64(image)) <= api_contract.MAX_IMAGE_BASE64_CHARS
