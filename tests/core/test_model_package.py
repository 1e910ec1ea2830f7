"""The model registry's records: what is registered and what promote reads back."""

from __future__ import annotations

from core.json_path import JsonPath
from core.model_package import (
    ModelPackageSpec,
    RegisteredModel,
    approval_request,
    create_model_package_request,
)

IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"


def spec(**changes) -> ModelPackageSpec:
    fields = {
        "group": "DogBreeds-dev-Training",
        "image_uri": IMAGE,
        "model_data_url": "s3://b/training/output/job-1/output/model.tar.gz",
        "training_job": "job-1",
        "dataset": "datasets/dogs/",
        "validation_accuracy": "0.85",
        "serving_instance_type": "ml.m5.large",
    }
    return ModelPackageSpec(**{**fields, **changes})


def test_cli_form_names_the_job_dataset_and_accuracy() -> None:
    request = create_model_package_request(spec())
    assert request["ModelPackageDescription"] == "Training job job-1"
    assert request["ModelApprovalStatus"] == "PendingManualApproval"
    assert request["CustomerMetadataProperties"] == {
        "trainingJob": "job-1",
        "dataset": "datasets/dogs/",
        "validationAccuracy": "0.85",
    }
    assert request["InferenceSpecification"]["Containers"] == [
        {"Image": IMAGE, "ModelDataUrl": "s3://b/training/output/job-1/output/model.tar.gz"}
    ]
    assert request["InferenceSpecification"]["SupportedRealtimeInferenceInstanceTypes"] == ["ml.m5.large"]


def test_state_machine_form_is_the_registered_states_parameters() -> None:
    request = create_model_package_request(
        spec(
            model_data_url=JsonPath("$.training.ModelArtifacts.S3ModelArtifacts"),
            training_job=JsonPath("$.prepared.trainingJobName"),
            dataset=JsonPath("$.dataset"),
            validation_accuracy=JsonPath("States.Format('{}', $.metric.accuracy[0])"),
        )
    )
    assert (
        request["ModelPackageDescription.$"] == "States.Format('Training job {}', $.prepared.trainingJobName)"
    )
    assert request["InferenceSpecification"]["Containers"][0]["ModelDataUrl.$"] == (
        "$.training.ModelArtifacts.S3ModelArtifacts"
    )
    assert request["CustomerMetadataProperties"] == {
        "trainingJob.$": "$.prepared.trainingJobName",
        "dataset.$": "$.dataset",
        "validationAccuracy.$": "States.Format('{}', $.metric.accuracy[0])",
    }


def test_a_forced_registration_is_recorded_in_the_metadata() -> None:
    request = create_model_package_request(spec(forced="below the gate; promoted with --force"))
    assert (
        request["CustomerMetadataProperties"]["forcedRegistration"] == "below the gate; promoted with --force"
    )


def test_registered_model_reads_the_registry_record() -> None:
    request = create_model_package_request(spec(forced="yes"))
    described = {
        **request,
        "ModelPackageArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/dogbreeds-dev-training/3",
        "ModelPackageVersion": 3,
        "ApprovalDescription": "approved",
    }
    model = RegisteredModel.from_description(described)
    assert (model.version, model.training_job, model.validation_accuracy, model.forced) == (
        3,
        "job-1",
        0.85,
        "yes",
    )
    assert model.model_data_url == "s3://b/training/output/job-1/output/model.tar.gz"
    assert model.approval == "PendingManualApproval"


def test_unreadable_accuracy_reads_as_none() -> None:
    described = {"ModelPackageArn": "a", "CustomerMetadataProperties": {"validationAccuracy": "n/a"}}
    assert RegisteredModel.from_description(described).validation_accuracy is None


def test_approval_says_why() -> None:
    assert approval_request("arn", "why") == {
        "ModelPackageArn": "arn",
        "ModelApprovalStatus": "Approved",
        "ApprovalDescription": "why",
    }
