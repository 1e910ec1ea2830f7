"""training.evaluation.metrics: Wilson intervals of recall, macro averages, and a change beyond noise."""

from __future__ import annotations

import pytest
from evaluation_fixtures import image_names, names, one_hot

from training.evaluation import metrics


# Newcombe (1998), "Two-sided confidence intervals for the single proportion", table I, method 3
@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
    ],
)
def test_wilson_interval_matches_published_values(successes, trials, low, high) -> None:
    assert metrics.wilson_interval(successes, trials) == pytest.approx((low, high), abs=1e-4)


def test_wilson_interval_of_no_trials_is_everything() -> None:
    assert metrics.wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(("successes", "trials"), [(4, 3), (-1, 3), (0, -1)])
def test_wilson_interval_refuses_impossible_counts(successes, trials) -> None:
    with pytest.raises(ValueError, match="need 0 <= successes <= trials"):
        metrics.wilson_interval(successes, trials)


def test_compute_gives_each_class_the_interval_of_its_recall() -> None:
    labels = [0, 0, 0, 1, 1]
    probabilities = [one_hot(0, 3), one_hot(1, 3), one_hot(1, 3), one_hot(1, 3), one_hot(1, 3)]
    result = metrics.compute(labels, probabilities, names(3), images=image_names(5))
    first, second, absent = result["classes"]
    assert (first["recall_low"], first["recall_high"]) == pytest.approx(
        metrics.wilson_interval(1, 3), abs=1e-6
    )
    assert (second["recall_low"], second["recall_high"]) == pytest.approx(
        metrics.wilson_interval(2, 2), abs=1e-6
    )
    assert (absent["recall_low"], absent["recall_high"]) == (0.0, 1.0)


def test_macro_averages_are_unweighted_means_over_classes_with_images() -> None:
    labels = [0, 0, 0, 0, 1]  # class 2 has no validation image: it must not count as a zero
    probabilities = [one_hot(0, 3)] * 3 + [one_hot(1, 3), one_hot(1, 3)]
    result = metrics.compute(labels, probabilities, names(3), images=image_names(5))
    f1 = (2 * 1.0 * 0.75 / 1.75 + 2 * 0.5 * 1.0 / 1.5) / 2
    assert result["macro"] == pytest.approx({"precision": 0.75, "recall": 0.875, "f1": f1}, abs=1e-6)


def test_misclassified_lists_every_wrong_image_most_confident_first() -> None:
    probabilities = [one_hot(1, 3, 0.4), one_hot(0, 3), one_hot(2, 3, 0.7)]
    result = metrics.compute([0, 0, 0], probabilities, names(3), images=["a", "right", "c"])
    assert [(m["image"], m["predicted"]) for m in result["misclassified"]] == [
        ("c", "breed 02"),
        ("a", "breed 01"),
    ]


def entry(name: str, right: int, support: int) -> dict:
    recall = right / support
    return {"id": 0, "name": name, "precision": recall, "recall": recall, "f1": recall, "support": support}


@pytest.mark.parametrize(
    ("before", "after", "beyond"),
    [
        ((15, 30), (18, 30), False),  # 50% -> 60% on 30 images: within either interval
        ((3, 30), (27, 30), True),
        ((0, 3), (3, 3), True),  # a small class can still move beyond noise when it flips entirely
        ((20, 30), (25, 30), False),  # 67% -> 83%: outside the previous interval only
    ],
)
def test_a_recall_change_is_beyond_noise_only_outside_both_intervals(before, after, beyond) -> None:
    previous = {"accuracy": 0.5, "top5_accuracy": 0.9, "classes": [entry("x", *before)]}
    current = {"accuracy": 0.5, "top5_accuracy": 0.9, "classes": [entry("x", *after)]}
    assert metrics.compare(current, previous)["classes"][0]["beyond_noise"] is beyond


def test_compare_gives_macro_deltas_even_for_an_older_metrics_json_without_them() -> None:
    previous = {"accuracy": 0.5, "top5_accuracy": 0.9, "classes": [entry("x", 15, 30), entry("y", 30, 30)]}
    current = {**previous, "macro": {"precision": 0.9, "recall": 0.9, "f1": 0.9}}
    assert metrics.compare(current, previous)["macro"]["recall"] == pytest.approx(
        {"current": 0.9, "previous": 0.75, "delta": 0.15}
    )
