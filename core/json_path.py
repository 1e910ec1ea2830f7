"""A request value that Step Functions fills in at run time: a JsonPath or an intrinsic function.

Requests built in ``core`` (a training job, a model package) serve both the CLI, which knows every
value, and the training state machine, which knows some only when it runs. The state machine's
caller passes ``JsonPath("$.prepared.channels")`` where it has no value; ``render`` writes such a
field as ``"Name.$": "$.prepared.channels"``, the form Step Functions evaluates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_INTRINSIC = "States."


@dataclass(frozen=True)
class JsonPath:
    """``$...`` (a path into the state's input) or ``States.Format(...)`` and the like."""

    expression: str

    def __post_init__(self) -> None:
        if not isinstance(self.expression, str) or not (
            self.expression.startswith("$") or self.expression.startswith(_INTRINSIC)
        ):
            raise ValueError(
                f"JsonPath({self.expression!r}): expected a path starting with '$' "
                f"or an intrinsic function starting with {_INTRINSIC!r}"
            )


def render(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with each ``JsonPath`` value written as ``"<name>.$": expression``, at any depth
    of nested objects, including objects in lists."""
    rendered: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, JsonPath):
            rendered[f"{name}.$"] = value.expression
        elif isinstance(value, dict):
            rendered[name] = render(value)
        elif isinstance(value, list):
            rendered[name] = [render(item) if isinstance(item, dict) else item for item in value]
        else:
            rendered[name] = value
    return rendered


def has_paths(fields: Any) -> bool:
    """Whether any value at any depth is a ``JsonPath`` (a request for the CLI must have none)."""
    if isinstance(fields, JsonPath):
        return True
    if isinstance(fields, dict):
        return any(has_paths(value) for value in fields.values())
    if isinstance(fields, list | tuple):
        return any(has_paths(value) for value in fields)
    return False
