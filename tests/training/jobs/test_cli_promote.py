"""``promote``: approves a registered model and pins it from the registry's record; the gate holds
unless --force, and --force is recorded in the registry and in the pin."""

from __future__ import annotations

import json

import pytest
from cli_aws_helpers import (
    CLASSES,
    IMAGE_URI,
    create_training_job,
    moto_client,
    put_uploaded_dataset,
    run_cli,
)

from core import layout
from core.model_package import ModelPackageSpec, create_model_package_request
from core.model_pin import load_pinned_model

JOB = "dogbreeds-dev-20260101-120000"
GROUP = f"{layout.APP_NAME}-dev"  # the stand-in Training stack's ModelPackageGroupName output


@pytest.fixture
def models_dir(tmp_path):
    return tmp_path / "models"


@pytest.fixture
def trained(cli_dev):
    put_uploaded_dataset(cli_dev.bucket, layout.DEFAULT_DATASET_NAME)
    moto_client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
    return cli_dev


def register(deployed, job=JOB, accuracy="0.83", group=GROUP):
    """A version as the training workflow's RegisterModel state creates it."""
    request = create_model_package_request(
        ModelPackageSpec(
            group=group,
            image_uri=IMAGE_URI,
            model_data_url=f"s3://{deployed.bucket}/training/output/{job}/output/model.tar.gz",
            training_job=job,
            dataset=layout.dataset_prefix(layout.DEFAULT_DATASET_NAME),
            validation_accuracy=accuracy,
            serving_instance_type="ml.g4dn.xlarge",
        )
    )
    return moto_client("sagemaker").create_model_package(**request)["ModelPackageArn"]


def package(arn):
    return moto_client("sagemaker").describe_model_package(ModelPackageName=arn)


def versions():
    return moto_client("sagemaker").list_model_packages(ModelPackageGroupName=GROUP)[
        "ModelPackageSummaryList"
    ]


def promote(capsys, models_dir, *extra, model=JOB):
    return run_cli(capsys, "promote", model, "--stage", "dev", "--models-dir", models_dir, *extra)


def test_promote_approves_the_registered_version_and_writes_a_pin_the_serving_stack_accepts(
    trained, models_dir, capsys
):
    create_training_job(trained, JOB, accuracy=0.83)
    arn = register(trained)

    status, _, _ = promote(capsys, models_dir)

    pinned = load_pinned_model("dev", path=models_dir / "dev.json")
    assert status == 0
    assert package(arn)["ModelApprovalStatus"] == "Approved"
    assert pinned.artifact.url == f"s3://{trained.bucket}/training/output/{JOB}/output/model.tar.gz"
    assert pinned.version == JOB
    assert pinned.class_names == tuple(c["name"] for c in CLASSES)


@pytest.mark.parametrize("reference", ["2", "arn"])
def test_promote_finds_a_version_by_number_or_arn(trained, models_dir, capsys, reference):
    register(trained, job="dogbreeds-dev-20260101-110000")
    arn = register(trained)

    status, _, _ = promote(capsys, models_dir, model=arn if reference == "arn" else reference)

    assert status == 0
    assert package(arn)["ModelApprovalStatus"] == "Approved"
    assert json.loads((models_dir / "dev.json").read_text())["version"] == JOB


def test_promote_writes_the_pin_from_the_registrys_record(trained, models_dir, capsys):
    create_training_job(trained, JOB, accuracy=0.83)
    arn = register(trained, accuracy="0.8312")

    promote(capsys, models_dir)

    source = json.loads((models_dir / "dev.json").read_text())["source"]
    assert source.pop("promotedAt").endswith("+00:00")
    assert source == {
        "modelPackageArn": arn,
        "modelPackageVersion": 1,
        "trainingJob": JOB,
        "validationAccuracy": 0.8312,
        "dataset": f"s3://{trained.bucket}/datasets/stanford-dogs/",
        "forced": False,
    }


def test_promote_says_what_to_do_next(trained, models_dir, capsys):
    register(trained)

    _, out, _ = promote(capsys, models_dir)

    assert f"git commit {models_dir / 'dev.json'} && npx cdk deploy --all -c stage=dev" in out


def test_a_registered_model_below_the_gate_cannot_be_promoted_without_force(trained, models_dir, capsys):
    arn = register(trained, accuracy="0.42")  # registered when the stage's minimum was lower

    status, _, err = promote(capsys, models_dir)

    assert status == 1
    assert err == (
        "error: model version 1 reached validation:accuracy 0.4200, below the minimum 0.5000 of stage dev "
        "(min_validation_accuracy in core/stage_config.py): pass --force to promote it anyway\n"
    )
    assert package(arn)["ModelApprovalStatus"] == "PendingManualApproval"
    assert not (models_dir / "dev.json").exists()


