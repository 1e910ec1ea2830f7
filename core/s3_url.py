"""``s3://bucket/key`` URLs: the one parser and formatter for the pin, the CLI and the channels."""

from __future__ import annotations

import re
from dataclasses import dataclass

_S3_URL = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])/(?P<key>\S*)$")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    @property
    def url(self) -> str:
        return s3_url(self.bucket, self.key)


def s3_url(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def parse_s3_url(url: object, *, key_required: bool = True) -> S3Location | None:
    """The bucket and key of ``url``; None when it is not an ``s3://<bucket>/<key>`` URL (with a
    valid bucket name, and a non-empty key unless ``key_required`` is False). Callers word the error:
    they know which setting or input held the URL."""
    match = _S3_URL.match(url) if isinstance(url, str) else None
    if match is None or (key_required and not match.group("key")):
        return None
    return S3Location(match.group("bucket"), match.group("key"))
