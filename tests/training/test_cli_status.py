"""``status``: the stage's jobs only, with accuracy, billable time and cost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cli_aws_helpers import create_training_job, moto_client, run_cli

from core import layout
from training.commands.status import cost


def create_tuning_job(name, stage, role_arn):
    moto_client("sagemaker").create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig={
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 8, "MaxParallelTrainingJobs": 2},
        },
        TrainingJobDefinition={
            "AlgorithmSpecification": {"TrainingImage": "image", "TrainingInputMode": "File"},
            "RoleArn": role_arn,
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/out/"},
            "ResourceConfig": {"InstanceType": "ml.g4dn.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
        Tags=layout.job_tags(stage),
    )


def table_rows(out, header):
    """The rows of the table whose header starts with ``header``, as lists of cells."""
    lines = out.split("\n\n")
    block = next(b for b in lines if b.startswith(header)).splitlines()
    return [line.split() for line in block[1:]]


def test_status_lists_only_the_stages_training_jobs(cli_dev, capsys):
    create_training_job(cli_dev, "dogbreeds-dev-1")
    create_training_job(cli_dev, "dogbreeds-prod-1", tags_stage="prod")

    status, out, _ = run_cli(capsys, "status", "--stage", "dev")

    assert status == 0
    assert [row[0] for row in table_rows(out, "TRAINING JOB")] == ["dogbreeds-dev-1"]


def test_status_shows_status_and_validation_accuracy(cli_dev, capsys):
    create_training_job(cli_dev, "dogbreeds-dev-1", accuracy=0.8125)

    _, out, _ = run_cli(capsys, "status", "--stage", "dev")

    [row] = table_rows(out, "TRAINING JOB")
    assert row[1:3] == ["Completed", "0.8125"]


def test_status_prices_billable_seconds(cli_dev, capsys):
    # one hour billed of an ml.g4dn.xlarge (0.736/h in the price table)
    create_training_job(
        cli_dev, "dogbreeds-dev-1", billable_time_in_seconds=3600, training_time_in_seconds=7200
    )

    _, out, _ = run_cli(capsys, "status", "--stage", "dev")

    [row] = table_rows(out, "TRAINING JOB")
    assert row[-3:] == ["2h00m", "1h00m", "$0.74"]


def test_status_lists_only_the_stages_tuning_jobs(cli_dev, capsys):
    create_tuning_job("tune-dev-1", "dev", cli_dev.role_arn)
    create_tuning_job("tune-prod-1", "prod", cli_dev.role_arn)

    _, out, _ = run_cli(capsys, "status", "--stage", "dev")

    [row] = table_rows(out, "TUNING JOB")
    assert row[:3] == ["tune-dev-1", "Completed", "1/8"]


def test_status_says_when_the_stage_has_no_jobs(cli_dev, capsys):
    _, out, _ = run_cli(capsys, "status", "--stage", "prod")

    assert out == "no training jobs for stage prod\n\nno tuning jobs for stage prod\n"


def test_running_spot_job_cost_is_an_estimate_with_the_typical_saving():
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    job = {
        "TrainingJobStatus": "InProgress",
        "TrainingStartTime": now - timedelta(hours=10),
        "EnableManagedSpotTraining": True,
        "ResourceConfig": {"InstanceType": "ml.g4dn.xlarge", "InstanceCount": 1},
    }

    assert cost(job, now) == "~$2.21"  # 10 h x 0.736 x (1 - 0.7)
