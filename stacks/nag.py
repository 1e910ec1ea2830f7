"""Acknowledged findings of cdk-nag and cfn-lint: each names its rule and says why it does not apply."""

from __future__ import annotations

import json
from typing import Any

import jsii
from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from constructs import IConstruct, IValidation


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge ``rule`` (``AwsSolutions-XX`` or ``AwsSolutions-XX[finding]``) on ``construct``.

    A policy's ``Resource::*`` finding is acknowledged like any wildcard resource (see
    ``acknowledge_resource``): its reason then names every action granted on ``*``.
    """
    if rule == "AwsSolutions-IAM5[Resource::*]":
        acknowledge_resource(construct, "*", "", reason)
        return
    _acknowledge(construct, rule, reason)


def _acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    if not rule.startswith("AwsSolutions-") or len(reason) < 20:
        raise ValueError(f"acknowledge {rule!r} with an AwsSolutions rule id and a real reason")
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))


def ignore_cfn_lint(resource: CfnResource, check: str, reason: str) -> None:
    """Tell cfn-lint to skip ``check`` on one resource CDK generates, recording why in its metadata."""
    resource.add_metadata("cfn-lint", {"config": {"ignore_checks": [check]}, "reason": reason})


CDK_ROLE_DEPENDENCY = (
    "CDK makes a function depend on its whole role construct (role and policy); the role half "
    "repeats the GetAtt. Harmless, and not removable from outside aws-cdk-lib."
)


def acknowledge_resource(construct: IConstruct, arn: str, suffix: str, reason: str) -> None:
    """Acknowledge the IAM5 finding for the wildcard resource ``arn + suffix`` on ``construct``.

    When ``construct`` is a policy, the recorded reason ends with every action it grants on that
    resource, so a reviewer sees what the wildcard allows, and a new action cannot slip in unnamed.

    cdk-nag names the finding after the resource as it appears in the final template, and a
    reference to another stack only takes that form once the app resolves references. So the
    finding is worked out in a construct validation, which runs after that and before cdk-nag.
    """
    construct.node.add_validation(_LateAcknowledgment(construct, arn, suffix, reason))


@jsii.implements(IValidation)
class _LateAcknowledgment:
    def __init__(self, construct: IConstruct, arn: str, suffix: str, reason: str) -> None:
        self._construct, self._arn, self._suffix, self._reason = construct, arn, suffix, reason

    def validate(self) -> list[str]:
        stack = Stack.of(self._construct)
        resource = _flatten(stack.resolve(self._arn)) + self._suffix
        document = getattr(self._construct, "document", None)
        actions = _actions_on(stack.resolve(document), resource) if document is not None else []
        reason = f"{self._reason} (actions: {', '.join(actions)})" if actions else self._reason
        _acknowledge(self._construct, f"AwsSolutions-IAM5[Resource::{resource}]", reason)
        return []


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _actions_on(document: dict[str, Any] | None, resource: str) -> list[str]:
    """The actions a resolved policy document allows on ``resource`` (flattened as cdk-nag does)."""
    actions: set[str] = set()
    for statement in (document or {}).get("Statement", []):
        if any(_flatten(r) == resource for r in _as_list(statement.get("Resource", []))):
            actions.update(_as_list(statement.get("Action", [])))
    return sorted(actions)


def _flatten(node: Any) -> str:
    """cdk-nag's flattening of a CloudFormation reference (its utils/flatten-cfn-reference.js)."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict) and "Fn::Join" in node:
        delimiter, items = node["Fn::Join"]
        return delimiter.join(_flatten(item) for item in items)
    if isinstance(node, dict) and "Fn::Sub" in node:
        return _flatten(node["Fn::Sub"])
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        resource, attribute = node["Fn::GetAtt"]
        return f"<{_flatten(resource)}.{_flatten(attribute)}>"
    if isinstance(node, dict) and "Fn::ImportValue" in node:
        return _flatten(node["Fn::ImportValue"])
    if isinstance(node, dict) and "Ref" in node:
        return f"<{_flatten(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))
