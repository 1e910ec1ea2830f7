"""Acknowledged findings of cdk-nag and cfn-lint: each names its rule and says why it does not apply."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge ``rule`` (``AwsSolutions-XX`` or ``AwsSolutions-XX[finding]``) on ``construct``."""
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
