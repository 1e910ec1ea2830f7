"""Fixtures for the smoke test: the local stand-in API on 127.0.0.1 and stubbed AWS clients."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest
from botocore.stub import Stubber
from smoke_fakes import Aws, StandIn, aws_client, handler_for


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)  # the client subprocess must reach 127.0.0.1 itself
    api = StandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(api))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    api.stage_url = f"http://127.0.0.1:{server.server_port}/v1/"
    yield api
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def aws() -> Iterator[Aws]:
    cloudformation, apigateway = aws_client("cloudformation"), aws_client("apigateway")
    with Stubber(cloudformation) as cloudformation_stub, Stubber(apigateway) as apigateway_stub:
        yield Aws(cloudformation, apigateway, cloudformation_stub, apigateway_stub)
