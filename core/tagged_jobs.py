"""A stage's SageMaker jobs, told apart by the tags ``layout.job_tags`` puts on each.

Shared by the CLI (``status``, ``stop``, ``promote``) and the training stack's destroy-time
clean-up (a Lambda), so both read every page of a job's tags and apply the same rule.
"""

from __future__ import annotations

from typing import Any

from core import layout


def tags_of(sagemaker: Any, arn: str) -> list[dict[str, str]]:
    """Every tag of the resource ``arn`` (ListTags answers in pages)."""
    tags: list[dict[str, str]] = []
    for page in sagemaker.get_paginator("list_tags").paginate(ResourceArn=arn):
        tags.extend(page.get("Tags", []))
    return tags


def belongs_to(tags: list[dict[str, str]], stage: str) -> bool:
    """Whether ``tags`` carry the project's and the stage's tag."""
    present = {(tag["Key"], tag["Value"]) for tag in tags}
    return all((tag["Key"], tag["Value"]) in present for tag in layout.job_tags(stage))
