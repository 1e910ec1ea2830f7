"""training.evaluation.metrics at its edges: each limit at the edge and one past it, exact values, messages.

Written against what a mutation run (benchmarks/mutation.py) showed no other test pinned down.
"""

from __future__ import annotations

import math
import re
import warnings
from statistics import NormalDist

import pytest
from evaluation_fixtures import image_names, names, one_hot

from training.errors import TrainingError
from training.evaluation import metrics

Z = NormalDist().inv_cdf(0.975)


def textbook_wilson(successes: int, trials: int, z: float = Z) -> tuple[float, float]:
    """The Wilson score interval as textbooks write it, for comparison."""
    p = successes / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    denominator = 1 + z * z / trials
    return (centre - spread) / denominator, (centre + spread) / denominator


def class_entry(name: str, recall: float, **extra: float) -> dict:
    return {"name": name, "precision": 0.5, "recall": recall, "f1": 0.5, "support": 10, **extra}


def metrics_json(*classes: dict, accuracy: float = 0.8, top5: float = 0.9, **extra: object) -> dict:
    return {"accuracy": accuracy, "top5_accuracy": top5, "classes": list(classes), **extra}


# ---------------------------------------------------------------------------- constants


def test_z_95_is_the_normal_quantile_of_0_975() -> None:
    assert pytest.approx(Z, abs=1e-12) == metrics.Z_95


def test_the_noise_rule_is_stated_in_words() -> None:
    assert metrics.NOISE_RULE == (
        "a class changed beyond noise when each model's recall lies outside the other's Wilson 95% interval"
    )


# ---------------------------------------------------------------------------- wilson_interval


@pytest.mark.parametrize(("successes", "trials"), [(3, 10), (15, 30), (1, 2), (7, 120), (99, 100)])
def test_wilson_interval_matches_the_textbook_formula(successes: int, trials: int) -> None:
    assert metrics.wilson_interval(successes, trials) == pytest.approx(
        textbook_wilson(successes, trials), abs=1e-12
    )


def test_wilson_interval_uses_the_z_it_is_given() -> None:
    assert metrics.wilson_interval(4, 10, z=1.0) == pytest.approx(textbook_wilson(4, 10, z=1.0), abs=1e-12)


def test_wilson_interval_of_all_successes_ends_exactly_at_one() -> None:
    low, high = metrics.wilson_interval(30, 30)
    assert high == 1.0
    assert low == pytest.approx(30 / (30 + Z * Z), abs=1e-12)  # 0.886: not a certain 100%


def test_wilson_interval_one_short_of_all_successes_ends_below_one() -> None:
    low, high = metrics.wilson_interval(29, 30)
    assert (low, high) == pytest.approx(textbook_wilson(29, 30), abs=1e-12)
    assert high < 1.0


def test_wilson_interval_of_no_successes_starts_exactly_at_zero() -> None:
    low, high = metrics.wilson_interval(0, 30)
    assert low == 0.0
    assert high == pytest.approx(Z * Z / (30 + Z * Z), abs=1e-12)


def test_wilson_interval_of_one_success_starts_above_zero() -> None:
    low, _ = metrics.wilson_interval(1, 30)
    assert low == pytest.approx(textbook_wilson(1, 30)[0], abs=1e-12)
    assert low > 0.0


def test_wilson_interval_without_trials_is_everything() -> None:
    assert metrics.wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(("successes", "trials"), [(0, -1), (-1, 5), (6, 5)])
def test_wilson_interval_refuses_impossible_counts_saying_which(successes: int, trials: int) -> None:
    message = f"{successes} successes in {trials} trials: need 0 <= successes <= trials"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        metrics.wilson_interval(successes, trials)


@pytest.mark.parametrize(("successes", "trials"), [(0, 1), (1, 1), (5, 5)])
def test_wilson_interval_accepts_counts_at_their_limits(successes: int, trials: int) -> None:
    low, high = metrics.wilson_interval(successes, trials)
    assert 0.0 <= low < high <= 1.0


# ---------------------------------------------------------------------------- macro_averages


def test_macro_averages_leave_out_classes_without_images() -> None:
    classes = [
        {"precision": 0.5, "recall": 1.0, "f1": 0.25, "support": 2},
        {"precision": 0.25, "recall": 0.5, "f1": 0.75, "support": 1},
        {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0},
    ]
    assert metrics.macro_averages(classes) == {"precision": 0.375, "recall": 0.75, "f1": 0.5}


