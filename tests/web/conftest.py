"""Browser-test fixtures: Chromium (tests/browser_support.py) and the local API with a test model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import local_api_process


@pytest.fixture(scope="module")
def local_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with local_api_process(cache=tmp_path_factory.mktemp("cache")) as api:
        yield api
