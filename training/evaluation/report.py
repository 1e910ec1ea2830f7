"""``report.html``: one self-contained page about a model's metrics, readable offline.

Charts and images are embedded as ``data:`` URIs, the style sheet and the small script (sorting and
searching the per-breed table, opening a thumbnail at full size) are inline: the file can be mailed
or archived on its own and loads nothing. Every name and path is HTML-escaped.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any, TypeVar

from training.evaluation import report_charts
from training.evaluation.data import ValidationSet
from training.evaluation.metrics import name_key

REPORT_FILE = "report.html"
DEFAULT_TITLE = "Dog breed classifier: evaluation"
WORST_SHOWN = 12  # bars for the breeds with the lowest recall...
BEST_SHOWN = 6  # ...and the highest; the table has every breed
PAIRS_LISTED = 25
PAIRS_WITH_IMAGES = 8
IMAGES_PER_SIDE = 3
SUSPECTS_SHOWN = 30
EXAMPLES_PER_SUSPECT = 3
THUMBNAIL_PIXELS = 160
FULL_PIXELS = 640  # "full size" in the viewer: Stanford Dogs photos are mostly smaller already
FULL_AS_IS_BYTES = 200_000  # a JPEG that fits and is at most this big is embedded without re-encoding
EXIF_ORIENTATION = 0x0112
IMAGE_WORKERS = min(8, 2 * (os.cpu_count() or 1))
Item = TypeVar("Item")
Result = TypeVar("Result")
NUMBER_CLASS = ' class="number"'
NOT_AVAILABLE = '<span class="note">image not available</span>'
STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
  padding: 1rem 1.5rem 3rem; max-width: 80rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: 0.2rem; }
h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.provenance { color: #555; margin: 0 0 1rem; overflow-wrap: anywhere; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(9.5rem, 1fr)); gap: 0.6rem; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.5rem 0.8rem; }
.card .label { color: #555; font-size: 0.85rem; }
.card .value { font-size: 1.6rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer;
  color: inherit; text-align: inherit; }
th button:focus-visible, button.zoom:focus-visible { outline: 2px solid #1a5fb4; outline-offset: 2px; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; }
th[aria-sort="descending"] button::after { content: " \\25BC"; }
.interval { color: #666; font-size: 0.85em; white-space: nowrap; }
input[type=search] { font: inherit; padding: 0.3rem 0.5rem; width: min(22rem, 100%); }
.bars { display: grid; grid-template-columns: minmax(7rem, 15rem) 1fr 10rem; gap: 0.25rem 0.8rem;
  align-items: center; margin-bottom: 1rem; }
.track { position: relative; height: 1rem; background: #eef1f5; border-radius: 3px; }
.fill { position: absolute; left: 0; top: 0; bottom: 0; background: #4a7ab5; border-radius: 3px; }
.fill.low { background: #c0392b; }
.whisker { position: absolute; top: 45%; height: 10%; background: #222; }
.mark { position: absolute; top: -0.15rem; bottom: -0.15rem; border-left: 2px dashed #333; }
table.heatmap { font-size: 0.8rem; }
.heatmap td { width: 1.7rem; min-width: 1.7rem; text-align: center; padding: 0.2rem; border: 1px solid #fff;
  font-variant-numeric: tabular-nums; }
.heatmap td.dark { color: #fff; }
.heatmap thead th { vertical-align: bottom; padding: 0.2rem; }
.heatmap thead th span { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; }
.heatmap thead th.corner { text-align: left; color: #555; font-weight: normal; }
.heatmap tbody th { white-space: nowrap; font-weight: normal; }
.legend .scale { display: inline-block; width: 8rem; height: 0.8rem; vertical-align: middle;
  border: 1px solid #ccc; }
img.thumb { width: auto; height: auto; max-width: 160px; max-height: 160px; margin: 0 0.3rem 0.3rem 0;
  vertical-align: top; }
button.zoom { border: 0; padding: 0; margin: 0; background: none; cursor: zoom-in; vertical-align: top; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.pair h4 { margin: 0.2rem 0; font-size: 0.95rem; font-weight: 600; }
dialog { max-width: 95vw; max-height: 95vh; padding: 0.5rem; border: 0; border-radius: 6px; }
dialog img { max-width: 90vw; max-height: 82vh; display: block; }
dialog::backdrop { background: rgba(0, 0, 0, 0.75); }
.note { color: #777; font-style: italic; }
.worse { color: #b03a2e; } .better { color: #1e7b34; }
@media (max-width: 40rem) {
  body { padding: 0.5rem 0.7rem 2rem; }
  h1 { font-size: 1.35rem; }
  .bars { grid-template-columns: 1fr 7rem; }
  .bars .track { grid-column: 1 / -1; }
  .pair { grid-template-columns: 1fr; }
  img.thumb { max-width: 120px; max-height: 120px; }
  .wide { display: none; }
}
"""
SCRIPT = """
(function () {
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    headers.forEach(function (th, column) {
      th.querySelector("button").addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var numeric = th.classList.contains("number");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[column].dataset.value, y = b.cells[column].dataset.value;
          var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
  var search = document.getElementById("breed-search");
  if (search) {
    var table = document.getElementById("breeds");
    var count = document.getElementById("breed-count");
    search.addEventListener("input", function () {
      var needle = search.value.trim().toLowerCase(), shown = 0, rows = table.tBodies[0].rows;
      for (var i = 0; i < rows.length; i++) {
        var match = rows[i].dataset.name.indexOf(needle) !== -1;
        rows[i].hidden = !match;
        if (match) { shown++; }
      }
      count.textContent = shown + " of " + rows.length + " breeds";
    });
  }
  var viewer = document.getElementById("viewer");
  var full = document.getElementById("viewer-image");
  var caption = document.getElementById("viewer-caption");
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.zoom");
    if (button) {
      full.src = button.dataset.full;
      full.alt = button.dataset.caption;
      caption.textContent = button.dataset.caption;
      viewer.showModal();
    } else if (event.target === viewer) {
      viewer.close();
    }
  });
})();
"""
VIEWER = (
    '<dialog id="viewer" aria-label="Image at full size"><form method="dialog">'
    '<button type="submit">Close</button></form><img id="viewer-image" alt="">'
    '<p id="viewer-caption"></p></dialog>'
)


