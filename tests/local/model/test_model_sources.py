"""Remote sources: an s3:// URL (moto) and a training job name (moto, botocore Stubber for error paths)."""

from __future__ import annotations

import re

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from local.model import ModelLoadError, load, write_test_model
from local.model import sources as model_sources

BUCKET = "dogbreeds-models"


@pytest.fixture
def s3_model(fake_aws, tmp_path):
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.upload_file(
            str(write_test_model(tmp_path / "model.tar.gz", num_classes=6)),
            BUCKET,
            "jobs/job-1/output/model.tar.gz",
        )
        yield f"s3://{BUCKET}/jobs/job-1/output/model.tar.gz"


def test_s3_url_is_downloaded_with_progress(s3_model, capsys):
    model = load(s3_model)

    assert model.num_classes == 6 and model.epoch == 7
    err = capsys.readouterr().err
    last_line = rf"^Downloading {re.escape(s3_model)}: (\d+\.\d\d)/\1 MB \(100%\) in \d+\.\d s\n$"
    assert re.search(last_line, err), err


def test_missing_s3_object_says_not_found(s3_model):
    with pytest.raises(ModelLoadError, match="not found in S3"):
        load(f"s3://{BUCKET}/jobs/nothing/model.tar.gz")


def test_s3_url_without_key_is_refused(fake_aws):
    with pytest.raises(ModelLoadError, match="not an s3://bucket/key URL"):
        load(f"s3://{BUCKET}")


def test_training_job_name_loads_its_model_artifacts(s3_model):
    boto3.client("sagemaker", region_name="us-east-1").create_training_job(
        TrainingJobName="job-1",
        AlgorithmSpecification={
            "TrainingImage": "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1",
            "TrainingInputMode": "File",
        },
        RoleArn="arn:aws:iam::123456789012:role/training",
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/jobs"},
        ResourceConfig={"InstanceType": "ml.p3.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )

    model = load("job-1", region="us-east-1")

    assert model.num_classes == 6


def _stubbed_sagemaker(monkeypatch, method_response=None, error_code=None, message=""):
    client = boto3.client("sagemaker", region_name="us-east-1")
    stubber = Stubber(client)
    if error_code:
        stubber.add_client_error("describe_training_job", error_code, message)
    else:
        stubber.add_response("describe_training_job", method_response)
    stubber.activate()
    monkeypatch.setattr(model_sources, "_client", lambda service, region: client)
    return stubber


def test_unknown_training_job_says_neither_file_nor_job(fake_aws, monkeypatch):
    _stubbed_sagemaker(monkeypatch, error_code="ValidationException", message="Requested resource not found.")

    with pytest.raises(ModelLoadError, match="no such local file or folder, and no training job"):
        load("no-such-job")


def test_training_job_still_running_says_its_status(fake_aws, monkeypatch):
    response = {
        "TrainingJobName": "job-2",
        "TrainingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/job-2",
        "ModelArtifacts": {"S3ModelArtifacts": ""},
        "TrainingJobStatus": "InProgress",
        "SecondaryStatus": "Training",
        "AlgorithmSpecification": {"TrainingInputMode": "File"},
        "ResourceConfig": {"InstanceCount": 1, "VolumeSizeInGB": 50},
        "StoppingCondition": {},
        "CreationTime": "2026-01-01T00:00:00Z",
    }
    _stubbed_sagemaker(monkeypatch, method_response=response)

    with pytest.raises(ModelLoadError, match="training job job-2 is InProgress, not Completed"):
        load("job-2")


def test_a_path_that_is_neither_file_nor_job_name(fake_aws):
    with pytest.raises(ModelLoadError, match="no such file or folder"):
        load("models/missing/model.tar.gz")
