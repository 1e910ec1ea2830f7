"""The shared S3 URL parser and the shared positive-number argument type."""

from __future__ import annotations

import argparse

import pytest

from core.cli_args import positive_int
from core.s3_url import S3Location, parse_s3_url, s3_url


def test_url_parses_into_bucket_and_key_and_back() -> None:
    location = parse_s3_url("s3://my-bucket/training/output/job-1/output/model.tar.gz")
    assert location == S3Location("my-bucket", "training/output/job-1/output/model.tar.gz")
    assert location.url == s3_url("my-bucket", "training/output/job-1/output/model.tar.gz")


@pytest.mark.parametrize(
    "url", ["https://my-bucket/key", "s3://my-bucket", "s3://my-bucket/", "s3://Bad_Bucket/key", None, 3]
)
def test_what_is_not_an_object_url_parses_as_none(url) -> None:
    assert parse_s3_url(url) is None


def test_a_prefix_url_parses_when_no_key_is_required() -> None:
    assert parse_s3_url("s3://my-bucket/", key_required=False) == S3Location("my-bucket", "")


@pytest.mark.parametrize(("text", "number"), [("1", 1), ("16", 16)])
def test_positive_int_accepts_whole_numbers_from_one(text, number) -> None:
    assert positive_int(text) == number


@pytest.mark.parametrize("text", ["0", "-3", "1.5", "many"])
def test_positive_int_refuses_anything_else_with_the_value(text) -> None:
    with pytest.raises(
        argparse.ArgumentTypeError, match=f"^'{text}': expected a whole number of at least 1$"
    ):
        positive_int(text)
