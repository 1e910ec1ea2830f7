"""Alarms on the request path, an SNS topic they notify, and a dashboard from API to model."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.constructs.model_endpoint import ModelEndpoint
from stacks.nag import acknowledge

API_5XX_RATE = 0.05  # share of requests
API_P99_LATENCY_SECONDS = 5
FIVE_MINUTES = Duration.minutes(5)


class ServingMonitoring(Construct):
    """Every alarm notifies ``self.topic``; ``alarm_email``, when given, subscribes to it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: apigw.RestApi,
        function: lambda_.Function,
        endpoint: ModelEndpoint | None,
        alarm_email: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self, "AlarmTopic", display_name="Dog breed classifier alarms", enforce_ssl=True
        )
        acknowledge(
            self.topic,
            "AwsSolutions-SNS2",
            "CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key, and the "
            "notifications carry only alarm names and states; a customer-managed key would bill monthly",
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))

        stage = api.deployment_stage
        self.alarms = [
            self._alarm(
                "Api5xxAlarm",
                "More than 5% of API requests failed with 5xx",
                stage.metric_server_error(statistic="Average", period=FIVE_MINUTES),
                API_5XX_RATE,
            ),
            self._alarm(
                "ApiLatencyAlarm",
                f"API p99 latency above {API_P99_LATENCY_SECONDS} s",
                stage.metric_latency(statistic="p99", period=FIVE_MINUTES),
                API_P99_LATENCY_SECONDS * 1000,
            ),
            self._alarm(
                "FunctionErrorsAlarm",
                "The prediction function failed (crashed or timed out)",
                function.metric_errors(statistic="Sum", period=FIVE_MINUTES),
                1,
                greater_or_equal=True,
            ),
            self._alarm(
                "FunctionThrottlesAlarm",
                "The prediction function was throttled (clients got 503 ServiceBusy)",
                function.metric_throttles(statistic="Sum", period=FIVE_MINUTES),
                1,
                greater_or_equal=True,
            ),
        ]
        if endpoint is not None:
            self.alarms += [endpoint.error_alarm, endpoint.latency_alarm]
        for alarm in self.alarms:
            alarm.add_alarm_action(actions.SnsAction(self.topic))
            alarm.add_ok_action(actions.SnsAction(self.topic))

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(3))
        self._add_widgets(stage, function, endpoint)

    def _alarm(
        self,
        construct_id: str,
        description: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        *,
        greater_or_equal: bool = False,
    ) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            self,
            construct_id,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=(
                cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
                if greater_or_equal
                else cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
            ),
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _add_widgets(
        self, stage: apigw.Stage, function: lambda_.Function, endpoint: ModelEndpoint | None
    ) -> None:
        graph = cloudwatch.GraphWidget
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown="## Request path: API Gateway -> prediction function -> SageMaker endpoint",
                width=24,
                height=1,
            )
        )
        self.dashboard.add_widgets(
            graph(title="API requests", left=[stage.metric_count(statistic="Sum")], width=6),
            graph(
                title="API errors",
                left=[stage.metric_client_error(statistic="Sum"), stage.metric_server_error(statistic="Sum")],
                width=6,
            ),
            graph(
                title="API latency (ms)",
                left=[stage.metric_latency(statistic="p50"), stage.metric_latency(statistic="p99")],
                width=6,
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=6),
        )
        self.dashboard.add_widgets(
            graph(title="Function invocations", left=[function.metric_invocations(statistic="Sum")], width=6),
            graph(
                title="Function errors and throttles",
                left=[function.metric_errors(statistic="Sum"), function.metric_throttles(statistic="Sum")],
                width=6,
            ),
            graph(
                title="Function duration (ms)",
                left=[function.metric_duration(statistic="p50"), function.metric_duration(statistic="p99")],
                width=6,
            ),
            graph(
                title="Function concurrency",
                left=[function.metric("ConcurrentExecutions", statistic="Maximum")],
                width=6,
            ),
        )
        if endpoint is None:
            return
        self.dashboard.add_widgets(
            graph(title="Endpoint invocations", left=[endpoint.metric("Invocations", "Sum")], width=6),
            graph(
                title="Endpoint errors",
                left=[
                    endpoint.metric("Invocation4XXErrors", "Sum"),
                    endpoint.metric("Invocation5XXErrors", "Sum"),
                ],
                width=6,
            ),
            graph(
                title="Model latency (microseconds)",
                left=[endpoint.metric("ModelLatency", "p50"), endpoint.metric("ModelLatency", "p99")],
                width=6,
            ),
            graph(
                title="Instances and GPU",
                left=[endpoint.metric("InvocationsPerInstance", "Sum")],
                right=[endpoint.metric("GPUUtilization", "Average", namespace="/aws/sagemaker/Endpoints")],
                width=6,
            ),
        )
