"""The serving stack: endpoint for the pinned model, prediction function, REST API."""

import json
from dataclasses import replace

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template
from stack_synthesis import CDK_JSON_CONTEXT, MODEL_URL, pinned_model, synthesize

from core import api_contract
from core.breeds import default_classes
from core.stage_config import STAGES
from stacks.serving_stack import ServingStack


def only(template, resource_type):
    resources = template.find_resources(resource_type)
    assert len(resources) == 1, f"expected one {resource_type}, found {len(resources)}"
    return next(iter(resources.items()))


def policy_statements(template, role_prefix):
    policies = [
        p for lid, p in template.find_resources("AWS::IAM::Policy").items() if lid.startswith(role_prefix)
    ]
    assert len(policies) == 1
    return policies[0]["Properties"]["PolicyDocument"]["Statement"]


# --- Model and endpoint ------------------------------------------------------------------------


def test_model_serves_the_pinned_artifact_with_the_regional_algorithm_image():
    template = synthesize("dev", region="us-west-2").serving
    _, model = only(template, "AWS::SageMaker::Model")
    container = model["Properties"]["PrimaryContainer"]
    assert container["ModelDataUrl"] == MODEL_URL
    assert container["Image"] == {
        "Fn::Join": [
            "",
            ["433757028032.dkr.ecr.us-west-2.", {"Ref": "AWS::URLSuffix"}, "/image-classification:1"],
        ]
    }


def test_region_agnostic_synth_looks_the_image_account_up_by_region(dev):
    _, model = only(dev.serving, "AWS::SageMaker::Model")
    image = json.dumps(model["Properties"]["PrimaryContainer"]["Image"])
    assert (
        '"Fn::FindInMap": ["ImageClassificationAlgorithmAccounts", {"Ref": "AWS::Region"}, "account"]'
        in image
    )
    mapping = dev.serving.to_json()["Mappings"]["ImageClassificationAlgorithmAccounts"]
    assert mapping["eu-west-1"] == {"account": "685385470294"}


def test_region_agnostic_template_rejects_an_unsupported_region_before_creating_anything(dev):
    rule = dev.serving.to_json()["Rules"]["SupportedRegionRule"]
    (assertion,) = rule["Assertions"]
    regions, region = assertion["Assert"]["Fn::Contains"]
    assert region == {"Ref": "AWS::Region"}
    assert "us-east-1" in regions and "eu-west-1" in regions
    assert "not offered in this region" in assertion["AssertDescription"]


def test_model_and_endpoint_config_have_generated_names_so_a_new_model_replaces_them(dev):
    _, model = only(dev.serving, "AWS::SageMaker::Model")
    _, config = only(dev.serving, "AWS::SageMaker::EndpointConfig")
    assert "ModelName" not in model["Properties"]
    assert "EndpointConfigName" not in config["Properties"]


def test_endpoint_switches_to_the_new_config_in_place(dev):
    config_id, _ = only(dev.serving, "AWS::SageMaker::EndpointConfig")
    _, endpoint = only(dev.serving, "AWS::SageMaker::Endpoint")
    assert endpoint["Properties"]["EndpointConfigName"] == {"Fn::GetAtt": [config_id, "EndpointConfigName"]}


def test_endpoint_is_named_after_its_stack_so_its_log_group_can_be_declared(dev):
    _, endpoint = only(dev.serving, "AWS::SageMaker::Endpoint")
    name = endpoint["Properties"]["EndpointName"]
    assert name == "DogBreeds-dev-Serving"
    dev.serving.has_resource_properties(
        "AWS::Logs::LogGroup", {"LogGroupName": f"/aws/sagemaker/Endpoints/{name}", "RetentionInDays": 14}
    )
    log_group_id = next(
        lid for lid in dev.serving.find_resources("AWS::Logs::LogGroup") if lid.startswith("ModelLogGroup")
    )
    assert log_group_id in endpoint["DependsOn"]


