"""The one place where the product's model metrics are defined: the training workflow's accuracy gate
and the evaluation report (``metrics.json``, ``report.html``) both use it.

Standard library only at the top: the gate's part is imported where the code must stay light (the
CLI's start-up, synth). numpy and scikit-learn are imported inside the functions that need them.

``compute`` returns the content of ``metrics.json`` (``training.evaluation.analysis`` adds the provenance:
``model``, ``dataset``, ``evaluated_at``, ``missing_predictions``)::

    {"accuracy": 0.83, "top5_accuracy": 0.97, "images": 4000, "suspect_threshold": 0.9,
     "macro": {"precision": .., "recall": .., "f1": ..},   # unweighted means over classes with images
     "classes": [{"id": 0, "name": "Chihuahua", "precision": .., "recall": .., "f1": .., "support": 31,
                  "recall_low": .., "recall_high": ..}, ...],   # Wilson 95% interval of the recall
     "confusion": [[...], ...],        # rows: true class id, columns: predicted class id
     "most_confused": [{"true": "Eskimo dog", "predicted": "malamute", "count": 9}, ...],
     "misclassified": [{"image": "..", "label": "..", "predicted": "..", "confidence": 0.61}, ...],
     "suspected_label_errors": [{"image": "..", "label": "..", "predicted": "..", "confidence": 0.97}, ...]}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.accuracy_gate import GATE_METRIC, meets_gate  # noqa: F401 - re-exported: the gate lives in core
from training.errors import TrainingError

TOP_K = 5  # reported as "top5_accuracy"
DECIMALS = 6  # every float in metrics.json is rounded to this many decimals
MOST_CONFUSED_LIMIT = 50
CLASS_FIELDS = ("precision", "recall", "f1", "support")
MACRO_FIELDS = ("precision", "recall", "f1")
Z_95 = 1.959963984540054  # the standard normal quantile of 0.975: a two-sided 95% interval
NOISE_RULE = (
    "a class changed beyond noise when each model's recall lies outside the other's Wilson 95% interval"
)


def compute(
    labels: Sequence[int],
    probabilities: Sequence[Sequence[float]],
    class_names: list[str],
    *,
    images: Sequence[str],
    suspect_threshold: float = 0.9,
) -> dict[str, Any]:
    """The metrics of one model on one validation set (see the module docstring for the shape).

    ``labels[i]`` is the true class id of ``images[i]`` and ``probabilities[i]`` the model's
    per-class probabilities for it, in class-id order. An image is a suspected label error when the
    model gives another class than its label at least ``suspect_threshold`` probability.
    """
    import numpy as np
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    scores = np.asarray(probabilities, dtype=float)
    true = np.asarray(labels, dtype=int)
    _check_shapes(true, scores, class_names, images)
    predicted = scores.argmax(axis=1)
    class_ids = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        true, predicted, labels=class_ids, zero_division=0
    )
    confusion = confusion_matrix(true, predicted, labels=class_ids)
    classes = []
    for class_id, name in enumerate(class_names):
        low, high = wilson_interval(int(confusion[class_id, class_id]), int(support[class_id]))
        classes.append(
            {
                "id": class_id,
                "name": name,
                "precision": _rounded(precision[class_id]),
                "recall": _rounded(recall[class_id]),
                "f1": _rounded(f1[class_id]),
                "support": int(support[class_id]),
                "recall_low": _rounded(low),
                "recall_high": _rounded(high),
            }
        )
    return {
        "accuracy": _rounded(accuracy_score(true, predicted)),
        "top5_accuracy": _top_k_accuracy(true, scores, class_ids),
        "images": len(true),
        "suspect_threshold": suspect_threshold,
        "macro": macro_averages(classes),
        "classes": classes,
        "confusion": confusion.astype(int).tolist(),
        "most_confused": most_confused(confusion.tolist(), class_names),
        "misclassified": suspected_label_errors(true.tolist(), scores, class_names, images, 0.0),
        "suspected_label_errors": suspected_label_errors(
            true.tolist(), scores, class_names, images, suspect_threshold
        ),
    }


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``successes / trials`` (95% by default).

    Unlike the normal approximation it stays inside [0, 1] and is honest for small classes: 30 of
    30 right is (0.886, 1.0), not a certain 100%. ``(0.0, 1.0)`` when there are no trials.
    """
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes in {trials} trials: need 0 <= successes <= trials")
    if trials == 0:
        return 0.0, 1.0
    share = successes / trials
    z2 = z * z
    centre = (share + z2 / (2 * trials)) / (1 + z2 / trials)
    margin = z / (1 + z2 / trials) * (share * (1 - share) / trials + z2 / (4 * trials * trials)) ** 0.5
    low = 0.0 if successes == 0 else max(0.0, centre - margin)
    high = 1.0 if successes == trials else min(1.0, centre + margin)
    return low, high


