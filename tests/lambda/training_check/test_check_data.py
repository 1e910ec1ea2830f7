"""The workflow's data check, against a moto data bucket: mistakes are caught before any GPU runs."""

from __future__ import annotations

import json

import boto3
import check_data
import pytest
from moto import mock_aws

from core import hyperparameters

BUCKET = "dogbreeds-data"
DATASET = "datasets/stanford-dogs/"
CLASSES = [{"id": i, "name": f"breed {i}", "wnid": f"n0{i}"} for i in range(3)]


@pytest.fixture
def s3(fake_aws):
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client


def upload_lst_dataset(s3, train_ids=(0, 1, 2, 0, 1, 2), validation_ids=(0, 1, 2), classes=CLASSES):
    put = lambda key, body: s3.put_object(Bucket=BUCKET, Key=DATASET + key, Body=body)  # noqa: E731
    put("classes.json", json.dumps(classes))
    put("train.lst", "".join(f"{i}\t{c}\tb{c}/img{i}.jpg\n" for i, c in enumerate(train_ids)))
    put("validation.lst", "".join(f"{i}\t{c}\tb{c}/v{i}.jpg\n" for i, c in enumerate(validation_ids)))
    put("train/b0/img0.jpg", b"\xff\xd8\xff")
    put("validation/b0/v0.jpg", b"\xff\xd8\xff")


def event(**request):
    return {
        "request": {
            "trainingJobName": "dogbreeds-dev-20261128-170000",
            "dataset": DATASET,
            "format": "lst",
            **request,
        },
        "bucket": BUCKET,
        "defaults": {**hyperparameters.DEFAULTS, "mini_batch_size": "4"},
        "maxInstanceCount": 4,
    }


def test_counts_classes_and_samples_from_the_uploaded_lists(s3):
    upload_lst_dataset(s3)
    prepared = check_data.handler(event())
    assert prepared["hyperParameters"]["num_classes"] == "3"
    assert prepared["hyperParameters"]["num_training_samples"] == "6"
    assert prepared["numValidationSamples"] == 3


def test_defaults_from_the_state_machine_are_merged_with_the_request_overrides(s3):
    upload_lst_dataset(s3)
    prepared = check_data.handler(event(hyperParameters={"learning_rate": "0.001"}))
    assert prepared["hyperParameters"]["learning_rate"] == "0.001"
    assert prepared["hyperParameters"]["mini_batch_size"] == "4"
    assert prepared["hyperParameters"]["num_layers"] == "50"


def test_lst_channels_keep_train_and_validation_images_under_separate_prefixes(s3):
    upload_lst_dataset(s3)
    channels = {c["ChannelName"]: c for c in check_data.handler(event())["channels"]}
    assert set(channels) == {"train", "validation", "train_lst", "validation_lst"}
    uri = {name: c["DataSource"]["S3DataSource"]["S3Uri"] for name, c in channels.items()}
    assert uri["train"] == f"s3://{BUCKET}/{DATASET}train/"
    assert uri["validation"] == f"s3://{BUCKET}/{DATASET}validation/"
    assert uri["train_lst"] == f"s3://{BUCKET}/{DATASET}train.lst"
    assert all(c["ContentType"] == "application/x-image" for c in channels.values())


def test_recordio_dataset_is_counted_from_its_index(s3):
    s3.put_object(Bucket=BUCKET, Key=DATASET + "classes.json", Body=json.dumps(CLASSES))
    for split, count in (("train", 5), ("validation", 2)):
        s3.put_object(Bucket=BUCKET, Key=f"{DATASET}{split}.rec", Body=b"\x0a\x23\xd7\xce")
        s3.put_object(
            Bucket=BUCKET, Key=f"{DATASET}{split}.idx", Body="".join(f"{i}\t{i * 8}\n" for i in range(count))
        )
    prepared = check_data.handler(event(format="recordio"))
    assert prepared["numTrainingSamples"] == 5
    assert {c["ContentType"] for c in prepared["channels"]} == {"application/x-recordio"}


def test_checkpoints_go_under_the_job_name(s3):
    upload_lst_dataset(s3)
    prepared = check_data.handler(event())
    assert prepared["checkpointUri"] == f"s3://{BUCKET}/training/checkpoints/dogbreeds-dev-20261128-170000/"


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({"trainingJobName": "bad name!"}, "trainingJobName='bad name!'"),
        ({"dataset": "elsewhere/"}, "expected a prefix like 'datasets/NAME/'"),
        ({"format": "tfrecord"}, "format='tfrecord': allowed values are lst, recordio"),
        ({"instanceCount": 9}, "instanceCount=9: allowed values are 1 to 4"),
        ({"hyperParameters": {"num_classes": "5"}}, "counted from the uploaded lists"),
        ({"hyperParameters": {"optimizer": "lbfgs"}}, "optimizer='lbfgs': allowed values"),
    ],
)
def test_bad_request_is_refused_with_what_to_fix(s3, request_fields, message):
    upload_lst_dataset(s3)
    with pytest.raises(check_data.DataCheckError, match=message.replace("(", r"\(").replace("[", r"\[")):
        check_data.handler(event(**request_fields))


def test_batch_larger_than_the_training_data_is_refused(s3):
    upload_lst_dataset(s3)
    with pytest.raises(
        check_data.DataCheckError, match="mini_batch_size=64 is larger than the 6 training images"
    ):
        check_data.handler(event(hyperParameters={"mini_batch_size": "64"}))


def test_missing_list_names_the_object_and_the_command_that_uploads_it(s3):
    upload_lst_dataset(s3)
    s3.delete_object(Bucket=BUCKET, Key=DATASET + "validation.lst")
    with pytest.raises(check_data.DataCheckError, match=r"validation.lst is missing: upload the dataset"):
        check_data.handler(event())


def test_missing_image_channel_is_refused(s3):
    upload_lst_dataset(s3)
    s3.delete_object(Bucket=BUCKET, Key=DATASET + "train/b0/img0.jpg")
    with pytest.raises(check_data.DataCheckError, match=r"train/ is missing or empty"):
        check_data.handler(event())


def test_class_ids_that_do_not_match_the_class_list_are_refused(s3):
    upload_lst_dataset(s3, train_ids=(0, 1, 0, 1))
    with pytest.raises(
        check_data.DataCheckError, match=r"must be 0..2 \(classes.json has 3\); missing \[2\]"
    ):
        check_data.handler(event())


def test_validation_classes_unknown_to_training_are_refused(s3):
    upload_lst_dataset(s3, validation_ids=(0, 1, 2, 7))
    with pytest.raises(check_data.DataCheckError, match=r"validation.lst has class ids \[7\]"):
        check_data.handler(event())


def test_malformed_list_line_is_refused_with_its_line_number(s3):
    upload_lst_dataset(s3)
    s3.put_object(Bucket=BUCKET, Key=DATASET + "train.lst", Body="0\t0\ta.jpg\nnot a list line\n")
    with pytest.raises(
        check_data.DataCheckError, match=r"train.lst line 2: expected index<TAB>class_id<TAB>path"
    ):
        check_data.handler(event())