def write_report(
    report_dir: Path,
    metrics: dict[str, Any],
    validation: ValidationSet,
    *,
    comparison: dict[str, Any] | None = None,
    title: str = DEFAULT_TITLE,
) -> Path:
    """Write ``report_dir/report.html`` from ``metrics`` (``metrics.json``'s content) and return its path.

    Thumbnails come from the validation set's local images when present.
    """
    _jpeg_uri.cache_clear()  # the cache spares re-encoding an image shown twice in one report
    sections = [headline_section(metrics, comparison)]
    if comparison is not None:
        sections.append(comparison_section(comparison))
    sections += [
        extremes_section(metrics),
        classes_section(metrics),
        pairs_section(metrics, validation),
        confusion_section(metrics),
        suspects_section(metrics, validation),
    ]
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / REPORT_FILE
    path.write_text(_page(title, sections), encoding="utf-8")
    return path


def headline_section(metrics: dict[str, Any], comparison: dict[str, Any] | None) -> str:
    """Which model on which data, then the headline numbers (with their change under --compare)."""
    macro = metrics.get("macro", {})
    figures = [
        ("Accuracy", metrics["accuracy"], comparison and comparison["accuracy"]),
        ("Top-5 accuracy", metrics["top5_accuracy"], comparison and comparison["top5_accuracy"]),
    ] + [
        (f"Macro {label}", macro[field], comparison and comparison.get("macro", {}).get(field))
        for field, label in (("precision", "precision"), ("recall", "recall"), ("f1", "F1"))
        if field in macro
    ]
    cards = "".join(
        f'<div class="card"><div class="label">{escape(name)}</div>'
        f'<div class="value">{_percent(value)}</div>'
        + (
            f'<div class="delta">{_points(change["delta"])} vs {_percent(change["previous"])}</div>'
            if change
            else ""
        )
        + "</div>"
        for name, value, change in figures
    )
    missing = metrics.get("missing_predictions")
    extra = f", {missing} listed images without a prediction" if missing else ""
    counts = (
        f"<p>{metrics['images']} validation images of {len(metrics['classes'])} breeds{extra}; "
        f"{len(metrics['suspected_label_errors'])} suspected label errors.</p>"
    )
    return f'<p class="provenance">{provenance_line(metrics)}</p><div class="cards">{cards}</div>{counts}'


