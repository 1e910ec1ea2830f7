"""The accuracy gate: one rule for the workflow, tune's registration and promote."""

from __future__ import annotations

from core.accuracy_gate import GATE_METRIC, final_metric, gate_refusal, meets_gate
from training.evaluation import metrics


def test_gate_metric_is_the_algorithms_validation_accuracy() -> None:
    assert GATE_METRIC == "validation:accuracy"


def test_accuracy_equal_to_the_minimum_passes() -> None:
    assert meets_gate(0.8, 0.8)
    assert gate_refusal("job j", 0.8, 0.8) is None


def test_accuracy_below_the_minimum_is_refused_with_both_numbers() -> None:
    assert not meets_gate(0.7999, 0.8)
    assert (
        gate_refusal("job j", 0.7, 0.8)
        == "job j reached validation:accuracy 0.7000, below the minimum 0.8000"
    )


def test_missing_accuracy_is_refused() -> None:
    assert gate_refusal("job j", None, 0.8) == (
        "job j reported no validation:accuracy, so it cannot be checked against the minimum 0.8000"
    )


def test_final_metric_reads_the_job_description() -> None:
    job = {
        "FinalMetricDataList": [
            {"MetricName": "train:accuracy", "Value": 0.9},
            {"MetricName": GATE_METRIC, "Value": 0.81},
        ]
    }
    assert final_metric(job) == 0.81
    assert final_metric({}) is None


def test_metrics_module_keeps_using_the_core_gate() -> None:
    assert metrics.meets_gate is meets_gate
    assert metrics.GATE_METRIC == GATE_METRIC
