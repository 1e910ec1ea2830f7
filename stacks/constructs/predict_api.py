"""The public REST API: ``POST /predict`` in front of the prediction function."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from core import api_contract
from stacks.nag import acknowledge
from stacks.python_bundle import REPO_ROOT

STAGE_NAME = "v1"
PAGE_FILE = REPO_ROOT / "web" / "index.html"


def page_template(page_file: Path = PAGE_FILE) -> str:
    """The web page as a mapping template, inside Velocity's unparsed block: its ``$`` and ``#`` stay text."""
    html = page_file.read_text(encoding="utf-8")
    if "]]#" in html:
        raise ValueError(f"{page_file} contains ']]#', which would end the template's unparsed block")
    return "#[[" + html + "]]#"


def request_schema(num_classes: int) -> apigw.JsonSchema:
    """What API Gateway checks before invoking the function (the function checks the rest)."""
    image = apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1)
    return apigw.JsonSchema(
        schema=apigw.JsonSchemaVersion.DRAFT4,
        title="PredictRequest",
        type=apigw.JsonSchemaType.OBJECT,
        properties={
            api_contract.IMAGE_FIELD: image,
            api_contract.BLOG_IMAGE_FIELD: image,
            api_contract.TOP_K_FIELD: apigw.JsonSchema(
                type=apigw.JsonSchemaType.INTEGER, minimum=1, maximum=num_classes
            ),
        },
        any_of=[
            apigw.JsonSchema(required=[api_contract.IMAGE_FIELD]),
            apigw.JsonSchema(required=[api_contract.BLOG_IMAGE_FIELD]),
        ],
    )


