"""report.html in headless Chromium: the breed table sorts on a header click (or key press) and
filters as you type, a confused pair's thumbnail opens at full size, and a phone needs no sideways
scrolling. Uses Debian's Chromium through ``browser_support`` (skips without it, except under CI)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evaluation_fixtures import predictions_for, stanford_names, write_dataset, write_predictions

from training.evaluation.analysis import evaluate_offline

BREEDS = stanford_names()[:20]
PHOTO = (400, 300)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 breeds, 4 images each; some Eskimo dogs and a Lhasa predicted as look-alikes."""
    root = tmp_path_factory.mktemp("browser-report")
    listed = write_dataset(root / "dogs", BREEDS, 4, 2, image_size=PHOTO)
    images = list(listed)
    wrong = {images[4 * 3]: 5, images[4 * 3 + 1]: 5, images[4 * 7]: 2}
    write_predictions(root / "p.jsonl", predictions_for(listed, len(BREEDS), wrong))
    evaluate_offline(root / "dogs", root / "p.jsonl", root / "report", job="dogbreeds-dev-20260101-120000")
    return root / "report" / "report.html"


@pytest.fixture
def page(browser_context, report) -> Iterator[Any]:
    page = browser_context.new_page()
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(report.as_uri())
    yield page
    page.close()


def column_values(page: Any, column: int) -> list[str]:
    return page.eval_on_selector_all(
        "#breeds tbody tr:not([hidden])", f"rows => rows.map(r => r.cells[{column}].dataset.value)"
    )


def test_clicking_a_header_sorts_the_table_by_it_and_again_reverses(page) -> None:
    page.click("#breeds th:nth-child(3) button")  # Recall
    ascending = [float(v) for v in column_values(page, 2)]
    assert ascending == sorted(ascending) and ascending[0] < ascending[-1]
    assert page.get_attribute("#breeds th:nth-child(3)", "aria-sort") == "ascending"
    page.click("#breeds th:nth-child(3) button")
    assert [float(v) for v in column_values(page, 2)] == sorted(ascending, reverse=True)


def test_a_header_sorts_from_the_keyboard_too(page) -> None:
    page.focus("#breeds th:nth-child(5) button")  # Images
    page.keyboard.press("Enter")
    assert page.get_attribute("#breeds th:nth-child(5)", "aria-sort") == "ascending"
    page.keyboard.press("Enter")
    assert page.get_attribute("#breeds th:nth-child(5)", "aria-sort") == "descending"


def test_search_shows_only_matching_breeds(page) -> None:
    page.fill("#breed-search", "SPANIEL")
    shown = column_values(page, 0)
    assert shown and all("spaniel" in name for name in shown)
    assert page.text_content("#breed-count") == f"{len(shown)} of {len(BREEDS)} breeds"
    page.fill("#breed-search", "")
    assert len(column_values(page, 0)) == len(BREEDS)


def test_a_thumbnail_opens_the_image_at_full_size(page) -> None:
    thumbnail = page.locator("button.zoom img").first
    assert thumbnail.evaluate("img => img.naturalWidth") <= 160
    thumbnail.click()
    viewer = page.locator("#viewer")
    assert viewer.evaluate("dialog => dialog.open")
    page.wait_for_function("document.getElementById('viewer-image').complete")
    assert page.locator("#viewer-image").evaluate("img => [img.naturalWidth, img.naturalHeight]") == list(
        PHOTO
    )
    page.keyboard.press("Escape")
    assert not viewer.evaluate("dialog => dialog.open")


def test_on_a_phone_the_page_does_not_scroll_sideways(page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
