"""Training: the SageMaker role, the declared training workflow and the model registry of a stage."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from core import layout
from core.stage_config import StageConfig
from stacks.constructs.training_workflow import TrainingWorkflow
from stacks.log_retention import retention_days


class TrainingStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, data_bucket: s3.IBucket, **kwargs
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.workflow = TrainingWorkflow(
            self,
            "Workflow",
            stage=config.name,
            data_bucket=data_bucket,
            instance_type=config.training_instance_type,
            max_instance_count=config.training_max_instance_count,
            spot=config.training_spot,
            max_runtime=Duration.hours(config.training_max_runtime_hours),
            max_wait=Duration.hours(config.training_max_wait_hours),
            min_validation_accuracy=config.min_validation_accuracy,
            serving_instance_type=config.endpoint_instance_type,
            retain_models=config.retain_data,
            log_retention=retention_days(config.log_retention_days),
        )
        CfnOutput(
            self,
            layout.OUTPUT_STATE_MACHINE,
            value=self.workflow.state_machine.state_machine_arn,
            description="python -m training train starts executions of this state machine",
        )
        CfnOutput(self, layout.OUTPUT_TRAINING_ROLE, value=self.workflow.training_role.role_arn)
        CfnOutput(self, layout.OUTPUT_ALGORITHM_IMAGE, value=self.workflow.image.uri)
        CfnOutput(
            self,
            layout.OUTPUT_MODEL_PACKAGE_GROUP,
            value=self.workflow.model_package_group_name,
        )
