"""``status``: the stage's jobs only, with accuracy, billable time and cost."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from cli_aws_helpers import create_training_job, moto_client, run_cli

from core import layout
from core.model_package import ModelPackageSpec, create_model_package_request
from training.commands.status import cost

GROUP = f"{layout.APP_NAME}-dev"  # the stand-in Training stack's ModelPackageGroupName output


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


def test_status_says_when_the_stage_has_no_jobs_and_no_models(cli_dev, capsys):
    _, out, _ = run_cli(capsys, "status", "--stage", "dev")

    assert out == (
        f"no training jobs for stage dev\n\nno tuning jobs for stage dev\n\nno model versions in {GROUP}\n"
    )


def test_status_says_a_stage_is_not_deployed_instead_of_no_jobs(cli_dev, capsys):
    status, out, _ = run_cli(capsys, "status", "--stage", "prod")

    assert status == 0
    assert out == (
        "stage prod: stack DogBreeds-prod-Training is not deployed in us-east-1: "
        "run `npx cdk deploy --all -c stage=prod` first\n"
    )


def test_status_still_lists_the_jobs_of_a_stage_that_is_not_deployed(cli_dev, capsys):
    create_training_job(cli_dev, "dogbreeds-prod-1", tags_stage="prod")

    _, out, _ = run_cli(capsys, "status", "--stage", "prod")

    assert out.startswith("stage prod: stack DogBreeds-prod-Training is not deployed")
    assert [row[0] for row in table_rows(out, "TRAINING JOB")] == ["dogbreeds-prod-1"]


def test_status_shows_the_registry_with_approval_accuracy_force_and_the_pin(cli_dev, capsys, tmp_path):
    sagemaker = moto_client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    for job, accuracy, forced in (("dogbreeds-dev-1", "0.81", None), ("dogbreeds-dev-2", "0.42", "below")):
        sagemaker.create_model_package(
            **create_model_package_request(
                ModelPackageSpec(
                    group=GROUP,
                    image_uri="image",
                    model_data_url=f"s3://{cli_dev.bucket}/training/output/{job}/output/model.tar.gz",
                    training_job=job,
                    dataset="datasets/stanford-dogs/",
                    validation_accuracy=accuracy,
                    serving_instance_type="ml.g4dn.xlarge",
                    forced=forced,
                )
            )
        )
    sagemaker.update_model_package(
        ModelPackageArn=f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{GROUP.lower()}/1",
        ModelApprovalStatus="Approved",
        # moto replaces the metadata on update (SageMaker keeps it): send it again
        CustomerMetadataProperties={
            "trainingJob": "dogbreeds-dev-1",
            "dataset": "datasets/stanford-dogs/",
            "validationAccuracy": "0.81",
        },
    )
    url = f"s3://{cli_dev.bucket}/training/output/dogbreeds-dev-1/output/model.tar.gz"
    (tmp_path / "dev.json").write_text(json.dumps({"stage": "dev", "modelDataUrl": url}))

    _, out, _ = run_cli(capsys, "status", "--stage", "dev", "--models-dir", tmp_path)

    assert sorted(table_rows(out, "VERSION")) == [
        ["1", "Approved", "0.8100", "dogbreeds-dev-1", "-", "yes"],
        ["2", "PendingManualApproval", "0.4200", "dogbreeds-dev-2", "yes", "-"],
    ]


def test_running_spot_job_cost_is_an_estimate_with_the_typical_saving():
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    job = {
        "TrainingJobStatus": "InProgress",
        "TrainingStartTime": now - timedelta(hours=10),
        "EnableManagedSpotTraining": True,
        "ResourceConfig": {"InstanceType": "ml.g4dn.xlarge", "InstanceCount": 1},
    }

    assert cost(job, now) == "~$2.21"  # 10 h x 0.736 x (1 - 0.7)
