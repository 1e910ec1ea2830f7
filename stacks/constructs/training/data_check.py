"""The workflow's first state: a function that checks the uploaded dataset before any GPU is paid for."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from core import layout
from stacks.constructs.training.training_role import READ_ACTIONS
from stacks.nag import acknowledge, acknowledge_resource
from stacks.python_bundle import REPO_ROOT, function_role, python_bundle, python_function

HANDLER_DIR = REPO_ROOT / "lambda" / "training_check"


class DataCheck(Construct):
    """The function (``self.function``), its role and log group; it reads datasets/ only."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data_bucket: s3.IBucket,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = python_function(
            self,
            "",
            code=python_bundle(HANDLER_DIR),
            handler="check_data.handler",
            description="Training workflow: checks the uploaded dataset before any GPU is paid for",
            log_retention=log_retention,
            timeout=Duration.minutes(2),
        )
        data_bucket.grant_read(self.function, f"{layout.DATASETS_PREFIX}*")

        policy = function_role(self.function).node.find_child("DefaultPolicy")
        for finding, reason in READ_ACTIONS.items():
            acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason)
        acknowledge_resource(
            policy, data_bucket.bucket_arn, f"/{layout.DATASETS_PREFIX}*", "the uploaded datasets only"
        )
