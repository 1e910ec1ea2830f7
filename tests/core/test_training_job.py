"""One training-job definition: the state machine's CreateTrainingJob and tune's TrainingJobDefinition."""

from __future__ import annotations

import pytest

from core import layout
from core.json_path import JsonPath
from core.training_job import (
    TrainingJobSpec,
    checkpoint_uri,
    create_training_job_request,
    tuning_job_definition,
)

CHANNELS = layout.input_channels("data-bucket", "datasets/dogs/", "lst")


def spec(**changes) -> TrainingJobSpec:
    fields = {
        "stage": "dev",
        "image_uri": "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1",
        "role_arn": "arn:aws:iam::123456789012:role/training",
        "bucket": "data-bucket",
        "channels": CHANNELS,
        "hyperparameters": {"learning_rate": "0.001", "epochs": "5"},
        "instance_type": "ml.p3.2xlarge",
        "instance_count": 1,
        "max_runtime_seconds": 3600,
        "spot": True,
        "max_wait_seconds": 7200,
    }
    return TrainingJobSpec(**{**fields, **changes})


def test_state_machine_form_renders_run_time_values_as_json_paths() -> None:
    request = create_training_job_request(
        spec(
            name=JsonPath("$.prepared.trainingJobName"),
            channels=JsonPath("$.prepared.channels"),
            hyperparameters=JsonPath("$.prepared.hyperParameters"),
            instance_count=JsonPath("$.prepared.instanceCount"),
            checkpoint_uri=JsonPath("$.prepared.checkpointUri"),
        )
    )
    assert request == {
        "TrainingJobName.$": "$.prepared.trainingJobName",
        "AlgorithmSpecification": {
            "TrainingImage": "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1",
            "TrainingInputMode": "File",
            "EnableSageMakerMetricsTimeSeries": True,
        },
        "RoleArn": "arn:aws:iam::123456789012:role/training",
        "HyperParameters.$": "$.prepared.hyperParameters",
        "InputDataConfig.$": "$.prepared.channels",
        "OutputDataConfig": {"S3OutputPath": "s3://data-bucket/training/output/"},
        "ResourceConfig": {
            "InstanceType": "ml.p3.2xlarge",
            "InstanceCount.$": "$.prepared.instanceCount",
            "VolumeSizeInGB": 50,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200},
        "EnableManagedSpotTraining": True,
        "EnableNetworkIsolation": True,
        "CheckpointConfig": {"S3Uri.$": "$.prepared.checkpointUri"},
        "Tags": [{"Key": "Project", "Value": "DogBreeds"}, {"Key": "Stage", "Value": "dev"}],
    }


def test_state_machine_field_order_is_the_one_its_template_was_built_with() -> None:
    request = create_training_job_request(spec(name=JsonPath("$.n"), checkpoint_uri="s3://b/c/"))
    assert list(request) == [
        "TrainingJobName.$",
        "AlgorithmSpecification",
        "RoleArn",
        "HyperParameters",
        "InputDataConfig",
        "OutputDataConfig",
        "ResourceConfig",
        "StoppingCondition",
        "EnableManagedSpotTraining",
        "EnableNetworkIsolation",
        "CheckpointConfig",
        "Tags",
    ]


def test_tuning_definition_is_the_training_request_less_what_the_tuning_job_owns() -> None:
    training = create_training_job_request(spec())
    definition = tuning_job_definition(spec(), tuned=("learning_rate",))
    assert definition["StaticHyperParameters"] == {"epochs": "5"}
    assert definition["AlgorithmSpecification"] == {
        "TrainingImage": training["AlgorithmSpecification"]["TrainingImage"],
        "TrainingInputMode": "File",
    }
    shared = set(training) - {"TrainingJobName", "Tags", "HyperParameters", "AlgorithmSpecification"}
    assert {name: definition[name] for name in shared} == {name: training[name] for name in shared}
    assert "Tags" not in definition and "TrainingJobName" not in definition
    assert definition["ResourceConfig"]["VolumeSizeInGB"] == 50
    assert definition["EnableNetworkIsolation"] is True


def test_tuning_definition_refuses_run_time_values() -> None:
    with pytest.raises(ValueError, match="cannot hold JsonPath values"):
        tuning_job_definition(spec(channels=JsonPath("$.prepared.channels")))


def test_on_demand_jobs_have_no_wait_limit() -> None:
    request = create_training_job_request(spec(spot=False))
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert request["EnableManagedSpotTraining"] is False


def test_spot_wait_limit_is_at_least_the_runtime() -> None:
    request = create_training_job_request(spec(max_runtime_seconds=7200, max_wait_seconds=3600))
    assert request["StoppingCondition"]["MaxWaitTimeInSeconds"] == 7200


def test_without_checkpoints_there_is_no_checkpoint_config() -> None:
    assert "CheckpointConfig" not in create_training_job_request(spec())


def test_checkpoints_go_under_the_job_name() -> None:
    assert checkpoint_uri("b", "job-1") == "s3://b/training/checkpoints/job-1/"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_runtime_seconds": 0}, "max_runtime_seconds=0: expected at least 1"),
        ({"instance_count": 0}, "instance_count=0: expected at least 1"),
        ({"max_wait_seconds": 0}, "max_wait_seconds=0: a spot job needs a wait limit"),
    ],
)
def test_impossible_limits_are_refused(changes, message) -> None:
    with pytest.raises(ValueError, match=message):
        spec(**changes)


def test_json_path_must_be_a_path_or_an_intrinsic_function() -> None:
    with pytest.raises(ValueError, match=r"JsonPath\('prepared'\): expected a path starting with '\$'"):
        JsonPath("prepared")
    assert JsonPath("States.Format('{}', $.x)").expression.startswith("States.")
