"""Training: the SageMaker role, the declared training workflow and the model registry of a stage."""

from __future__ import annotations

from typing import cast

from aws_cdk import CfnOutput, CfnResource, Duration, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from core import layout
from core.stage_config import StageConfig
from stacks.algorithm_image import image_classification_image
from stacks.constructs.training.cleanup import StopOnDelete
from stacks.constructs.training.data_check import DataCheck
from stacks.constructs.training.model_registry import ModelRegistry
from stacks.constructs.training.training_role import TrainingRole
from stacks.constructs.training.workflow import TrainingWorkflow
from stacks.log_retention import retention_days

# The workflow was first deployed as one construct whose functions and log group were its direct
# children. Their logical IDs are pinned so that an update modifies them in place: a new logical
# ID would replace the resource (and a replaced log group loses its logs). Every other resource
# keeps its ID through its construct path ("Default" adds no level to a logical ID).
FIRST_RELEASE_LOGICAL_IDS = {
    "CheckData/LogGroup": "WorkflowCheckDataLogGroup0513B0C8",
    "CheckData/Role": "WorkflowCheckDataRole1D652F59",
    "CheckData/Role/DefaultPolicy": "WorkflowCheckDataRoleDefaultPolicy061762C1",
    "CheckData/Function": "WorkflowCheckDataFunctionFC9FD5DB",
    "StateMachine/LogGroup": "WorkflowLogGroupC1B3E9D3",
    "StopOnDelete/LogGroup": "WorkflowStopOnDeleteLogGroupD6A18D73",
    "StopOnDelete/Role": "WorkflowStopOnDeleteRole3E732F95",
    "StopOnDelete/Role/DefaultPolicy": "WorkflowStopOnDeleteRoleDefaultPolicy23D2C9E8",
    "StopOnDelete/Function": "WorkflowStopOnDeleteFunction1A849636",
}


class TrainingStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, data_bucket: s3.IBucket, **kwargs
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        log_retention = retention_days(config.log_retention_days)
        # The construct path of the first release (see FIRST_RELEASE_LOGICAL_IDS), added first so
        # the template lists its resources before the image's mapping, as it always did.
        workflow = Construct(self, "Workflow")
        self.image = image_classification_image(self)
        self.training_role = TrainingRole(workflow, "TrainingRole", data_bucket=data_bucket, image=self.image)
        self.registry = ModelRegistry(
            workflow, "ModelPackageGroup", stage=config.name, retain=config.retain_data
        )
        self.data_check = DataCheck(
            workflow, "CheckData", data_bucket=data_bucket, log_retention=log_retention
        )
        self.workflow = TrainingWorkflow(
            workflow,
            "StateMachine",
            stage=config.name,
            data_bucket=data_bucket,
            image=self.image,
            training_role=self.training_role.role,
            check_function=self.data_check.function,
            registry=self.registry,
            instance_type=config.training_instance_type,
            max_instance_count=config.training_max_instance_count,
            spot=config.training_spot,
            max_runtime=Duration.hours(config.training_max_runtime_hours),
            max_wait=Duration.hours(config.training_max_wait_hours),
            min_validation_accuracy=config.min_validation_accuracy,
            serving_instance_type=config.endpoint_instance_type,
            log_retention=log_retention,
        )
        self.stop_on_delete = StopOnDelete(
            workflow,
            "StopOnDelete",
            stage=config.name,
            state_machine=self.workflow.state_machine,
            registry=self.registry,
            log_retention=log_retention,
        )
        _pin_logical_ids(workflow, FIRST_RELEASE_LOGICAL_IDS)

        CfnOutput(
            self,
            layout.OUTPUT_STATE_MACHINE,
            value=self.workflow.state_machine.state_machine_arn,
            description="python -m training train starts executions of this state machine",
        )
        CfnOutput(self, layout.OUTPUT_TRAINING_ROLE, value=self.training_role.role.role_arn)
        CfnOutput(self, layout.OUTPUT_ALGORITHM_IMAGE, value=self.image.uri)
        CfnOutput(self, layout.OUTPUT_MODEL_PACKAGE_GROUP, value=self.registry.group_name)


def _pin_logical_ids(scope: Construct, logical_ids: dict[str, str]) -> None:
    """Give the resource of each construct (a path under ``scope``) its pinned logical ID."""
    for path, logical_id in logical_ids.items():
        construct: IConstruct = scope
        for part in path.split("/"):
            construct = construct.node.find_child(part)
        cast(CfnResource, construct.node.default_child).override_logical_id(logical_id)
