"""Fixtures every test folder shares."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

# Fake credentials and a region, and no shared config, profile or instance metadata: a test can
# never reach a real AWS account, whatever the machine has configured.
FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The fake AWS environment above, set for one test (start moto after it, then clients)."""
    for name, value in FAKE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return FAKE_AWS_ENVIRONMENT


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out and hung up is expected; keep stderr for the code under test."""


@pytest.fixture
def local_http() -> Iterator[Callable[[type[BaseHTTPRequestHandler]], str]]:
    """Serves a request handler on 127.0.0.1 (a free port) in a thread, for stand-ins of the API
    or of CloudFormation; returns ``http://127.0.0.1:<port>``. Stopped when the test ends."""
    started: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(handler: type[BaseHTTPRequestHandler]) -> str:
        server = _QuietServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        started.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="session")
def browser_context() -> Iterator[Any]:
    """One headless Chromium context for the whole session (tests/browser_support.py)."""
    from browser_support import session_browser

    yield from session_browser()
