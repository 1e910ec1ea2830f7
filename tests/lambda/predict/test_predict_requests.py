"""The request forms the API accepts, and what it refuses (before calling the endpoint)."""

from __future__ import annotations

import base64
import json

import predict_handler
import pytest

from core import api_contract

from .helpers import (
    CLASS_NAMES,
    MODEL_VERSION,
    PROBABILITIES,
    RANKED_BREEDS,
    b64,
    body_of,
    error_of,
    image_json_event,
    jpeg_bytes,
    json_event,
    make_event,
    png_bytes,
    raw_image_event,
)


def call(event, context):
    return predict_handler.handler(event, context)


def breeds_of(response):
    return [prediction["breed"] for prediction in body_of(response)["predictions"]]


# --- Accepted forms ---------------------------------------------------------------------------
def test_json_image_gets_the_five_most_probable_breeds_most_probable_first(endpoint, lambda_context):
    image = jpeg_bytes()
    endpoint.answers(for_image=image)

    response = call(image_json_event(image), lambda_context)

    class_ids = [CLASS_NAMES.index(breed) for breed in RANKED_BREEDS[:5]]
    assert response["statusCode"] == 200
    assert body_of(response) == {
        "predictions": [
            {"breed": CLASS_NAMES[i], "classId": i, "probability": PROBABILITIES[i]} for i in class_ids
        ],
        "model": MODEL_VERSION,
    }


def test_blog_body_field_is_accepted(endpoint, lambda_context):
    image = jpeg_bytes()
    endpoint.answers(for_image=image)

    response = call(json_event({"body": b64(image)}), lambda_context)

    assert response["statusCode"] == 200


def test_image_field_wins_when_image_and_body_are_both_sent(endpoint, lambda_context):
    image = png_bytes()
    endpoint.answers(for_image=image)

    response = call(json_event({"image": b64(image), "body": b64(jpeg_bytes())}), lambda_context)

    assert response["statusCode"] == 200


def test_raw_jpeg_body_is_accepted(endpoint, lambda_context):
    image = jpeg_bytes()
    endpoint.answers(for_image=image)

    response = call(raw_image_event(image, "image/jpeg"), lambda_context)

    assert breeds_of(response) == RANKED_BREEDS[:5]


def test_raw_png_body_is_accepted(endpoint, lambda_context):
    image = png_bytes()
    endpoint.answers(for_image=image)

    response = call(raw_image_event(image, "image/png"), lambda_context)

    assert breeds_of(response) == RANKED_BREEDS[:5]


def test_json_body_that_api_gateway_base64_encoded_is_decoded_first(endpoint, lambda_context):
    image = jpeg_bytes()
    endpoint.answers(for_image=image)
    document = json.dumps({"image": b64(image), "topK": 2}).encode()

    response = call(make_event(base64.b64encode(document).decode(), is_base64=True), lambda_context)

    assert breeds_of(response) == RANKED_BREEDS[:2]


def test_content_type_parameters_are_ignored(endpoint, lambda_context):
    endpoint.answers()

    event = image_json_event(jpeg_bytes(), content_type="application/json; charset=utf-8")

    assert call(event, lambda_context)["statusCode"] == 200


def test_request_without_content_type_is_read_as_json(endpoint, lambda_context):
    endpoint.answers()

    event = image_json_event(jpeg_bytes(), content_type=None)

    assert call(event, lambda_context)["statusCode"] == 200


def test_header_names_are_case_insensitive(endpoint, lambda_context):
    image = png_bytes()
    endpoint.answers(for_image=image)
    event = make_event(b64(image), content_type=None, is_base64=True, headers={"CONTENT-TYPE": "Image/PNG"})

    assert call(event, lambda_context)["statusCode"] == 200


def test_data_url_image_is_accepted(endpoint, lambda_context):
    image = jpeg_bytes()
    endpoint.answers(for_image=image)

    response = call(json_event({"image": "data:image/jpeg;base64," + b64(image)}), lambda_context)

    assert response["statusCode"] == 200


def test_top_k_limits_the_predictions(endpoint, lambda_context):
    endpoint.answers()

    response = call(image_json_event(jpeg_bytes(), {"topK": 2}), lambda_context)

    assert breeds_of(response) == RANKED_BREEDS[:2]


