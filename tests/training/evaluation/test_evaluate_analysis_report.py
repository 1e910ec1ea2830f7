"""training.evaluation.report: a self-contained report.html, rendered once per scenario."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser
from pathlib import Path

import pytest
from evaluation_fixtures import eskimo_dog_predictions, image_names, names, one_hot, write_dataset

from training.evaluation import metrics, report_charts
from training.evaluation.data import load_validation_set
from training.evaluation.report import comparison_section, full_size_uri, thumbnail_uri, write_report

VOID_TAGS = {"meta", "img", "br", "hr", "link", "input", "col", "source", "wbr"}
ODD_NAME = "Rough & <Tumble> terrier"
CLASS_NAMES = ["Chihuahua", ODD_NAME, "malamute", "Siberian husky", "Eskimo dog"]


class Page(HTMLParser):
    """What the tests look at in a page: headings, image sources, and tags left unbalanced."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self.zoomable: list[str] = []  # full-size sources of thumbnails that open on click
        self.header_cells = 0
        self.unbalanced: list[str] = []
        self._open: list[str] = []
        self._in_heading = False
        self.feed(text)
        self.close()
        self.unbalanced += self._open

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img" and values.get("id") != "viewer-image":  # the viewer's gets a src on click
            self.images.append(values.get("src") or "")
        if tag == "link" or (tag == "script" and values.get("src")) or values.get("href"):
            self.links.append(tag)
        if tag == "button" and "zoom" in (values.get("class") or ""):
            self.zoomable.append(values.get("data-full") or "")
        if tag == "th" and self._open and "tr" in self._open:
            self.header_cells += 1
        if tag in ("h1", "h2", "h3"):
            self._in_heading = True
            self.headings.append("")
        if tag not in VOID_TAGS:
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()
        else:
            self.unbalanced.append(tag)
        if tag in ("h1", "h2", "h3"):
            self._in_heading = False

    def handle_data(self, data: str) -> None:
        if self._in_heading:
            self.headings[-1] += data


def decoded(uri: str, media_type: str) -> bytes:
    prefix = f"data:{media_type};base64,"
    assert uri.startswith(prefix)
    return base64.b64decode(uri[len(prefix) :], validate=True)


def small_metrics(listed: dict[str, int]) -> dict:
    """Every image right except two Eskimo dogs confidently predicted as malamute and husky."""
    images = list(listed)
    eskimo_images = [image for image in images if listed[image] == 4]
    wrong = {eskimo_images[0]: 2, eskimo_images[1]: 3}
    probabilities = [one_hot(wrong.get(image, listed[image]), len(CLASS_NAMES)) for image in images]
    return metrics.compute([listed[i] for i in images], probabilities, CLASS_NAMES, images=images)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Page, dict]:
    root = tmp_path_factory.mktemp("with-images")
    listed = write_dataset(root / "dataset", CLASS_NAMES)
    result = small_metrics(listed)
    comparison = metrics.compare(result, {**result, "accuracy": 0.5})
    path = write_report(root / "report", result, load_validation_set(root / "dataset"), comparison=comparison)
    text = path.read_text(encoding="utf-8")
    return text, Page(text), result


@pytest.fixture(scope="module")
def rendered_without_images(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("lists-only")
    listed = write_dataset(root / "dataset", CLASS_NAMES, with_images=False)
    path = write_report(root / "report", small_metrics(listed), load_validation_set(root / "dataset"))
    return path.read_text(encoding="utf-8")


def test_report_tags_are_balanced(rendered) -> None:
    _, page, _ = rendered
    assert page.unbalanced == []


def test_report_has_every_section(rendered) -> None:
    _, page, _ = rendered
    for heading in (
        "Worst and best breeds",
        "Lowest recall",
        "Every breed",
        "Confusion matrix",
        "Most confused pairs",
        "Suspected label errors",
        "Change since the previous model",
    ):
        assert heading in page.headings


def test_heatmap_is_a_table_of_counts_coloured_by_the_share_of_the_true_breed(rendered) -> None:
    text, page, result = rendered
    support = result["classes"][CLASS_NAMES.index("Eskimo dog")]["support"]
    assert '<table class="heatmap">' in text
    assert not any(src.startswith("data:image/png") for src in page.images)
    assert (
        f'<td style="background:{report_charts.blue(1 / support)}" '
        f'title="Eskimo dog predicted as malamute: 1 of {support} ({1 / support:.0%})">1</td>'
    ) in text
    assert (
        '<td class="dark" style="background:#08306b" '
        'title="Chihuahua predicted as Chihuahua: 3 of 3 (100%)">3</td>'
    ) in text


def test_heatmap_colours_run_from_white_to_dark_blue() -> None:
    assert [report_charts.blue(share) for share in (0.0, 0.5, 1.0, 1.5)] == [
        "#f7fbff",
        "#6baed6",
        "#08306b",
        "#08306b",
    ]
    assert report_charts.blue(1 / 16) == "#eaf3fb"  # halfway between the first two samples


def test_report_loads_nothing_from_outside_the_file(rendered) -> None:
    text, page, _ = rendered
    assert page.links == []
    assert all(src.startswith("data:") for src in page.images)
    assert "http://" not in text and "https://" not in text


def test_report_shows_suspect_thumbnails_next_to_examples_of_the_predicted_breed(rendered) -> None:
    text, page, _ = rendered
    thumbnails = [src for src in page.images if src.startswith("data:image/jpeg")]
    # two suspects, each with three training examples; two pairs, each 1 image and 3 examples
    assert len(thumbnails) == 2 * (1 + 3) + 2 * (1 + 3)
    assert all(decoded(src, "image/jpeg").startswith(b"\xff\xd8\xff") for src in thumbnails)
    assert "not available" not in text


def test_report_says_images_not_available_when_they_are_not_local(rendered_without_images) -> None:
    page = Page(rendered_without_images)
    assert "image not available" in rendered_without_images
    assert not [src for src in page.images if src.startswith("data:image/jpeg")]


def test_report_escapes_breed_names(rendered) -> None:
    text, _, _ = rendered
    assert "<Tumble>" not in text
    assert "Rough &amp; &lt;Tumble&gt; terrier" in text


def test_report_without_comparison_has_no_comparison_section(rendered_without_images) -> None:
    assert "Change since the previous model" not in Page(rendered_without_images).headings


def test_report_comparison_shows_the_accuracy_change(rendered) -> None:
    text, _, result = rendered
    change = (result["accuracy"] - 0.5) * 100
    assert f"{change:+.1f} pts" in text


def test_heatmap_shows_the_full_matrix_for_twenty_classes_or_fewer() -> None:
    labels = list(range(20))
    result = metrics.compute(labels, [one_hot(i, 20) for i in labels], names(20), images=image_names(20))
    assert report_charts.heatmap_classes(result) == (labels, labels)


def test_heatmap_for_many_classes_shows_worst_classes_and_what_they_are_taken_for() -> None:
    labels, probabilities, breeds = eskimo_dog_predictions()
    result = metrics.compute(labels, probabilities, breeds, images=image_names(len(labels)))
    rows, columns = report_charts.heatmap_classes(result)
    eskimo, malamute, husky = (breeds.index(n) for n in ("Eskimo dog", "malamute", "Siberian husky"))
    assert len(rows) == report_charts.WORST_CLASSES and rows[0] == eskimo
    assert columns[: len(rows)] == rows
    assert {malamute, husky} <= set(columns) and len(columns) < len(breeds)


def test_thumbnail_of_a_file_that_is_not_an_image_is_none(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    assert thumbnail_uri(broken) is None


def test_thumbnail_fits_in_160_pixels(tmp_path: Path) -> None:
    from PIL import Image

    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (800, 400), "white").save(photo)
    with Image.open(io.BytesIO(decoded(thumbnail_uri(photo), "image/jpeg"))) as image:
        assert image.size == (160, 80)


def test_a_plain_jpeg_that_fits_is_shown_full_size_as_it_is(tmp_path: Path) -> None:
    from PIL import Image

    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (500, 375), "white").save(photo, quality=95)

    assert decoded(full_size_uri(photo), "image/jpeg") == photo.read_bytes()