def macro_averages(classes: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Unweighted means of precision, recall and F1 over the classes that have validation images
    (a class the evaluation has no image of would count as 0 and drag every mean down)."""
    present = [c for c in classes if c["support"] > 0]
    if not present:
        return {field: 0.0 for field in MACRO_FIELDS}
    return {field: _rounded(sum(c[field] for c in present) / len(present)) for field in MACRO_FIELDS}


def recall_changed_beyond_noise(current: dict[str, Any], previous: dict[str, Any]) -> bool:
    """Whether a class's recall moved beyond noise between two evaluations (``NOISE_RULE``): the
    current recall is outside the previous Wilson 95% interval and the previous recall outside the
    current one. With 120 classes a few can still cross by chance; this keeps the list short."""
    now_low, now_high = _recall_interval(current)
    then_low, then_high = _recall_interval(previous)
    outside_then = not then_low <= current["recall"] <= then_high
    outside_now = not now_low <= previous["recall"] <= now_high
    return outside_then and outside_now


def _recall_interval(entry: dict[str, Any]) -> tuple[float, float]:
    """A class's interval from metrics.json, recomputed for files written before it was stored."""
    if "recall_low" in entry and "recall_high" in entry:
        return entry["recall_low"], entry["recall_high"]
    support = int(entry["support"])
    return wilson_interval(round(entry["recall"] * support), support)


def most_confused(
    confusion: list[list[int]], class_names: list[str], limit: int = MOST_CONFUSED_LIMIT
) -> list[dict[str, Any]]:
    """Off-diagonal cells with a count, most frequent first, ties in name order; at most ``limit``."""
    pairs: list[dict[str, Any]] = [
        {"true": class_names[row], "predicted": class_names[column], "count": int(count)}
        for row, counts in enumerate(confusion)
        for column, count in enumerate(counts)
        if row != column and count > 0
    ]
    pairs.sort(key=lambda pair: (-pair["count"], *name_key(pair["true"]), *name_key(pair["predicted"])))
    return pairs[:limit]


def suspected_label_errors(
    labels: list[int], scores: Any, class_names: list[str], images: Sequence[str], threshold: float
) -> list[dict[str, Any]]:
    """Images the model confidently puts in another class than their label, most confident first."""
    suspects: list[dict[str, Any]] = []
    for image, label, row in zip(images, labels, scores, strict=True):
        predicted = int(row.argmax())
        confidence = float(row[predicted])
        if predicted != label and confidence >= threshold:
            suspects.append(
                {
                    "image": image,
                    "label": class_names[label],
                    "predicted": class_names[predicted],
                    "confidence": _rounded(confidence),
                }
            )
    suspects.sort(key=lambda suspect: (-suspect["confidence"], suspect["image"]))
    return suspects


def compare(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """How ``current`` differs from ``previous`` (two ``metrics.json`` contents).

    Classes are matched by name. ``classes`` lists the classes both have, the largest drop in
    recall first (ties by name), each with ``beyond_noise`` (see ``NOISE_RULE``); ``macro`` holds
    the macro averages' changes; ``only_current`` and ``only_previous`` name the others. Raises
    ``TrainingError`` when either dict is not a ``metrics.json``.
    """
    check_metrics(current, "the current metrics")
    check_metrics(previous, "the previous metrics")
    before = {c["name"]: c for c in previous["classes"]}
    after = {c["name"]: c for c in current["classes"]}
    both = [name for name in after if name in before]
    classes = [_class_delta(after[name], before[name]) for name in both]
    classes.sort(key=lambda c: (c["recall_delta"], *name_key(c["name"])))
    now_macro = current.get("macro") or macro_averages(current["classes"])
    then_macro = previous.get("macro") or macro_averages(previous["classes"])
    return {
        "accuracy": _delta(current["accuracy"], previous["accuracy"]),
        "top5_accuracy": _delta(current["top5_accuracy"], previous["top5_accuracy"]),
        "macro": {field: _delta(now_macro[field], then_macro[field]) for field in MACRO_FIELDS},
        "noise_rule": NOISE_RULE,
        "classes": classes,
        "only_current": sorted(set(after) - set(before)),
        "only_previous": sorted(set(before) - set(after)),
    }


def check_metrics(metrics: Any, what: str) -> None:
    """Raise ``TrainingError`` saying what is missing unless ``metrics`` looks like a metrics.json."""
    if not isinstance(metrics, dict):
        raise TrainingError(f"{what} is not a JSON object")
    for key in ("accuracy", "top5_accuracy"):
        if not _is_number(metrics.get(key)):
            raise TrainingError(f"{what} has no numeric {key!r}")
    classes = metrics.get("classes")
    if not isinstance(classes, list) or not classes:
        raise TrainingError(f"{what} has no 'classes' list")
    for entry in classes:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and all(_is_number(entry.get(field)) for field in CLASS_FIELDS)
        ):
            raise TrainingError(f"{what}: every class needs a name and {', '.join(CLASS_FIELDS)}")


def _class_delta(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": after["name"],
        "recall": after["recall"],
        "previous_recall": before["recall"],
        "recall_delta": _rounded(after["recall"] - before["recall"]),
        "precision_delta": _rounded(after["precision"] - before["precision"]),
        "f1_delta": _rounded(after["f1"] - before["f1"]),
        "support": after["support"],
        "previous_support": before["support"],
        "beyond_noise": recall_changed_beyond_noise(after, before),
    }


def _delta(current: float, previous: float) -> dict[str, float]:
    return {"current": current, "previous": previous, "delta": _rounded(current - previous)}


def _top_k_accuracy(true: Any, scores: Any, class_ids: list[int]) -> float:
    if len(class_ids) <= TOP_K:
        return 1.0  # every class is among the top five
    from sklearn.metrics import top_k_accuracy_score

    return _rounded(top_k_accuracy_score(true, scores, k=TOP_K, labels=class_ids))


def _check_shapes(true: Any, scores: Any, class_names: list[str], images: Sequence[str]) -> None:
    if scores.ndim != 2 or scores.shape != (len(true), len(class_names)) or len(images) != len(true):
        raise ValueError(
            f"{len(images)} images, {len(true)} labels and probabilities of shape {scores.shape} "
            f"do not fit {len(class_names)} classes"
        )
    if len(true) == 0:
        raise ValueError("no predictions to evaluate")


def name_key(name: str) -> tuple[str, str]:
    """Sort key for class names: alphabetical whatever the case ("cairn" next to "Cardigan")."""
    return name.casefold(), name


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _rounded(value: Any) -> float:
    return round(float(value), DECIMALS)
