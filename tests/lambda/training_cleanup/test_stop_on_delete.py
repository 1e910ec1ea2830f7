"""The destroy-time clean-up: a deleted training stack leaves nothing running that bills.

moto lists training and tuning jobs, their tags and Step Functions executions, but has no
StopTrainingJob, StopHyperParameterTuningJob or DeleteModelPackage (a thin proxy records those
calls instead), and
it creates training jobs already Completed (the tests set the ones they need back to InProgress).
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

import boto3
import pytest
import stop_on_delete
from moto import mock_aws
from moto.sagemaker.models import sagemaker_backends

from core import layout

REAL_CLIENT = boto3.client  # some tests replace boto3.client for the handler
ROLE = "arn:aws:iam::123456789012:role/training"
IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"


@pytest.fixture
def aws(fake_aws):
    with mock_aws():
        yield


class RecordingSageMaker:
    """moto's client, with the two Stop calls moto lacks recorded instead of sent."""

    def __init__(self) -> None:
        self._client = REAL_CLIENT("sagemaker")
        self.stopped: list[str] = []

    def __getattr__(self, name):
        return getattr(self._client, name)

    def stop_training_job(self, TrainingJobName):  # noqa: N803 - boto3's keyword
        self.stopped.append(TrainingJobName)

    def stop_hyper_parameter_tuning_job(self, HyperParameterTuningJobName):  # noqa: N803
        self.stopped.append(HyperParameterTuningJobName)

    def stop_transform_job(self, TransformJobName):  # noqa: N803
        self.stopped.append(TransformJobName)

    def delete_model_package(self, ModelPackageName):  # noqa: N803 - moto has no DeleteModelPackage either
        self.stopped.append(ModelPackageName)


def start_training_job(name: str, stage: str) -> None:
    boto3.client("sagemaker").create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        RoleArn=ROLE,
        OutputDataConfig={"S3OutputPath": "s3://bucket/training/output/"},
        ResourceConfig={"InstanceType": "ml.g4dn.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
        Tags=layout.job_tags(stage),
    )
    sagemaker_backends["123456789012"]["us-east-1"].training_jobs[name].training_job_status = "InProgress"


def state_machine_with_a_running_execution() -> str:
    stepfunctions = boto3.client("stepfunctions")
    arn = stepfunctions.create_state_machine(
        name="training",
        definition=json.dumps(
            {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}}}
        ),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    stepfunctions.start_execution(stateMachineArn=arn, name="dogbreeds-dev-run")
    return arn


def test_stops_the_running_executions_and_the_stage_jobs_only(aws):
    arn = state_machine_with_a_running_execution()
    start_training_job("dogbreeds-dev-1", "dev")
    start_training_job("dogbreeds-prod-1", "prod")
    start_training_job("dogbreeds-dev-0", "dev")
    sagemaker_backends["123456789012"]["us-east-1"].training_jobs[
        "dogbreeds-dev-0"
    ].training_job_status = "Completed"
    sagemaker = RecordingSageMaker()

    stopped, problems = stop_on_delete.stop_everything(arn, "dev", boto3.client("stepfunctions"), sagemaker)

    assert problems == []
    assert sagemaker.stopped == ["dogbreeds-dev-1"]
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]
    assert [e["status"] for e in executions] == ["ABORTED"]
    assert len(stopped) == 2


def test_one_failure_does_not_keep_the_other_jobs_running(aws):
    arn = state_machine_with_a_running_execution()
    start_training_job("dogbreeds-dev-1", "dev")
    start_training_job("dogbreeds-dev-2", "dev")
    sagemaker = RecordingSageMaker()
    calls = []

    def flaky_stop(TrainingJobName):  # noqa: N803
        calls.append(TrainingJobName)
        if len(calls) == 1:
            raise RuntimeError("throttled")
        sagemaker.stopped.append(TrainingJobName)

    sagemaker.stop_training_job = flaky_stop
    stopped, problems = stop_on_delete.stop_everything(arn, "dev", boto3.client("stepfunctions"), sagemaker)

    assert len(calls) == 2
    assert len(sagemaker.stopped) == 1
    assert problems == [f"training job {calls[0]} (RuntimeError)"]


