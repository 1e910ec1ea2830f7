"""Acknowledged findings of cdk-nag and cfn-lint: each names its rule and says why it does not apply.

cdk-nag 3.x acknowledges one finding at a time through CDK's own ``Validations.of(construct)``.
An IAM wildcard finding is named after the resource as cdk-nag writes it
(``AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:...]``); rather than spell that name by hand,
``acknowledge_resource`` asks cdk-nag's own rule what it calls the resource.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import jsii
from aws_cdk import Acknowledgment, App, CfnResource, Stack, Validations
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct, IValidation

WILDCARD_RESOURCE_RULE = "AwsSolutions-IAM5[Resource::"
CDK_ROLE_DEPENDENCY = (
    "CDK makes a function depend on its whole role construct (role and policy); the role half "
    "repeats the GetAtt. Harmless, and not removable from outside aws-cdk-lib."
)


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge ``rule`` (``AwsSolutions-XX`` or ``AwsSolutions-XX[finding]``) on ``construct``.

    A policy's ``Resource::*`` finding is acknowledged like any wildcard resource (see
    ``acknowledge_resource``): its reason then names every action granted on ``*``.
    """
    if rule == f"{WILDCARD_RESOURCE_RULE}*]":
        acknowledge_resource(construct, "*", "", reason)
        return
    _acknowledge(construct, rule, reason)


def _acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    if not rule.startswith("AwsSolutions-") or len(reason) < 20:
        raise ValueError(f"acknowledge {rule!r} with an AwsSolutions rule id and a real reason")
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))


def ignore_cfn_lint(resource: IConstruct | None, check: str, reason: str) -> None:
    """Tell cfn-lint to skip ``check`` on one resource CDK generates, recording why in its metadata.
    ``resource`` is what ``node.default_child`` or ``node.find_child`` found: it must be a CfnResource."""
    if not isinstance(resource, CfnResource):
        raise TypeError(f"cfn-lint checks can be skipped on a CfnResource only, not on {resource!r}")
    resource.add_metadata("cfn-lint", {"config": {"ignore_checks": [check]}, "reason": reason})


def acknowledge_resource(construct: IConstruct, arn: str, suffix: str, reason: str) -> None:
    """Acknowledge the IAM5 finding for the wildcard resource ``arn + suffix`` on ``construct``.

    When ``construct`` is a policy, the recorded reason ends with every action it grants on that
    resource, so a reviewer sees what the wildcard allows, and a new action cannot slip in unnamed.

    A reference to another stack takes its final form only once the app resolves references, so
    the finding is named in a construct validation, which runs after that and before cdk-nag.
    """
    construct.node.add_validation(_WildcardAcknowledgment(construct, f"{arn}{suffix}", reason))


@jsii.implements(IValidation)
class _WildcardAcknowledgment:
    def __init__(self, construct: IConstruct, resource: str, reason: str) -> None:
        self._construct, self._resource, self._reason = construct, resource, reason

    def validate(self) -> list[str]:
        stack = Stack.of(self._construct)
        resource = stack.resolve(self._resource)
        document = getattr(self._construct, "document", None)
        statements = (stack.resolve(document) or {}).get("Statement", []) if document is not None else []
        granted = [
            (_as_list(statement.get("Action", [])), _as_list(statement.get("Resource", [])))
            for statement in statements
        ]
        names = wildcard_findings([resource, *(r for _, resources in granted for r in resources)])
        finding, statement_names = names[0], iter(names[1:])
        if finding is None:
            return [f"{self._construct.node.path}: {self._resource!r} holds no wildcard to acknowledge"]
        actions: set[str] = set()
        for statement_actions, resources in granted:
            if finding in [next(statement_names) for _ in resources]:
                actions.update(statement_actions)
        reason = f"{self._reason} (actions: {', '.join(sorted(actions))})" if actions else self._reason
        _acknowledge(self._construct, finding, reason)
        return []


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


_FINDINGS: dict[str, str | None] = {}
_CHECKS: list[AwsSolutionsChecks] = []


def wildcard_findings(resources: Sequence[Any]) -> list[str | None]:
    """cdk-nag's IAM5 finding for each resolved policy resource, None for one without a wildcard.

    cdk-nag's own rule names them: each resource goes into a policy of a throwaway stack that the
    AwsSolutions pack checks. Names are kept for the process (they depend on the resource alone,
    key order included: cdk-nag writes an unknown intrinsic as its JSON).
    """
    keys = [json.dumps(resource) for resource in resources]
    unknown = sorted(set(keys) - _FINDINGS.keys())
    if unknown:
        probe = Stack(App(), "Probe")
        for index, key in enumerate(unknown):
            iam.CfnPolicy(
                probe,
                str(index),
                policy_name="probe",
                roles=["probe"],
                policy_document={
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "probe:Probe", "Resource": json.loads(key)}],
                },
            )
        if not _CHECKS:
            _CHECKS.append(AwsSolutionsChecks())
        named: dict[str, str] = {}
        for violation in _CHECKS[0].validate_scope(probe).violations:
            if violation.rule_name.startswith(WILDCARD_RESOURCE_RULE):
                for found in violation.violating_resources:
                    if found.construct_path:
                        named[found.construct_path.rsplit("/", 1)[-1]] = violation.rule_name
        for index, key in enumerate(unknown):
            _FINDINGS[key] = named.get(str(index))
    return [_FINDINGS[key] for key in keys]