def test_endpoint_uses_a_gpu_instance_and_the_stage_instance_count(dev, prod):
    for synthesized, count in ((dev, 1), (prod, 2)):
        synthesized.serving.has_resource_properties(
            "AWS::SageMaker::EndpointConfig",
            {
                "ProductionVariants": [
                    Match.object_like({"InstanceType": "ml.g4dn.xlarge", "InitialInstanceCount": count})
                ]
            },
        )


def test_model_container_is_isolated_from_the_network(dev):
    _, model = only(dev.serving, "AWS::SageMaker::Model")
    assert model["Properties"]["EnableNetworkIsolation"] is True


def test_model_waits_for_its_execution_role_policy(dev):
    _, model = only(dev.serving, "AWS::SageMaker::Model")
    assert any(dep.startswith("ModelExecutionRoleDefaultPolicy") for dep in model["DependsOn"])


def test_execution_role_reads_only_the_model_artifact():
    statements = policy_statements(synthesize("dev", region="us-west-2").serving, "ModelExecutionRole")
    s3_statements = [s for s in statements if any(a.startswith("s3:") for a in _actions(s))]
    resources = [r for s in s3_statements for r in s["Resource"]]
    assert resources == [
        "arn:aws:s3:::dogbreeds-models-example",
        "arn:aws:s3:::dogbreeds-models-example/training/job-1/output/model.tar.gz",
    ]
    assert all(
        not a.startswith("s3:Put") and not a.startswith("s3:Delete")
        for s in s3_statements
        for a in _actions(s)
    )


def test_execution_role_pulls_only_the_algorithm_image():
    statements = policy_statements(synthesize("dev", region="us-west-2").serving, "ModelExecutionRole")
    pull = [s for s in statements if "ecr:BatchGetImage" in _actions(s)]
    assert len(pull) == 1
    assert json.dumps(pull[0]["Resource"]).endswith(
        ':ecr:us-west-2:433757028032:repository/image-classification"]]}'
    )


def _actions(statement):
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


# --- A stage without a model -------------------------------------------------------------------


def test_stage_without_a_model_deploys_no_endpoint(dev_without_model):
    for resource_type in (
        "AWS::SageMaker::Model",
        "AWS::SageMaker::EndpointConfig",
        "AWS::SageMaker::Endpoint",
    ):
        dev_without_model.serving.resource_count_is(resource_type, 0)


def test_stage_without_a_model_still_deploys_the_function_and_api_that_answer_503(dev_without_model):
    dev_without_model.serving.resource_count_is("AWS::ApiGateway::RestApi", 1)
    dev_without_model.serving.has_resource_properties(
        "AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({"ENDPOINT_NAME": ""})}}
    )


def test_stage_without_a_model_says_how_to_add_one(dev_without_model):
    from aws_cdk.assertions import Annotations

    annotations = Annotations.from_stack(dev_without_model.stage.serving)
    annotations.has_warning("*", Match.string_like_regexp("no pinned model.*modelDataUrl"))


# --- Prediction function -----------------------------------------------------------------------


def test_function_runs_the_newest_python_on_arm64_with_tracing(dev):
    dev.serving.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Handler": "predict_handler.handler",
            "TracingConfig": {"Mode": "Active"},
        },
    )


def test_function_has_the_stage_reserved_concurrency(dev, prod):
    for synthesized, reserved in ((dev, 10), (prod, 100)):
        _, function = only(synthesized.serving, "AWS::Lambda::Function")
        assert function["Properties"]["ReservedConcurrentExecutions"] == reserved


def test_function_times_out_before_api_gateway_gives_up(dev):
    _, function = only(dev.serving, "AWS::Lambda::Function")
    assert function["Properties"]["Timeout"] == api_contract.LAMBDA_TIMEOUT_SECONDS
    assert api_contract.LAMBDA_TIMEOUT_SECONDS < api_contract.API_GATEWAY_TIMEOUT_SECONDS


