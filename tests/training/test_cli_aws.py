"""Stack outputs and AWS configuration problems: one clear line, exit status 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_aws_helpers import deploy_storage_stack, deploy_training_stack, run_cli

from core import layout
from training import aws
from training.errors import TrainingError

REPO = Path(__file__).resolve().parents[2]


def test_missing_training_stack_says_to_deploy(cli_aws, capsys):
    deploy_storage_stack("dev")

    status, _, err = run_cli(capsys, "train", "--stage", "dev", "--yes")

    assert status == 1
    assert err == (
        "error: stack DogBreeds-dev-Training is not deployed in us-east-1: "
        "run `npx cdk deploy --all -c stage=dev` first\n"
    )


def test_missing_storage_stack_says_to_deploy(cli_aws, tmp_path, capsys):
    (tmp_path / layout.REPORT_FILE).write_text("{}")

    status, _, err = run_cli(capsys, "upload", tmp_path, "--stage", "prod")

    assert status == 1
    assert "stack DogBreeds-prod-Storage is not deployed in us-east-1" in err


def test_missing_output_is_named(cli_aws):
    deploy_training_stack("dev", outputs=(layout.OUTPUT_STATE_MACHINE,))

    with pytest.raises(TrainingError, match=f"has no output {layout.OUTPUT_TRAINING_ROLE}"):
        aws.required_outputs("dev", "Training", layout.OUTPUT_STATE_MACHINE, layout.OUTPUT_TRAINING_ROLE)


def test_stack_outputs_are_read_by_their_layout_names(cli_aws):
    deploy_training_stack("dev")

    outputs = aws.stack_outputs("dev", "Training")

    assert set(outputs) == {
        layout.OUTPUT_STATE_MACHINE,
        layout.OUTPUT_TRAINING_ROLE,
        layout.OUTPUT_ALGORITHM_IMAGE,
        layout.OUTPUT_MODEL_PACKAGE_GROUP,
    }


def test_no_region_is_a_clear_error(fake_aws, monkeypatch, capsys):
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    status, _, err = run_cli(capsys, "status", "--stage", "dev")

    assert status == 1
    assert err.startswith("error: no AWS region configured: set AWS_REGION")


def test_aws_region_alone_configures_the_region(cli_aws, monkeypatch, capsys):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")

    status, _, err = run_cli(capsys, "train", "--stage", "dev", "--yes")

    assert status == 1  # nothing is deployed in moto's eu-west-1: the command got as far as asking
    assert err == (
        "error: stack DogBreeds-dev-Training is not deployed in eu-west-1: "
        "run `npx cdk deploy --all -c stage=dev` first\n"
    )


def test_aws_region_wins_over_aws_default_region(fake_aws, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")

    assert aws.region_of(aws.client("s3")) == "eu-west-1"


def test_aws_default_region_alone_configures_the_region(fake_aws, monkeypatch):
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")

    assert aws.region_of(aws.client("s3")) == "us-west-2"


def test_no_credentials_is_a_clear_error(fake_aws, monkeypatch, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)

    status, _, err = run_cli(capsys, "status", "--stage", "dev")

    assert status == 1
    assert err.startswith("error: no AWS credentials found")


def test_aws_refusal_is_one_line_naming_the_operation():
    from botocore.exceptions import ClientError

    refusal = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "Search")

    with pytest.raises(TrainingError) as raised, aws.reported_errors():
        raise refusal

    assert str(raised.value) == (
        "Search failed: AccessDeniedException: not allowed: "
        "use credentials allowed to deploy and train this app"
    )


def test_help_does_not_import_boto3():
    code = (
        "import sys\nfrom training.cli import build_parser\nbuild_parser()\n"
        "sys.exit(1 if 'boto3' in sys.modules or 'botocore' in sys.modules else 0)"
    )

    assert subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False).returncode == 0
