"""The accuracy gate every servable model passes: the training workflow's Choice state, `tune`'s
registration of its best job and `promote` apply this same rule to the same metric."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# SageMaker's name for the metric the gate reads (the algorithm's final validation accuracy);
# the same metric `tune` maximises.
GATE_METRIC = "validation:accuracy"


def meets_gate(accuracy: float, minimum: float) -> bool:
    """Whether a model's accuracy passes the gate: ``accuracy >= minimum``.

    The training state machine's Choice state makes the same comparison
    (``NumericGreaterThanEquals``), so a model exactly at the minimum passes both.
    """
    return accuracy >= minimum


def final_metric(job: Mapping[str, Any], metric: str = GATE_METRIC) -> float | None:
    """``metric``'s final value in a DescribeTrainingJob answer (or a Search result); None if absent."""
    for entry in job.get("FinalMetricDataList", []):
        if entry.get("MetricName") == metric:
            return float(entry["Value"])
    return None


def gate_refusal(what: str, accuracy: float | None, minimum: float) -> str | None:
    """Why ``what`` fails the gate (a sentence without advice), or None when it passes."""
    if accuracy is None:
        return f"{what} reported no {GATE_METRIC}, so it cannot be checked against the minimum {minimum:.4f}"
    if meets_gate(accuracy, minimum):
        return None
    return f"{what} reached {GATE_METRIC} {accuracy:.4f}, below the minimum {minimum:.4f}"
