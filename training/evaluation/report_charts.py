"""The evaluation report's confusion heatmap, an HTML table whose cells are coloured by share, and how
it picks its cells.

A table rather than a picture: the counts stay text (readable by screen readers, searchable, sharp at
any zoom), and it costs milliseconds where a matplotlib PNG of the same cells took seconds.
"""

from __future__ import annotations

from html import escape
from typing import Any

from training.evaluation.metrics import name_key

FULL_MATRIX_MAX_CLASSES = 20  # up to this many classes the heatmap shows the whole matrix
WORST_CLASSES = 12  # otherwise its rows are the classes with the lowest recall...
CONFUSIONS_PER_CLASS = 3  # ...and its columns add what each is most often taken for


def ranked_by_recall(classes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Classes with validation images, lowest recall first (ties by name)."""
    return sorted((c for c in classes if c["support"] > 0), key=lambda c: (c["recall"], *name_key(c["name"])))


def heatmap_classes(metrics: dict[str, Any]) -> tuple[list[int], list[int]]:
    """Class ids of the heatmap's rows (true) and columns (predicted).

    Small class lists show everything. Larger ones show the worst classes as rows and, as
    columns, those classes followed by the ones they are most often mistaken for, so each row's
    correct predictions sit on the diagonal and the look-alikes to its right.
    """
    classes = metrics["classes"]
    if len(classes) <= FULL_MATRIX_MAX_CLASSES:
        every = [c["id"] for c in classes]
        return every, every
    rows = [c["id"] for c in ranked_by_recall(classes)[:WORST_CLASSES]]
    columns = list(rows)
    for row in rows:
        for column in top_confusions(metrics["confusion"][row], row, CONFUSIONS_PER_CLASS):
            if column not in columns:
                columns.append(column)
    return rows, columns


def top_confusions(counts: list[int], true_id: int, limit: int) -> list[int]:
    """The ids a class is most often predicted as instead of itself, most frequent first."""
    wrong = [(count, column) for column, count in enumerate(counts) if column != true_id and count > 0]
    wrong.sort(key=lambda pair: (-pair[0], pair[1]))
    return [column for _, column in wrong[:limit]]


# matplotlib's "Blues", sampled at 0, 1/8, ..., 1: a cell's colour is interpolated between these
BLUES = ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"]
DARK_FROM = 0.5  # cells at least this dark get white text


def blue(share: float) -> str:
    """The colour of a share in [0, 1] on the Blues scale, as ``#rrggbb``."""
    position = min(max(share, 0.0), 1.0) * (len(BLUES) - 1)
    low = min(int(position), len(BLUES) - 2)
    fraction = position - low
    start, end = _rgb(BLUES[low]), _rgb(BLUES[low + 1])
    mixed = (round(a + (b - a) * fraction) for a, b in zip(start, end, strict=True))
    return "#" + "".join(f"{channel:02x}" for channel in mixed)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def confusion_table(
    confusion: list[list[int]], class_names: list[str], rows: list[int], columns: list[int]
) -> str:
    """The chosen cells as a table: the count as text, the background the share of the true breed."""
    head = "".join(f'<th scope="col"><span>{escape(class_names[column])}</span></th>' for column in columns)
    body = []
    for row in rows:
        total = max(sum(confusion[row]), 1)
        cells = []
        for column in columns:
            count = confusion[row][column]
            share = count / total
            text = ' class="dark"' if share >= DARK_FROM else ""
            title = f"{class_names[row]} predicted as {class_names[column]}: {count} of {total} ({share:.0%})"
            cells.append(
                f'<td{text} style="background:{blue(share)}" title="{escape(title)}">{count or ""}</td>'
            )
        body.append(f'<tr><th scope="row">{escape(class_names[row])}</th>{"".join(cells)}</tr>')
    legend = (
        '<p class="legend">Colour: the share of the true breed\'s images, '
        f'<span class="scale" style="background:linear-gradient(to right,{",".join(BLUES)})"></span> '
        "0% to 100%.</p>"
    )
    return (
        '<div class="scroll"><table class="heatmap"><thead><tr>'
        '<th scope="col" class="corner">True breed ↓ predicted →</th>'
        f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>{legend}"
    )