def provenance_line(metrics: dict[str, Any]) -> str:
    model = metrics.get("model") or {}
    dataset = metrics.get("dataset") or {}
    parts = [f"Model: <strong>{escape(model.get('job') or 'unnamed (offline analysis)')}</strong>"]
    if metrics.get("evaluated_at"):
        parts.append(f"evaluated {escape(metrics['evaluated_at'])}")
    if dataset:
        digest = escape(dataset.get("sha256", ""))
        parts.append(
            f"dataset <strong>{escape(dataset.get('name') or '?')}</strong> "
            f'({escape(dataset.get("format", "?"))}, sha256 <code title="{digest}">{digest[:12]}</code>, '
            f"{dataset.get('validation_images', '?')} validation images)"
        )
    return " · ".join(parts)


def extremes_section(metrics: dict[str, Any]) -> str:
    """The breeds with the lowest and the highest recall as bars with their 95% interval."""
    ranked = report_charts.ranked_by_recall(metrics["classes"])
    worst = ranked[:WORST_SHOWN]
    best = [c for c in reversed(ranked[WORST_SHOWN:])][:BEST_SHOWN]
    accuracy = metrics["accuracy"]
    note = (
        f"<p>Recall: the share of a breed's validation images predicted as that breed. The whisker is "
        f"its 95% (Wilson) interval, the dashed line the overall accuracy ({_percent(accuracy)}). "
        "Every breed is in the table below.</p>"
    )
    parts = [
        _heading("extremes", "Worst and best breeds"),
        note,
        "<h3>Lowest recall</h3>",
        _bars(worst, metrics),
    ]
    if best:
        parts += ["<h3>Highest recall</h3>", _bars(best, metrics)]
    return "".join(parts)