@pytest.mark.parametrize(
    ("size", "mode", "orientation", "shown"),
    [
        ((1000, 750), "RGB", 1, (640, 480)),
        ((500, 375), "CMYK", 1, (500, 375)),
        ((500, 375), "RGB", 6, (500, 375)),
    ],
    ids=["too-large", "cmyk", "exif-rotated"],
)
def test_other_images_are_re_encoded_for_full_size(tmp_path: Path, size, mode, orientation, shown) -> None:
    from PIL import Image

    photo = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.new(mode, size).save(photo, exif=exif)

    data = decoded(full_size_uri(photo), "image/jpeg")
    assert data != photo.read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        assert (image.size, image.mode) == (shown, "RGB")


def test_every_breed_table_sorts_by_any_column_and_has_a_row_per_breed(rendered) -> None:
    text, _, result = rendered
    table = text[text.index('<table id="breeds"') : text.index("</table>", text.index('<table id="breeds"'))]
    assert table.count('<th scope="col"') == table.count('<button type="button">') == 6
    assert table.count("<tr data-name=") == len(result["classes"])
    assert 'class="sortable"' in table and 'id="breed-search"' in text


def test_every_recall_shows_its_wilson_interval(rendered) -> None:
    text, _, _ = rendered
    row = text[text.index('<tr data-name="eskimo dog">') :]
    row = row[: row.index("</tr>")]
    assert '33.3% <span class="interval">(6–79%)</span>' in row  # 1 of 3: Wilson (0.061, 0.792)


def test_confused_pair_thumbnails_open_a_full_size_image(rendered) -> None:
    _, page, _ = rendered
    assert len(page.zoomable) == 2 * (1 + 3)
    assert all(decoded(src, "image/jpeg").startswith(b"\xff\xd8\xff") for src in page.zoomable)


def test_headline_names_the_macro_averages_and_their_change(rendered) -> None:
    text, _, result = rendered
    headline = text[: text.index('<h2 id="comparison"')]
    for label in ("Accuracy", "Top-5 accuracy", "Macro precision", "Macro recall", "Macro F1"):
        assert f'<div class="label">{label}</div>' in headline
    assert f"{result['macro']['recall']:.1%}" in headline and "pts</span> vs" in headline


def test_report_reads_on_a_phone(rendered) -> None:
    text, _, _ = rendered
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text
    assert "@media (max-width: 40rem)" in text


def test_comparison_shows_changes_beyond_noise_and_collapses_the_rest() -> None:
    def entry(name: str, right: int, support: int = 30) -> dict:
        recall = right / support
        return {
            "id": 0,
            "name": name,
            "precision": recall,
            "recall": recall,
            "f1": recall,
            "support": support,
        }

    before = {"accuracy": 0.5, "top5_accuracy": 0.9, "classes": [entry("moved", 3), entry("wobbled", 15)]}
    after = {"accuracy": 0.6, "top5_accuracy": 0.9, "classes": [entry("moved", 27), entry("wobbled", 18)]}
    html = comparison_section(metrics.compare(after, before))
    shown, collapsed = html.split("<details>")
    assert "moved" in shown and "wobbled" not in shown
    assert "<summary>1 breed within noise</summary>" in collapsed and "wobbled" in collapsed
    assert "Wilson 95% interval" in shown
