"""Is a prediction well formed? The checks the smoke test applies to the API's success body."""

from __future__ import annotations

import math
from typing import Any

# Probabilities of the top K may add up to a little over 1 in float arithmetic.
SUM_TOLERANCE = 1e-6


def prediction_problems(result: Any, *, model_version: str, top_k: int) -> list[str]:
    """What is wrong with ``result`` (the client's ``--json`` line); empty when it is well formed:
    ``top_k`` distinct breeds, most probable first, probabilities in [0, 1] adding up to at most 1,
    served by ``model_version``."""
    if not isinstance(result, dict):
        return [f"the answer is not a JSON object: {result!r}"]
    problems = []
    if result.get("model") != model_version:
        problems.append(
            f"model is {result.get('model')!r}, but the stack serves {model_version!r} "
            "(a stale deployment, or the function's MODEL_VERSION is wrong)"
        )
    predictions = result.get("predictions")
    if not isinstance(predictions, list):
        return [*problems, f"predictions is not a list: {predictions!r}"]
    if len(predictions) != top_k:
        problems.append(f"{len(predictions)} predictions instead of the top {top_k}")
    probabilities = []
    for rank, prediction in enumerate(predictions, start=1):
        problem = _prediction_problem(prediction)
        if problem:
            problems.append(f"prediction {rank}: {problem}")
        else:
            probabilities.append(float(prediction["probability"]))
    if len(probabilities) == len(predictions):
        if probabilities != sorted(probabilities, reverse=True):
            problems.append("predictions are not ordered from most to least probable")
        if sum(probabilities) > 1 + SUM_TOLERANCE:
            problems.append(f"probabilities add up to {sum(probabilities):.6f}, more than 1")
        class_ids = [prediction["classId"] for prediction in predictions]
        if len(set(class_ids)) != len(class_ids):
            problems.append(f"a class appears twice: {class_ids}")
    return problems


def _prediction_problem(prediction: Any) -> str | None:
    if not isinstance(prediction, dict):
        return f"not an object: {prediction!r}"
    breed, class_id, probability = (prediction.get(k) for k in ("breed", "classId", "probability"))
    if not isinstance(breed, str) or not breed.strip():
        return f"breed is not a name: {breed!r}"
    if not isinstance(class_id, int) or isinstance(class_id, bool) or class_id < 0:
        return f"classId is not a class id: {class_id!r}"
    if not isinstance(probability, int | float) or isinstance(probability, bool):
        return f"probability is not a number: {probability!r}"
    if not (math.isfinite(probability) and 0.0 <= probability <= 1.0):
        return f"probability {probability!r} is outside [0, 1]"
    return None