@pytest.mark.parametrize("top_k", [1, len(CLASS_NAMES)])
def test_top_k_may_be_anything_from_one_to_the_number_of_classes(endpoint, lambda_context, top_k):
    endpoint.answers()

    response = call(image_json_event(jpeg_bytes(), {"topK": top_k}), lambda_context)

    assert breeds_of(response) == RANKED_BREEDS[:top_k]


def test_null_top_k_means_the_default(endpoint, lambda_context):
    endpoint.answers()

    response = call(image_json_event(jpeg_bytes(), {"topK": None}), lambda_context)

    assert len(breeds_of(response)) == api_contract.DEFAULT_TOP_K


def test_default_top_k_is_capped_at_the_number_of_classes(endpoint, lambda_context, handler_environment):
    handler_environment.write_text(json.dumps(["beagle", "pug"]))
    endpoint.answers(json.dumps([0.3, 0.7]).encode())

    response = call(image_json_event(jpeg_bytes()), lambda_context)

    assert breeds_of(response) == ["pug", "beagle"]


# --- Refused before the endpoint is called (the stubbed endpoint has no answer queued) ----------
def assert_refused(response, error: api_contract.ErrorCode, *message_parts: str) -> None:
    assert response["statusCode"] == error.status
    assert error_of(response)["code"] == error.code
    for part in message_parts:
        assert part in error_of(response)["message"]


def test_request_without_body_is_a_bad_request(endpoint, lambda_context):
    response = call(make_event(None), lambda_context)

    assert_refused(response, api_contract.BAD_REQUEST, "no body")


def test_body_that_is_not_json_is_a_bad_request(endpoint, lambda_context):
    response = call(make_event('{"image": '), lambda_context)

    assert_refused(response, api_contract.BAD_REQUEST, "not valid JSON")


def test_json_that_is_not_an_object_is_a_bad_request(endpoint, lambda_context):
    response = call(json_event([b64(jpeg_bytes())]), lambda_context)

    assert_refused(response, api_contract.BAD_REQUEST, "must be an object, not a list")


def test_json_without_an_image_field_is_a_bad_request(endpoint, lambda_context):
    response = call(json_event({"picture": b64(jpeg_bytes())}), lambda_context)

    assert_refused(response, api_contract.BAD_REQUEST, 'no "image" field')


@pytest.mark.parametrize("value, kind", [(42, "a number"), (None, "null"), (["x"], "a list")])
def test_image_field_that_is_not_a_string_is_a_bad_request(endpoint, lambda_context, value, kind):
    response = call(json_event({"image": value}), lambda_context)

    assert_refused(response, api_contract.BAD_REQUEST, f'"image" field must be a base64 string, not {kind}')


def test_image_that_is_not_base64_is_a_bad_request(endpoint, lambda_context):
    response = call(json_event({"image": "not base64!"}), lambda_context)

    assert_refused(response, api_contract.BAD_REQUEST, "not valid base64")


def test_empty_image_is_a_bad_request(endpoint, lambda_context):
    response = call(json_event({"image": ""}), lambda_context)

    assert_refused(response, api_contract.BAD_REQUEST, "the image is empty")


def test_image_with_a_truncated_header_is_a_bad_request(endpoint, lambda_context):
    response = call(image_json_event(jpeg_bytes()[:40]), lambda_context)

    assert_refused(response, api_contract.BAD_REQUEST, "JPEG is truncated")


def test_raw_image_body_not_delivered_as_base64_is_a_bad_request(endpoint, lambda_context):
    event = make_event(jpeg_bytes().decode("latin-1"), content_type="image/jpeg", is_base64=False)

    response = call(event, lambda_context)

    assert_refused(
        response, api_contract.BAD_REQUEST, "arrived as text", 'send JSON {"image"', "binary media type"
    )


def test_raw_image_bytes_sent_as_json_are_a_bad_request_that_names_the_image_content_types(
    endpoint, lambda_context
):
    response = call(make_event(jpeg_bytes().decode("latin-1")), lambda_context)

    assert_refused(
        response, api_contract.BAD_REQUEST, "looks like raw image bytes", "image/jpeg or image/png"
    )


