"""Destroy-time clean-up: deleting the stack stops what the workflow still has running.

Deleting a stack stops neither its state machine's executions nor the SageMaker jobs they started
(those keep billing), and a model package group that holds versions cannot be deleted. A custom
resource runs ``lambda/training_cleanup`` when the stack is deleted.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, CustomResource, Duration, Fn, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from core import layout
from stacks.constructs.training.model_registry import ModelRegistry
from stacks.nag import acknowledge, acknowledge_resource
from stacks.python_bundle import REPO_ROOT, function_role, python_bundle, python_function

HANDLER_DIR = REPO_ROOT / "lambda" / "training_cleanup"
# The jobs the clean-up stops (when tagged with the stage), by ARN resource type.
STOPPED_JOB_ARNS = ("training-job", "hyper-parameter-tuning-job", "transform-job")
# The clean-up's calls for each of those kinds: Stop (by ARN, in that order) and List (no resource).
STOP_ON_DELETE_STOPS = (
    "sagemaker:StopTrainingJob",
    "sagemaker:StopHyperParameterTuningJob",
    "sagemaker:StopTransformJob",
)
STOP_ON_DELETE_LISTS = (
    "sagemaker:ListTrainingJobs",
    "sagemaker:ListHyperParameterTuningJobs",
    "sagemaker:ListTransformJobs",
)


class StopOnDelete(Construct):
    """The clean-up function, its role and log group, and the custom resource (``self.resource``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        state_machine: sfn.StateMachine,
        registry: ModelRegistry,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        function = python_function(
            self,
            "",
            code=python_bundle(HANDLER_DIR),
            handler="stop_on_delete.handler",
            description="Stack deletion: stops the stage's workflow runs, training, tuning, transform jobs",
            log_retention=log_retention,
            timeout=Duration.minutes(5),
        )
        self.function = function
        # Only the two calls it makes: grant_read would add states:ListStateMachines on a state
        # machine ARN (an account-wide action, so it cannot work there) and Describe* on "*".
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:ListExecutions"], resources=[state_machine.state_machine_arn]
            )
        )
        state_machine.grant_execution(function, "states:StopExecution")
        tagged = {
            "StringEquals": {
                f"aws:ResourceTag/{layout.TAG_PROJECT}": layout.APP_NAME,
                f"aws:ResourceTag/{layout.TAG_STAGE}": stage,
            }
        }
        jobs = [
            stack.format_arn(service="sagemaker", resource=kind, resource_name="*")
            for kind in STOPPED_JOB_ARNS
        ]
        function.add_to_role_policy(
            iam.PolicyStatement(actions=list(STOP_ON_DELETE_STOPS), resources=jobs, conditions=tagged)
        )
        function.add_to_role_policy(iam.PolicyStatement(actions=["sagemaker:ListTags"], resources=jobs))
        # List calls take no resource: they are granted on "*".
        unscoped = [*STOP_ON_DELETE_LISTS, *([] if registry.retain else ["sagemaker:ListModelPackages"])]
        function.add_to_role_policy(iam.PolicyStatement(actions=unscoped, resources=["*"]))
        # "Default": the custom resource keeps the construct path, and so the logical ID, it had before.
        self.resource = CustomResource(
            self,
            "Default",
            service_token=function.function_arn,
            resource_type="Custom::StopTrainingOnDelete",
            properties={
                "StateMachineArn": state_machine.state_machine_arn,
                "Stage": stage,
                "ModelPackageGroupToEmpty": "" if registry.retain else registry.group_name,
            },
        )
        if not registry.retain:
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["sagemaker:DeleteModelPackage"], resources=[registry.versions_arn]
                )
            )
            self.resource.node.add_dependency(registry.group)
        # Deleted before the function's permissions (and, through its properties, the state
        # machine), so it can still act.
        self.resource.node.add_dependency(function_role(function))

        policy = function_role(function).node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            f"{', '.join(unscoped)}: List calls have no resource-level permissions",
        )
        if not registry.retain:
            acknowledge_resource(
                policy,
                registry.versions_arn,
                "",
                "sagemaker:DeleteModelPackage on versions of this stage's own model package group only, "
                "so the group can be deleted",
            )
        tagged_reason = "is limited by condition to jobs tagged with this project and stage"
        for arn, stop in zip(jobs, STOP_ON_DELETE_STOPS, strict=True):
            acknowledge_resource(
                policy,
                arn,
                "",
                f"{stop} {tagged_reason}; sagemaker:ListTags reads the tags that tell whether a job is the "
                "stage's",
            )
        executions = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{Fn.select(6, Fn.split(':', state_machine.state_machine_arn))}",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        acknowledge_resource(
            policy, executions, ":*", "states:StopExecution on executions of this stack's state machine only"
        )