class PredictApi(Construct):
    """A Regional REST API with request validation, throttling, an API key, access logs and CORS."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        num_classes: int,
        rate_limit: float,
        burst_limit: int,
        quota_per_day: int | None,
        api_key_required: bool,
        allowed_origins: list[str],
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_log_group = logs.LogGroup(
            self, "AccessLogs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.api = apigw.RestApi(
            self,
            "RestApi",
            description="Dog breed classifier: POST /predict with a JPEG or PNG image",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            binary_media_types=list(api_contract.BINARY_MEDIA_TYPES),
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                throttling_rate_limit=rate_limit,
                throttling_burst_limit=burst_limit,
                tracing_enabled=True,
                metrics_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(self.access_log_group),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
            ),
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=allowed_origins,
                allow_methods=["POST", "OPTIONS"],
                allow_headers=["Content-Type", "X-Api-Key", "Authorization"],
            ),
        )
        self._add_gateway_responses(allowed_origins, num_classes)

        model = self.api.add_model(
            "PredictRequestModel",
            content_type=api_contract.JSON_CONTENT_TYPE,
            schema=request_schema(num_classes),
        )
        validator = self.api.add_request_validator(
            "BodyValidator", validate_request_body=True, validate_request_parameters=True
        )
        self.predict_resource = self.api.root.add_resource(api_contract.ROUTE.strip("/"))
        self.predict_method = self.predict_resource.add_method(
            "POST",
            apigw.LambdaIntegration(function, proxy=True),
            api_key_required=api_key_required,
            request_validator=validator,
            request_models={api_contract.JSON_CONTENT_TYPE: model},
        )
        self.predict_url = self.api.url_for_path(api_contract.ROUTE)
        self.page_method = self._add_page()
        self.page_url = self.api.url_for_path("/")

        self.api_key: apigw.IApiKey | None = None
        if api_key_required:
            plan = self.api.add_usage_plan(
                "UsagePlan",
                description="Default clients: per-key rate, burst and daily quota",
                throttle=apigw.ThrottleSettings(rate_limit=rate_limit, burst_limit=burst_limit),
                quota=(
                    apigw.QuotaSettings(limit=quota_per_day, period=apigw.Period.DAY)
                    if quota_per_day
                    else None
                ),
                api_stages=[apigw.UsagePlanPerApiStage(api=self.api, stage=self.api.deployment_stage)],
            )
            self.api_key = self.api.add_api_key("ApiKey", description="Default client key")
            plan.add_api_key(self.api_key)
        self._acknowledge_findings(api_key_required)

    def _add_gateway_responses(self, allowed_origins: list[str], num_classes: int) -> None:
        """API Gateway's own errors in the API's error shape, with CORS so browsers can read them."""
        headers = {"Content-Type": "'application/json'"}
        if "*" in allowed_origins:
            headers["Access-Control-Allow-Origin"] = "'*'"
        message = (
            '{"error": {"code": "$context.error.responseType", "message": $context.error.messageString}}'
        )
        for response_type in (apigw.ResponseType.DEFAULT_4_XX, apigw.ResponseType.DEFAULT_5_XX):
            self.api.add_gateway_response(
                f"{response_type.response_type}Response",
                type=response_type,
                response_headers=headers,
                templates={api_contract.JSON_CONTENT_TYPE: message},
            )
        bad_body = {
            "error": {
                "code": "BadRequestBody",
                "message": (
                    "The request body does not match the API contract. Send JSON "
                    f'{{"{api_contract.IMAGE_FIELD}": "<base64 JPEG or PNG>", '
                    f'"{api_contract.TOP_K_FIELD}": <1 to {num_classes}>}} '
                    "or a raw image/jpeg or image/png body."
                ),
            }
        }
        self.api.add_gateway_response(
            "BadRequestBodyResponse",
            type=apigw.ResponseType.BAD_REQUEST_BODY,
            response_headers=headers,
            templates={api_contract.JSON_CONTENT_TYPE: json.dumps(bad_body)},
        )
        # A throttled function (its concurrency limit) reaches API Gateway as an integration
        # failure, which it would answer with a bare 500: answer 503 with a retry hint instead.
        busy = {
            "error": {
                "code": "ServiceBusy",
                "message": (
                    "The service is at capacity or could not reach the prediction function. "
                    f"Retry after {api_contract.RETRY_AFTER_SECONDS} seconds, with backoff."
                ),
            }
        }
        self.api.add_gateway_response(
            "IntegrationFailureResponse",
            type=apigw.ResponseType.INTEGRATION_FAILURE,
            status_code="503",
            response_headers={**headers, "Retry-After": f"'{api_contract.RETRY_AFTER_SECONDS}'"},
            templates={api_contract.JSON_CONTENT_TYPE: json.dumps(busy)},
        )
        self.api.add_gateway_response(
            "ThrottledResponse",
            type=apigw.ResponseType.THROTTLED,
            response_headers={**headers, "Retry-After": f"'{api_contract.RETRY_AFTER_SECONDS}'"},
            templates={api_contract.JSON_CONTENT_TYPE: message},
        )

    def _add_page(self) -> apigw.Method:
        """``GET /``: the web page from a MOCK integration (no function, no hourly cost), without a key,
        so the page and the API share an origin."""
        content_type = "method.response.header.Content-Type"
        page = self.api.root.add_method(
            "GET",
            apigw.MockIntegration(
                request_templates={api_contract.JSON_CONTENT_TYPE: '{"statusCode": 200}'},
                integration_responses=[
                    apigw.IntegrationResponse(
                        status_code="200",
                        response_parameters={content_type: "'text/html; charset=utf-8'"},
                        response_templates={"text/html": page_template()},
                    )
                ],
            ),
            api_key_required=False,
            method_responses=[
                apigw.MethodResponse(status_code="200", response_parameters={content_type: True})
            ],
        )
        for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
            acknowledge(
                page,
                rule,
                "GET / serves the static web page (a MOCK integration, no data, no function); it must "
                "load without a key so a person can enter one. Predictions still require the API key.",
            )
        return page

    def _acknowledge_findings(self, api_key_required: bool) -> None:
        acknowledge(
            self.api.deployment_stage,
            "AwsSolutions-APIG3",
            (
                "No WAF web ACL by default: it bills per month and per request even when idle; "
                "the API key, usage plan and stage throttling bound abuse. Add one for public launches."
            ),
        )
        acknowledge(
            self.api.deployment_stage,
            "AwsSolutions-APIG6",
            (
                "Access logs are on. Execution logging needs the account-wide API Gateway CloudWatch "
                "role (a singleton this app should not own) and writes to a log group API Gateway "
                "creates itself, which would outlive cdk destroy; the function logs every request."
            ),
        )
        for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
            acknowledge(
                self.predict_method,
                rule,
                (
                    "Mobile apps and scripts call the API with an API key and usage plan "
                    f"(required: {api_key_required}); there are no end users to sign in."
                ),
            )