def test_macro_averages_are_rounded_to_six_decimals() -> None:
    classes = [{"precision": p, "recall": 1.0, "f1": 1.0, "support": 1} for p in (1.0, 0.0, 0.0)]
    assert metrics.macro_averages(classes)["precision"] == 0.333333


def test_macro_averages_without_any_class_with_images_are_zero() -> None:
    classes = [{"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 0}]
    assert metrics.macro_averages(classes) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


# ---------------------------------------------------------------------------- recall_changed_beyond_noise


def interval_entry(recall: float, low: float, high: float) -> dict:
    return {"recall": recall, "recall_low": low, "recall_high": high, "support": 10}


def test_recall_beyond_noise_needs_each_recall_outside_the_other_interval() -> None:
    assert metrics.recall_changed_beyond_noise(interval_entry(0.9, 0.8, 1.0), interval_entry(0.3, 0.2, 0.4))


def test_recall_outside_only_one_interval_is_noise() -> None:
    now = interval_entry(0.9, 0.2, 1.0)  # wide: holds the previous recall
    assert not metrics.recall_changed_beyond_noise(now, interval_entry(0.3, 0.2, 0.4))
    assert not metrics.recall_changed_beyond_noise(interval_entry(0.3, 0.2, 0.4), now)


# (current, previous): one recall exactly on an edge of the other's interval, the other clearly outside.
ON_AN_EDGE = {
    "current at the previous high": (interval_entry(0.4, 0.3, 0.5), interval_entry(0.2, 0.1, 0.4)),
    "current at the previous low": (interval_entry(0.4, 0.3, 0.5), interval_entry(0.7, 0.4, 0.9)),
    "previous at the current high": (interval_entry(0.6, 0.5, 0.8), interval_entry(0.8, 0.75, 0.9)),
    "previous at the current low": (interval_entry(0.6, 0.4, 0.7), interval_entry(0.4, 0.3, 0.5)),
}
# The same, each edge moved just past the recall it touched.
JUST_PAST_AN_EDGE = {
    "current above the previous high": (interval_entry(0.4, 0.3, 0.5), interval_entry(0.2, 0.1, 0.399)),
    "current below the previous low": (interval_entry(0.4, 0.3, 0.5), interval_entry(0.7, 0.401, 0.9)),
    "previous above the current high": (interval_entry(0.6, 0.5, 0.799), interval_entry(0.8, 0.75, 0.9)),
    "previous below the current low": (interval_entry(0.6, 0.401, 0.7), interval_entry(0.4, 0.3, 0.5)),
}


@pytest.mark.parametrize(("current", "previous"), ON_AN_EDGE.values(), ids=ON_AN_EDGE)
def test_recall_exactly_on_the_other_interval_edge_is_noise(current, previous) -> None:
    assert not metrics.recall_changed_beyond_noise(current, previous)


@pytest.mark.parametrize(("current", "previous"), JUST_PAST_AN_EDGE.values(), ids=JUST_PAST_AN_EDGE)
def test_recall_just_past_the_other_interval_edge_is_beyond_noise(current, previous) -> None:
    assert metrics.recall_changed_beyond_noise(current, previous)


def test_intervals_missing_from_older_metrics_are_recomputed_from_recall_and_support() -> None:
    # 10 of 10 against 0 of 10: far apart once recomputed; the stored-looking fields are absent.
    now = {"recall": 1.0, "support": 10}
    then = {"recall": 0.0, "support": 10}
    assert metrics.recall_changed_beyond_noise(now, then)
    close = {"recall": 0.9, "support": 10}
    assert not metrics.recall_changed_beyond_noise(now, close)


def test_a_half_stored_interval_is_recomputed_not_read() -> None:
    now = {"recall": 1.0, "support": 10, "recall_low": 0.0}  # no recall_high: recompute both
    then = {"recall": 0.0, "support": 10, "recall_high": 1.0}
    assert metrics.recall_changed_beyond_noise(now, then)


# ---------------------------------------------------------------------------- most_confused


def confusion_with_off_diagonal(count: int) -> tuple[list[list[int]], list[str]]:
    """A confusion matrix of 9 classes whose first ``count`` off-diagonal cells hold 1."""
    size = 9
    confusion = [[5 if row == column else 0 for column in range(size)] for row in range(size)]
    cells = [(r, c) for r in range(size) for c in range(size) if r != c][:count]
    for row, column in cells:
        confusion[row][column] = 1
    return confusion, [f"breed {i}" for i in range(size)]


def test_most_confused_lists_at_most_50_pairs_by_default() -> None:
    confusion, class_names = confusion_with_off_diagonal(51)
    assert len(metrics.most_confused(confusion, class_names)) == 50
    confusion, class_names = confusion_with_off_diagonal(50)
    assert len(metrics.most_confused(confusion, class_names)) == 50


def test_most_confused_stops_at_the_limit_given() -> None:
    confusion, class_names = confusion_with_off_diagonal(4)
    assert len(metrics.most_confused(confusion, class_names, limit=3)) == 3
    assert len(metrics.most_confused(confusion, class_names, limit=4)) == 4


def test_most_confused_counts_a_single_mistake_and_skips_empty_cells() -> None:
    confusion = [[3, 1, 0], [0, 3, 0], [0, 0, 3]]
    assert metrics.most_confused(confusion, ["a", "b", "c"]) == [{"true": "a", "predicted": "b", "count": 1}]


def test_most_confused_ties_sort_by_name_whatever_the_case() -> None:
    confusion = [[0, 1, 1], [1, 0, 0], [1, 0, 0]]
    pairs = metrics.most_confused(confusion, ["cairn", "Boxer", "Cardigan"])
    assert [(p["true"], p["predicted"]) for p in pairs] == [
        ("Boxer", "cairn"),
        ("cairn", "Boxer"),
        ("cairn", "Cardigan"),
        ("Cardigan", "cairn"),
    ]


def test_name_key_sorts_case_blind_then_upper_case_first() -> None:
    assert metrics.name_key("Cairn") == ("cairn", "Cairn")
    assert sorted(["b", "a", "B", "A"], key=metrics.name_key) == ["A", "a", "B", "b"]


# ---------------------------------------------------------------------------- suspected_label_errors


def test_suspected_label_errors_sort_equal_confidence_by_image_name() -> None:
    probabilities = [one_hot(1, 3, 0.95), one_hot(2, 3, 0.95), one_hot(1, 3, 0.97)]
    result = metrics.compute([0, 0, 0], probabilities, names(3), images=["b", "a", "c"])
    assert [s["image"] for s in result["suspected_label_errors"]] == ["c", "a", "b"]


def test_default_suspect_threshold_is_0_9() -> None:
    probabilities = [one_hot(1, 3, 0.9), one_hot(1, 3, 0.899)]
    result = metrics.compute([0, 0], probabilities, names(3), images=["at", "below"])
    assert result["suspect_threshold"] == 0.9
    assert [s["image"] for s in result["suspected_label_errors"]] == ["at"]


def test_misclassified_lists_every_wrong_prediction_whatever_its_confidence() -> None:
    probabilities = [one_hot(1, 3, 0.4), one_hot(0, 3, 0.4), one_hot(2, 3, 0.95)]
    result = metrics.compute([0, 0, 0], probabilities, names(3), images=["low", "right", "high"])
    assert result["misclassified"] == [
        {"image": "high", "label": "breed 00", "predicted": "breed 02", "confidence": 0.95},
        {"image": "low", "label": "breed 00", "predicted": "breed 01", "confidence": 0.4},
    ]


def test_suspected_label_errors_refuse_fewer_images_than_predictions() -> None:
    import numpy as np

    scores = np.array([one_hot(1, 2), one_hot(1, 2)])
    with pytest.raises(ValueError, match="zip"):
        metrics.suspected_label_errors([0, 0], scores, names(2), ["only one"], 0.5)


def test_suspect_confidence_is_rounded_to_six_decimals() -> None:
    probabilities = [[0.0, 2 / 3, 1 / 3]]
    result = metrics.compute([0], probabilities, names(3), images=["a"])
    assert result["misclassified"][0]["confidence"] == 0.666667


# ---------------------------------------------------------------------------- compute


def test_compute_of_a_small_set_gives_exactly_these_metrics() -> None:
    probabilities = [one_hot(0, 3, 0.8), one_hot(1, 3, 0.6), one_hot(1, 3, 0.7), one_hot(2, 3, 0.9)]
    result = metrics.compute([0, 0, 1, 2], probabilities, ["a", "B", "c"], images=["w", "x", "y", "z"])
    half_low, half_high = metrics.wilson_interval(1, 2)
    one_low, _ = metrics.wilson_interval(1, 1)
    assert result == {
        "accuracy": 0.75,
        "top5_accuracy": 1.0,
        "images": 4,
        "suspect_threshold": 0.9,
        "macro": {"precision": 0.833333, "recall": 0.833333, "f1": 0.777778},
        "classes": [
            {
                "id": 0,
                "name": "a",
                "precision": 1.0,
                "recall": 0.5,
                "f1": 0.666667,
                "support": 2,
                "recall_low": round(half_low, 6),
                "recall_high": round(half_high, 6),
            },
            {
                "id": 1,
                "name": "B",
                "precision": 0.5,
                "recall": 1.0,
                "f1": 0.666667,
                "support": 1,
                "recall_low": round(one_low, 6),
                "recall_high": 1.0,
            },
            {
                "id": 2,
                "name": "c",
                "precision": 1.0,
                "recall": 1.0,
                "f1": 1.0,
                "support": 1,
                "recall_low": round(one_low, 6),
                "recall_high": 1.0,
            },
        ],
        "confusion": [[1, 1, 0], [0, 1, 0], [0, 0, 1]],
        "most_confused": [{"true": "a", "predicted": "B", "count": 1}],
        "misclassified": [{"image": "x", "label": "a", "predicted": "B", "confidence": 0.6}],
        "suspected_label_errors": [],
    }


def test_compute_rounds_accuracy_to_six_decimals() -> None:
    result = metrics.compute(
        [0, 0, 0], [one_hot(0, 2), one_hot(1, 2), one_hot(1, 2)], names(2), images=image_names(3)
    )
    assert result["accuracy"] == 0.333333


def test_top5_accuracy_with_six_classes_counts_a_label_ranked_sixth_as_a_miss() -> None:
    ranked_sixth = [0.01, 0.3, 0.25, 0.2, 0.15, 0.09]  # label 0 has the smallest probability
    ranked_fifth = [0.1, 0.3, 0.25, 0.2, 0.15, 0.0]
    result = metrics.compute(
        [0, 0, 1], [ranked_sixth, ranked_fifth, one_hot(1, 6)], names(6), images=image_names(3)
    )
    assert result["top5_accuracy"] == 0.666667


def test_top5_accuracy_with_exactly_five_classes_is_one_without_asking_scikit_learn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = metrics.compute([0], [[0.0, 0.1, 0.2, 0.3, 0.4]], names(5), images=["a"])
    assert result["top5_accuracy"] == 1.0


@pytest.mark.parametrize(
    ("labels", "probabilities", "images", "message"),
    [
        ([0], [0.5, 0.5], ["a"], "1 images, 1 labels and probabilities of shape (2,) do not fit 2 classes"),
        (
            [0],
            [[0.5, 0.5, 0.0]],
            ["a"],
            "1 images, 1 labels and probabilities of shape (1, 3) do not fit 2 classes",
        ),
        (
            [0, 1],
            [[0.5, 0.5]],
            ["a", "b"],
            "2 images, 2 labels and probabilities of shape (1, 2) do not fit 2 classes",
        ),
        (
            [0],
            [[0.5, 0.5]],
            ["a", "b"],
            "2 images, 1 labels and probabilities of shape (1, 2) do not fit 2 classes",
        ),
    ],
)
def test_compute_refuses_shapes_that_do_not_fit_saying_what_it_got(
    labels, probabilities, images, message
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        metrics.compute(labels, probabilities, names(2), images=images)


def test_compute_refuses_an_empty_prediction_set() -> None:
    import numpy as np

    with pytest.raises(ValueError, match="^no predictions to evaluate$"):
        metrics.compute([], np.zeros((0, 2)), names(2), images=[])


def test_compute_accepts_a_single_prediction() -> None:
    assert metrics.compute([1], [one_hot(1, 2)], names(2), images=["a"])["accuracy"] == 1.0


# ---------------------------------------------------------------------------- compare


def test_compare_gives_exactly_these_changes() -> None:
    current = metrics_json(
        class_entry("b", 0.3, precision=0.7, f1=0.4, recall_low=0.1, recall_high=0.5),  # holds b's 0.1
        class_entry("A", 0.3, recall_low=0.15, recall_high=0.5),
        class_entry("new", 1.0),
        accuracy=0.3,
        top5=0.9,
    )
    previous = metrics_json(
        class_entry("A", 0.1, recall_low=0.0, recall_high=0.2),
        class_entry("b", 0.1, precision=0.4, f1=0.2, recall_low=0.0, recall_high=0.2),
        class_entry("old", 0.5),
        accuracy=0.1,
        top5=0.95,
    )
    result = metrics.compare(current, previous)
    assert result == {
        "accuracy": {"current": 0.3, "previous": 0.1, "delta": 0.2},
        "top5_accuracy": {"current": 0.9, "previous": 0.95, "delta": -0.05},
        "macro": {
            "precision": {"current": 0.566667, "previous": 0.466667, "delta": 0.1},
            "recall": {"current": 0.533333, "previous": 0.233333, "delta": 0.3},
            "f1": {"current": 0.466667, "previous": 0.4, "delta": 0.066667},
        },
        "noise_rule": metrics.NOISE_RULE,
        "classes": [
            {
                "name": "A",
                "recall": 0.3,
                "previous_recall": 0.1,
                "recall_delta": 0.2,
                "precision_delta": 0.0,
                "f1_delta": 0.0,
                "support": 10,
                "previous_support": 10,
                "beyond_noise": True,
            },
            {
                "name": "b",
                "recall": 0.3,
                "previous_recall": 0.1,
                "recall_delta": 0.2,
                "precision_delta": 0.3,
                "f1_delta": 0.2,
                "support": 10,
                "previous_support": 10,
                "beyond_noise": False,
            },
        ],
        "only_current": ["new"],
        "only_previous": ["old"],
    }


def test_compare_uses_the_stored_macro_averages_when_there_are_some() -> None:
    stored = {"precision": 0.9, "recall": 0.8, "f1": 0.7}
    current = metrics_json(class_entry("a", 0.5), macro=stored)
    previous = metrics_json(class_entry("a", 0.5))
    macro = metrics.compare(current, previous)["macro"]
    assert macro["recall"] == {"current": 0.8, "previous": 0.5, "delta": 0.3}
    assert metrics.compare(previous, current)["macro"]["f1"] == {
        "current": 0.5,
        "previous": 0.7,
        "delta": -0.2,
    }


def test_compare_sorts_classes_with_equal_drops_by_name_whatever_the_case() -> None:
    current = metrics_json(*(class_entry(name, 0.5) for name in ("cairn", "Cardigan", "Boxer")))
    result = metrics.compare(current, current)
    assert [c["name"] for c in result["classes"]] == ["Boxer", "cairn", "Cardigan"]


# ---------------------------------------------------------------------------- check_metrics


def test_check_metrics_accepts_a_metrics_json() -> None:
    metrics.check_metrics(metrics_json(class_entry("a", 0.5), accuracy=1, top5=0), "it")


@pytest.mark.parametrize(
    ("candidate", "message"),
    [
        ([], "it is not a JSON object"),
        ({"top5_accuracy": 0.9, "classes": []}, "it has no numeric 'accuracy'"),
        ({"accuracy": True, "top5_accuracy": 0.9}, "it has no numeric 'accuracy'"),
        ({"accuracy": "0.8", "top5_accuracy": 0.9}, "it has no numeric 'accuracy'"),
        ({"accuracy": 0.8}, "it has no numeric 'top5_accuracy'"),
        ({"accuracy": 0.8, "top5_accuracy": 0.9}, "it has no 'classes' list"),
        ({"accuracy": 0.8, "top5_accuracy": 0.9, "classes": []}, "it has no 'classes' list"),
        ({"accuracy": 0.8, "top5_accuracy": 0.9, "classes": {"a": 1}}, "it has no 'classes' list"),
    ],
)
def test_check_metrics_says_what_is_missing(candidate, message) -> None:
    with pytest.raises(TrainingError, match=f"^{re.escape(message)}$"):
        metrics.check_metrics(candidate, "it")


@pytest.mark.parametrize(
    "entry",
    [
        "a",
        {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 1},
        {"name": 3, "precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 1},
        {"name": "a", "recall": 0.5, "f1": 0.5, "support": 1},
        {"name": "a", "precision": 0.5, "f1": 0.5, "support": 1},
        {"name": "a", "precision": 0.5, "recall": 0.5, "support": 1},
        {"name": "a", "precision": 0.5, "recall": 0.5, "f1": 0.5},
        {"name": "a", "precision": 0.5, "recall": 0.5, "f1": 0.5, "support": False},
    ],
)
def test_check_metrics_refuses_a_class_without_a_name_or_a_numeric_field(entry) -> None:
    message = "it: every class needs a name and precision, recall, f1, support"
    candidate = metrics_json(class_entry("fine", 0.5), entry)
    with pytest.raises(TrainingError, match=f"^{re.escape(message)}$"):
        metrics.check_metrics(candidate, "it")


def test_compare_names_which_side_is_not_a_metrics_json() -> None:
    good = metrics_json(class_entry("a", 0.5))
    with pytest.raises(TrainingError, match="^the current metrics is not a JSON object$"):
        metrics.compare([], good)
    with pytest.raises(TrainingError, match="^the previous metrics is not a JSON object$"):
        metrics.compare(good, [])
