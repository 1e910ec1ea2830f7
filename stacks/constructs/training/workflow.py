"""The declared training workflow: check the data, train on spot GPUs, gate on accuracy, register.

CloudFormation has no training-job resource, so a Step Functions state machine runs each training
job (``createTrainingJob.sync`` waits for it, however long) and records the result. The job and
the model package are core's requests (``core.training_job``, ``core.model_package``), the same
`tune` and `promote` send, with ``JsonPath`` fields for what only the execution knows.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from core import hyperparameters, layout
from core.accuracy_gate import GATE_METRIC
from core.json_path import JsonPath
from core.model_package import ModelPackageSpec, create_model_package_request
from core.training_job import TrainingJobSpec, create_training_job_request
from stacks.algorithm_image import AlgorithmImage
from stacks.constructs.training.model_registry import ModelRegistry
from stacks.nag import CDK_ROLE_DEPENDENCY, acknowledge, acknowledge_resource, ignore_cfn_lint

ACCURACY_PATH = "$.metric.accuracy[0]"
JOB_NAME_PATH = "$.prepared.trainingJobName"


class TrainingWorkflow(Construct):
    """The state machine (``self.state_machine``) and its log group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        data_bucket: s3.IBucket,
        image: AlgorithmImage,
        training_role: iam.IRole,
        check_function: lambda_.IFunction,
        registry: ModelRegistry,
        instance_type: str,
        max_instance_count: int,
        spot: bool,
        max_runtime: Duration,
        max_wait: Duration,
        min_validation_accuracy: float,
        serving_instance_type: str,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.job_name_prefix = layout.training_job_prefix(stage)
        check = tasks.LambdaInvoke(
            self,
            "CheckData",
            lambda_function=check_function,
            payload=sfn.TaskInput.from_object(
                {
                    "request": sfn.JsonPath.entire_payload,
                    "bucket": data_bucket.bucket_name,
                    "defaults": hyperparameters.DEFAULTS,
                    "maxInstanceCount": max_instance_count,
                }
            ),
            payload_response_only=True,
            result_path="$.prepared",
            retry_on_service_exceptions=True,
        )
        train = sfn.CustomState(
            self,
            "Train",
            state_json=_training_job_state(
                stage, data_bucket, image, training_role, instance_type, spot, max_runtime, max_wait
            ),
        )
        read_accuracy = sfn.Pass(
            self,
            "ReadAccuracy",
            parameters={
                "accuracy.$": f"$.training.FinalMetricDataList[?(@.MetricName == '{GATE_METRIC}')].Value"
            },
            result_path="$.metric",
        )
        register = tasks.CallAwsService(
            self,
            "RegisterModel",
            service="sagemaker",
            action="createModelPackage",
            iam_resources=[registry.group_arn, registry.versions_arn],
            parameters=create_model_package_request(
                ModelPackageSpec(
                    group=registry.group_name,
                    image_uri=image.uri,
                    model_data_url=JsonPath("$.training.ModelArtifacts.S3ModelArtifacts"),
                    training_job=JsonPath(JOB_NAME_PATH),
                    dataset=JsonPath("$.dataset"),
                    validation_accuracy=JsonPath(f"States.Format('{{}}', {ACCURACY_PATH})"),
                    serving_instance_type=serving_instance_type,
                )
            ),
            result_path="$.registered",
        )
        failed_check = sfn.Fail(
            self, "DataCheckFailed", error="DataCheckFailed", cause_path="States.Format('{}', $.error.Cause)"
        )
        failed_training = sfn.Fail(
            self, "TrainingFailed", error="TrainingFailed", cause_path="States.Format('{}', $.error.Cause)"
        )
        below_threshold = sfn.Fail(
            self,
            "AccuracyBelowThreshold",
            error="AccuracyBelowThreshold",
            cause=f"{GATE_METRIC} is missing or below {min_validation_accuracy}",
        )
        check.add_catch(failed_check, errors=["States.ALL"], result_path="$.error")
        train.add_catch(failed_training, errors=["States.ALL"], result_path="$.error")
        gate = (
            sfn.Choice(self, "AccuracyGate")
            .when(
                sfn.Condition.and_(
                    sfn.Condition.is_present(ACCURACY_PATH),
                    sfn.Condition.number_greater_than_equals(ACCURACY_PATH, min_validation_accuracy),
                ),
                register.next(sfn.Succeed(self, "Registered")),
            )
            .otherwise(below_threshold)
        )

        self.log_group = logs.LogGroup(
            self, "LogGroup", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        # "Default": the state machine keeps the construct path, and so the logical ID, it had before.
        self.state_machine = sfn.StateMachine(
            self,
            "Default",
            comment=f"Trains an image-classification model for the {stage} stage and registers it",
            definition_body=sfn.DefinitionBody.from_chainable(
                check.next(train).next(read_accuracy).next(gate)
            ),
            timeout=max_wait.plus(Duration.hours(1)) if spot else max_runtime.plus(Duration.hours(1)),
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
        )
        ignore_cfn_lint(self.state_machine.node.default_child, "W3005", CDK_ROLE_DEPENDENCY)
        jobs = self._grant_training_job_calls(training_role)

        policy = self.state_machine.role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray's PutTraceSegments has no resource-level permissions",
        )
        acknowledge_resource(
            policy, check_function.function_arn, ":*", "any version of its own check function"
        )
        acknowledge_resource(
            policy, jobs, "", "only jobs named for this stage (the CLI names them dogbreeds-<stage>-<time>)"
        )
        acknowledge_resource(
            policy, registry.versions_arn, "", "versions in this stage's model package group only"
        )

    def _grant_training_job_calls(self, training_role: iam.IRole) -> str:
        """What ``createTrainingJob.sync`` needs: the job calls on our jobs, its event rule, PassRole.

        Returns the ARN pattern of the stage's training jobs."""
        stack = Stack.of(self)
        role = self.state_machine.role
        jobs = stack.format_arn(
            service="sagemaker", resource="training-job", resource_name=f"{self.job_name_prefix}*"
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:StopTrainingJob",
                    "sagemaker:AddTags",
                ],
                resources=[jobs],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                resources=[
                    stack.format_arn(
                        service="events",
                        resource="rule",
                        resource_name="StepFunctionsGetEventsForSageMakerTrainingJobsRule",
                    )
                ],
            )
        )
        training_role.grant_pass_role(role)
        return jobs


def _training_job_state(
    stage: str,
    data_bucket: s3.IBucket,
    image: AlgorithmImage,
    training_role: iam.IRole,
    instance_type: str,
    spot: bool,
    max_runtime: Duration,
    max_wait: Duration,
) -> dict[str, Any]:
    """The Train state: core.training_job's request, with what the data check prepared at run time."""
    spec = TrainingJobSpec(
        stage=stage,
        image_uri=image.uri,
        role_arn=training_role.role_arn,
        bucket=data_bucket.bucket_name,
        channels=JsonPath("$.prepared.channels"),
        hyperparameters=JsonPath("$.prepared.hyperParameters"),
        instance_type=instance_type,
        instance_count=JsonPath("$.prepared.instanceCount"),
        max_runtime_seconds=int(max_runtime.to_seconds()),
        spot=spot,
        max_wait_seconds=int(max_wait.to_seconds()),
        checkpoint_uri=JsonPath("$.prepared.checkpointUri"),
        name=JsonPath(JOB_NAME_PATH),
    )
    return {
        "Type": "Task",
        "Resource": f"arn:{Aws.PARTITION}:states:::sagemaker:createTrainingJob.sync",
        "Parameters": create_training_job_request(spec),
        "ResultPath": "$.training",
    }
