"""cdk-nag acknowledgements: each names its rule (and finding) and says why it does not apply."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge ``rule`` (``AwsSolutions-XX`` or ``AwsSolutions-XX[finding]``) on ``construct``."""
    if not rule.startswith("AwsSolutions-") or len(reason) < 20:
        raise ValueError(f"acknowledge {rule!r} with an AwsSolutions rule id and a real reason")
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))
