"""The SageMaker model, endpoint config and real-time endpoint that serve one pinned model."""

from __future__ import annotations

import re

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from stacks.algorithm_image import image_classification_image
from stacks.model_pin import S3Location
from stacks.nag import acknowledge

_ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
VARIANT_NAME = "AllTraffic"


class ModelEndpoint(Construct):
    """Serves ``artifact`` with the built-in image-classification algorithm on a GPU endpoint.

    Model and endpoint config get generated names, so pinning a new artifact creates a new model
    and config and updates the endpoint in place (SageMaker's blue/green switch). The endpoint
    itself is named (``endpoint_name``) for one reason: SageMaker writes its logs to
    ``/aws/sagemaker/Endpoints/<name>``, and only a name known before the endpoint exists lets the
    stack own that log group, so that ``cdk destroy`` removes it instead of leaving it behind.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        artifact: S3Location,
        endpoint_name: str,
        instance_type: str,
        instance_count: int,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        if not _ENDPOINT_NAME.match(endpoint_name):
            raise ValueError(
                f"invalid endpoint name {endpoint_name!r}: 1-63 letters, digits and hyphens, "
                "starting and ending with a letter or digit (it comes from the stack name)"
            )
        image = image_classification_image(self)

        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            log_group_name=f"/aws/sagemaker/Endpoints/{endpoint_name}",
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )

        self.role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Lets SageMaker read the pinned model artifact and pull the algorithm image",
        )
        s3.Bucket.from_bucket_name(self, "ArtifactBucket", artifact.bucket).grant_read(
            self.role, artifact.key
        )
        ecr.Repository.from_repository_attributes(
            self,
            "AlgorithmRepository",
            repository_arn=image.repository_arn,
            repository_name=image.repository_name,
        ).grant_pull(self.role)
        self.log_group.grant_write(self.role)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}},
            )
        )
        _acknowledge_role_findings(self.role)

        self.model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=self.role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=image.uri, model_data_url=artifact.url
            ),
        )
        # SageMaker checks the role's permissions when it creates the model: wait for the policy.
        self.model.node.add_dependency(self.role.node.find_child("DefaultPolicy"))

        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=VARIANT_NAME,
                    model_name=self.model.attr_model_name,
                    instance_type=instance_type,
                    initial_instance_count=instance_count,
                    initial_variant_weight=1.0,
                )
            ],
        )
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
        )
        # The log group must exist before the endpoint starts writing to it.
        self.endpoint.node.add_dependency(self.log_group)
        self.endpoint_name = self.endpoint.attr_endpoint_name
        self.endpoint_arn = Stack.of(self).format_arn(
            service="sagemaker", resource="endpoint", resource_name=endpoint_name.lower()
        )

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` call InvokeEndpoint on this endpoint, and nothing else."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:InvokeEndpoint"], resource_arns=[self.endpoint_arn]
        )


def _acknowledge_role_findings(role: iam.Role) -> None:
    policy = role.node.find_child("DefaultPolicy")
    reasons = {
        "Action::s3:GetObject*": "grant_read's object-read actions, limited to the one artifact key",
        "Action::s3:GetBucket*": "grant_read's bucket-read actions on the artifact's bucket",
        "Action::s3:List*": "grant_read's list actions on the artifact's bucket",
        "Resource::*": (
            "ecr:GetAuthorizationToken has no resource-level permissions, and "
            "cloudwatch:PutMetricData is limited by condition to the endpoint metrics namespace"
        ),
    }
    for finding, reason in reasons.items():
        acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason)