@pytest.mark.parametrize("top_k", [0, -1, len(CLASS_NAMES) + 1, 2.5, 3.0, "3", True, [3]])
def test_top_k_outside_one_to_the_number_of_classes_is_a_bad_request(endpoint, lambda_context, top_k):
    response = call(image_json_event(jpeg_bytes(), {"topK": top_k}), lambda_context)

    assert_refused(
        response, api_contract.BAD_REQUEST, f'"topK" must be a whole number from 1 to {len(CLASS_NAMES)}'
    )


def test_json_body_over_the_limit_is_too_large_before_it_is_parsed(endpoint, lambda_context):
    body = "x" * (api_contract.MAX_JSON_BODY_CHARS + 1)  # not even JSON: size is checked first

    response = call(make_event(body), lambda_context)

    assert_refused(
        response, api_contract.PAYLOAD_TOO_LARGE, f"{api_contract.MAX_JSON_BODY_CHARS:,}-character limit"
    )


def test_base64_json_body_over_the_limit_is_too_large_before_it_is_decoded(endpoint, lambda_context):
    body = "A" * (api_contract.base64_length(api_contract.MAX_JSON_BODY_CHARS) + 4)

    response = call(make_event(body, is_base64=True), lambda_context)

    assert_refused(response, api_contract.PAYLOAD_TOO_LARGE, "JSON body")


def test_base64_image_over_the_limit_is_too_large_before_it_is_decoded(endpoint, lambda_context):
    too_long = "!" * (api_contract.MAX_IMAGE_BASE64_CHARS + 1)  # not even base64: size is checked first

    response = call(json_event({"image": too_long}), lambda_context)

    assert_refused(
        response, api_contract.PAYLOAD_TOO_LARGE, f"over the {api_contract.MAX_IMAGE_BYTES:,}-byte limit"
    )


def test_raw_image_body_over_the_limit_is_too_large(endpoint, lambda_context):
    image = jpeg_bytes() + bytes(api_contract.MAX_IMAGE_BYTES)

    response = call(raw_image_event(image), lambda_context)

    assert_refused(
        response, api_contract.PAYLOAD_TOO_LARGE, f"over the {api_contract.MAX_IMAGE_BYTES:,}-byte limit"
    )


def test_decoded_image_over_the_limit_is_too_large_and_says_its_size(endpoint, lambda_context):
    # One byte over the limit still fits the base64 character limit (a third of a block of slack).
    image = jpeg_bytes()
    image += bytes(api_contract.MAX_IMAGE_BYTES + 1 - len(image))
    assert len(b64(image)) <= api_contract.MAX_IMAGE_BASE64_CHARS

    response = call(image_json_event(image), lambda_context)

    assert_refused(
        response,
        api_contract.PAYLOAD_TOO_LARGE,
        "the image is 4,194,305 bytes, over the 4,194,304-byte limit",
    )


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "image/gif"])
def test_other_content_types_are_unsupported(endpoint, lambda_context, content_type):
    response = call(image_json_event(jpeg_bytes(), content_type=content_type), lambda_context)

    assert_refused(response, api_contract.UNSUPPORTED_MEDIA_TYPE, f"the Content-Type '{content_type}'")


def test_image_that_is_neither_jpeg_nor_png_is_unsupported(endpoint, lambda_context):
    response = call(image_json_event(b"GIF89a\x01\x00\x01\x00\x00\x00\x00"), lambda_context)

    assert_refused(response, api_contract.UNSUPPORTED_MEDIA_TYPE, "the image is GIF")


def test_base64_text_sent_as_a_raw_image_is_unsupported_and_explained(endpoint, lambda_context):
    response = call(raw_image_event(b64(jpeg_bytes()).encode()), lambda_context)

    assert_refused(response, api_contract.UNSUPPORTED_MEDIA_TYPE, "base64 text, not image bytes")


def test_size_is_checked_before_json_validity(endpoint, lambda_context):
    response = call(make_event("{" * (api_contract.MAX_JSON_BODY_CHARS + 1)), lambda_context)

    assert response["statusCode"] == 413


def test_image_is_checked_before_top_k(endpoint, lambda_context):
    response = call(json_event({"image": "", "topK": 0}), lambda_context)

    assert error_of(response)["message"].startswith("the image is empty")


