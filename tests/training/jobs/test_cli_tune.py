"""``tune``: the CreateHyperParameterTuningJob request (budget, ranges, objective, tags, channels)."""

from __future__ import annotations

import pytest
from cli_aws_helpers import (
    IMAGE_URI,
    TRAINING_IMAGES,
    create_training_job,
    moto_client,
    put_uploaded_dataset,
    run_cli,
)

from core import layout
from core.hyperparameters import DEFAULTS
from core.layout import input_channels
from training import aws

GROUP = f"{layout.APP_NAME}-dev"  # the stand-in Training stack's ModelPackageGroupName output


def tuning_job(name=None):
    sagemaker = moto_client("sagemaker")
    if name is None:
        [summary] = sagemaker.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
        name = summary["HyperParameterTuningJobName"]
    return sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)


@pytest.fixture
def subset(cli_dev):
    put_uploaded_dataset(cli_dev.bucket, layout.SUBSET_DATASET_NAME)
    return cli_dev


def tune(capsys, *extra):
    return run_cli(
        capsys, "tune", "--stage", "dev", "--max-jobs", "12", "--max-parallel", "3", "--yes", *extra
    )


def test_tune_limits_jobs_parallelism_and_each_jobs_runtime(subset, capsys):
    tune(capsys, "--max-runtime-hours", "2")

    job = tuning_job()
    assert job["HyperParameterTuningJobConfig"]["ResourceLimits"] == {
        "MaxNumberOfTrainingJobs": 12,
        "MaxParallelTrainingJobs": 3,
    }
    # dev trains on managed spot: a wait limit too (the stage's 12 h)
    assert job["TrainingJobDefinition"]["StoppingCondition"] == {
        "MaxRuntimeInSeconds": 7200,
        "MaxWaitTimeInSeconds": 43200,
    }
    assert job["TrainingJobDefinition"]["EnableManagedSpotTraining"] is True


def test_tune_searches_learning_rate_batch_size_and_optimizer(subset, capsys):
    tune(capsys)

    ranges = tuning_job()["HyperParameterTuningJobConfig"]["ParameterRanges"]
    assert ranges["ContinuousParameterRanges"] == [
        {"Name": "learning_rate", "MinValue": "0.00001", "MaxValue": "0.01", "ScalingType": "Logarithmic"}
    ]
    assert ranges["CategoricalParameterRanges"] == [
        {"Name": "mini_batch_size", "Values": ["16", "32"]},  # 64 > the 40 training images
        {"Name": "optimizer", "Values": ["sgd", "adam", "rmsprop", "nag"]},
    ]


def test_tune_maximizes_validation_accuracy_with_automatic_early_stopping(subset, capsys):
    tune(capsys)

    config = tuning_job()["HyperParameterTuningJobConfig"]
    assert config["HyperParameterTuningJobObjective"] == {
        "Type": "Maximize",
        "MetricName": "validation:accuracy",
    }
    assert config["TrainingJobEarlyStoppingType"] == "Auto"


def test_tune_fixes_the_other_hyperparameters_and_the_dataset_counts(subset, capsys):
    tune(capsys)

    static = tuning_job()["TrainingJobDefinition"]["StaticHyperParameters"]
    tuned = {"learning_rate", "mini_batch_size", "optimizer"}
    assert static == {
        **{name: value for name, value in DEFAULTS.items() if name not in tuned},
        "num_classes": "3",
        "num_training_samples": str(TRAINING_IMAGES),
    }


def test_tune_tags_the_job_with_the_stage(subset, capsys):
    tune(capsys)

    arn = tuning_job()["HyperParameterTuningJobArn"]
    tags = moto_client("sagemaker").list_tags(ResourceArn=arn)["Tags"]
    assert tags == layout.job_tags("dev")


def test_tune_uses_the_training_stacks_role_and_image(subset, capsys):
    tune(capsys)

    definition = tuning_job()["TrainingJobDefinition"]
    assert definition["RoleArn"] == subset.role_arn
    assert definition["AlgorithmSpecification"] == {"TrainingImage": IMAGE_URI, "TrainingInputMode": "File"}


def test_tune_reads_the_subset_dataset_in_four_channels(subset, capsys):
    tune(capsys)

    channels = tuning_job()["TrainingJobDefinition"]["InputDataConfig"]
    base = f"s3://{subset.bucket}/datasets/{layout.SUBSET_DATASET_NAME}/"
    assert {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in channels} == {
        "train": base + "train/",
        "validation": base + "validation/",
        "train_lst": base + "train.lst",
        "validation_lst": base + "validation.lst",
    }
    assert {c["ContentType"] for c in channels} == {"application/x-image"}


