"""Storage: the data bucket that training reads and writes."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from constructs import Construct

from core import layout
from core.stage_config import StageConfig
from stacks.constructs.data_bucket import DataBucket


class StorageStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.data = DataBucket(
            self,
            "Data",
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
            noncurrent_version_expiration=Duration.days(config.noncurrent_version_expiration_days),
            access_log_expiration=Duration.days(config.access_log_expiration_days),
        )
        CfnOutput(
            self,
            layout.OUTPUT_DATA_BUCKET,
            value=self.data.bucket.bucket_name,
            description="Bucket for the Stanford Dogs images, .lst lists and training output",
        )