@pytest.mark.parametrize(
    "text, problem",
    [
        ("abc", "3 characters is not a multiple of 4 (cut short, or missing its '=' padding)"),
        ("abcde", "5 characters is not a multiple of 4 (cut short, or missing its '=' padding)"),
        ("ab=c", "'=' padding may only end it"),
        ("abc*", "character 3 is '*', outside A-Z, a-z, 0-9, '+' and '/'"),
        ("ab-_", "character 2 is '-', outside A-Z, a-z, 0-9, '+' and '/'"),
    ],
)
def test_bad_base64_is_explained_in_the_apis_words(endpoint, lambda_context, text, problem):
    response = call(json_event({"image": text}), lambda_context)

    assert error_of(response)["message"] == (
        f"the image is not valid base64: {problem}. {api_contract.BAD_REQUEST.advice}"
    )
    for library_text in ("Incorrect padding", "Only base64 data", "Excess data", "binascii"):
        assert library_text not in response["body"]


# --- Whole messages (a loose substring would let the wrong error pass) -------------------------


def assert_message(response, error: api_contract.ErrorCode, message: str) -> None:
    assert response["statusCode"] == error.status
    assert error_of(response) == {"code": error.code, "message": f"{message}. {error.advice}"}


def test_json_body_over_the_limit_says_so_whole(endpoint, lambda_context):
    length = api_contract.MAX_JSON_BODY_CHARS + 1

    response = call(make_event("x" * length), lambda_context)

    assert_message(
        response,
        api_contract.PAYLOAD_TOO_LARGE,
        f"the JSON body is {length:,} characters, "
        f"over the {api_contract.MAX_JSON_BODY_CHARS:,}-character limit",
    )


def test_json_that_is_not_an_object_says_so_whole(endpoint, lambda_context):
    response = call(json_event([1, 2]), lambda_context)

    assert_message(response, api_contract.BAD_REQUEST, "the JSON body must be an object, not a list")


def test_image_field_of_the_wrong_type_says_so_whole(endpoint, lambda_context):
    response = call(json_event({"body": 42}), lambda_context)

    assert_message(
        response, api_contract.BAD_REQUEST, 'the "body" field must be a base64 string, not a number'
    )


@pytest.mark.parametrize(
    "top_k, shown",
    [
        ("x" * 38, '"' + "x" * 38 + '"'),  # 40 characters as JSON: shown whole
        ("x" * 39, '"' + "x" * 36 + "..."),  # 41: cut to 37 and an ellipsis
    ],
)
def test_top_k_out_of_range_is_shown_whole_up_to_40_characters(endpoint, lambda_context, top_k, shown):
    response = call(image_json_event(jpeg_bytes(), {"topK": top_k}), lambda_context)

    assert_message(
        response,
        api_contract.BAD_REQUEST,
        f'"topK" must be a whole number from 1 to {len(CLASS_NAMES)}, not {shown}',
    )


@pytest.mark.parametrize("image", [jpeg_bytes(), png_bytes()], ids=["jpeg", "png"])
def test_base64_text_of_either_format_sent_raw_is_explained(endpoint, lambda_context, image):
    response = call(raw_image_event(b64(image).encode()), lambda_context)

    assert_message(
        response,
        api_contract.UNSUPPORTED_MEDIA_TYPE,
        "the image is base64 text, not image bytes: send the file itself as the body",
    )


def test_decoded_image_one_byte_over_the_limit_says_so_whole(endpoint, lambda_context):
    image = jpeg_bytes()
    image += bytes(api_contract.MAX_IMAGE_BYTES + 1 - len(image))

    response = call(image_json_event(image), lambda_context)

    assert_message(
        response,
        api_contract.PAYLOAD_TOO_LARGE,
        "the image is 4,194,305 bytes, over the 4,194,304-byte limit",
    )


def test_other_content_type_says_so_whole(endpoint, lambda_context):
    response = call(image_json_event(jpeg_bytes(), content_type="text/plain"), lambda_context)

    assert_message(
        response,
        api_contract.UNSUPPORTED_MEDIA_TYPE,
        "the Content-Type 'text/plain' is not accepted: use application/json, image/jpeg or image/png",
    )