def classes_section(metrics: dict[str, Any]) -> str:
    """Every breed in a table sortable by any column and searchable by name."""
    headers = [
        ("Breed", False),
        ("Precision", True),
        ("Recall (95% interval)", True),
        ("F1", True),
        ("Images", True),
        ("Most often taken for", False),
    ]
    head = "".join(
        f'<th scope="col"{NUMBER_CLASS if numeric else ""}><button type="button">{escape(text)}</button></th>'
        for text, numeric in headers
    )
    rows = []
    for c in sorted(metrics["classes"], key=lambda c: name_key(c["name"])):
        cells = [
            _sort_cell(escape(c["name"]), name_key(c["name"])[0], numeric=False),
            _sort_cell(_percent(c["precision"]), c["precision"]),
            _sort_cell(_percent(c["recall"]) + " " + _interval(c), c["recall"]),
            _sort_cell(_percent(c["f1"]), c["f1"]),
            _sort_cell(str(c["support"]), c["support"]),
            _sort_cell(
                escape(_mistaken_for(metrics, c["id"])),
                _mistaken_for(metrics, c["id"]).casefold(),
                numeric=False,
            ),
        ]
        rows.append(f'<tr data-name="{escape(c["name"].casefold())}">{"".join(cells)}</tr>')
    total = len(metrics["classes"])
    return (
        _heading("classes", "Every breed")
        + '<p><label>Search breeds <input type="search" id="breed-search" placeholder="e.g. terrier" '
        f'autocomplete="off"></label> <span id="breed-count" aria-live="polite">{total} of {total} breeds'
        '</span></p><p class="note">Click a column header to sort by it, again to reverse.</p>'
        f'<div class="scroll"><table id="breeds" class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def confusion_section(metrics: dict[str, Any]) -> str:
    rows, columns = report_charts.heatmap_classes(metrics)
    names = [c["name"] for c in metrics["classes"]]
    table = report_charts.confusion_table(metrics["confusion"], names, rows, columns)
    if len(rows) == len(names):
        note = "Every breed: rows are the true breed, columns the predicted one."
    else:
        note = (
            f"The {len(rows)} breeds with the lowest recall (rows, true breed) and the breeds they "
            "are most often predicted as (columns); metrics.json holds the full matrix."
        )
    return _heading("confusion", "Confusion matrix") + f"<p>{escape(note)}</p>" + table


def pairs_section(metrics: dict[str, Any], validation: ValidationSet) -> str:
    """The most frequent confusions; the first few with images of both breeds side by side."""
    heading = _heading("pairs", "Most confused pairs")
    pairs = metrics["most_confused"][:PAIRS_LISTED]
    if not pairs:
        return heading + '<p class="note">No confusions.</p>'
    support = {c["name"]: c["support"] for c in metrics["classes"]}
    rows = [
        [
            escape(p["true"]),
            escape(p["predicted"]),
            str(p["count"]),
            _percent(p["count"] / support[p["true"]]),
        ]
        for p in pairs
    ]
    table = _table(["True breed", "Predicted as", "Images", "Share of the true breed"], rows, numeric=(2, 3))
    examples = "".join(
        _in_threads(lambda p: _pair_examples(p, metrics, validation), pairs[:PAIRS_WITH_IMAGES])
    )
    return heading + table + "<p>Click an image to see it at full size.</p>" + examples


def suspects_section(metrics: dict[str, Any], validation: ValidationSet) -> str:
    suspects = metrics["suspected_label_errors"]
    threshold = _percent(metrics.get("suspect_threshold", 0.9))
    heading = _heading("suspects", "Suspected label errors")
    intro = (
        f"<p>Validation images the model puts in another breed with at least {threshold} "
        "confidence: often a wrong label rather than a wrong model. Next to each, training "
        "examples of the breed it resembles.</p>"
    )
    if not suspects:
        return heading + f'<p class="note">No image reaches {threshold} for another breed.</p>'
    ids = {c["name"]: c["id"] for c in metrics["classes"]}
    rows = _in_threads(lambda s: _suspect_row(s, validation, ids[s["predicted"]]), suspects[:SUSPECTS_SHOWN])
    more = len(suspects) - SUSPECTS_SHOWN
    tail = f'<p class="note">{more} more in metrics.json.</p>' if more > 0 else ""
    columns = ["Image", "Labelled", "Predicted", "Confidence", "Examples of the predicted breed"]
    return heading + intro + _table(columns, rows, numeric=(3,)) + tail


def comparison_section(comparison: dict[str, Any]) -> str:
    """Per-breed changes: those beyond noise shown, the others collapsed."""
    changed = [c for c in comparison["classes"] if c.get("beyond_noise")]
    steady = [c for c in comparison["classes"] if not c.get("beyond_noise")]
    columns = ["Breed", "Previous recall", "Recall", "Recall change", "Precision change", "F1 change"]
    rule = comparison.get("noise_rule", "")
    parts = [
        _heading("comparison", "Change since the previous model"),
        f"<p>Only breeds whose recall changed beyond noise are listed: {escape(rule)}.</p>",
    ]
    if changed:
        parts.append(_table(columns, [_change_row(c) for c in changed], numeric=(1, 2, 3, 4, 5)))
    else:
        parts.append('<p class="note">No breed changed beyond noise.</p>')
    if steady:
        breeds = "breed" if len(steady) == 1 else "breeds"
        parts.append(
            f"<details><summary>{len(steady)} {breeds} within noise</summary>"
            + _table(columns, [_change_row(c) for c in steady], numeric=(1, 2, 3, 4, 5))
            + "</details>"
        )
    parts += [
        f"<p>Only in the {side} model: {escape(', '.join(names))}</p>"
        for side, names in (
            ("current", comparison["only_current"]),
            ("previous", comparison["only_previous"]),
        )
        if names
    ]
    return "".join(parts)


def thumbnail_uri(path: Path) -> str | None:
    """A JPEG thumbnail of an image file as a data URI, or None when the file is missing or unreadable."""
    return _jpeg_uri(path, THUMBNAIL_PIXELS, 85)


def full_size_uri(path: Path) -> str | None:
    """The image as a JPEG data URI, shrunk to fit ``FULL_PIXELS`` if larger; None when unreadable.
    A plain JPEG that fits already (most Stanford Dogs photos) is embedded as it is, not re-encoded."""
    return _jpeg_uri(path, FULL_PIXELS, 82, as_is_up_to=FULL_AS_IS_BYTES)


@lru_cache(maxsize=512)
def _jpeg_uri(path: Path, pixels: int, quality: int, as_is_up_to: int = 0) -> str | None:
    """``path`` as a JPEG data URI that fits in ``pixels`` x ``pixels``. A JPEG of at most
    ``as_is_up_to`` bytes that fits, in RGB or grey and without an EXIF rotation, goes in unchanged:
    browsers show it exactly as a re-encoded copy, and reading its header is all the work."""
    from PIL import Image

    if not path.is_file():
        return None
    size = (pixels, pixels)
    try:
        with Image.open(path) as image:
            if as_is_up_to and _embeddable_as_is(image, path, pixels, as_is_up_to):
                return _data_uri(path.read_bytes(), "image/jpeg")
            image.draft("RGB", size)  # JPEGs decode at a reduced scale: much faster for big photos
            picture = image.convert("RGB")
        picture.thumbnail(size, Image.Resampling.BILINEAR)  # antialiased: the filter widens as it shrinks
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality)
    return _data_uri(buffer.getvalue(), "image/jpeg")


