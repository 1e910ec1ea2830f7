"""Serving: the GPU endpoint for the pinned model, the prediction function and the REST API."""

from __future__ import annotations

from aws_cdk import Annotations, CfnOutput, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from core import layout
from core.layout import APP_NAME, DATA_CAPTURE_PREFIX
from core.model_pin import PinnedModel, pin_path
from core.stage_config import StageConfig
from stacks.constructs.model_endpoint import DataCapture, ModelEndpoint
from stacks.constructs.predict_api import PredictApi
from stacks.constructs.predict_function import PredictFunction
from stacks.constructs.serving_monitoring import ServingMonitoring
from stacks.log_retention import retention_days


class ServingStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        model: PinnedModel,
        endpoint_enabled: bool = True,
        data_bucket: s3.IBucket | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        log_retention = retention_days(config.log_retention_days)

        self.endpoint: ModelEndpoint | None = None
        if model.artifact is not None and endpoint_enabled:
            self.endpoint = ModelEndpoint(
                self,
                "Model",
                artifact=model.artifact,
                endpoint_name=self.stack_name,
                instance_type=config.endpoint_instance_type,
                instance_count=config.endpoint_instance_count,
                max_instance_count=config.endpoint_max_instance_count,
                invocations_per_instance=config.endpoint_invocations_per_instance,
                canary_traffic_percent=config.canary_traffic_percent,
                data_capture=_data_capture(config, data_bucket),
                log_retention=log_retention,
            )
        elif model.artifact is not None:
            Annotations.of(self).add_warning_v2(
                "dogbreeds:endpoint-off",
                f"Stage {config.name} is synthesized with -c endpoint=off: no endpoint, no hourly cost, "
                "and the API answers 503 until it is deployed with -c endpoint=on",
            )
        else:
            Annotations.of(self).add_warning_v2(
                "dogbreeds:no-model",
                f"Stage {config.name} has no pinned model, so no endpoint is deployed and the API "
                f"answers 503. Set modelDataUrl in {pin_path(config.name).name} under models/ "
                "(or run `python -m training promote`), or pass -c modelDataUrl=s3://.../model.tar.gz",
            )

        self.predict = PredictFunction(
            self,
            "Predict",
            endpoint_name=self.endpoint.endpoint_name if self.endpoint else "",
            model_version=model.version,
            class_names=list(model.class_names),
            allowed_origins=list(config.cors_allowed_origins),
            memory_mb=config.function_memory_mb,
            reserved_concurrency=config.function_reserved_concurrency,
            log_retention=log_retention,
            metrics_namespace=APP_NAME,
        )
        if self.endpoint is not None:
            self.endpoint.grant_invoke(self.predict.function)

        self.api = PredictApi(
            self,
            "Api",
            function=self.predict.function,
            num_classes=len(model.class_names),
            rate_limit=config.api_rate_limit,
            burst_limit=config.api_burst_limit,
            quota_per_day=config.api_quota_per_day,
            api_key_required=config.api_key_required,
            allowed_origins=list(config.cors_allowed_origins),
            log_retention=log_retention,
        )
        self.monitoring = ServingMonitoring(
            self,
            "Monitoring",
            api=self.api.api,
            function=self.predict.function,
            endpoint=self.endpoint,
            alarm_email=config.alarm_email,
        )

        CfnOutput(
            self,
            layout.OUTPUT_PREDICT_URL,
            value=self.api.predict_url,
            description="POST a JPEG or PNG here (see docs/api.md)",
        )
        CfnOutput(
            self,
            layout.OUTPUT_PAGE_URL,
            value=self.api.page_url,
            description="The web page: pick or take a photo of a dog",
        )
        CfnOutput(self, layout.OUTPUT_MODEL_VERSION, value=model.version)
        if self.endpoint is not None:
            CfnOutput(self, layout.OUTPUT_ENDPOINT_NAME, value=self.endpoint.endpoint_name)
        if self.api.api_key is not None:
            CfnOutput(
                self,
                layout.OUTPUT_API_KEY_ID,
                value=self.api.api_key.key_id,
                description="aws apigateway get-api-key --include-value --api-key <id> prints the key",
            )
        CfnOutput(
            self,
            layout.OUTPUT_ALARM_TOPIC,
            value=self.monitoring.topic.topic_arn,
            description="Subscribe to it for alarms (or set alarm_email in core/stage_config.py)",
        )
        CfnOutput(self, layout.OUTPUT_DASHBOARD, value=self.monitoring.dashboard.dashboard_name)


def _data_capture(config: StageConfig, data_bucket: s3.IBucket | None) -> DataCapture | None:
    if config.data_capture_percent == 0:
        return None
    if data_bucket is None:
        raise ValueError("data capture needs the data bucket: pass data_bucket to the serving stack")
    return DataCapture(bucket=data_bucket, prefix=DATA_CAPTURE_PREFIX, percent=config.data_capture_percent)
