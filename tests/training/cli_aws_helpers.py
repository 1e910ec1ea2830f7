"""What the AWS-facing command tests (``test_cli_*``) build in moto: the stacks' outputs, datasets
in the data bucket, training jobs in any state, and a local prepared-dataset folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core import layout
from training import aws
from training.cli import main

REGION = "us-east-1"
ACCOUNT = "123456789012"
IMAGE_URI = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
CLASSES = [
    {"id": 0, "name": "Chihuahua", "wnid": "n02085620"},
    {"id": 1, "name": "beagle", "wnid": "n02088364"},
    {"id": 2, "name": "Siberian husky", "wnid": "n02110185"},
]
TRAINING_IMAGES = 40
PASS_DEFINITION = {"StartAt": "Train", "States": {"Train": {"Type": "Pass", "End": True}}}


@dataclass(frozen=True)
class DeployedStage:
    stage: str
    bucket: str
    state_machine_arn: str
    role_arn: str


def moto_client(service: str) -> Any:
    """A client for the test's own calls. Not ``boto3.client``: moto drops boto3's default session
    whenever a mock starts, and a new session parses the service description again (SageMaker's
    takes a quarter of a second)."""
    return aws.new_session().client(service, region_name=REGION)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# --- Stacks ------------------------------------------------------------------------------------
def deploy_storage_stack(stage: str) -> str:
    template = {
        "Resources": {"DataBucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {layout.OUTPUT_DATA_BUCKET: {"Value": {"Ref": "DataBucket"}}},
    }
    outputs = _create_stack(layout.stack_name(stage, "Storage"), template)
    return outputs[layout.OUTPUT_DATA_BUCKET]


def deploy_training_stack(stage: str, *, outputs: tuple[str, ...] | None = None) -> dict[str, str]:
    """A stand-in for the Training stack: a role, a one-state state machine and the real output names."""
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "sagemaker.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        },
    }
    state_machine = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "RoleArn": {"Fn::GetAtt": ["TrainingRole", "Arn"]},
            "DefinitionString": json.dumps(
                {"StartAt": "Train", "States": {"Train": {"Type": "Pass", "End": True}}}
            ),
        },
    }
    all_outputs = {
        layout.OUTPUT_STATE_MACHINE: {"Value": {"Ref": "StateMachine"}},
        layout.OUTPUT_TRAINING_ROLE: {"Value": {"Fn::GetAtt": ["TrainingRole", "Arn"]}},
        layout.OUTPUT_ALGORITHM_IMAGE: {"Value": IMAGE_URI},
        layout.OUTPUT_MODEL_PACKAGE_GROUP: {"Value": f"{layout.APP_NAME}-{stage}"},
    }
    template = {
        "Resources": {"TrainingRole": role, "StateMachine": state_machine},
        "Outputs": {name: value for name, value in all_outputs.items() if outputs is None or name in outputs},
    }
    return _create_stack(layout.stack_name(stage, "Training"), template)


def deploy_stage(stage: str) -> DeployedStage:
    bucket = deploy_storage_stack(stage)
    training = deploy_training_stack(stage)
    return DeployedStage(
        stage=stage,
        bucket=bucket,
        state_machine_arn=training[layout.OUTPUT_STATE_MACHINE],
        role_arn=training[layout.OUTPUT_TRAINING_ROLE],
    )


def _create_stack(name: str, template: dict[str, Any]) -> dict[str, str]:
    cloudformation = moto_client("cloudformation")
    cloudformation.create_stack(
        StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"]
    )
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


# --- Datasets ----------------------------------------------------------------------------------
def make_prepared_dataset(root: Path, *, breeds_subset: bool = False, images: int = 6) -> Path:
    """A folder shaped like `prepare --out` wrote it (lst format; image bytes need not be JPEG)."""
    root.mkdir(parents=True, exist_ok=True)
    lines: dict[str, list[str]] = {split: [] for split in layout.SPLITS}
    for index in range(images):
        split = "train" if index % 3 else "validation"
        path = f"{CLASSES[index % 3]['wnid']}/{index}.jpg"
        (root / split / path).parent.mkdir(parents=True, exist_ok=True)
        (root / split / path).write_bytes(b"\xff\xd8\xff" + bytes([index]) * (100 + index))
        lines[split].append(f"{len(lines[split])}\t{index % 3}\t{path}")
    for split in layout.SPLITS:
        (root / layout.list_file(split)).write_text("\n".join(lines[split]) + "\n")
    (root / layout.CLASSES_FILE).write_text(json.dumps(CLASSES))
    report = {"format": "lst", "breeds_subset": breeds_subset, "classes": CLASSES, "totals": {}}
    (root / layout.REPORT_FILE).write_text(json.dumps(report))
    return root


def put_uploaded_dataset(bucket: str, name: str, *, fmt: str = "lst", report: bool = True) -> str:
    """The objects `upload` leaves in S3 for a dataset: classes, lists (or RecordIO) and report.json."""
    s3 = moto_client("s3")
    prefix = layout.dataset_prefix(name)
    s3.put_object(Bucket=bucket, Key=prefix + layout.CLASSES_FILE, Body=json.dumps(CLASSES))
    rows = "".join(f"{i}\t{i % 3}\t{i}.jpg\n" for i in range(TRAINING_IMAGES)).encode()
    if fmt == "lst":
        for split in layout.SPLITS:
            s3.put_object(Bucket=bucket, Key=prefix + layout.list_file(split), Body=rows)
            s3.put_object(Bucket=bucket, Key=prefix + layout.image_dir(split) + "0.jpg", Body=b"\xff\xd8\xff")
    else:
        for split in layout.SPLITS:
            s3.put_object(Bucket=bucket, Key=prefix + layout.record_file(split), Body=b"records")
            index = "".join(f"{i}\t{i * 100}\n" for i in range(TRAINING_IMAGES)).encode()
            s3.put_object(Bucket=bucket, Key=prefix + layout.index_file(split), Body=index)
    if report:
        s3.put_object(Bucket=bucket, Key=prefix + layout.REPORT_FILE, Body=json.dumps({"format": fmt}))
    return prefix


# --- Training jobs -----------------------------------------------------------------------------
def create_training_job(
    deployed: DeployedStage,
    name: str,
    *,
    tags_stage: str | None = None,
    status: str = "Completed",
    accuracy: float | None = 0.9,
    dataset: str = layout.DEFAULT_DATASET_NAME,
    **fields: Any,
) -> None:
    """A training job as the state machine starts it, then set to ``status`` with ``accuracy``.

    moto creates every job Completed with a placeholder metric and has no API to change that, so
    the job's fields are set on moto's backend object (``fields`` in its snake_case names)."""
    from moto.sagemaker.models import sagemaker_backends

    sagemaker = moto_client("sagemaker")
    prefix = layout.dataset_prefix(dataset)
    sagemaker.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": IMAGE_URI, "TrainingInputMode": "File"},
        RoleArn=deployed.role_arn,
        HyperParameters={"num_classes": str(len(CLASSES))},
        InputDataConfig=[
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{deployed.bucket}/{prefix}train/",
                    }
                },
            }
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{deployed.bucket}/{layout.TRAINING_OUTPUT_PREFIX}"},
        ResourceConfig={"InstanceType": "ml.g4dn.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
        Tags=layout.job_tags(tags_stage or deployed.stage),
    )
    job = sagemaker_backends[ACCOUNT][REGION].training_jobs[name]
    job.training_job_status = status
    job.secondary_status = "Training" if status == "InProgress" else status
    metrics = [] if accuracy is None else [{"MetricName": "validation:accuracy", "Value": accuracy}]
    job.final_metric_data_list = metrics
    for field, value in fields.items():
        setattr(job, field, value)


# --- Spying on the commands' clients -----------------------------------------------------------
def record_s3_uploads(monkeypatch: pytest.MonkeyPatch, fail_keys: set[str] | None = None) -> list[str]:
    """Keys the commands' S3 clients put, in order; a put of a key in ``fail_keys`` fails (the set
    is read at each put, so a test can empty it to let a second run succeed)."""
    fail_keys = set() if fail_keys is None else fail_keys
    uploaded: list[str] = []
    create = aws.client

    def recording_client(service: str, **kwargs: Any) -> Any:
        client = create(service, **kwargs)
        if service == "s3":
            client.meta.events.register("before-parameter-build.s3.PutObject", record)
            client.meta.events.register("before-parameter-build.s3.CreateMultipartUpload", record)
        return client

    def record(params: dict[str, Any], **_: Any) -> None:
        key = params["Key"]
        if key in fail_keys:
            raise OSError(f"connection reset while sending {key}")
        uploaded.append(key)

    monkeypatch.setattr(aws, "client", recording_client)
    return uploaded
