"""The HTTP plumbing the local model server and the local API share: a threading server on 127.0.0.1
that serves in a background thread until ``stop()``."""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

log = logging.getLogger(__name__)


class LoopbackServer(ThreadingHTTPServer):
    """Serves ``handler`` on 127.0.0.1 (port 0: any free port); ``label`` names it in the log."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int, label: str) -> None:
        super().__init__(("127.0.0.1", port), handler)
        self.label = label
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def start(self) -> Self:
        """Serve in a background thread; ``stop()`` ends it."""
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("%s: connection from %s ended with an error", self.label, client_address, exc_info=True)
