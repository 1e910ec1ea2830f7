"""A stage's jobs are found by every page of their tags, in the CLI and in the destroy-time clean-up."""

from __future__ import annotations

import boto3
import pytest
import stop_on_delete
from botocore.stub import Stubber

from core.tagged_jobs import belongs_to, tags_of

ARN = "arn:aws:sagemaker:us-east-1:123456789012:training-job/dogbreeds-dev-1"
PROJECT = {"Key": "Project", "Value": "DogBreeds"}
STAGE = {"Key": "Stage", "Value": "dev"}


@pytest.fixture
def sagemaker(fake_aws):
    client = boto3.client("sagemaker", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber


def tags_in_two_pages(stubber):
    """ListTags answers at most 50 tags a page: the stage's tag may come on the second."""
    stubber.add_response("list_tags", {"Tags": [PROJECT], "NextToken": "page-2"}, {"ResourceArn": ARN})
    stubber.add_response("list_tags", {"Tags": [STAGE]}, {"ResourceArn": ARN, "NextToken": "page-2"})


def test_tags_of_reads_every_page(sagemaker):
    client, stubber = sagemaker
    tags_in_two_pages(stubber)

    assert tags_of(client, ARN) == [PROJECT, STAGE]
    stubber.assert_no_pending_responses()


def test_a_job_belongs_to_a_stage_only_with_both_tags():
    assert belongs_to([PROJECT, STAGE], "dev")
    assert not belongs_to([PROJECT], "dev")
    assert not belongs_to([PROJECT, {"Key": "Stage", "Value": "prod"}], "dev")


def test_clean_up_finds_a_job_whose_stage_tag_is_on_the_second_page(sagemaker):
    client, stubber = sagemaker
    stubber.add_response(
        "list_training_jobs",
        {
            "TrainingJobSummaries": [
                {
                    "TrainingJobName": "dogbreeds-dev-1",
                    "TrainingJobArn": ARN,
                    "CreationTime": "2026-01-01T00:00:00Z",
                    "TrainingJobStatus": "InProgress",
                }
            ]
        },
        {"StatusEquals": "InProgress"},
    )
    tags_in_two_pages(stubber)

    found = stop_on_delete._stage_jobs(client, "dev", stop_on_delete.JOB_KINDS["training job"])

    assert found == ["dogbreeds-dev-1"]