def _in_threads(work: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
    """``[work(item) for item in items]`` on ``IMAGE_WORKERS`` threads: Pillow decodes, resizes and
    encodes without holding the GIL, so the report's images use every core."""
    if len(items) < 2:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=IMAGE_WORKERS) as pool:
        return list(pool.map(work, items))


def _embeddable_as_is(image: Any, path: Path, pixels: int, max_bytes: int) -> bool:
    return (
        image.format == "JPEG"
        and image.mode in ("RGB", "L")
        and max(image.size) <= pixels
        and path.stat().st_size <= max_bytes
        and image.getexif().get(EXIF_ORIENTATION, 1) == 1
    )


def _zoomable(path: Path, caption: str) -> str | None:
    """A thumbnail that opens the image at full size in the page's viewer when clicked."""
    thumbnail, full = thumbnail_uri(path), full_size_uri(path)
    if thumbnail is None or full is None:
        return None
    return (
        f'<button type="button" class="zoom" data-full="{full}" data-caption="{escape(caption)}" '
        f'aria-label="{escape(caption)}: show at full size">{_img(thumbnail, caption, "thumb")}</button>'
    )


def _pair_examples(pair: dict[str, Any], metrics: dict[str, Any], validation: ValidationSet) -> str:
    ids = {c["name"]: c["id"] for c in metrics["classes"]}
    true, predicted = pair["true"], pair["predicted"]
    mistaken = [
        m["image"]
        for m in metrics.get("misclassified", [])
        if m["label"] == true and m["predicted"] == predicted
    ][:IMAGES_PER_SIDE]
    left = [
        _zoomable(validation.image_file(image), f"{true}, predicted as {predicted}: {image}")
        for image in mistaken
    ]
    right = [
        _zoomable(path, f"{predicted}: {path.name}")
        for path in _examples_of(ids[predicted], metrics, validation)
    ]
    left_html = "".join(item for item in left if item) or NOT_AVAILABLE
    right_html = "".join(item for item in right if item) or NOT_AVAILABLE
    return (
        f"<h3>{escape(true)} taken for {escape(predicted)} ({pair['count']})</h3>"
        f'<div class="pair"><div><h4>{escape(true)} predicted as {escape(predicted)}</h4>{left_html}</div>'
        f"<div><h4>{escape(predicted)}</h4>{right_html}</div></div>"
    )


def _examples_of(class_id: int, metrics: dict[str, Any], validation: ValidationSet) -> list[Path]:
    """Local images of a breed: training examples, else its validation images the model got right."""
    found = validation.example_files(class_id, limit=IMAGES_PER_SIDE)
    if found:
        return found
    wrong = {m["image"] for m in metrics.get("misclassified", [])}
    right = [image for image, label in validation.images.items() if label == class_id and image not in wrong]
    return [path for path in map(validation.image_file, right) if path.is_file()][:IMAGES_PER_SIDE]


