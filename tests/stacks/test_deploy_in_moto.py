"""Deploys the synthesized dev templates into moto's CloudFormation, uses them, destroys them.

moto is the offline stand-in for CloudFormation, and it needs five adaptations, each the smallest
that lets it parse what real CloudFormation accepts (see FACTS.md):
- the CDK bootstrap version parameter and the asset bucket are seeded, as `cdk bootstrap` would;
- custom resources (Custom::S3AutoDeleteObjects and its provider, Custom::StopTrainingOnDelete) are
  removed: moto would need Docker to run their functions (the functions have their own tests);
- MOCK integrations (the CORS preflight) get the IntegrationHttpMethod and Uri moto insists on;
- Fn::GetStackOutput (a reference to another stack's output) is replaced by that output's value;
- CloudWatch alarms, which moto skips, are removed, and references to them (from the dashboard and
  the endpoint's rollback configuration) become placeholder names.
moto skips Stage, ApiKey, UsagePlan, Model, RequestValidator and GatewayResponse with a warning,
and it does not delete REST APIs with their stack, so the REST API is left out of the leftovers
check (it is not billed by the hour either).
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from moto import mock_aws
from PIL import Image
from stack_synthesis import Synthesized, synthesize

ACCOUNT, REGION = "123456789012", "us-east-1"
ASSET_BUCKET = f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}"
AUTO_DELETE = "Custom::S3AutoDeleteObjects"
STOP_ON_DELETE = "Custom::StopTrainingOnDelete"
UNSUPPORTED_BY_MOTO = {"AWS::CloudWatch::Alarm"}
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:moto.*")


@pytest.fixture
def aws(fake_aws):
    with mock_aws():
        boto3.client("ssm").put_parameter(Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String")
        boto3.client("s3").create_bucket(Bucket=ASSET_BUCKET)
        yield


def upload_assets(synthesized: Synthesized, stack: str) -> None:
    manifest = json.loads((synthesized.outdir / f"{stack}.assets.json").read_text())
    s3 = boto3.client("s3")
    for asset in manifest["files"].values():
        source = synthesized.outdir / asset["source"]["path"]
        body = _zip(source) if asset["source"].get("packaging") == "zip" else source.read_bytes()
        for destination in asset["destinations"].values():
            s3.put_object(Bucket=ASSET_BUCKET, Key=destination["objectKey"], Body=body)


def _zip(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory))
    return buffer.getvalue()


def moto_compatible(template: dict) -> dict:
    resources = template["Resources"]
    providers = {
        resources[lid]["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
        for lid in resources
        if resources[lid]["Type"] == AUTO_DELETE
    }
    doomed = {lid for lid, r in resources.items() if r["Type"] in (AUTO_DELETE, STOP_ON_DELETE)}
    for provider in providers:
        doomed |= {provider, resources[provider]["Properties"]["Role"]["Fn::GetAtt"][0]}
    for logical_id in doomed:
        del resources[logical_id]
    for resource in resources.values():
        if isinstance(resource.get("DependsOn"), list):
            resource["DependsOn"] = [d for d in resource["DependsOn"] if d not in doomed]
        if resource["Type"] == "AWS::ApiGateway::Method":
            integration = resource["Properties"]["Integration"]
            if integration["Type"] == "MOCK":
                integration.setdefault("IntegrationHttpMethod", "POST")
                integration.setdefault("Uri", "")
    skipped = {lid for lid, r in resources.items() if r["Type"] in UNSUPPORTED_BY_MOTO}
    for logical_id in skipped:
        del resources[logical_id]
    return _replace_references(_resolve_stack_outputs(template), skipped)


def _replace_references(node, removed: set[str]):
    if isinstance(node, dict):
        if node.get("Ref") in removed:
            return f"moto-placeholder-{node['Ref']}"
        if "Fn::GetAtt" in node and node["Fn::GetAtt"][0] in removed:
            return f"moto-placeholder-{node['Fn::GetAtt'][0]}"
        return {key: _replace_references(value, removed) for key, value in node.items()}
    if isinstance(node, list):
        return [_replace_references(item, removed) for item in node]
    return node


def _resolve_stack_outputs(node):
    if isinstance(node, dict):
        if set(node) == {"Fn::GetStackOutput"}:
            reference = node["Fn::GetStackOutput"]
            (stack,) = boto3.client("cloudformation").describe_stacks(StackName=reference["StackName"])[
                "Stacks"
            ]
            return next(
                o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == reference["OutputName"]
            )
        return {key: _resolve_stack_outputs(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve_stack_outputs(item) for item in node]
    return node


def deploy(synthesized: Synthesized, stack: str) -> dict:
    upload_assets(synthesized, stack)
    template = json.loads((synthesized.outdir / f"{stack}.template.json").read_text())
    stack_name = f"DogBreeds-dev-{stack}"
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(moto_compatible(template)),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    (described,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    assert described["StackStatus"] == "CREATE_COMPLETE", described.get("StackStatusReason")
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def destroy(stack: str) -> None:
    cloudformation = boto3.client("cloudformation")
    stack_name = f"DogBreeds-dev-{stack}"
    cloudformation.delete_stack(StackName=stack_name)
    statuses = {
        s["StackStatus"]
        for s in cloudformation.list_stacks()["StackSummaries"]
        if s["StackName"] == stack_name
    }
    assert statuses == {"DELETE_COMPLETE"}


def deployed_function() -> dict:
    (function,) = boto3.client("lambda").list_functions()["Functions"]
    return function


def test_deployed_function_is_wired_to_the_deployed_endpoint(aws):
    outputs = deploy(synthesize("dev"), "Serving")
    (endpoint,) = boto3.client("sagemaker").list_endpoints()["Endpoints"]
    assert endpoint["EndpointStatus"] == "InService"
    assert outputs["EndpointName"] == endpoint["EndpointName"]
    function = deployed_function()
    assert function["Environment"]["Variables"]["ENDPOINT_NAME"] == endpoint["EndpointName"]
    assert function["Runtime"] == "python3.14"


def test_deployed_handler_answers_with_the_breed_the_deployed_endpoint_returns(aws, monkeypatch, tmp_path):
    synthesized = synthesize("dev")
    deploy(synthesized, "Serving")
    variables = deployed_function()["Environment"]["Variables"]
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    classes_file = tmp_path / "classes.json"
    classes_file.write_bytes(_bundled_classes(synthesized))
    monkeypatch.setenv("CLASSES_FILE", str(classes_file))

    probabilities = [0.0] * 120
    probabilities[99], probabilities[98] = 0.9, 0.1  # Siberian husky, malamute
    image = io.BytesIO()
    Image.new("RGB", (64, 48), "gray").save(image, "JPEG")
    event = {
        "httpMethod": "POST",
        "path": "/predict",
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"image": base64.b64encode(image.getvalue()).decode(), "topK": 2}),
        "isBase64Encoded": False,
    }

    import predict_handler

    # Powertools reads the namespace at import, which may have happened in another test.
    monkeypatch.setattr(predict_handler.metrics, "namespace", variables["POWERTOOLS_METRICS_NAMESPACE"])
    predict_handler.load_class_names.cache_clear()
    predict_handler.sagemaker_runtime_client.cache_clear()
    # moto's sagemaker-runtime cannot take a binary body (it decodes every body as UTF-8), so the
    # endpoint's answer is stubbed; the stub checks the call goes to the endpoint moto deployed.
    client = predict_handler.sagemaker_runtime_client()
    answer = json.dumps(probabilities).encode()
    with Stubber(client) as stub:
        stub.add_response(
            "invoke_endpoint",
            {"Body": StreamingBody(io.BytesIO(answer), len(answer)), "ContentType": "application/json"},
            expected_params={
                "EndpointName": variables["ENDPOINT_NAME"],
                "Body": image.getvalue(),
                "ContentType": "application/x-image",
                "Accept": ANY,
            },
        )
        response = predict_handler.handler(event, _Context())
        stub.assert_no_pending_responses()
    predict_handler.load_class_names.cache_clear()
    predict_handler.sagemaker_runtime_client.cache_clear()

    endpoint = boto3.client("sagemaker").describe_endpoint(EndpointName=variables["ENDPOINT_NAME"])
    assert endpoint["EndpointStatus"] == "InService"
    assert response["statusCode"] == 200, response["body"]
    body = json.loads(response["body"])
    assert [p["breed"] for p in body["predictions"]] == ["Siberian husky", "malamute"]
    assert body["model"] == variables["MODEL_VERSION"]


def _bundled_classes(synthesized: Synthesized) -> bytes:
    (function,) = synthesized.serving.find_resources("AWS::Lambda::Function").values()
    asset_hash = function["Properties"]["Code"]["S3Key"].split(".")[0]
    return (synthesized.outdir / f"asset.{asset_hash}" / "classes.json").read_bytes()


class _Context:
    function_name = "DogBreeds-dev-Serving-PredictFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
    aws_request_id = "moto-round-trip"


def test_training_workflow_deploys_with_the_data_bucket_it_was_given(aws):
    synthesized = synthesize("dev")
    storage = deploy(synthesized, "Storage")
    training = deploy(synthesized, "Training")
    (machine,) = boto3.client("stepfunctions").list_state_machines()["stateMachines"]
    assert training["TrainingStateMachineArn"] == machine["stateMachineArn"]
    definition = boto3.client("stepfunctions").describe_state_machine(
        stateMachineArn=machine["stateMachineArn"]
    )
    assert f"s3://{storage['DataBucketName']}/training/output/" in definition["definition"]


def test_destroy_leaves_nothing_billed_or_stored_behind(aws):
    synthesized = synthesize("dev")
    for stack in ("Storage", "Training", "Serving"):
        deploy(synthesized, stack)
    sagemaker, logs = boto3.client("sagemaker"), boto3.client("logs")
    assert sagemaker.list_endpoints()["Endpoints"]
    assert logs.describe_log_groups()["logGroups"]
    assert boto3.client("stepfunctions").list_state_machines()["stateMachines"]
    own_buckets = {b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]} - {ASSET_BUCKET}
    assert len(own_buckets) == 2

    for stack in ("Serving", "Training", "Storage"):
        destroy(stack)

    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert sagemaker.list_endpoint_configs()["EndpointConfigs"] == []
    assert sagemaker.list_models()["Models"] == []
    assert boto3.client("stepfunctions").list_state_machines()["stateMachines"] == []
    assert boto3.client("lambda").list_functions()["Functions"] == []
    assert logs.describe_log_groups()["logGroups"] == []
    assert boto3.client("iam").list_roles()["Roles"] == []
    assert {b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]} == {ASSET_BUCKET}