def test_function_logs_to_its_own_log_group_with_retention(dev):
    _, function = only(dev.serving, "AWS::Lambda::Function")
    log_group_ref = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    log_group = dev.serving.to_json()["Resources"][log_group_ref]
    assert log_group["Properties"]["RetentionInDays"] == 14
    assert log_group["DeletionPolicy"] == "Delete"


def test_function_knows_the_endpoint_and_model_version(dev):
    endpoint_id, _ = only(dev.serving, "AWS::SageMaker::Endpoint")
    _, function = only(dev.serving, "AWS::Lambda::Function")
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["ENDPOINT_NAME"] == {"Fn::GetAtt": [endpoint_id, "EndpointName"]}
    assert variables["MODEL_VERSION"].startswith("sha256-")


def test_function_may_invoke_only_its_endpoint(dev):
    statements = policy_statements(dev.serving, "PredictRole")
    invoke = [s for s in statements if "sagemaker:InvokeEndpoint" in _actions(s)]
    assert len(invoke) == 1
    assert _actions(invoke[0]) == ["sagemaker:InvokeEndpoint"]
    assert "endpoint/dogbreeds-dev-serving" in json.dumps(invoke[0]["Resource"])
    assert not any(
        a.startswith("sagemaker:") and a != "sagemaker:InvokeEndpoint"
        for s in statements
        for a in _actions(s)
    )


def test_function_bundle_holds_handler_contract_and_classes_without_powertools(dev):
    _, function = only(dev.serving, "AWS::Lambda::Function")
    asset_hash = function["Properties"]["Code"]["S3Key"].split(".")[0]
    bundle = dev.outdir / f"asset.{asset_hash}"
    assert (bundle / "predict_handler.py").is_file()
    assert (bundle / "core" / "api_contract.py").is_file()
    assert (bundle / "telemetry.py").is_file()
    assert not (bundle / "aws_lambda_powertools").exists()
    assert not list(bundle.rglob("__pycache__"))
    classes = json.loads((bundle / "classes.json").read_text())
    assert classes == [c["name"] for c in default_classes()]


# --- REST API ----------------------------------------------------------------------------------


def test_api_is_regional_and_passes_only_images_as_binary(dev):
    dev.serving.has_resource_properties(
        "AWS::ApiGateway::RestApi",
        {"EndpointConfiguration": {"Types": ["REGIONAL"]}, "BinaryMediaTypes": ["image/jpeg", "image/png"]},
    )


def test_predict_route_is_a_validated_post_that_requires_an_api_key(dev):
    resource_id, _ = next(
        (lid, r)
        for lid, r in dev.serving.find_resources("AWS::ApiGateway::Resource").items()
        if r["Properties"]["PathPart"] == "predict"
    )
    validator_id, validator = only(dev.serving, "AWS::ApiGateway::RequestValidator")
    assert validator["Properties"]["ValidateRequestBody"] is True
    dev.serving.has_resource_properties(
        "AWS::ApiGateway::Method",
        {
            "HttpMethod": "POST",
            "ResourceId": {"Ref": resource_id},
            "ApiKeyRequired": True,
            "RequestValidatorId": {"Ref": validator_id},
            "Integration": Match.object_like({"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST"}),
        },
    )


def test_request_model_bounds_top_k_by_the_class_count(dev):
    _, model = only(dev.serving, "AWS::ApiGateway::Model")
    schema = model["Properties"]["Schema"]
    assert schema["properties"]["topK"] == {"type": "integer", "minimum": 1, "maximum": 120}
    assert schema["anyOf"] == [{"required": ["image"]}, {"required": ["body"]}]