def _suspect_row(suspect: dict[str, Any], validation: ValidationSet, predicted_id: int) -> list[str]:
    image = thumbnail_uri(validation.image_file(suspect["image"]))
    examples = [
        uri
        for uri in map(thumbnail_uri, validation.example_files(predicted_id, limit=EXAMPLES_PER_SUSPECT))
        if uri
    ]
    name = escape(suspect["image"])
    return [
        (_img(image, suspect["image"], "thumb") if image else NOT_AVAILABLE) + f"<br>{name}",
        escape(suspect["label"]),
        escape(suspect["predicted"]),
        _percent(suspect["confidence"]),
        "".join(_img(uri, suspect["predicted"], "thumb") for uri in examples) or NOT_AVAILABLE,
    ]


def _bars(classes: list[dict[str, Any]], metrics: dict[str, Any]) -> str:
    accuracy = metrics["accuracy"]
    rows = []
    for c in classes:
        low, high = _bounds(c)
        css = "fill low" if c["recall"] < accuracy else "fill"
        rows.append(
            f"<div>{escape(c['name'])}</div>"
            f'<div class="track" role="img" aria-label="{escape(c["name"])}: recall {_percent(c["recall"])}">'
            f'<div class="{css}" style="width:{c["recall"] * 100:.2f}%"></div>'
            f'<div class="whisker" style="left:{low * 100:.2f}%;width:{(high - low) * 100:.2f}%"></div>'
            f'<div class="mark" style="left:{accuracy * 100:.2f}%"></div></div>'
            f'<div class="number">{_percent(c["recall"])} {_interval(c)}</div>'
        )
    return f'<div class="bars">{"".join(rows)}</div>'


def _bounds(c: dict[str, Any]) -> tuple[float, float]:
    return c.get("recall_low", c["recall"]), c.get("recall_high", c["recall"])


def _interval(c: dict[str, Any]) -> str:
    low, high = _bounds(c)
    return f'<span class="interval">({low * 100:.0f}–{high * 100:.0f}%)</span>'


def _change_row(c: dict[str, Any]) -> list[str]:
    return [
        escape(c["name"]),
        _percent(c["previous_recall"]),
        _percent(c["recall"]),
        _points(c["recall_delta"]),
        _points(c["precision_delta"]),
        _points(c["f1_delta"]),
    ]


def _mistaken_for(metrics: dict[str, Any], class_id: int) -> str:
    wrong = report_charts.top_confusions(metrics["confusion"][class_id], class_id, limit=2)
    return ", ".join(metrics["classes"][column]["name"] for column in wrong)


def _page(title: str, sections: list[str]) -> str:
    body = "\n".join(f"<section>{section}</section>" for section in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n{body}\n{VIEWER}\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


def _heading(anchor: str, text: str) -> str:
    return f'<h2 id="{anchor}">{escape(text)}</h2>'


def _table(headers: list[str], rows: list[list[str]], numeric: tuple[int, ...] = ()) -> str:
    """A table of already-escaped cells; ``numeric`` columns are right-aligned."""
    head = "".join(
        f'<th scope="col"{NUMBER_CLASS if index in numeric else ""}>{escape(h)}</th>'
        for index, h in enumerate(headers)
    )
    body = "".join(
        "<tr>" + "".join(_cell(text, index in numeric) for index, text in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _cell(text: str, numeric: bool) -> str:
    return f'<td class="number">{text}</td>' if numeric else f"<td>{text}</td>"


def _sort_cell(text: str, value: float | str, *, numeric: bool = True) -> str:
    css = NUMBER_CLASS if numeric else ""
    return f'<td{css} data-value="{escape(str(value))}">{text}</td>'


def _img(uri: str, alt: str, css_class: str) -> str:
    return f'<img class="{css_class}" src="{uri}" alt="{escape(alt)}">'


def _data_uri(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _percent(value: float) -> str:
    return f"{value:.1%}"


def _points(delta: float) -> str:
    css = "worse" if delta < 0 else "better" if delta > 0 else ""
    return f'<span class="{css}">{delta * 100:+.1f} pts</span>'
