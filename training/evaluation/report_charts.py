"""The evaluation report's chart, a confusion-matrix heatmap as PNG bytes, and how it picks its cells.

matplotlib is imported inside the functions and used through its object-oriented API (``Figure``
with the Agg canvas), so nothing here touches pyplot's global state or needs a display.
"""

from __future__ import annotations

import io
from typing import Any

from training.evaluation.metrics import name_key

FULL_MATRIX_MAX_CLASSES = 20  # up to this many classes the heatmap shows the whole matrix
WORST_CLASSES = 12  # otherwise its rows are the classes with the lowest recall...
CONFUSIONS_PER_CLASS = 3  # ...and its columns add what each is most often taken for
DPI = 100


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


def confusion_png(
    confusion: list[list[int]], class_names: list[str], rows: list[int], columns: list[int]
) -> bytes:
    """A heatmap of the chosen cells: colour is the share of the true class, the text the count."""
    import numpy as np

    counts = np.array([[confusion[row][column] for column in columns] for row in rows], dtype=int)
    totals = np.array([max(sum(confusion[row]), 1) for row in rows])
    shares = counts / totals[:, None]
    figure, axes = _figure(width=3.0 + 0.34 * len(columns), height=2.6 + 0.3 * len(rows))
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    axes.set_xticks(range(len(columns)), labels=[_plain(class_names[c]) for c in columns], fontsize=8)
    axes.set_yticks(range(len(rows)), labels=[_plain(class_names[r]) for r in rows], fontsize=8)
    axes.tick_params(axis="x", labelrotation=60)
    for label in axes.get_xticklabels():
        label.set_horizontalalignment("right")
        label.set_rotation_mode("anchor")
    for (row, column), count in np.ndenumerate(counts):
        if count:
            colour = "white" if shares[row, column] > 0.5 else "black"
            axes.text(column, row, str(count), ha="center", va="center", fontsize=7, color=colour)
    axes.set_xlabel("predicted breed")
    axes.set_ylabel("true breed")
    figure.colorbar(image, ax=axes, fraction=0.04, pad=0.02, label="share of the true breed's images")
    return _png(figure)


def _figure(width: float, height: float) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _plain(text: str) -> str:
    """Text matplotlib shows as written: a ``$`` would otherwise start mathtext."""
    return text.replace("$", r"\$")
