"""``promote``: a valid pin for a good completed job; refusals that say the numbers."""

from __future__ import annotations

import json

import pytest
from cli_aws_helpers import CLASSES, create_training_job, moto_client, put_uploaded_dataset, run_cli

from core import layout
from core.model_pin import load_pinned_model

JOB = "dogbreeds-dev-20260101-120000"


@pytest.fixture
def models_dir(tmp_path):
    return tmp_path / "models"


@pytest.fixture
def trained(cli_dev):
    put_uploaded_dataset(cli_dev.bucket, layout.DEFAULT_DATASET_NAME)
    return cli_dev


def promote(capsys, models_dir, *extra, job=JOB):
    return run_cli(capsys, "promote", job, "--stage", "dev", "--models-dir", models_dir, *extra)


def test_promote_writes_a_pin_the_serving_stack_accepts(trained, models_dir, capsys):
    create_training_job(trained, JOB, accuracy=0.83)

    status, _, _ = promote(capsys, models_dir)

    pinned = load_pinned_model("dev", path=models_dir / "dev.json")
    assert status == 0
    assert pinned.artifact.url == f"s3://{trained.bucket}/training/output/{JOB}/output/model.tar.gz"
    assert pinned.version == JOB
    assert pinned.class_names == tuple(c["name"] for c in CLASSES)


def test_promote_records_where_the_model_came_from(trained, models_dir, capsys):
    create_training_job(trained, JOB, accuracy=0.83)

    promote(capsys, models_dir)

    source = json.loads((models_dir / "dev.json").read_text())["source"]
    assert source.pop("promotedAt").endswith("+00:00")
    assert source == {
        "trainingJob": JOB,
        "validationAccuracy": 0.83,
        "dataset": f"s3://{trained.bucket}/datasets/stanford-dogs/",
        "forced": False,
    }


def test_promote_says_what_to_do_next(trained, models_dir, capsys):
    create_training_job(trained, JOB, accuracy=0.83)

    _, out, _ = promote(capsys, models_dir)

    assert f"git commit {models_dir / 'dev.json'} && npx cdk deploy --all -c stage=dev" in out


def test_promote_refuses_below_the_stage_minimum_and_says_both_numbers(trained, models_dir, capsys):
    create_training_job(trained, JOB, accuracy=0.42)

    status, _, err = promote(capsys, models_dir)

    assert status == 1
    assert "reached validation:accuracy 0.4200, below stage dev's minimum 0.5000" in err
    assert "pass --force" in err
    assert not (models_dir / "dev.json").exists()


def test_force_promotes_below_the_minimum_and_records_it(trained, models_dir, capsys):
    create_training_job(trained, JOB, accuracy=0.42)

    status, _, _ = promote(capsys, models_dir, "--force")

    assert status == 0
    assert json.loads((models_dir / "dev.json").read_text())["source"]["forced"] is True


def test_promote_refuses_a_failed_job(trained, models_dir, capsys):
    create_training_job(trained, JOB, status="Failed", failure_reason="ClientError: out of memory")

    status, _, err = promote(capsys, models_dir, "--force")

    assert status == 1
    assert err == (
        f"error: training job {JOB} is Failed (ClientError: out of memory): "
        "only a Completed job can be promoted\n"
    )


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


def test_refused_promotion_keeps_the_existing_pin(trained, models_dir, capsys):
    models_dir.mkdir()
    existing = '{"stage": "dev", "modelDataUrl": null}\n'
    (models_dir / "dev.json").write_text(existing)
    create_training_job(trained, JOB, accuracy=0.1)

    promote(capsys, models_dir)

    assert (models_dir / "dev.json").read_text() == existing


def test_pin_that_would_be_invalid_is_not_written(trained, models_dir, capsys):
    create_training_job(trained, JOB, accuracy=0.9)
    repeated = [{"id": 0, "name": "beagle"}, {"id": 1, "name": "beagle"}, {"id": 2, "name": "pug"}]
    moto_client("s3").put_object(
        Bucket=trained.bucket, Key="datasets/stanford-dogs/classes.json", Body=json.dumps(repeated)
    )

    status, _, err = promote(capsys, models_dir)

    assert status == 1
    assert "would be invalid" in err and "repeat a name" in err
    assert list(models_dir.iterdir()) == []


def test_promote_says_when_the_job_does_not_exist(cli_dev, models_dir, capsys):
    status, _, err = promote(capsys, models_dir, job="no-such-job")

    assert status == 1
    assert err == (
        "error: no training job named no-such-job in us-east-1: "
        "list the stage's jobs with `python -m training status --stage dev`\n"
    )
