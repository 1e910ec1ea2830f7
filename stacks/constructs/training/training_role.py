"""The role SageMaker training jobs (and evaluate's Batch Transform jobs) run with."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from core import layout
from stacks.algorithm_image import AlgorithmImage
from stacks.nag import acknowledge, acknowledge_resource

# Training jobs, and evaluate's Batch Transform jobs, run with the training role.
JOB_LOG_KINDS = ("TrainingJobs", "TransformJobs")
# grant_read's wildcard actions, shared by every role that reads the datasets.
READ_ACTIONS = {
    "Action::s3:GetObject*": "grant_read's object-read actions, on datasets/ only",
    "Action::s3:GetBucket*": "grant_read's bucket-level reads on the data bucket",
    "Action::s3:List*": "grant_read's list actions on the data bucket",
}


class TrainingRole(Construct):
    """Reads datasets, writes model output and checkpoints, pulls the algorithm image, logs."""

    def __init__(
        self, scope: Construct, construct_id: str, *, data_bucket: s3.IBucket, image: AlgorithmImage
    ) -> None:
        super().__init__(scope, construct_id)
        # "Default": the role keeps the construct path, and so the logical ID, it had before.
        self.role = iam.Role(
            self,
            "Default",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Training jobs: read datasets, write output and checkpoints, pull the image",
        )
        data_bucket.grant_read(self.role, f"{layout.DATASETS_PREFIX}*")
        data_bucket.grant_read_write(self.role, f"{layout.TRAINING_OUTPUT_PREFIX}*")
        data_bucket.grant_read_write(self.role, f"{layout.CHECKPOINTS_PREFIX}*")
        image.grant_pull(self, self.role)
        log_groups = [job_log_groups(self, kind) for kind in JOB_LOG_KINDS]
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                resources=log_groups,
            )
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={
                    "StringEquals": {"cloudwatch:namespace": [f"/aws/sagemaker/{k}" for k in JOB_LOG_KINDS]}
                },
            )
        )

        policy = self.role.node.find_child("DefaultPolicy")
        for finding, reason in READ_ACTIONS.items():
            acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason)
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
            "training replaces its own checkpoints, under training/",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Action::s3:Abort*]",
            "multipart uploads of model artifacts, under training/",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken has no resource-level permissions; "
            "cloudwatch:PutMetricData is limited by condition to the training-job namespace",
        )
        bucket = data_bucket.bucket_arn
        acknowledge_resource(policy, bucket, f"/{layout.DATASETS_PREFIX}*", "the uploaded datasets only")
        acknowledge_resource(policy, bucket, f"/{layout.TRAINING_OUTPUT_PREFIX}*", "each job's model output")
        acknowledge_resource(policy, bucket, f"/{layout.CHECKPOINTS_PREFIX}*", "each job's spot checkpoints")
        for log_group in log_groups:
            acknowledge_resource(
                policy, log_group, "", "a stream per job in SageMaker's shared job log group"
            )


def job_log_groups(scope: Construct, kind: str) -> str:
    """SageMaker's account-wide log group for ``kind`` jobs, where each job writes its streams."""
    return Stack.of(scope).format_arn(
        service="logs",
        resource="log-group",
        resource_name=f"/aws/sagemaker/{kind}:*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
