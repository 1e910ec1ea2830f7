"""Where the built-in ``image-classification`` algorithm image lives, for every SageMaker region.

AWS hosts the image in a different account per region. When the stack's region is known at synth,
the URI is computed here and an unsupported region fails synth. When it is not (an
environment-agnostic synth, the offline default), the template carries a region-to-account mapping
and a rule that rejects an unsupported region before anything is created.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from aws_cdk import Aws, CfnMapping, CfnRule, CfnRuleAssertion, Fn, Stack, Token
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct

_REGISTRIES_FILE = Path(__file__).with_name("image_classification_registries.json")


class UnsupportedRegionError(ValueError):
    """The built-in algorithm is not offered in the stack's region."""


@dataclass(frozen=True)
class AlgorithmImage:
    """The image URI plus what an IAM policy needs to let a role pull it."""

    uri: str
    repository_name: str
    repository_arn: str

    def grant_pull(self, scope: Construct, grantee: iam.IGrantable) -> None:
        """Let ``grantee`` pull the image (the repository is referenced as ``AlgorithmRepository``)."""
        ecr.Repository.from_repository_attributes(
            scope,
            "AlgorithmRepository",
            repository_arn=self.repository_arn,
            repository_name=self.repository_name,
        ).grant_pull(grantee)


@cache
def _registries() -> tuple[str, str, dict[str, str]]:
    data = json.loads(_REGISTRIES_FILE.read_text(encoding="utf-8"))
    return data["repository"], data["tag"], dict(data["registries"])


def supported_regions() -> list[str]:
    return sorted(_registries()[2])


def image_classification_image(scope: Construct) -> AlgorithmImage:
    """The algorithm image for ``scope``'s stack region."""
    stack = Stack.of(scope)
    repository, tag, registries = _registries()
    if Token.is_unresolved(stack.region):
        account = _account_from_mapping(stack, registries)
    else:
        try:
            account = registries[stack.region]
        except KeyError:
            raise UnsupportedRegionError(
                f"invalid region={stack.region!r}: the built-in image-classification algorithm is "
                f"offered in {', '.join(sorted(registries))}"
            ) from None
    uri = f"{account}.dkr.ecr.{stack.region}.{Aws.URL_SUFFIX}/{repository}:{tag}"
    arn = f"arn:{Aws.PARTITION}:ecr:{stack.region}:{account}:repository/{repository}"
    return AlgorithmImage(uri=uri, repository_name=repository, repository_arn=arn)


def _account_from_mapping(stack: Stack, registries: dict[str, str]) -> str:
    mapping_id = "ImageClassificationAlgorithmAccounts"
    mapping = stack.node.try_find_child(mapping_id)
    if mapping is None:
        mapping = CfnMapping(
            stack,
            mapping_id,
            mapping={region: {"account": account} for region, account in registries.items()},
        )
        CfnRule(
            stack,
            "SupportedRegionRule",
            assertions=[
                CfnRuleAssertion(
                    assert_=Fn.condition_contains(sorted(registries), Aws.REGION),
                    assert_description=(
                        "The built-in SageMaker image-classification algorithm is not offered in "
                        "this region. Supported: " + ", ".join(sorted(registries))
                    ),
                )
            ],
        )
    assert isinstance(mapping, CfnMapping)
    return mapping.find_in_map(Aws.REGION, "account")
