"""``report.html``: one self-contained page about a model's metrics, readable offline.

Charts and thumbnails are embedded as ``data:`` URIs and the style sheet is inline, so the file can
be mailed or archived on its own. Every name and path is HTML-escaped.
"""

from __future__ import annotations

import base64
import io
from html import escape
from pathlib import Path
from typing import Any

from training import report_charts
from training.evaluation_data import ValidationSet

REPORT_FILE = "report.html"
DEFAULT_TITLE = "Dog breed classifier: evaluation"
WORST_LISTED = 10
PAIRS_LISTED = 25
SUSPECTS_SHOWN = 30
EXAMPLES_PER_SUSPECT = 3
THUMBNAIL_PIXELS = 160
NOT_AVAILABLE = '<span class="note">image not available</span>'
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
img.chart { max-width: 100%; }
img.thumb { width: auto; height: auto; max-width: 160px; max-height: 160px; margin-right: 0.3rem; }
.note { color: #777; font-style: italic; }
.worse { color: #b03a2e; } .better { color: #1e7b34; }
"""


def write_report(
    report_dir: Path,
    metrics: dict[str, Any],
    validation: ValidationSet,
    *,
    comparison: dict[str, Any] | None = None,
    title: str = DEFAULT_TITLE,
) -> Path:
    """Write ``report_dir/report.html`` from ``metrics`` (``metrics.compute``'s result) and return its path.

    Thumbnails of suspected label errors come from the validation set's local images when present.
    """
    sections = [
        summary_section(metrics),
        recall_section(metrics),
        confusion_section(metrics),
        pairs_section(metrics),
        suspects_section(metrics, validation),
    ]
    if comparison is not None:
        sections.append(comparison_section(comparison))
    sections.append(classes_section(metrics))
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / REPORT_FILE
    path.write_text(_page(title, sections), encoding="utf-8")
    return path


def summary_section(metrics: dict[str, Any]) -> str:
    facts = [
        ("Accuracy", _percent(metrics["accuracy"])),
        ("Top-5 accuracy", _percent(metrics["top5_accuracy"])),
        ("Images evaluated", str(metrics["images"])),
        ("Classes", str(len(metrics["classes"]))),
        ("Suspected label errors", str(len(metrics["suspected_label_errors"]))),
    ]
    if metrics.get("missing_predictions"):
        facts.append(("Listed images without a prediction", str(metrics["missing_predictions"])))
    rows = [[escape(name), value] for name, value in facts]
    worst = [
        [escape(c["name"]), _percent(c["recall"]), str(c["support"]), escape(_mistaken_for(metrics, c["id"]))]
        for c in report_charts.ranked_by_recall(metrics["classes"])[:WORST_LISTED]
    ]
    return (
        _heading("summary", "Summary")
        + _table(["Measure", "Value"], rows, numeric=(1,))
        + "<h3>Worst classes</h3>"
        + _table(["Class", "Recall", "Images", "Most often taken for"], worst, numeric=(1, 2))
    )


def recall_section(metrics: dict[str, Any]) -> str:
    chart = report_charts.recall_chart_png(metrics["classes"], metrics["accuracy"])
    return (
        _heading("recall", "Recall per class")
        + "<p>Lowest first. Red bars are below the overall accuracy (dashed line).</p>"
        + _img(_data_uri(chart, "image/png"), "Recall per class", "chart")
    )


def confusion_section(metrics: dict[str, Any]) -> str:
    rows, columns = report_charts.heatmap_classes(metrics)
    names = [c["name"] for c in metrics["classes"]]
    chart = report_charts.confusion_png(metrics["confusion"], names, rows, columns)
    if len(rows) == len(names):
        note = "Every class: rows are the true breed, columns the predicted one."
    else:
        note = (
            f"The {len(rows)} classes with the lowest recall (rows, true breed) and the breeds they "
            "are most often predicted as (columns); metrics.json holds the full matrix."
        )
    return (
        _heading("confusion", "Confusion matrix")
        + f"<p>{escape(note)}</p>"
        + _img(_data_uri(chart, "image/png"), "Confusion matrix", "chart")
    )


def pairs_section(metrics: dict[str, Any]) -> str:
    support = {c["name"]: c["support"] for c in metrics["classes"]}
    rows = [
        [
            escape(p["true"]),
            escape(p["predicted"]),
            str(p["count"]),
            _percent(p["count"] / support[p["true"]]),
        ]
        for p in metrics["most_confused"][:PAIRS_LISTED]
    ]
    if not rows:
        return _heading("pairs", "Most confused pairs") + '<p class="note">No confusions.</p>'
    return _heading("pairs", "Most confused pairs") + _table(
        ["True breed", "Predicted as", "Images", "Share of the true breed"], rows, numeric=(2, 3)
    )


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
    rows = [_suspect_row(s, validation, ids[s["predicted"]]) for s in suspects[:SUSPECTS_SHOWN]]
    more = len(suspects) - SUSPECTS_SHOWN
    tail = f'<p class="note">{more} more in metrics.json.</p>' if more > 0 else ""
    columns = ["Image", "Labelled", "Predicted", "Confidence", "Examples of the predicted breed"]
    return heading + intro + _table(columns, rows, numeric=(3,)) + tail


def comparison_section(comparison: dict[str, Any]) -> str:
    overall = [
        [
            name,
            _percent(comparison[key]["previous"]),
            _percent(comparison[key]["current"]),
            _points(comparison[key]["delta"]),
        ]
        for name, key in (("Accuracy", "accuracy"), ("Top-5 accuracy", "top5_accuracy"))
    ]
    classes = [
        [
            escape(c["name"]),
            _percent(c["previous_recall"]),
            _percent(c["recall"]),
            _points(c["recall_delta"]),
            _points(c["precision_delta"]),
            _points(c["f1_delta"]),
        ]
        for c in comparison["classes"]
    ]
    notes = "".join(
        f"<p>Only in the {side} model: {escape(', '.join(names))}</p>"
        for side, names in (
            ("current", comparison["only_current"]),
            ("previous", comparison["only_previous"]),
        )
        if names
    )
    return (
        _heading("comparison", "Change since the previous model")
        + _table(["", "Previous", "Current", "Change"], overall, numeric=(1, 2, 3))
        + "<p>Classes in both, the largest drop in recall first.</p>"
        + _table(
            ["Class", "Previous recall", "Recall", "Recall change", "Precision change", "F1 change"],
            classes,
            numeric=(1, 2, 3, 4, 5),
        )
        + notes
    )


def classes_section(metrics: dict[str, Any]) -> str:
    rows = [
        [
            str(c["id"]),
            escape(c["name"]),
            _percent(c["precision"]),
            _percent(c["recall"]),
            _percent(c["f1"]),
            str(c["support"]),
        ]
        for c in metrics["classes"]
    ]
    table = _table(["Id", "Class", "Precision", "Recall", "F1", "Images"], rows, numeric=(0, 2, 3, 4, 5))
    return _heading("classes", "Every class") + f"<details><summary>Show the table</summary>{table}</details>"


def thumbnail_uri(path: Path) -> str | None:
    """A JPEG thumbnail of an image file as a data URI, or None when the file is missing or unreadable."""
    from PIL import Image

    if not path.is_file():
        return None
    size = (THUMBNAIL_PIXELS, THUMBNAIL_PIXELS)
    try:
        with Image.open(path) as image:
            image.draft("RGB", size)  # JPEGs decode at a reduced scale: much faster for big photos
            thumbnail = image.convert("RGB")
        thumbnail.thumbnail(size)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    buffer = io.BytesIO()
    thumbnail.save(buffer, "JPEG", quality=85)
    return _data_uri(buffer.getvalue(), "image/jpeg")


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


def _mistaken_for(metrics: dict[str, Any], class_id: int) -> str:
    wrong = report_charts.top_confusions(metrics["confusion"][class_id], class_id, limit=2)
    return ", ".join(metrics["classes"][column]["name"] for column in wrong)


def _page(title: str, sections: list[str]) -> str:
    body = "\n".join(f"<section>{section}</section>" for section in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def _heading(anchor: str, text: str) -> str:
    return f'<h2 id="{anchor}">{escape(text)}</h2>'


def _table(headers: list[str], rows: list[list[str]], numeric: tuple[int, ...] = ()) -> str:
    """A table of already-escaped cells; ``numeric`` columns are right-aligned."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(_cell(text, index in numeric) for index, text in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(text: str, numeric: bool) -> str:
    return f'<td class="number">{text}</td>' if numeric else f"<td>{text}</td>"


def _img(uri: str, alt: str, css_class: str) -> str:
    return f'<img class="{css_class}" src="{uri}" alt="{escape(alt)}">'


def _data_uri(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _percent(value: float) -> str:
    return f"{value:.1%}"


def _points(delta: float) -> str:
    css = "worse" if delta < 0 else "better" if delta > 0 else ""
    return f'<span class="{css}">{delta * 100:+.1f} pts</span>'
