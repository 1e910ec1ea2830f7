"""web/index.html in Debian's Chromium (Playwright), served by ``python -m local`` with a test model.

``UPDATE_WEB_SCREENSHOT=1 scripts/test tests/web`` rewrites docs/web-page.png.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import REPO
from PIL import Image

from core import api_contract

SCREENSHOT = REPO / "docs" / "web-page.png"
TIMEOUT_MS = 30_000


@pytest.fixture
def page(browser_context, local_api) -> Iterator[Any]:
    """The page with no key remembered yet."""
    page = browser_context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(local_api.url + "/")
    page.evaluate("localStorage.clear()")
    page.reload()
    yield page
    page.close()


def enter_key(page: Any, key: str) -> None:
    page.get_by_label("Enter the API key once").fill(key)
    page.get_by_role("button", name="Save key").click()


def choose(page: Any, name: str, data: bytes, mime: str = "image/jpeg") -> None:
    page.locator("#pick").set_input_files({"name": name, "mimeType": mime, "buffer": data})


def jpeg(size: tuple[int, int], orientation: int | None = None) -> bytes:
    image = Image.radial_gradient("L").convert("RGB").resize(size)
    buffer = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    return buffer.getvalue()


def breeds(page: Any) -> list[str]:
    page.locator("#results").wait_for(state="visible")
    return page.locator("#predictions li .breed").all_inner_texts()


def test_a_jpeg_gives_five_breeds_with_bars(page, local_api) -> None:
    enter_key(page, local_api.api_key)
    choose(page, "dog.jpg", jpeg((640, 480)))
    assert len(breeds(page)) == 5
    assert all(name.strip() for name in breeds(page))
    assert page.locator("#predictions .fill").count() == 5
    assert "Most likely" in page.locator("#status").inner_text()


def test_the_key_is_asked_once_and_remembered(page, local_api) -> None:
    assert page.get_by_label("Enter the API key once").is_visible()
    enter_key(page, local_api.api_key)
    page.reload()
    assert not page.locator("#key-form").is_visible()
    choose(page, "dog.jpg", jpeg((320, 240)))
    assert len(breeds(page)) == 5


def test_a_wrong_key_says_so_and_asks_again(page) -> None:
    enter_key(page, "not-the-key")
    choose(page, "dog.jpg", jpeg((320, 240)))
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert "API key was not accepted" in error.inner_text()
    assert page.get_by_label("Enter the API key once").is_visible()


def test_a_file_that_is_not_an_image_says_so(page, local_api) -> None:
    enter_key(page, local_api.api_key)
    choose(page, "notes.jpg", b"These are my notes, not a photo.\n" * 20)
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert "not a JPEG or PNG image" in error.inner_text()
    assert page.locator("#results").is_hidden()


def test_a_4000x3000_photo_is_shrunk_before_upload(page, local_api) -> None:
    enter_key(page, local_api.api_key)
    photo = jpeg((4000, 3000))
    with page.expect_request(lambda request: request.url.endswith(api_contract.ROUTE)) as sent:
        choose(page, "big.jpg", photo)
    body = sent.value.post_data_buffer
    assert len(body) <= api_contract.MAX_IMAGE_BYTES
    assert len(body) < len(photo)
    assert Image.open(io.BytesIO(body)).size == (1024, 768)
    assert len(breeds(page)) == 5


def test_a_rotated_phone_photo_is_sent_upright(page, local_api) -> None:
    enter_key(page, local_api.api_key)
    with page.expect_request(lambda request: request.url.endswith(api_contract.ROUTE)) as sent:
        choose(page, "portrait.jpg", jpeg((400, 300), orientation=6))  # stored landscape, shown portrait
    assert Image.open(io.BytesIO(sent.value.post_data_buffer)).size == (300, 400)


def test_a_small_upright_jpeg_is_sent_byte_for_byte(page, local_api) -> None:
    enter_key(page, local_api.api_key)
    photo = jpeg((640, 480))
    with page.expect_request(lambda request: request.url.endswith(api_contract.ROUTE)) as sent:
        choose(page, "dog.jpg", photo)
    assert sent.value.post_data_buffer == photo


def test_the_page_is_usable_on_a_phone_and_its_screenshot_is_current(browser_context, local_api) -> None:
    page = browser_context.new_page()
    try:
        page.set_viewport_size({"width": 412, "height": 860})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(local_api.url + "/")
        page.evaluate(f"localStorage.setItem('dogBreedsApiKey', {local_api.api_key!r})")
        page.reload()
        choose(page, "dog.jpg", (REPO / "smoke" / "smoke.jpg").read_bytes())
        assert len(breeds(page)) == 5
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 412, "the page scrolls sideways on a phone"
        image = page.screenshot(full_page=True)
        if os.environ.get("UPDATE_WEB_SCREENSHOT") == "1":
            SCREENSHOT.write_bytes(image)
        assert SCREENSHOT.is_file(), (
            "docs/web-page.png is missing: run UPDATE_WEB_SCREENSHOT=1 scripts/test tests/web"
        )
    finally:
        page.close()