def test_full_dataset_option_tunes_on_the_full_dataset(cli_dev, capsys):
    put_uploaded_dataset(cli_dev.bucket, layout.DEFAULT_DATASET_NAME)

    status, _, _ = tune(capsys, "--full-dataset")

    channels = tuning_job()["TrainingJobDefinition"]["InputDataConfig"]
    assert status == 0
    assert channels[0]["DataSource"]["S3DataSource"]["S3Uri"].endswith("/datasets/stanford-dogs/train/")


def test_recordio_channels_are_the_two_record_files():
    channels = input_channels("bucket", "datasets/d/", "recordio")

    assert [
        (c["ChannelName"], c["ContentType"], c["DataSource"]["S3DataSource"]["S3Uri"]) for c in channels
    ] == [
        ("train", "application/x-recordio", "s3://bucket/datasets/d/train.rec"),
        ("validation", "application/x-recordio", "s3://bucket/datasets/d/validation.rec"),
    ]


def test_tune_prints_the_cost_of_max_jobs_at_their_runtime_limit(subset, capsys):
    _, out, err = tune(capsys, "--max-runtime-hours", "1")

    assert (
        "estimated cost: 12 training jobs x ml.g4dn.xlarge x 1 h at $0.736/h = at most $8.83 on demand" in err
    )
    assert out.startswith("tuning job: tune-dev-")


def test_tune_refuses_more_parallel_jobs_than_jobs_before_any_aws_call(capsys, monkeypatch):
    monkeypatch.setattr(aws, "client", lambda *a, **k: pytest.fail("AWS was called"))

    status, _, err = run_cli(
        capsys, "tune", "--stage", "dev", "--max-jobs", "2", "--max-parallel", "3", "--yes"
    )

    assert status == 1
    assert "--max-parallel 3 is more than --max-jobs 2" in err


def test_tune_refuses_a_runtime_above_the_stage_limit(capsys, monkeypatch):
    monkeypatch.setattr(aws, "client", lambda *a, **k: pytest.fail("AWS was called"))

    status, _, err = run_cli(
        capsys, "tune", "--stage", "dev", "--max-jobs", "2", "--max-parallel", "1", "--max-runtime-hours", "7"
    )

    assert status == 1
    assert "at most 6 (training_max_runtime_hours" in err


def test_tune_refuses_without_yes_when_stdin_is_not_a_terminal(subset, capsys):
    status, _, err = run_cli(capsys, "tune", "--stage", "dev", "--max-jobs", "2", "--max-parallel", "1")

    assert status == 1
    assert "pass --yes" in err
    assert (
        moto_client("sagemaker").list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"] == []
    )


def test_tune_wait_registers_the_best_training_job_through_the_gate(subset, capsys):
    # moto completes a tuning job at once, with a placeholder best job scoring 1
    create_training_job(subset, "FakeTrainingJobName", accuracy=0.9, dataset=layout.SUBSET_DATASET_NAME)
    sagemaker = moto_client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)

    status, out, _ = tune(capsys, "--wait", "--poll-seconds", "0")

    [version] = sagemaker.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    package = sagemaker.describe_model_package(ModelPackageName=version["ModelPackageArn"])
    assert status == 0
    assert "best training job: FakeTrainingJobName validation:accuracy=1.0000" in out
    assert f"registered FakeTrainingJobName as version 1 of {GROUP}" in out
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert package["CustomerMetadataProperties"] == {
        "trainingJob": "FakeTrainingJobName",
        "dataset": layout.dataset_prefix(layout.SUBSET_DATASET_NAME),
        "validationAccuracy": "0.9",
    }


def test_tune_wait_does_not_register_a_best_job_below_the_gate(subset, capsys):
    create_training_job(subset, "FakeTrainingJobName", accuracy=0.3, dataset=layout.SUBSET_DATASET_NAME)
    sagemaker = moto_client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)

    status, _, err = tune(capsys, "--wait", "--poll-seconds", "0")

    assert status == 1
    assert "training job FakeTrainingJobName reached validation:accuracy 0.3000, below the minimum" in err
    assert sagemaker.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"] == []


def test_tune_isolates_every_training_job_from_the_network(subset, capsys):
    tune(capsys)

    assert tuning_job()["TrainingJobDefinition"]["EnableNetworkIsolation"] is True
