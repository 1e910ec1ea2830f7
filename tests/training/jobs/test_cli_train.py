"""``train``: the execution input contract, the cost estimate, confirmation and early checks."""

from __future__ import annotations

import io
import json
import re

import pytest
from cli_aws_helpers import moto_client, put_uploaded_dataset, run_cli

from core import layout
from training import aws
from training.jobs import follow
from training.jobs.pricing import price_table


def executions(deployed):
    sfn = moto_client("stepfunctions")
    listed = sfn.list_executions(stateMachineArn=deployed.state_machine_arn)["executions"]
    return [sfn.describe_execution(executionArn=e["executionArn"]) for e in listed]


@pytest.fixture
def uploaded(cli_dev):
    put_uploaded_dataset(cli_dev.bucket, layout.DEFAULT_DATASET_NAME)
    return cli_dev


def test_train_starts_the_execution_with_the_input_contract(uploaded, capsys):
    status, _, _ = run_cli(
        capsys, "train", "--stage", "dev", "--hp", "learning_rate=0.001", "--instance-count", "2", "--yes"
    )

    [execution] = executions(uploaded)
    execution_input = json.loads(execution["input"])
    assert status == 0
    assert re.fullmatch(r"dogbreeds-dev-\d{8}-\d{6}", execution_input.pop("trainingJobName"))
    assert execution_input == {
        "dataset": "datasets/stanford-dogs/",
        "format": "lst",
        "hyperParameters": {"learning_rate": "0.001"},
        "instanceCount": 2,
    }


def test_train_names_the_execution_after_the_job_and_prints_both(uploaded, capsys):
    _, out, _ = run_cli(capsys, "train", "--stage", "dev", "--yes")

    [execution] = executions(uploaded)
    job_name = json.loads(execution["input"])["trainingJobName"]
    assert execution["name"] == job_name
    assert f"execution: {execution['executionArn']}" in out
    assert f"training job: {job_name}" in out


def test_train_prints_the_cost_estimate_with_the_price_table_date(uploaded, capsys):
    _, _, err = run_cli(capsys, "train", "--stage", "dev", "--yes")

    # dev: ml.g4dn.xlarge, 6 h, managed spot
    assert "estimated cost: 1 instance x ml.g4dn.xlarge x 6 h at $0.736/h = at most $4.42 on demand" in err
    assert f"list prices of {price_table().date}" in err


def test_train_refuses_without_yes_when_stdin_is_not_a_terminal(uploaded, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))

    status, _, err = run_cli(capsys, "train", "--stage", "dev")

    assert status == 1
    assert "pass --yes" in err
    assert executions(uploaded) == []


def test_train_starts_after_yes_on_a_terminal(uploaded, capsys, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdin", Terminal("yes\n"))

    status, _, _ = run_cli(capsys, "train", "--stage", "dev")

    assert status == 0
    assert len(executions(uploaded)) == 1


def test_bad_hyperparameter_value_is_rejected_before_any_aws_call(capsys, monkeypatch):
    monkeypatch.setattr(aws, "client", lambda *a, **k: pytest.fail("AWS was called"))

    status, _, err = run_cli(capsys, "train", "--stage", "dev", "--hp", "optimizer=lbfgs", "--yes")

    assert status == 1
    assert "optimizer='lbfgs': allowed values are sgd, adam, rmsprop, nag" in err


def test_unknown_hyperparameter_is_rejected_before_any_aws_call(capsys, monkeypatch):
    monkeypatch.setattr(aws, "client", lambda *a, **k: pytest.fail("AWS was called"))

    status, _, err = run_cli(capsys, "train", "--stage", "dev", "--hp", "learning_rat=0.1", "--yes")

    assert status == 1
    assert "unknown hyperparameters ['learning_rat']" in err


def test_instance_count_above_the_stage_maximum_is_refused(capsys, monkeypatch):
    monkeypatch.setattr(aws, "client", lambda *a, **k: pytest.fail("AWS was called"))

    status, _, err = run_cli(capsys, "train", "--stage", "dev", "--instance-count", "5", "--yes")

    assert status == 1
    assert "training_max_instance_count (4)" in err


def test_train_refuses_a_dataset_that_is_not_uploaded(cli_dev, capsys):
    status, _, err = run_cli(capsys, "train", "--stage", "dev", "--yes")

    assert status == 1
    assert "dataset 'stanford-dogs' is not uploaded" in err
    assert "python -m training upload OUT --stage dev" in err


def test_breeds_subset_trains_on_the_subset_dataset(cli_dev, capsys):
    put_uploaded_dataset(cli_dev.bucket, layout.SUBSET_DATASET_NAME)

    run_cli(capsys, "train", "--stage", "dev", "--breeds-subset", "--yes")

    [execution] = executions(cli_dev)
    assert json.loads(execution["input"])["dataset"] == "datasets/stanford-dogs-subset/"


def test_recordio_dataset_is_sent_with_its_format(cli_dev, capsys):
    put_uploaded_dataset(cli_dev.bucket, "dogs-rec", fmt="recordio")

    run_cli(capsys, "train", "--stage", "dev", "--dataset", "dogs-rec", "--yes")

    [execution] = executions(cli_dev)
    assert json.loads(execution["input"])["format"] == "recordio"


def test_wait_exits_1_with_the_reason_when_the_execution_is_stopped(uploaded, capsys, monkeypatch):
    def stop_the_execution(seconds):
        sfn = moto_client("stepfunctions")
        [execution] = executions(uploaded)
        sfn.stop_execution(executionArn=execution["executionArn"], error="Cancelled", cause="by a test")

    monkeypatch.setattr(follow, "pause", stop_the_execution)

    status, _, err = run_cli(capsys, "train", "--stage", "dev", "--yes", "--wait", "--poll-seconds", "0")

    assert status == 1
    assert "ABORTED" in err


def test_interrupted_wait_says_the_run_goes_on(uploaded, capsys, monkeypatch):
    def interrupt(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(follow, "pause", interrupt)

    status, _, err = run_cli(capsys, "train", "--stage", "dev", "--yes", "--wait")

    assert status == 130
    assert re.search(r"keeps running: python -m training stop dogbreeds-dev-\S+ --stage dev", err)