@pytest.mark.parametrize(("stage", "rate", "burst"), [("dev", 5, 10), ("prod", 50, 100)])
def test_stage_and_usage_plan_throttle_per_stage(stage, rate, burst):
    template = synthesize(stage).serving
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {"MethodSettings": [Match.object_like({"ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst})]},
    )
    template.has_resource_properties(
        "AWS::ApiGateway::UsagePlan", {"Throttle": {"RateLimit": rate, "BurstLimit": burst}}
    )


def test_api_key_is_attached_to_the_usage_plan(dev):
    key_id, _ = only(dev.serving, "AWS::ApiGateway::ApiKey")
    plan_id, _ = only(dev.serving, "AWS::ApiGateway::UsagePlan")
    dev.serving.has_resource_properties(
        "AWS::ApiGateway::UsagePlanKey", {"KeyId": {"Ref": key_id}, "UsagePlanId": {"Ref": plan_id}}
    )


def test_stage_writes_access_logs_and_traces(dev):
    dev.serving.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "v1",
            "TracingEnabled": True,
            "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
        },
    )


def test_browsers_get_a_cors_preflight_on_predict(dev):
    dev.serving.has_resource_properties(
        "AWS::ApiGateway::Method",
        {
            "HttpMethod": "OPTIONS",
            "Integration": Match.object_like(
                {
                    "IntegrationResponses": [
                        Match.object_like(
                            {
                                "ResponseParameters": Match.object_like(
                                    {"method.response.header.Access-Control-Allow-Origin": "'*'"}
                                )
                            }
                        )
                    ]
                }
            ),
        },
    )


def test_gateway_errors_use_the_api_error_shape(dev):
    responses = dev.serving.find_resources("AWS::ApiGateway::GatewayResponse")
    types = {r["Properties"]["ResponseType"] for r in responses.values()}
    assert types == {"DEFAULT_4XX", "DEFAULT_5XX", "BAD_REQUEST_BODY", "THROTTLED", "INTEGRATION_FAILURE"}
    for response in responses.values():
        template = response["Properties"]["ResponseTemplates"]["application/json"]
        assert template.startswith('{"error": {"code": ')


def test_throttled_clients_are_told_when_to_retry(dev):
    dev.serving.has_resource_properties(
        "AWS::ApiGateway::GatewayResponse",
        {
            "ResponseType": "THROTTLED",
            "ResponseParameters": Match.object_like(
                {"gatewayresponse.header.Retry-After": f"'{api_contract.RETRY_AFTER_SECONDS}'"}
            ),
        },
    )


def test_serving_stack_outputs_url_endpoint_and_key_id(dev):
    outputs = dev.serving.to_json()["Outputs"]
    assert {"PredictUrl", "EndpointName", "ApiKeyId", "ModelVersion"} <= set(outputs)
    assert "/predict" in json.dumps(outputs["PredictUrl"]["Value"])


def test_a_throttled_function_reaches_clients_as_503_with_retry_after_not_a_bare_500(dev):
    dev.serving.has_resource_properties(
        "AWS::ApiGateway::GatewayResponse",
        {
            "ResponseType": "INTEGRATION_FAILURE",
            "StatusCode": "503",
            "ResponseParameters": Match.object_like(
                {"gatewayresponse.header.Retry-After": f"'{api_contract.RETRY_AFTER_SECONDS}'"}
            ),
        },
    )


# --- Operations: scaling, rollouts, alarms, dashboard -------------------------------------------


@pytest.mark.parametrize(("stage", "minimum", "maximum"), [("dev", 1, 2), ("prod", 2, 6)])
def test_endpoint_scales_on_invocations_per_instance_within_the_stage_bounds(stage, minimum, maximum):
    template = synthesize(stage).serving
    target_id, target = only(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["Properties"]["MinCapacity"] == minimum
    assert target["Properties"]["MaxCapacity"] == maximum
    assert target["Properties"]["ResourceId"] == f"endpoint/DogBreeds-{stage}-Serving/variant/AllTraffic"
    assert "RoleARN" not in target["Properties"]  # the service-linked role
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "ScalingTargetId": {"Ref": target_id},
            "TargetTrackingScalingPolicyConfiguration": Match.object_like(
                {
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                    }
                }
            ),
        },
    )