def test_force_is_recorded_in_the_registry_and_in_the_pin(trained, models_dir, capsys):
    arn = register(trained, accuracy="0.42")

    status, _, _ = promote(capsys, models_dir, "--force")

    approved = package(arn)
    assert status == 0
    assert approved["ModelApprovalStatus"] == "Approved"
    assert "forced: model version 1 reached validation:accuracy 0.4200" in approved["ApprovalDescription"]
    metadata = approved["CustomerMetadataProperties"]
    assert metadata["forcedPromotion"].startswith("model version 1 reached validation:accuracy 0.4200")
    assert metadata["trainingJob"] == JOB  # the registration's metadata is kept
    assert json.loads((models_dir / "dev.json").read_text())["source"]["forced"] is True


def test_an_unregistered_job_that_passes_the_gate_is_registered_then_approved(trained, models_dir, capsys):
    create_training_job(trained, JOB, accuracy=0.83)  # e.g. a tuning job's best training job

    status, out, _ = promote(capsys, models_dir)

    [version] = versions()
    registered = package(version["ModelPackageArn"])
    assert status == 0
    assert f"registered {JOB} as version 1 of {GROUP}" in out
    assert registered["ModelApprovalStatus"] == "Approved"
    assert registered["CustomerMetadataProperties"] == {
        "trainingJob": JOB,
        "dataset": "datasets/stanford-dogs/",
        "validationAccuracy": "0.83",
    }


def test_an_unregistered_job_below_the_gate_is_neither_registered_nor_pinned(trained, models_dir, capsys):
    create_training_job(trained, JOB, accuracy=0.42)

    status, _, err = promote(capsys, models_dir)

    assert status == 1
    assert "reached validation:accuracy 0.4200, below the minimum 0.5000 of stage dev" in err
    assert "pass --force" in err
    assert versions() == []
    assert not (models_dir / "dev.json").exists()


def test_force_registers_an_unregistered_job_below_the_gate_as_forced(trained, models_dir, capsys):
    create_training_job(trained, JOB, accuracy=0.42)

    status, _, _ = promote(capsys, models_dir, "--force")

    [version] = versions()
    metadata = package(version["ModelPackageArn"])["CustomerMetadataProperties"]
    assert status == 0
    assert metadata["forcedRegistration"].startswith(f"training job {JOB} reached validation:accuracy 0.4200")


def test_promote_refuses_a_failed_job(trained, models_dir, capsys):
    create_training_job(trained, JOB, status="Failed", failure_reason="ClientError: out of memory")

    status, _, err = promote(capsys, models_dir, "--force")

    assert status == 1
    assert err == f"error: training job {JOB} is Failed: only a Completed job can be registered\n"


def test_promote_refuses_another_stages_job(trained, models_dir, capsys):
    create_training_job(trained, JOB, tags_stage="prod")

    status, _, err = promote(capsys, models_dir)

    assert status == 1
    assert "belongs to stage prod, not dev" in err


def test_promote_refuses_a_job_without_a_validation_accuracy(trained, models_dir, capsys):
    create_training_job(trained, JOB, accuracy=None)

    status, _, err = promote(capsys, models_dir)

    assert status == 1
    assert "reported no validation:accuracy" in err


def test_promote_refuses_a_version_of_another_group(trained, models_dir, capsys):
    moto_client("sagemaker").create_model_package_group(ModelPackageGroupName="Other")
    arn = register(trained, group="Other")

    status, _, err = promote(capsys, models_dir, model=arn)

    assert status == 1
    assert err == f"error: {arn} is in model package group Other, not this stage's {GROUP}\n"


def test_refused_promotion_keeps_the_existing_pin(trained, models_dir, capsys):
    models_dir.mkdir()
    existing = '{"stage": "dev", "modelDataUrl": null}\n'
    (models_dir / "dev.json").write_text(existing)
    register(trained, accuracy="0.1")

    promote(capsys, models_dir)

    assert (models_dir / "dev.json").read_text() == existing


def test_pin_that_would_be_invalid_is_not_written(trained, models_dir, capsys):
    register(trained)
    repeated = [{"id": 0, "name": "beagle"}, {"id": 1, "name": "beagle"}, {"id": 2, "name": "pug"}]
    moto_client("s3").put_object(
        Bucket=trained.bucket, Key="datasets/stanford-dogs/classes.json", Body=json.dumps(repeated)
    )

    status, _, err = promote(capsys, models_dir)

    assert status == 1
    assert "would be invalid" in err and "repeat a name" in err
    assert list(models_dir.iterdir()) == []


def test_promote_says_when_neither_a_version_nor_a_job_exists(trained, models_dir, capsys):
    status, _, err = promote(capsys, models_dir, model="no-such-job")

    assert status == 1
    assert err == (
        f"error: no version no-such-job in model package group {GROUP}, and no training job of that name "
        "in us-east-1: list the registry with `python -m training status --stage dev`\n"
    )


def test_promote_refuses_a_reference_that_is_neither_before_any_aws_call(capsys, tmp_path):
    with pytest.raises(SystemExit):
        run_cli(capsys, "promote", "not a name!", "--stage", "dev", "--models-dir", tmp_path)
    assert "expected a model package ARN, a version number or a training job name" in capsys.readouterr().err
