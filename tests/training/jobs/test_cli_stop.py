"""``stop``: an in-progress job of the stage, and its execution; refusals and clear messages.

moto has no StopTrainingJob or StopHyperParameterTuningJob, so these tests answer the SageMaker
calls with botocore's Stubber; CloudFormation and Step Functions are moto's.
"""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber
from cli_aws_helpers import ACCOUNT, REGION, moto_client, run_cli

from core import layout
from training import aws

JOB = "dogbreeds-dev-20260101-120000"
JOB_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{JOB}"
TUNING = "tune-dev-260101-120000"
TUNING_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:hyper-parameter-tuning-job/{TUNING}"


@pytest.fixture
def stubbed_sagemaker(cli_dev, monkeypatch):
    """The commands' SageMaker client, answered by a Stubber; other services stay moto's."""
    sagemaker = moto_client("sagemaker")
    stubber = Stubber(sagemaker)
    create = aws.client
    monkeypatch.setattr(
        aws, "client", lambda service, **kw: sagemaker if service == "sagemaker" else create(service)
    )
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


def training_job(status):
    return {
        "TrainingJobName": JOB,
        "TrainingJobArn": JOB_ARN,
        "TrainingJobStatus": status,
        "SecondaryStatus": "Training",
        "AlgorithmSpecification": {"TrainingInputMode": "File"},
        "ResourceConfig": {"InstanceCount": 1, "VolumeSizeInGB": 50},
        "StoppingCondition": {},
        "CreationTime": "2026-01-01T12:00:00Z",
        "ModelArtifacts": {"S3ModelArtifacts": ""},
    }


def expect_training_job(stubber, status, stage="dev"):
    stubber.add_response("describe_training_job", training_job(status), {"TrainingJobName": JOB})
    stubber.add_response("list_tags", {"Tags": layout.job_tags(stage)}, {"ResourceArn": JOB_ARN})


def expect_no_training_job(stubber, name):
    stubber.add_client_error(
        "describe_training_job",
        "ValidationException",
        "Requested resource not found.",
        400,
        {"TrainingJobName": name},
    )


def start_execution(deployed, name):
    sfn = moto_client("stepfunctions")
    return sfn.start_execution(stateMachineArn=deployed.state_machine_arn, name=name, input=json.dumps({}))[
        "executionArn"
    ]


def execution_status(arn):
    return moto_client("stepfunctions").describe_execution(executionArn=arn)["status"]


def test_stop_stops_an_in_progress_training_job_of_the_stage(stubbed_sagemaker, capsys):
    expect_training_job(stubbed_sagemaker, "InProgress")
    stubbed_sagemaker.add_response("stop_training_job", {}, {"TrainingJobName": JOB})

    status, out, _ = run_cli(capsys, "stop", JOB, "--stage", "dev")

    assert status == 0
    assert f"stopping training job {JOB}" in out


def test_stop_also_stops_the_running_execution_of_the_same_name(cli_dev, stubbed_sagemaker, capsys):
    execution = start_execution(cli_dev, JOB)
    expect_training_job(stubbed_sagemaker, "InProgress")
    stubbed_sagemaker.add_response("stop_training_job", {}, {"TrainingJobName": JOB})

    run_cli(capsys, "stop", JOB, "--stage", "dev")

    assert execution_status(execution) == "ABORTED"


def test_stop_refuses_another_stages_job(stubbed_sagemaker, capsys):
    expect_training_job(stubbed_sagemaker, "InProgress", stage="prod")

    status, _, err = run_cli(capsys, "stop", JOB, "--stage", "dev")

    assert status == 1
    assert err == f"error: training job {JOB} belongs to stage prod, not dev: pass --stage prod\n"


def test_stop_says_when_the_job_already_finished(stubbed_sagemaker, capsys):
    expect_training_job(stubbed_sagemaker, "Completed")

    status, _, err = run_cli(capsys, "stop", JOB, "--stage", "dev")

    assert status == 1
    assert err == f"error: training job {JOB} already finished (Completed): nothing to stop\n"


def test_stop_stops_a_tuning_job_of_the_stage(stubbed_sagemaker, capsys):
    expect_no_training_job(stubbed_sagemaker, TUNING)
    stubbed_sagemaker.add_response(
        "describe_hyper_parameter_tuning_job",
        {
            "HyperParameterTuningJobName": TUNING,
            "HyperParameterTuningJobArn": TUNING_ARN,
            "HyperParameterTuningJobConfig": {
                "Strategy": "Bayesian",
                "ResourceLimits": {"MaxParallelTrainingJobs": 1},
            },
            "HyperParameterTuningJobStatus": "InProgress",
            "CreationTime": "2026-01-01T12:00:00Z",
            "TrainingJobStatusCounters": {},
            "ObjectiveStatusCounters": {},
        },
        {"HyperParameterTuningJobName": TUNING},
    )
    stubbed_sagemaker.add_response("list_tags", {"Tags": layout.job_tags("dev")}, {"ResourceArn": TUNING_ARN})
    stubbed_sagemaker.add_response(
        "stop_hyper_parameter_tuning_job", {}, {"HyperParameterTuningJobName": TUNING}
    )

    status, out, _ = run_cli(capsys, "stop", TUNING, "--stage", "dev")

    assert status == 0
    assert f"stopping tuning job {TUNING}" in out


def test_stop_says_when_no_job_or_execution_has_the_name(cli_dev, capsys):
    status, _, err = run_cli(capsys, "stop", "dogbreeds-dev-nothing", "--stage", "dev")

    assert status == 1
    assert "no training job, tuning job or running training execution named dogbreeds-dev-nothing" in err


def test_stop_stops_an_execution_still_checking_its_data(cli_dev, capsys):
    # moto: the job does not exist yet, the execution runs
    execution = start_execution(cli_dev, JOB)

    status, out, _ = run_cli(capsys, "stop", JOB, "--stage", "dev")

    assert status == 0
    assert execution_status(execution) == "ABORTED"
    assert f"stopped execution {execution}" in out
