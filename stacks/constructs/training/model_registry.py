"""The stage's model package group: the record of every model that passed the accuracy gate."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct


class ModelRegistry(Construct):
    """A model package group named after the stack (unique per account and region)."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: str, retain: bool) -> None:
        super().__init__(scope, construct_id)
        # CloudFormation requires a name.
        self.group_name = Stack.of(self).stack_name
        # "Default": the group keeps the construct path, and so the logical ID, it had before.
        self.group = sagemaker.CfnModelPackageGroup(
            self,
            "Default",
            model_package_group_name=self.group_name,
            model_package_group_description=f"Image-classification models trained for the {stage} stage",
        )
        # A group that still holds versions cannot be deleted: unless the stage keeps its registry,
        # the destroy-time clean-up deletes the versions first.
        self.retain = retain
        self.group.apply_removal_policy(RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY)
        self.group_arn = self._arn("model-package-group", self.group_name)
        # Versions live under the lower-cased group name.
        self.versions_arn = self._arn("model-package", f"{self.group_name.lower()}/*")

    def _arn(self, resource: str, name: str) -> str:
        return Stack.of(self).format_arn(service="sagemaker", resource=resource, resource_name=name)
