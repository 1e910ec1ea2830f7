"""The SageMaker model, endpoint config and real-time endpoint that serve one pinned model."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from core.layout import SAGEMAKER_NAME_RULE, is_sagemaker_name
from core.s3_url import S3Location
from stacks.algorithm_image import image_classification_image
from stacks.nag import acknowledge, acknowledge_resource

VARIANT_NAME = "AllTraffic"


@dataclass(frozen=True)
class DataCapture:
    """Capture ``percent`` of requests and responses under ``s3://<bucket>/<prefix>``."""

    bucket: s3.IBucket
    prefix: str
    percent: int

    def config(self) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty:
        return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
            enable_capture=True,
            initial_sampling_percentage=self.percent,
            destination_s3_uri=f"s3://{self.bucket.bucket_name}/{self.prefix}",
            capture_options=[
                sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input"),
                sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Output"),
            ],
            # Images are binary: stored base64-encoded; the answers are JSON, stored as text.
            capture_content_type_header=sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
                json_content_types=["application/json"]
            ),
        )


MODEL_LATENCY_P99_SECONDS = 2
CANARY_WAIT_SECONDS = 600  # how long the canary serves before the rest of the traffic moves
BAKE_SECONDS = 600  # how long the old fleet stays, ready for a rollback, after the shift


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
        max_instance_count: int,
        invocations_per_instance: int,
        canary_traffic_percent: int | None,
        log_retention: logs.RetentionDays,
        data_capture: DataCapture | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if not is_sagemaker_name(endpoint_name):
            raise ValueError(
                f"invalid endpoint name {endpoint_name!r}: {SAGEMAKER_NAME_RULE} "
                "(it comes from the stack name)"
            )
        # The literal name: metrics and alarms need it before the endpoint resource exists.
        self._name = endpoint_name
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
        image.grant_pull(self, self.role)
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
            # The built-in algorithm's container needs no network: SageMaker itself fetches the
            # artifact and writes data capture.
            enable_network_isolation=True,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=image.uri, model_data_url=artifact.url
            ),
        )
        # SageMaker checks the role's permissions when it creates the model: wait for the policy.
        self.model.node.add_dependency(self.role.node.find_child("DefaultPolicy"))

        if data_capture is not None:
            data_capture.bucket.grant_put(self.role, f"{data_capture.prefix}*")
            policy = self.role.node.find_child("DefaultPolicy")
            acknowledge(policy, "AwsSolutions-IAM5[Action::s3:Abort*]", "grant_put's multipart upload abort")
            acknowledge_resource(
                policy,
                data_capture.bucket.bucket_arn,
                f"/{data_capture.prefix}*",
                "captured requests and responses, under their own prefix only",
            )
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            data_capture_config=data_capture.config() if data_capture else None,
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
        self.error_alarm, self.latency_alarm = self._rollback_alarms(endpoint_name)
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            deployment_config=self._blue_green(canary_traffic_percent),
            # Keep the instance count auto scaling reached when a new model version rolls out.
            retain_all_variant_properties=True,
        )
        # The log group must exist before the endpoint starts writing to it.
        self.endpoint.node.add_dependency(self.log_group)
        self.endpoint_name = self.endpoint.attr_endpoint_name
        self.scaling = self._auto_scaling(
            endpoint_name, instance_count, max_instance_count, invocations_per_instance
        )
        self.endpoint_arn = Stack.of(self).format_arn(
            service="sagemaker", resource="endpoint", resource_name=endpoint_name.lower()
        )

    def metric(self, name: str, statistic: str, namespace: str = "AWS/SageMaker") -> cloudwatch.Metric:
        """An endpoint metric of the served variant, per minute."""
        return cloudwatch.Metric(
            namespace=namespace,
            metric_name=name,
            dimensions_map={"EndpointName": self._name, "VariantName": VARIANT_NAME},
            statistic=statistic,
            period=Duration.minutes(1),
        )

    def _rollback_alarms(self, endpoint_name: str) -> tuple[cloudwatch.Alarm, cloudwatch.Alarm]:
        """The alarms a blue/green rollout watches; they also notify like every other alarm."""
        errors = cloudwatch.Alarm(
            self,
            "ErrorsAlarm",
            alarm_description=f"{endpoint_name}: the model answered with 5xx errors",
            metric=self.metric("Invocation5XXErrors", "Sum"),
            threshold=1,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        latency = cloudwatch.Alarm(
            self,
            "LatencyAlarm",
            alarm_description=f"{endpoint_name}: p99 model latency above {MODEL_LATENCY_P99_SECONDS} s",
            metric=self.metric("ModelLatency", "p99"),  # microseconds
            threshold=MODEL_LATENCY_P99_SECONDS * 1_000_000,
            evaluation_periods=3,
            datapoints_to_alarm=3,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        return errors, latency

    def _blue_green(
        self, canary_traffic_percent: int | None
    ) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:
        """New model versions start on a new fleet; traffic moves over, and back if an alarm fires."""
        if canary_traffic_percent is None:
            routing = sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
                type="ALL_AT_ONCE", wait_interval_in_seconds=0
            )
        else:
            routing = sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
                type="CANARY",
                wait_interval_in_seconds=CANARY_WAIT_SECONDS,
                canary_size=sagemaker.CfnEndpoint.CapacitySizeProperty(
                    type="CAPACITY_PERCENT", value=canary_traffic_percent
                ),
            )
        return sagemaker.CfnEndpoint.DeploymentConfigProperty(
            blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                traffic_routing_configuration=routing,
                termination_wait_in_seconds=BAKE_SECONDS,
                maximum_execution_timeout_in_seconds=3600,
            ),
            auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
                alarms=[
                    sagemaker.CfnEndpoint.AlarmProperty(alarm_name=alarm.alarm_name)
                    for alarm in (self.error_alarm, self.latency_alarm)
                ]
            ),
        )

    def _auto_scaling(
        self, endpoint_name: str, minimum: int, maximum: int, invocations_per_instance: int
    ) -> appscaling.CfnScalableTarget:
        """Target tracking on invocations per instance, between the stage's minimum and maximum.

        L1 resources on purpose: without a RoleARN, Application Auto Scaling uses (and creates if
        needed) its SageMaker service-linked role, where the L2 construct would add an empty role.
        """
        target = appscaling.CfnScalableTarget(
            self,
            "ScalableTarget",
            service_namespace="sagemaker",
            resource_id=f"endpoint/{endpoint_name}/variant/{VARIANT_NAME}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=minimum,
            max_capacity=maximum,
        )
        target.node.add_dependency(self.endpoint)
        appscaling.CfnScalingPolicy(
            self,
            "InvocationsPerInstance",
            policy_name=f"{endpoint_name}-invocations-per-instance",
            policy_type="TargetTrackingScaling",
            scaling_target_id=target.ref,
            target_tracking_scaling_policy_configuration=appscaling.CfnScalingPolicy.TargetTrackingScalingPolicyConfigurationProperty(
                target_value=invocations_per_instance,
                predefined_metric_specification=appscaling.CfnScalingPolicy.PredefinedMetricSpecificationProperty(
                    predefined_metric_type="SageMakerVariantInvocationsPerInstance"
                ),
                scale_out_cooldown=60,
                scale_in_cooldown=300,
            ),
        )
        return target

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
