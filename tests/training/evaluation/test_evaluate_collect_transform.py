"""``evaluate transform --job --stage``: Batch Transform requests, outputs into the cache, resuming, refusals.

moto answers the SageMaker calls; ``TransformSimulator`` plays the transform itself (see
``evaluate_collect_helpers``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_aws_helpers import moto_client, run_cli
from evaluate_collect_helpers import (
    DATASET_PREFIX,
    JOB,
    OUTPUT_PREFIX,
    VALIDATION,
    TransformSimulator,
    create_evaluated_job,
    probabilities_for,
    put_outputs,
    set_transform_status,
    upload_dataset,
    write_local_dataset,
)

from core import layout
from training.evaluation import from_transform as predictions_transform

PREDICTIONS = Path("evaluation") / JOB / "predictions.jsonl"
IMAGES = list(VALIDATION)


@pytest.fixture
def uploaded(cli_dev, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    upload_dataset(cli_dev.bucket)
    return cli_dev


@pytest.fixture
def evaluated(uploaded):
    create_evaluated_job(uploaded)
    return uploaded


@pytest.fixture
def sagemaker_side(evaluated, monkeypatch):
    return TransformSimulator(evaluated.bucket).install(monkeypatch)


def collect(capsys, *extra):
    return run_cli(capsys, "evaluate", "transform", "--job", JOB, "--stage", "dev", "--collect-only", *extra)


def cached() -> dict[str, list[float]]:
    records = [json.loads(line) for line in PREDICTIONS.read_text().splitlines()]
    return {record["image"]: record["probabilities"] for record in records}


def test_transform_reads_the_validation_prefix_as_one_image_per_object(evaluated, sagemaker_side, capsys):
    collect(capsys)

    (request,) = sagemaker_side.requests("CreateTransformJob")
    assert request["TransformInput"] == {
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": f"s3://{evaluated.bucket}/{DATASET_PREFIX}validation/",
            }
        },
        "ContentType": "application/x-image",
        "SplitType": "None",
        "CompressionType": "None",
    }


def test_transform_writes_json_into_the_jobs_output_folder(evaluated, sagemaker_side, capsys):
    collect(capsys)

    (request,) = sagemaker_side.requests("CreateTransformJob")
    assert request["TransformOutput"] == {
        "S3OutputPath": f"s3://{evaluated.bucket}/{OUTPUT_PREFIX}",
        "Accept": "application/json",
        "AssembleWith": "None",
    }


def test_transform_is_tagged_and_runs_on_one_instance_of_the_stages_endpoint_type(
    evaluated, sagemaker_side, capsys
):
    collect(capsys)

    (request,) = sagemaker_side.requests("CreateTransformJob")
    assert request["Tags"] == layout.job_tags("dev")
    assert request["TransformResources"] == {"InstanceType": "ml.g4dn.xlarge", "InstanceCount": 1}
    assert request["TransformJobName"].startswith(f"{JOB}-eval-")
    assert request["ModelName"] == f"{JOB}-eval"


def test_instance_type_option_chooses_the_transforms_instance(evaluated, sagemaker_side, capsys):
    collect(capsys, "--instance-type", "ml.m5.xlarge")

    (request,) = sagemaker_side.requests("CreateTransformJob")
    assert request["TransformResources"]["InstanceType"] == "ml.m5.xlarge"


def test_model_serves_the_jobs_artifact_in_its_image_with_the_training_role(
    evaluated, sagemaker_side, capsys
):
    collect(capsys)

    (request,) = sagemaker_side.requests("CreateModel")
    assert request["ExecutionRoleArn"] == evaluated.role_arn
    assert request["PrimaryContainer"] == {
        "Image": "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1",
        "ModelDataUrl": f"s3://{evaluated.bucket}/training/output/{JOB}/output/model.tar.gz",
    }


def test_model_is_deleted_once_the_transform_has_ended(evaluated, sagemaker_side, capsys):
    collect(capsys)

    assert moto_client("sagemaker").list_models()["Models"] == []


def test_transform_outputs_become_the_predictions_cache(evaluated, sagemaker_side, capsys):
    status, out, _ = collect(capsys)

    assert status == 0
    assert cached() == {image: probabilities_for(image) for image in IMAGES}
    assert f"predictions: {PREDICTIONS}" in out


def test_without_lists_the_datasets_lists_are_downloaded_next_to_the_predictions(
    evaluated, sagemaker_side, capsys
):
    collect(capsys)

    dataset = PREDICTIONS.parent / "dataset"
    assert json.loads((dataset / "classes.json").read_text())[2]["name"] == "Siberian husky"
    assert len((dataset / "validation.lst").read_text().splitlines()) == len(IMAGES)


def test_local_lists_are_used_instead_of_downloading(evaluated, sagemaker_side, capsys, tmp_path):
    lists = write_local_dataset(tmp_path / "out")

    status, _, _ = collect(capsys, "--lists", lists)

    assert status == 0
    assert not (PREDICTIONS.parent / "dataset").exists()
    assert set(cached()) == set(IMAGES)


def test_second_run_starts_no_transform_and_reads_no_output_again(evaluated, sagemaker_side, capsys):
    collect(capsys)
    reads_before = len(sagemaker_side.output_reads())

    status, _, err = collect(capsys)

    assert status == 0
    assert len(sagemaker_side.requests("CreateTransformJob")) == 1
    assert len(sagemaker_side.output_reads()) == reads_before
    assert "all 6 validation images already have a prediction" in err


def test_outputs_already_in_s3_are_read_instead_of_paying_for_a_transform(evaluated, sagemaker_side, capsys):
    put_outputs(evaluated.bucket, IMAGES)

    collect(capsys)

    assert sagemaker_side.requests("CreateTransformJob") == []
    assert set(cached()) == set(IMAGES)


def test_only_outputs_of_images_not_cached_yet_are_read(evaluated, sagemaker_side, capsys):
    put_outputs(evaluated.bucket, IMAGES)
    PREDICTIONS.parent.mkdir(parents=True)
    lines = [json.dumps({"image": image, "probabilities": probabilities_for(image)}) for image in IMAGES[:2]]
    PREDICTIONS.write_text("\n".join(lines) + "\n")

    collect(capsys)

    assert sorted(sagemaker_side.output_reads()) == sorted(
        f"{OUTPUT_PREFIX}{image}.out" for image in IMAGES[2:]
    )
    assert len(PREDICTIONS.read_text().splitlines()) == len(IMAGES)


def test_images_without_output_are_transformed_from_a_manifest_of_just_those(
    evaluated, sagemaker_side, capsys
):
    put_outputs(evaluated.bucket, IMAGES[:4])

    collect(capsys)

    (request,) = sagemaker_side.requests("CreateTransformJob")
    source = request["TransformInput"]["DataSource"]["S3DataSource"]
    assert source["S3DataType"] == "ManifestFile"
    assert sagemaker_side.covered_images(request) == IMAGES[4:]
    assert set(cached()) == set(IMAGES)


def test_a_transform_still_running_is_waited_for_not_started_again(
    evaluated, sagemaker_side, capsys, monkeypatch
):
    sagemaker_side.leaves_running = True
    monkeypatch.setattr(predictions_transform, "pause", interrupt)
    assert collect(capsys)[0] == 130  # the first run is interrupted (Ctrl-C) while it waits
    (started,) = sagemaker_side.requests("CreateTransformJob")

    def transform_finishes(_seconds: float) -> None:
        put_outputs(evaluated.bucket, IMAGES)
        set_transform_status(started["TransformJobName"], "Completed")

    monkeypatch.setattr(predictions_transform, "pause", transform_finishes)
    status, _, err = collect(capsys)

    assert status == 0
    assert len(sagemaker_side.requests("CreateTransformJob")) == 1
    assert "(started earlier) is still running: waiting for it" in err
    assert set(cached()) == set(IMAGES)


def interrupt(_seconds: float) -> None:
    raise KeyboardInterrupt


def test_ctrl_c_while_waiting_says_the_transform_keeps_running_and_how_to_stop_it(
    evaluated, sagemaker_side, capsys, monkeypatch
):
    sagemaker_side.leaves_running = True
    monkeypatch.setattr(predictions_transform, "pause", interrupt)

    status, _, err = collect(capsys)

    (started,) = sagemaker_side.requests("CreateTransformJob")
    assert status == 130
    assert f"transform job {started['TransformJobName']} keeps running" in err
    assert f"aws sagemaker stop-transform-job --transform-job-name {started['TransformJobName']}" in err


def test_default_run_analyses_the_predictions_and_prints_the_headline_numbers(
    evaluated, sagemaker_side, capsys
):
    status, out, _ = run_cli(capsys, "evaluate", "transform", "--job", JOB, "--stage", "dev")

    report = Path("evaluation") / JOB / "report"
    assert status == 0
    assert (report / "report.html").is_file()
    assert f"metrics: {report / 'metrics.json'}" in out
    assert "accuracy 0.8333, top-5 accuracy 1.0000 on 6 images" in out
    assert out.index("Siberian husky  0.5000") < out.index("Chihuahua")


def test_failed_transform_keeps_the_outputs_it_made_and_says_why(evaluated, sagemaker_side, capsys):
    sagemaker_side.unreadable = {IMAGES[1]}

    status, _, err = collect(capsys)

    assert status == 1
    assert "failed (ClientError: unable to decode the image)" in err
    assert f"1 of 6 images have no output (e.g. {IMAGES[1]})" in err
    assert set(cached()) == set(IMAGES) - {IMAGES[1]}


def test_job_of_another_stage_is_refused(uploaded, capsys):
    create_evaluated_job(uploaded, tags_stage="prod")

    status, _, err = collect(capsys)

    assert status == 1
    assert f"training job {JOB} belongs to stage prod, not dev: pass --stage prod" in err


def test_job_not_completed_is_refused(uploaded, capsys):
    create_evaluated_job(uploaded, status="InProgress")

    status, _, err = collect(capsys)

    assert status == 1
    assert "is InProgress: only a Completed job has a model" in err
