"""The prediction Lambda: decodes an image from the API request and asks the endpoint for the breed."""

from __future__ import annotations

import json

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from core import api_contract
from stacks.nag import acknowledge
from stacks.python_bundle import REPO_ROOT, function_role, python_bundle, python_function

HANDLER_DIR = REPO_ROOT / "lambda" / "predict"
# Pure-Python packages the handler imports: none. Every bundled module compiles on each cold start
# (no bytecode ships), so logs and metrics are lambda/predict/telemetry.py, not Powertools
# (docs/decisions.md). Never jmespath: the runtime has its own, compiled, and a bundled copy would shadow it.
BUNDLED_PACKAGES: tuple[str, ...] = ()
# Native packages, unpacked from wheels built for the runtime (scripts/setup downloads them).
BUNDLED_WHEELS = ("pillow",)
CLASSES_FILE = "classes.json"


class PredictFunction(Construct):
    """The function, its role and its log group. Invoke rights on the endpoint are granted by the stack."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        model_version: str,
        class_names: list[str],
        allowed_origins: list[str],
        memory_mb: int,
        reserved_concurrency: int,
        log_retention: logs.RetentionDays,
        metrics_namespace: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = python_function(
            self,
            "",
            code=python_bundle(
                HANDLER_DIR,
                generated={CLASSES_FILE: json.dumps(class_names, ensure_ascii=False)},
                packages=BUNDLED_PACKAGES,
                wheels=BUNDLED_WHEELS,
            ),
            handler="predict_handler.handler",
            description="POST /predict: checks the image and asks the SageMaker endpoint for the breed",
            role_description="Prediction function: its own logs, X-Ray, and InvokeEndpoint on one endpoint",
            log_retention=log_retention,
            timeout=Duration.seconds(api_contract.LAMBDA_TIMEOUT_SECONDS),
            memory_mb=memory_mb,
            # Beyond it, API Gateway answers 503 ServiceBusy (PredictApi's gateway response).
            reserved_concurrency=reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                "ENDPOINT_NAME": endpoint_name,
                "MODEL_VERSION": model_version,
                "ALLOWED_ORIGINS": ",".join(allowed_origins),
                "POWERTOOLS_SERVICE_NAME": "predict",
                "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace,
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
        )
        self.role = function_role(self.function)
        policy = self.role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions",
        )
