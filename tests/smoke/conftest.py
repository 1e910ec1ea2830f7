"""Fixtures for the smoke test: the local stand-in API on 127.0.0.1 and stubbed AWS clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.stub import Stubber
from smoke_fakes import Aws, StandIn, aws_client, handler_for


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch, local_http) -> StandIn:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)  # the client subprocess must reach 127.0.0.1 itself
    api = StandIn()
    api.stage_url = f"{local_http(handler_for(api))}/v1/"
    return api


@pytest.fixture
def aws() -> Iterator[Aws]:
    cloudformation, apigateway = aws_client("cloudformation"), aws_client("apigateway")
    with Stubber(cloudformation) as cloudformation_stub, Stubber(apigateway) as apigateway_stub:
        yield Aws(cloudformation, apigateway, cloudformation_stub, apigateway_stub)
