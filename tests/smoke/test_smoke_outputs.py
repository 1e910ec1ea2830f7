"""Reading the Serving stack's outputs and the API key, with CloudFormation and API Gateway stubbed."""

import pytest
from botocore.exceptions import NoCredentialsError
from smoke_fakes import API_KEY, API_KEY_ID, STAGE

from smoke.cli import aws_clients, main
from smoke.outputs import SmokeError, read_api_key, read_serving_outputs

OUTPUTS = {
    "PredictUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/v1/predict",
    "ModelVersion": "job-1",
    "ApiKeyId": API_KEY_ID,
    "EndpointName": "DogBreeds-dev-Serving",
}


def test_outputs_come_from_the_stages_serving_stack(aws):
    aws.serve_stack(OUTPUTS)

    outputs = read_serving_outputs(aws.cloudformation, STAGE)

    assert outputs.stack_name == "DogBreeds-dev-Serving"
    assert outputs.predict_url == OUTPUTS["PredictUrl"]
    assert outputs.model_version == "job-1"
    assert outputs.api_key_id == API_KEY_ID
    assert outputs.has_endpoint


def test_stack_without_endpoint_output_has_no_endpoint(aws):
    aws.serve_stack({key: value for key, value in OUTPUTS.items() if key != "EndpointName"})

    assert not read_serving_outputs(aws.cloudformation, STAGE).has_endpoint


def test_missing_stack_says_how_to_deploy_it(aws):
    aws.cloudformation_stub.add_client_error(
        "describe_stacks", "ValidationError", "Stack with id DogBreeds-dev-Serving does not exist"
    )

    with pytest.raises(
        SmokeError, match=r"does not exist in eu-west-1: deploy the stage first \(npx cdk deploy"
    ):
        read_serving_outputs(aws.cloudformation, STAGE)


def test_stack_whose_last_deploy_failed_is_not_tested(aws):
    aws.serve_stack(OUTPUTS, status="UPDATE_ROLLBACK_COMPLETE")

    with pytest.raises(SmokeError, match="is UPDATE_ROLLBACK_COMPLETE, not deployed"):
        read_serving_outputs(aws.cloudformation, STAGE)


def test_stack_without_the_predict_url_is_rejected(aws):
    aws.serve_stack({"ModelVersion": "job-1"})

    with pytest.raises(SmokeError, match="has no output PredictUrl"):
        read_serving_outputs(aws.cloudformation, STAGE)


def test_api_key_value_is_read_by_its_id(aws):
    aws.serve_api_key()

    assert read_api_key(aws.apigateway, API_KEY_ID) == API_KEY


def test_unreadable_api_key_names_the_permission_needed(aws):
    aws.apigateway_stub.add_client_error("get_api_key", "AccessDeniedException", "not authorized")

    with pytest.raises(SmokeError, match="need apigateway:GET"):
        read_api_key(aws.apigateway, API_KEY_ID)


def test_lookup_failure_fails_the_smoke_test_with_one_line(aws, capsys):
    aws.cloudformation_stub.add_client_error(
        "describe_stacks", "AccessDenied", "not authorized to DescribeStacks"
    )

    status = main(["--stage", STAGE], clients=aws.factory)

    assert status == 1
    assert capsys.readouterr().err == (
        "error: smoke test failed: cannot read stack DogBreeds-dev-Serving: "
        "not authorized to DescribeStacks\n"
    )


class WithoutCredentials:
    def describe_stacks(self, **_):
        raise NoCredentialsError()


def test_missing_credentials_say_how_to_sign_in():
    with pytest.raises(SmokeError, match=r"no AWS credentials to read stack DogBreeds-dev-Serving: sign in"):
        read_serving_outputs(WithoutCredentials(), STAGE)


def test_aws_region_from_the_environment_is_used_when_no_region_is_given(monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-2")

    cloudformation, apigateway = aws_clients(None)

    assert (cloudformation.meta.region_name, apigateway.meta.region_name) == ("eu-west-2", "eu-west-2")


def test_no_region_anywhere_is_an_error_that_says_how_to_set_one(monkeypatch):
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")

    with pytest.raises(SmokeError, match="no AWS region: pass --region or set AWS_REGION"):
        aws_clients(None)
