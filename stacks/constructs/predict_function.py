"""The prediction Lambda: decodes an image from the API request and asks the endpoint for the breed."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import jsii
from aws_cdk import (
    AssetHashType,
    BundlingOptions,
    DockerImage,
    Duration,
    ILocalBundling,
    RemovalPolicy,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

import api_contract
from stacks.nag import CDK_ROLE_DEPENDENCY, acknowledge, ignore_cfn_lint

REPO_ROOT = Path(__file__).resolve().parents[2]
HANDLER_DIR = REPO_ROOT / "lambda" / "predict"
# Pure-Python packages the handler imports, copied from this environment (pinned in
# requirements.txt), so the bundle needs neither Docker nor a download at synth.
BUNDLED_PACKAGES = ("aws_lambda_powertools", "jmespath", "typing_extensions")
CLASSES_FILE = "classes.json"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyi", "py.typed")


@jsii.implements(ILocalBundling)
class _LocalBundle:
    """Assembles the function's bundle on this machine: handler, contract, classes, packages."""

    def __init__(self, class_names: list[str]) -> None:
        self._classes_json = json.dumps(class_names, ensure_ascii=False)

    def try_bundle(self, output_dir: str, *args, **kwargs) -> bool:  # noqa: ARG002 - jsii's signature
        out = Path(output_dir)
        for source in sorted(HANDLER_DIR.glob("*.py")):
            shutil.copy2(source, out / source.name)
        shutil.copy2(REPO_ROOT / "api_contract.py", out / "api_contract.py")
        (out / CLASSES_FILE).write_text(self._classes_json, encoding="utf-8")
        for package in BUNDLED_PACKAGES:
            spec = importlib.util.find_spec(package)
            if spec is None or spec.origin is None:
                raise RuntimeError(
                    f"{package} is not installed: run scripts/setup (it installs requirements.txt)"
                )
            origin = Path(spec.origin)
            if origin.name == "__init__.py":
                shutil.copytree(origin.parent, out / origin.parent.name, ignore=_IGNORE)
            else:
                shutil.copy2(origin, out / origin.name)
        return True


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
        log_retention: logs.RetentionDays,
        metrics_namespace: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "LogGroup", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        # An explicit role instead of the default one with the AWSLambdaBasicExecutionRole managed
        # policy: it may write to its own log group only.
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Prediction function: its own logs, X-Ray, and InvokeEndpoint on one endpoint",
        )
        self.log_group.grant_write(self.role)

        self.function = lambda_.Function(
            self,
            "Function",
            description="POST /predict: checks the image and asks the SageMaker endpoint for the breed",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler="predict_handler.handler",
            code=lambda_.Code.from_asset(
                str(HANDLER_DIR),
                asset_hash_type=AssetHashType.OUTPUT,
                bundling=BundlingOptions(
                    # Never pulled: the local bundle always succeeds. Required by the API.
                    image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.14"),
                    local=_LocalBundle(class_names),
                ),
            ),
            role=self.role,
            memory_size=memory_mb,
            timeout=Duration.seconds(api_contract.LAMBDA_TIMEOUT_SECONDS),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            environment={
                "ENDPOINT_NAME": endpoint_name,
                "MODEL_VERSION": model_version,
                "ALLOWED_ORIGINS": ",".join(allowed_origins),
                "POWERTOOLS_SERVICE_NAME": "predict",
                "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace,
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
        )
        ignore_cfn_lint(self.function.node.default_child, "W3005", CDK_ROLE_DEPENDENCY)
        policy = self.role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions",
        )
