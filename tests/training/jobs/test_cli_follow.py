"""``--wait``: following an execution or a tuning job to its end, and the reason when it fails.

moto's Step Functions runs no real state machine (an execution stays RUNNING), so the execution's
answers come from botocore's Stubber; SageMaker jobs and CloudWatch logs are moto's.
"""

from __future__ import annotations

import time

import pytest
from botocore.stub import Stubber
from cli_aws_helpers import ACCOUNT, REGION, create_training_job, moto_client

from training.errors import TrainingError
from training.jobs import follow
from training.jobs.follow import LOG_GROUP, ValidationLog, follow_training, follow_tuning

JOB = "dogbreeds-dev-20260101-120000"
EXECUTION_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:Training:{JOB}"


@pytest.fixture
def polls(monkeypatch):
    """Counts the pauses between polls instead of sleeping."""
    pauses: list[float] = []
    monkeypatch.setattr(follow, "pause", pauses.append)
    return pauses


@pytest.fixture
def stubbed_sfn():
    sfn = moto_client("stepfunctions")
    with Stubber(sfn) as stubber:
        yield sfn, stubber


def execution(status, **details):
    return {
        "executionArn": EXECUTION_ARN,
        "stateMachineArn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Training",
        "name": JOB,
        "status": status,
        "startDate": "2026-01-01T12:00:00Z",
        **details,
    }


def follow_job(sfn, statuses):
    for status, details in statuses:
        sfn[1].add_response(
            "describe_execution", execution(status, **details), {"executionArn": EXECUTION_ARN}
        )
    clients = (moto_client(service) for service in ("sagemaker", "logs"))
    return follow_training(sfn[0], *clients, EXECUTION_ARN, JOB, poll_seconds=5)


def write_logs(*messages):
    logs = moto_client("logs")
    logs.create_log_group(logGroupName=LOG_GROUP)
    stream = f"{JOB}/algo-1-1767268800"
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now + i, "message": message} for i, message in enumerate(messages)]
    logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream, logEvents=events)


def test_follow_training_polls_until_the_execution_succeeds(cli_dev, stubbed_sfn, polls):
    create_training_job(cli_dev, JOB, accuracy=0.85)

    job = follow_job(stubbed_sfn, [("RUNNING", {}), ("RUNNING", {}), ("SUCCEEDED", {})])

    assert job["TrainingJobName"] == JOB
    assert polls == [5, 5]


def test_follow_training_prints_status_epoch_and_validation_accuracy(cli_dev, stubbed_sfn, polls, capsys):
    create_training_job(cli_dev, JOB, status="InProgress")
    write_logs(
        "Epoch[0] Train-accuracy=0.41",
        "Epoch[0] Validation-accuracy=0.500000",
        "Epoch[1] Validation-accuracy=0.812500",
    )

    follow_job(stubbed_sfn, [("SUCCEEDED", {})])

    assert (
        "execution SUCCEEDED, job InProgress/Training, epoch 1 validation accuracy 0.8125"
        in capsys.readouterr().err
    )


def test_follow_training_fails_with_the_jobs_failure_reason(cli_dev, stubbed_sfn, polls):
    create_training_job(
        cli_dev, JOB, status="Failed", failure_reason="AlgorithmError: mini_batch_size too large"
    )

    with pytest.raises(
        TrainingError, match=f"training job {JOB} failed: AlgorithmError: mini_batch_size too large"
    ):
        follow_job(stubbed_sfn, [("FAILED", {"error": "States.TaskFailed", "cause": "{...}"})])


def test_follow_training_fails_with_the_executions_error_and_cause_before_any_job(
    cli_aws, stubbed_sfn, polls
):
    failed = ("FAILED", {"error": "DataCheckFailed", "cause": "train.lst is empty"})

    with pytest.raises(TrainingError, match=f"execution {JOB} FAILED: DataCheckFailed: train.lst is empty"):
        follow_job(stubbed_sfn, [failed])


def test_follow_tuning_fails_with_the_failure_reason(cli_aws, polls):
    sagemaker = moto_client("sagemaker")
    answer = {
        "HyperParameterTuningJobName": "tune-dev-1",
        "HyperParameterTuningJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:hyper-parameter-tuning-job/t",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxParallelTrainingJobs": 1},
        },
        "HyperParameterTuningJobStatus": "Failed",
        "FailureReason": "All training jobs failed",
        "CreationTime": "2026-01-01T12:00:00Z",
        "TrainingJobStatusCounters": {"NonRetryableError": 2},
        "ObjectiveStatusCounters": {},
    }
    with Stubber(sagemaker) as stubber:
        stubber.add_response("describe_hyper_parameter_tuning_job", answer)

        with pytest.raises(TrainingError, match="tuning job tune-dev-1 failed: All training jobs failed"):
            follow_tuning(sagemaker, "tune-dev-1", poll_seconds=5)


def test_validation_log_keeps_the_latest_epoch():
    log = ValidationLog(logs=None, job_name=JOB)

    for timestamp, message in [
        (3, "Epoch[2] Validation-accuracy=0.7"),
        (1, "Epoch[1] Validation-accuracy=0.9"),
    ]:
        log.read_event({"timestamp": timestamp, "message": message})

    assert log.latest == (2, 0.7)
