"""The training workflow's input: what `train` sends the state machine and its data check receives.

``WorkflowInput.to_json`` is the execution input `python -m training train` starts a run with;
the data-check Lambda reads it back with ``WorkflowInput.from_dict`` (the state machine hands it
the parsed object), which refuses anything else with a message that says what to fix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core import layout

# The execution input's field names (camelCase: they are read by JsonPath in the state machine).
FIELDS = ("trainingJobName", "dataset", "format", "hyperParameters", "instanceCount")
_START_HINT = "start runs with `python -m training train`"


class WorkflowInputError(ValueError):
    """The execution input is not one the training workflow can run."""


@dataclass(frozen=True)
class WorkflowInput:
    training_job_name: str
    dataset: str  # the dataset's prefix in the data bucket: datasets/<name>/
    format: layout.Format = "lst"
    hyperparameters: Mapping[str, str] = field(default_factory=dict)  # overrides of the defaults
    instance_count: int = 1

    def __post_init__(self) -> None:
        if not layout.is_sagemaker_name(self.training_job_name):
            raise WorkflowInputError(
                f"trainingJobName={self.training_job_name!r}: {layout.SAGEMAKER_NAME_RULE}"
            )
        if (
            not isinstance(self.dataset, str)
            or not self.dataset.startswith(layout.DATASETS_PREFIX)
            or ".." in self.dataset
            or self.dataset == layout.DATASETS_PREFIX
        ):
            raise WorkflowInputError(
                f"dataset={self.dataset!r}: expected a prefix like {layout.dataset_prefix('NAME')!r}"
            )
        # Normalized: one trailing slash, as the channels and the data check expect.
        object.__setattr__(
            self, "dataset", layout.dataset_prefix(self.dataset[len(layout.DATASETS_PREFIX) :])
        )
        if self.format not in layout.FORMATS:
            raise WorkflowInputError(
                f"format={self.format!r}: allowed values are {', '.join(layout.FORMATS)}"
            )
        if not isinstance(self.hyperparameters, Mapping) or not all(
            isinstance(name, str) for name in self.hyperparameters
        ):
            raise WorkflowInputError("hyperParameters must be an object of name: value")
        object.__setattr__(self, "hyperparameters", dict(self.hyperparameters))
        if (
            not isinstance(self.instance_count, int)
            or isinstance(self.instance_count, bool)
            or self.instance_count < 1
        ):
            raise WorkflowInputError(
                f"instanceCount={self.instance_count!r}: expected a whole number of at least 1"
            )

    def check_instance_count(self, maximum: int) -> None:
        """WorkflowInputError when the run asks for more instances than the stage allows."""
        if self.instance_count > maximum:
            raise WorkflowInputError(
                f"instanceCount={self.instance_count!r}: allowed values are 1 to {maximum} "
                "(the stage's training_max_instance_count)"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "trainingJobName": self.training_job_name,
            "dataset": self.dataset,
            "format": self.format,
            "hyperParameters": dict(self.hyperparameters),
            "instanceCount": self.instance_count,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: Any) -> WorkflowInput:
        if not isinstance(data, Mapping):
            raise WorkflowInputError(f"the execution input must be a JSON object; {_START_HINT}")
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise WorkflowInputError(
                f"the execution input has unknown fields {unknown}; expected {', '.join(FIELDS)}"
            )
        return cls(
            training_job_name=data.get("trainingJobName"),  # type: ignore[arg-type]
            dataset=data.get("dataset"),  # type: ignore[arg-type]
            format=data.get("format", "lst"),
            hyperparameters=data.get("hyperParameters") or {},
            instance_count=data.get("instanceCount", 1),
        )

    @classmethod
    def from_json(cls, text: str) -> WorkflowInput:
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as error:
            raise WorkflowInputError(f"the execution input is not JSON ({error}); {_START_HINT}") from None
        return cls.from_dict(data)
