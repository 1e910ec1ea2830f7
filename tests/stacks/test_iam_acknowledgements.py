"""Every wildcard resource an IAM statement keeps is acknowledged with a reason naming its actions."""

from __future__ import annotations

import json

import pytest

from stacks.nag import wildcard_findings


def _acknowledgements(outdir, stack: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Logical id -> construct path, and construct path -> {finding: reason}, from the manifest."""
    metadata = json.loads((outdir / f"{stack}.metadata.json").read_text())
    paths: dict[str, str] = {}
    acknowledged: dict[str, dict[str, str]] = {}
    for path, entries in metadata.items():
        for entry in entries:
            if entry["type"] == "aws:cdk:logicalId":
                paths[entry["data"]] = path
            elif entry["type"] == "aws:cdk:acknowledged-rules":
                for finding, reason in entry["data"].items():
                    acknowledged.setdefault(path, {})[finding.removeprefix("Annotation::")] = reason
    return paths, acknowledged


def _unnamed_actions(outdir, stack: str, template) -> list[str]:
    paths, acknowledged = _acknowledgements(outdir, stack)
    problems = []
    for logical_id, policy in template.find_resources("AWS::IAM::Policy").items():
        path = paths[logical_id].removesuffix("/Resource")
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            for finding in wildcard_findings(resources):
                if finding is None:
                    continue
                reason = acknowledged.get(path, {}).get(finding)
                if reason is None:
                    problems.append(f"{path}: {finding} is not acknowledged")
                    continue
                missing = [a for a in actions if a not in reason]
                if missing:
                    problems.append(f"{path}: the reason for {finding} does not name {missing}: {reason!r}")
    return problems


@pytest.mark.parametrize("stack", ["Storage", "Training", "Serving"])
def test_every_wildcard_resource_is_acknowledged_naming_all_its_actions(dev, stack):
    template = {"Storage": dev.storage, "Training": dev.training, "Serving": dev.serving}[stack]
    assert _unnamed_actions(dev.outdir, stack, template) == []