def test_model_updates_roll_back_automatically_on_endpoint_errors_or_latency(dev):
    _, endpoint = only(dev.serving, "AWS::SageMaker::Endpoint")
    rollback = endpoint["Properties"]["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    alarm_ids = [a["AlarmName"]["Ref"] for a in rollback]
    alarms = dev.serving.to_json()["Resources"]
    assert {alarms[a]["Properties"]["MetricName"] for a in alarm_ids} == {
        "Invocation5XXErrors",
        "ModelLatency",
    }
    assert endpoint["Properties"]["RetainAllVariantProperties"] is True


def test_dev_shifts_all_traffic_at_once_and_prod_sends_a_canary_first(dev, prod):
    def routing(synthesized):
        _, endpoint = only(synthesized.serving, "AWS::SageMaker::Endpoint")
        policy = endpoint["Properties"]["DeploymentConfig"]["BlueGreenUpdatePolicy"]
        return policy["TrafficRoutingConfiguration"]

    assert routing(dev)["Type"] == "ALL_AT_ONCE"
    assert routing(prod)["Type"] == "CANARY"
    assert routing(prod)["CanarySize"] == {"Type": "CAPACITY_PERCENT", "Value": 10}


def test_every_request_path_alarm_notifies_the_alarm_topic(dev):
    topic_id, topic = only(dev.serving, "AWS::SNS::Topic")
    alarms = dev.serving.find_resources("AWS::CloudWatch::Alarm")
    metrics = {a["Properties"]["MetricName"] for a in alarms.values()}
    assert metrics == {"5XXError", "Latency", "Errors", "Throttles", "Invocation5XXErrors", "ModelLatency"}
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]


def test_alarm_topic_refuses_requests_without_tls(dev):
    topic_id, _ = only(dev.serving, "AWS::SNS::Topic")
    dev.serving.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [{"Ref": topic_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            },
        },
    )


def test_an_alarm_email_from_the_config_subscribes_to_the_topic():
    config = replace(STAGES["dev"], alarm_email="oncall@example.com")
    stack = ServingStack(
        cdk.App(context=CDK_JSON_CONTEXT), "Serving", config=config, model=pinned_model("dev", MODEL_URL)
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "oncall@example.com"}
    )


def test_no_email_means_no_subscription(dev):
    dev.serving.resource_count_is("AWS::SNS::Subscription", 0)


def test_dashboard_shows_the_path_from_api_to_model(dev):
    _, dashboard = only(dev.serving, "AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in ("AWS/ApiGateway", "AWS/Lambda", "AWS/SageMaker", "ModelLatency", "ConcurrentExecutions"):
        assert metric in body


def test_data_capture_is_off_unless_a_stage_asks_for_it(dev, prod):
    for synthesized in (dev, prod):
        _, config = only(synthesized.serving, "AWS::SageMaker::EndpointConfig")
        assert "DataCaptureConfig" not in config["Properties"]


def test_data_capture_writes_the_sampled_requests_and_answers_to_the_data_bucket(tmp_path):
    from stacks.stages import build_stage

    app = cdk.App(context=CDK_JSON_CONTEXT, outdir=str(tmp_path))
    stage = build_stage(app, replace(STAGES["dev"], data_capture_percent=20), pinned_model("dev", MODEL_URL))
    app.synth()  # cdk-nag passes with capture on too
    template = Template.from_stack(stage.serving)
    _, config = only(template, "AWS::SageMaker::EndpointConfig")
    capture = config["Properties"]["DataCaptureConfig"]
    assert capture["InitialSamplingPercentage"] == 20
    assert capture["CaptureOptions"] == [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]
    assert json.dumps(capture["DestinationS3Uri"]).endswith('/data-capture/"]]}')
    writes = [
        s
        for s in policy_statements(template, "ModelExecutionRole")
        if "s3:PutObject" in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert len(writes) == 1
    assert json.dumps(writes[0]["Resource"]).endswith('/data-capture/*"]]}')