class _CloudFormation(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_PUT(self):  # noqa: N802 - http.server's naming
        length = int(self.headers["Content-Length"])
        _CloudFormation.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def response_url(local_http):
    _CloudFormation.received = []
    return f"{local_http(_CloudFormation)}/response", _CloudFormation.received


def cloudformation_event(request_type: str, url: str, state_machine_arn: str, group: str = "") -> dict:
    return {
        "RequestType": request_type,
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/DogBreeds-dev-Training/1",
        "RequestId": "request-1",
        "LogicalResourceId": "WorkflowStopOnDelete",
        "ResourceProperties": {
            "StateMachineArn": state_machine_arn,
            "Stage": "dev",
            "ModelPackageGroupToEmpty": group,
        },
    }


def test_create_does_nothing_and_answers_success(aws, response_url):
    url, received = response_url
    arn = state_machine_with_a_running_execution()
    stop_on_delete.handler(cloudformation_event("Create", url, arn), None)
    (response,) = received
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == "WorkflowStopOnDelete-stop-on-delete"
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]
    assert [e["status"] for e in executions] == ["RUNNING"]


def test_delete_stops_the_execution_and_reports_it_to_cloudformation(aws, response_url, monkeypatch):
    url, received = response_url
    arn = state_machine_with_a_running_execution()
    monkeypatch.setattr(stop_on_delete.boto3, "client", _clients_with_recording_sagemaker())
    stop_on_delete.handler(cloudformation_event("Delete", url, arn), None)
    (response,) = received
    assert response["Status"] == "SUCCESS"
    assert "stopped or deleted 1: execution" in response["Reason"]
    assert response["RequestId"] == "request-1"


def _clients_with_recording_sagemaker():
    def client(service, *args, **kwargs):
        return RecordingSageMaker() if service == "sagemaker" else REAL_CLIENT(service, *args, **kwargs)

    return client


def test_stops_the_stage_tuning_jobs(aws):
    arn = state_machine_with_a_running_execution()
    for name, stage in (("dogbreeds-dev-tune", "dev"), ("dogbreeds-prod-tune", "prod")):
        boto3.client("sagemaker").create_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name,
            HyperParameterTuningJobConfig={
                "Strategy": "Bayesian",
                "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
            },
            Tags=layout.job_tags(stage),
        )
        tuning = sagemaker_backends["123456789012"]["us-east-1"].hyper_parameter_tuning_jobs[name]
        tuning.hyper_parameter_tuning_job_status = "InProgress"
    sagemaker = RecordingSageMaker()

    stop_on_delete.stop_everything(arn, "dev", boto3.client("stepfunctions"), sagemaker)

    assert sagemaker.stopped == ["dogbreeds-dev-tune"]


def test_delete_empties_the_model_package_group_it_was_told_to(aws, response_url, monkeypatch):
    url, received = response_url
    arn = state_machine_with_a_running_execution()
    sagemaker = REAL_CLIENT("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName="DogBreeds-dev-Training")
    package = sagemaker.create_model_package(
        ModelPackageGroupName="DogBreeds-dev-Training",
        InferenceSpecification={
            "Containers": [{"Image": IMAGE, "ModelDataUrl": "s3://bucket/model.tar.gz"}],
            "SupportedContentTypes": ["application/x-image"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
    )["ModelPackageArn"]
    recording = RecordingSageMaker()
    monkeypatch.setattr(
        stop_on_delete.boto3,
        "client",
        lambda service, *a, **k: recording if service == "sagemaker" else REAL_CLIENT(service, *a, **k),
    )

    stop_on_delete.handler(cloudformation_event("Delete", url, arn, group="DogBreeds-dev-Training"), None)

    assert recording.stopped == [package]
    assert received[0]["Status"] == "SUCCESS"


def test_stops_the_stage_evaluation_transform_jobs(aws):
    arn = state_machine_with_a_running_execution()
    sagemaker_api = REAL_CLIENT("sagemaker")
    for name, stage in (("dogbreeds-dev-eval", "dev"), ("dogbreeds-prod-eval", "prod")):
        sagemaker_api.create_transform_job(
            TransformJobName=name,
            ModelName="model",
            TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/v/"}}},
            TransformOutput={"S3OutputPath": "s3://b/out/"},
            TransformResources={"InstanceType": "ml.g4dn.xlarge", "InstanceCount": 1},
            Tags=layout.job_tags(stage),
        )
        sagemaker_backends["123456789012"]["us-east-1"].transform_jobs[
            name
        ].transform_job_status = "InProgress"
    sagemaker = RecordingSageMaker()

    stop_on_delete.stop_everything(arn, "dev", boto3.client("stepfunctions"), sagemaker)

    assert sagemaker.stopped == ["dogbreeds-dev-eval"]
