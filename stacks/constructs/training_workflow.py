"""The declared training workflow: check the data, train on spot GPUs, gate on accuracy, register.

CloudFormation has no training-job resource, so a Step Functions state machine runs each training
job (``createTrainingJob.sync`` waits for it, however long) and records the result. A custom
resource stops whatever the workflow still has running when the stack is deleted.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, CustomResource, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from core import hyperparameters, layout
from stacks.algorithm_image import image_classification_image
from stacks.nag import CDK_ROLE_DEPENDENCY, acknowledge, acknowledge_resource, ignore_cfn_lint
from stacks.python_bundle import REPO_ROOT, python_bundle, python_function
from training.evaluation import metrics

# Training jobs, and evaluate's Batch Transform jobs, run with the training role.
JOB_LOG_KINDS = ("TrainingJobs", "TransformJobs")
# The jobs the destroy-time clean-up stops (when tagged with the stage), by ARN resource type.
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
TRAINING_FILES = [
    "core/__init__.py",
    "core/layout.py",
    "core/hyperparameters.py",
    "core/dataset_check.py",
]
ACCURACY_PATH = "$.metric.accuracy[0]"


class TrainingWorkflow(Construct):
    """Everything one stage needs to train image-classification models on its data bucket."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        data_bucket: s3.IBucket,
        instance_type: str,
        max_instance_count: int,
        spot: bool,
        max_runtime: Duration,
        max_wait: Duration,
        min_validation_accuracy: float,
        serving_instance_type: str,
        retain_models: bool,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.image = image_classification_image(self)
        self.job_name_prefix = layout.training_job_prefix(stage)

        self.training_role = self._training_role(data_bucket)
        # The group needs a name (CloudFormation requires one): the stack's, which is unique per
        # account and region.
        self.model_package_group_name = Stack.of(self).stack_name
        self.model_package_group = sagemaker.CfnModelPackageGroup(
            self,
            "ModelPackageGroup",
            model_package_group_name=self.model_package_group_name,
            model_package_group_description=f"Image-classification models trained for the {stage} stage",
        )
        # A group that still holds model versions cannot be deleted: unless the stage keeps its
        # registry, the destroy-time clean-up deletes the versions first.
        self.retain_models = retain_models
        self.model_package_group.apply_removal_policy(
            RemovalPolicy.RETAIN if retain_models else RemovalPolicy.DESTROY
        )
        check_function = self._check_data_function(data_bucket, log_retention)

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
            state_json=self._training_job_state(data_bucket, instance_type, spot, max_runtime, max_wait),
        )
        read_accuracy = sfn.Pass(
            self,
            "ReadAccuracy",
            parameters={
                "accuracy.$": "$.training.FinalMetricDataList"
                f"[?(@.MetricName == '{metrics.GATE_METRIC}')].Value"
            },
            result_path="$.metric",
        )
        register = tasks.CallAwsService(
            self,
            "RegisterModel",
            service="sagemaker",
            action="createModelPackage",
            iam_resources=[
                self._arn("model-package-group", self.model_package_group_name),
                self._arn("model-package", f"{self.model_package_group_name.lower()}/*"),
            ],
            parameters={
                "ModelPackageGroupName": self.model_package_group_name,
                "ModelPackageDescription.$": "States.Format('Training job {}', $.prepared.trainingJobName)",
                "ModelApprovalStatus": "PendingManualApproval",
                "InferenceSpecification": {
                    "Containers": [
                        {
                            "Image": self.image.uri,
                            "ModelDataUrl.$": "$.training.ModelArtifacts.S3ModelArtifacts",
                        }
                    ],
                    "SupportedContentTypes": ["application/x-image", "image/jpeg", "image/png"],
                    "SupportedResponseMIMETypes": ["application/json"],
                    "SupportedRealtimeInferenceInstanceTypes": [serving_instance_type],
                },
                "CustomerMetadataProperties": {
                    "trainingJob.$": "$.prepared.trainingJobName",
                    "dataset.$": "$.dataset",
                    "validationAccuracy.$": f"States.Format('{{}}', {ACCURACY_PATH})",
                },
            },
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
            cause=f"{metrics.GATE_METRIC} is missing or below {min_validation_accuracy}",
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
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
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
        self._grant_training_job_calls()
        self._acknowledge_findings(data_bucket, check_function)
        ignore_cfn_lint(self.state_machine.node.default_child, "W3005", CDK_ROLE_DEPENDENCY)
        self.stop_on_delete = self._stop_on_delete(log_retention)

    def _arn(self, resource: str, name: str) -> str:
        return Stack.of(self).format_arn(service="sagemaker", resource=resource, resource_name=name)

    def _training_role(self, data_bucket: s3.IBucket) -> iam.Role:
        role = iam.Role(
            self,
            "TrainingRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Training jobs: read datasets, write output and checkpoints, pull the image",
        )
        data_bucket.grant_read(role, f"{layout.DATASETS_PREFIX}*")
        data_bucket.grant_read_write(role, f"{layout.TRAINING_OUTPUT_PREFIX}*")
        data_bucket.grant_read_write(role, f"{layout.CHECKPOINTS_PREFIX}*")
        ecr.Repository.from_repository_attributes(
            self,
            "AlgorithmRepository",
            repository_arn=self.image.repository_arn,
            repository_name=self.image.repository_name,
        ).grant_pull(role)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                resources=[self._job_log_groups(kind) for kind in JOB_LOG_KINDS],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={
                    "StringEquals": {"cloudwatch:namespace": [f"/aws/sagemaker/{k}" for k in JOB_LOG_KINDS]}
                },
            )
        )
        return role

    def _job_log_groups(self, kind: str) -> str:
        """SageMaker's account-wide log group for ``kind`` jobs, where each job writes its streams."""
        return Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"/aws/sagemaker/{kind}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    def _check_data_function(
        self, data_bucket: s3.IBucket, log_retention: logs.RetentionDays
    ) -> lambda_.Function:
        function = python_function(
            self,
            "CheckData",
            code=_workflow_code("training_check"),
            handler="check_data.handler",
            description="Training workflow: checks the uploaded dataset before any GPU is paid for",
            log_retention=log_retention,
            timeout=Duration.minutes(2),
        )
        data_bucket.grant_read(function, f"{layout.DATASETS_PREFIX}*")
        return function

    def _training_job_state(
        self,
        data_bucket: s3.IBucket,
        instance_type: str,
        spot: bool,
        max_runtime: Duration,
        max_wait: Duration,
    ) -> dict:
        stopping = {"MaxRuntimeInSeconds": max_runtime.to_seconds()}
        if spot:
            stopping["MaxWaitTimeInSeconds"] = max_wait.to_seconds()
        return {
            "Type": "Task",
            "Resource": f"arn:{Aws.PARTITION}:states:::sagemaker:createTrainingJob.sync",
            "Parameters": {
                "TrainingJobName.$": "$.prepared.trainingJobName",
                "AlgorithmSpecification": {
                    "TrainingImage": self.image.uri,
                    "TrainingInputMode": "File",
                    "EnableSageMakerMetricsTimeSeries": True,
                },
                "RoleArn": self.training_role.role_arn,
                "HyperParameters.$": "$.prepared.hyperParameters",
                "InputDataConfig.$": "$.prepared.channels",
                "OutputDataConfig": {
                    "S3OutputPath": f"s3://{data_bucket.bucket_name}/{layout.TRAINING_OUTPUT_PREFIX}"
                },
                "ResourceConfig": {
                    "InstanceType": instance_type,
                    "InstanceCount.$": "$.prepared.instanceCount",
                    "VolumeSizeInGB": 50,
                },
                "StoppingCondition": stopping,
                "EnableManagedSpotTraining": spot,
                # The built-in algorithm needs no network; SageMaker moves the data and checkpoints.
                "EnableNetworkIsolation": True,
                "CheckpointConfig": {"S3Uri.$": "$.prepared.checkpointUri"},
                "Tags": layout.job_tags(self.stage),
            },
            "ResultPath": "$.training",
        }

    def _grant_training_job_calls(self) -> None:
        """What ``createTrainingJob.sync`` needs: the job calls on our jobs, its event rule, PassRole."""
        role = self.state_machine.role
        jobs = self._arn("training-job", f"{self.job_name_prefix}*")
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
                    Stack.of(self).format_arn(
                        service="events",
                        resource="rule",
                        resource_name="StepFunctionsGetEventsForSageMakerTrainingJobsRule",
                    )
                ],
            )
        )
        self.training_role.grant_pass_role(role)

    def _stop_on_delete(self, log_retention: logs.RetentionDays) -> CustomResource:
        function = python_function(
            self,
            "StopOnDelete",
            code=_workflow_code("training_cleanup"),
            handler="stop_on_delete.handler",
            description="Stack deletion: stops the stage's workflow runs, training, tuning, transform jobs",
            log_retention=log_retention,
            timeout=Duration.minutes(5),
        )
        # Only the two calls it makes: grant_read would add states:ListStateMachines on a state
        # machine ARN (an account-wide action, so it cannot work there) and Describe* on "*".
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:ListExecutions"], resources=[self.state_machine.state_machine_arn]
            )
        )
        self.state_machine.grant_execution(function, "states:StopExecution")
        tagged = {
            "StringEquals": {
                f"aws:ResourceTag/{layout.TAG_PROJECT}": layout.APP_NAME,
                f"aws:ResourceTag/{layout.TAG_STAGE}": self.stage,
            }
        }
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=list(STOP_ON_DELETE_STOPS),
                resources=[self._arn(kind, "*") for kind in STOPPED_JOB_ARNS],
                conditions=tagged,
            )
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sagemaker:ListTags"], resources=[self._arn(kind, "*") for kind in STOPPED_JOB_ARNS]
            )
        )
        # List calls take no resource: they are granted on "*".
        unscoped = [*STOP_ON_DELETE_LISTS, *([] if self.retain_models else ["sagemaker:ListModelPackages"])]
        function.add_to_role_policy(iam.PolicyStatement(actions=unscoped, resources=["*"]))
        resource = CustomResource(
            self,
            "StopOnDelete",
            service_token=function.function_arn,
            resource_type="Custom::StopTrainingOnDelete",
            properties={
                "StateMachineArn": self.state_machine.state_machine_arn,
                "Stage": self.stage,
                "ModelPackageGroupToEmpty": "" if self.retain_models else self.model_package_group_name,
            },
        )
        if not self.retain_models:
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["sagemaker:DeleteModelPackage"],
                    resources=[self._arn("model-package", f"{self.model_package_group_name.lower()}/*")],
                )
            )
            resource.node.add_dependency(self.model_package_group)
        # Deleted before the function's permissions (and, through its properties, the state
        # machine), so it can still act.
        resource.node.add_dependency(function.role)
        self._acknowledge_stop_on_delete(function, unscoped)
        return resource

    def _acknowledge_findings(self, data_bucket: s3.IBucket, check_function: lambda_.Function) -> None:
        read_actions = {
            "Action::s3:GetObject*": "grant_read's object-read actions, on datasets/ only",
            "Action::s3:GetBucket*": "grant_read's bucket-level reads on the data bucket",
            "Action::s3:List*": "grant_read's list actions on the data bucket",
        }
        datasets = (data_bucket.bucket_arn, f"/{layout.DATASETS_PREFIX}*", "the uploaded datasets only")
        findings = {
            self.training_role: (
                {
                    **read_actions,
                    "Action::s3:DeleteObject*": "training replaces its own checkpoints, under training/",
                    "Action::s3:Abort*": "multipart uploads of model artifacts, under training/",
                    "Resource::*": (
                        "ecr:GetAuthorizationToken has no resource-level permissions; "
                        "cloudwatch:PutMetricData is limited by condition to the training-job namespace"
                    ),
                },
                [
                    datasets,
                    (data_bucket.bucket_arn, f"/{layout.TRAINING_OUTPUT_PREFIX}*", "each job's model output"),
                    (data_bucket.bucket_arn, f"/{layout.CHECKPOINTS_PREFIX}*", "each job's spot checkpoints"),
                    *[
                        (
                            self._job_log_groups(kind),
                            "",
                            "a stream per job in SageMaker's shared job log group",
                        )
                        for kind in JOB_LOG_KINDS
                    ],
                ],
            ),
            check_function.role: (read_actions, [datasets]),
            self.state_machine.role: (
                {"Resource::*": "X-Ray's PutTraceSegments has no resource-level permissions"},
                [
                    (check_function.function_arn, ":*", "any version of its own check function"),
                    (
                        self._arn("training-job", f"{self.job_name_prefix}*"),
                        "",
                        "only jobs named for this stage (the CLI names them dogbreeds-<stage>-<time>)",
                    ),
                    (
                        self._arn("model-package", f"{self.model_package_group_name.lower()}/*"),
                        "",
                        "versions in this stage's model package group only",
                    ),
                ],
            ),
        }
        for role, (plain, resources) in findings.items():
            policy = role.node.find_child("DefaultPolicy")
            for finding, reason in plain.items():
                acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason)
            for arn, suffix, reason in resources:
                acknowledge_resource(policy, arn, suffix, reason)

    def _acknowledge_stop_on_delete(self, function: lambda_.Function, unscoped: list[str]) -> None:
        policy = function.role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            f"{', '.join(unscoped)}: List calls have no resource-level permissions",
        )
        if not self.retain_models:
            acknowledge_resource(
                policy,
                self._arn("model-package", f"{self.model_package_group_name.lower()}/*"),
                "",
                "sagemaker:DeleteModelPackage on versions of this stage's own model package group only, "
                "so the group can be deleted",
            )
        tagged = "is limited by condition to jobs tagged with this project and stage"
        for kind, stop in zip(STOPPED_JOB_ARNS, STOP_ON_DELETE_STOPS, strict=True):
            acknowledge_resource(
                policy,
                self._arn(kind, "*"),
                "",
                f"{stop} {tagged}; sagemaker:ListTags reads the tags that tell whether a job is the stage's",
            )
        acknowledge_resource(
            policy,
            Stack.of(self).format_arn(
                service="states",
                resource="execution",
                resource_name=f"{Fn.select(6, Fn.split(':', self.state_machine.state_machine_arn))}",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            ),
            ":*",
            "states:StopExecution on executions of this stack's state machine only",
        )


def _workflow_code(handler_dir: str) -> lambda_.Code:
    """A workflow function's bundle: its handler folder plus the training modules it shares."""
    return python_bundle(REPO_ROOT / "lambda" / handler_dir, repo_files=TRAINING_FILES)
