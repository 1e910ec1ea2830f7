"""Helpers for tests that need a browser or the local API: Debian's Chromium driven by Playwright,
and ``python -m local`` serving a generated test model in a subprocess.

Chromium comes from apt (``/usr/bin/chromium``); Playwright's own browser download cannot work
offline. Without it the browser tests skip with the install command, except under CI (``CI=true``),
where a missing browser fails them.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
INSTALL_HINT = "sudo apt-get install chromium"
# Headless, and nothing that reaches the network on its own (updates, sync, safe browsing, QUIC).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
API_KEY = "local-test-key-0123456789"
STARTUP_SECONDS = 60
READY_LINE = "Stop with Ctrl-C."  # the last line python -m local prints once serving


def missing_browser_reason() -> str | None:
    """Why the browser tests cannot run here (``None``: they can)."""
    if not Path(CHROMIUM).is_file() or not os.access(CHROMIUM, os.X_OK):
        return f"Chromium is not installed at {CHROMIUM}: install it with `{INSTALL_HINT}`"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: run scripts/setup"
    return None


def require_browser() -> None:
    """Skip the calling test when there is no browser; under CI, fail it instead."""
    reason = missing_browser_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must run the browser tests: .ci/run installs it)", pytrace=False)
    pytest.skip(reason)


@contextmanager
def chromium_browser() -> Iterator[Any]:
    """A headless Chromium with a fresh profile, closed and removed afterwards."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
            )
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def session_browser() -> Iterator[Any]:
    """Body of the session's one ``browser_context`` fixture (tests/conftest.py): skips, or fails under
    CI, without a browser. Playwright's sync API allows one running instance per thread, so every test
    folder shares this one context instead of defining its own fixture."""
    require_browser()
    with chromium_browser() as context:
        yield context


@dataclass
class LocalApiProcess:
    process: subprocess.Popen
    predict_url: str
    api_key: str
    output: list[str]

    @property
    def url(self) -> str:
        return self.predict_url.rsplit("/", 1)[0]


@contextmanager
def local_api_process(
    model: Path | None = None, api_key: str = API_KEY, cache: Path | None = None
) -> Iterator[LocalApiProcess]:
    """``python -m local --port 0`` serving ``model`` (default: the generated test model, written
    under ``cache``); yields once it printed its ``PredictUrl`` and key, and stops it with SIGINT."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env.pop(name, None)
    if cache is not None:
        env["XDG_CACHE_HOME"] = str(cache)
    command = [sys.executable, "-m", "local", "--port", "0", "--api-key", api_key]
    if model is not None:
        command += ["--model", str(model)]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output: list[str] = []
    try:
        predict_url = _wait_for_url(process, output)
        # Keep reading its output (the function's log lines), or a full pipe would block it.
        drain = threading.Thread(target=lambda: output.extend(process.stdout or ()), daemon=True)
        drain.start()
        yield LocalApiProcess(process, predict_url, api_key, output)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_url(process: subprocess.Popen, output: list[str]) -> str:
    assert process.stdout is not None
    timer = _Deadline(process, STARTUP_SECONDS)
    url = None
    try:
        for line in process.stdout:
            output.append(line)
            match = re.match(r"PredictUrl: (\S+)", line)
            url = match.group(1) if match else url
            if url and line.startswith(READY_LINE):
                return url
    finally:
        timer.cancel()
    raise RuntimeError("python -m local exited before serving:\n" + "".join(output))


class _Deadline:
    """Kills ``process`` if it has not printed its URL in time, so a hang fails instead of blocking."""

    def __init__(self, process: subprocess.Popen, seconds: float) -> None:
        self._timer = threading.Timer(seconds, process.kill)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()
