"""``upload``: a prepared folder to its S3 prefix, idempotent, resumable, report.json last."""

from __future__ import annotations

import json

import pytest
from cli_aws_helpers import make_prepared_dataset, moto_client, record_s3_uploads, run_cli

from training import layout
from training.upload import SHA256_METADATA, LocalFile, is_current

PREFIX = layout.dataset_prefix(layout.DEFAULT_DATASET_NAME)


def local_keys(root, prefix=PREFIX):
    return {prefix + path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def bucket_keys(bucket, prefix=PREFIX):
    listed = moto_client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
    return {entry["Key"] for entry in listed.get("Contents", [])}


@pytest.fixture
def prepared(tmp_path):
    return make_prepared_dataset(tmp_path / "out")


def test_upload_copies_every_file_under_the_dataset_prefix(cli_dev, prepared, capsys):
    status, out, _ = run_cli(capsys, "upload", prepared, "--stage", "dev")

    assert status == 0
    assert bucket_keys(cli_dev.bucket) == local_keys(prepared)
    assert f"s3://{cli_dev.bucket}/{PREFIX}" in out


def test_second_upload_uploads_nothing(cli_dev, prepared, capsys, monkeypatch):
    run_cli(capsys, "upload", prepared, "--stage", "dev")
    uploads = record_s3_uploads(monkeypatch)

    status, _, err = run_cli(capsys, "upload", prepared, "--stage", "dev")

    assert status == 0
    assert uploads == []
    assert "0 to upload" in err


def test_upload_after_a_failure_uploads_only_the_rest(cli_dev, prepared, capsys, monkeypatch):
    failing = PREFIX + layout.list_file("validation")
    fail_keys = {failing}
    uploads = record_s3_uploads(monkeypatch, fail_keys)
    assert run_cli(capsys, "upload", prepared, "--stage", "dev")[0] == 1
    fail_keys.clear()
    uploads.clear()

    run_cli(capsys, "upload", prepared, "--stage", "dev")

    assert uploads == [failing, PREFIX + layout.REPORT_FILE]


def test_failed_upload_withholds_report_json_and_says_to_run_again(cli_dev, prepared, capsys, monkeypatch):
    record_s3_uploads(monkeypatch, fail_keys={PREFIX + layout.CLASSES_FILE})

    status, _, err = run_cli(capsys, "upload", prepared, "--stage", "dev")

    assert status == 1
    assert PREFIX + layout.REPORT_FILE not in bucket_keys(cli_dev.bucket)
    assert "1 of" in err and "run the same command again" in err


def test_report_json_is_uploaded_last(cli_dev, prepared, capsys, monkeypatch):
    uploads = record_s3_uploads(monkeypatch)

    run_cli(capsys, "upload", prepared, "--stage", "dev", "--workers", "4")

    assert uploads[-1] == PREFIX + layout.REPORT_FILE
    assert len(uploads) == len(local_keys(prepared))


def test_changed_file_is_uploaded_again(cli_dev, prepared, capsys, monkeypatch):
    run_cli(capsys, "upload", prepared, "--stage", "dev")
    (prepared / layout.CLASSES_FILE).write_text(json.dumps([{"id": 0, "name": "changed"}]))
    uploads = record_s3_uploads(monkeypatch)

    run_cli(capsys, "upload", prepared, "--stage", "dev")

    assert uploads == [PREFIX + layout.CLASSES_FILE]


def test_changed_report_is_deleted_before_other_files_upload(cli_dev, prepared, capsys, monkeypatch):
    run_cli(capsys, "upload", prepared, "--stage", "dev")
    (prepared / layout.REPORT_FILE).write_text(json.dumps({"format": "lst", "breeds_subset": False, "v": 2}))
    (prepared / layout.CLASSES_FILE).write_text("[]")
    record_s3_uploads(monkeypatch, fail_keys={PREFIX + layout.CLASSES_FILE})

    run_cli(capsys, "upload", prepared, "--stage", "dev")

    assert PREFIX + layout.REPORT_FILE not in bucket_keys(cli_dev.bucket)


def test_uploaded_objects_carry_their_sha256(cli_dev, prepared, capsys):
    run_cli(capsys, "upload", prepared, "--stage", "dev")

    head = moto_client("s3").head_object(Bucket=cli_dev.bucket, Key=PREFIX + "report.json")
    assert len(head["Metadata"][SHA256_METADATA]) == 64


def test_dry_run_uploads_nothing(cli_dev, prepared, capsys):
    status, _, _ = run_cli(capsys, "upload", prepared, "--stage", "dev", "--dry-run")

    assert status == 0
    assert bucket_keys(cli_dev.bucket) == set()


def test_dry_run_lists_what_would_be_uploaded_with_counts(cli_dev, prepared, capsys):
    _, out, _ = run_cli(capsys, "upload", prepared, "--stage", "dev", "--dry-run")

    files = len(local_keys(prepared))
    assert f"would upload s3://{cli_dev.bucket}/{PREFIX}{layout.REPORT_FILE}" in out
    assert f"{files} files; 0 already in" in out and f"{files} to upload" in out


def test_breed_subset_goes_to_the_subset_dataset_by_default(cli_dev, tmp_path, capsys):
    prepared = make_prepared_dataset(tmp_path / "subset", breeds_subset=True)

    run_cli(capsys, "upload", prepared, "--stage", "dev")

    subset = layout.dataset_prefix(layout.SUBSET_DATASET_NAME)
    assert bucket_keys(cli_dev.bucket, subset) == local_keys(prepared, subset)


def test_dataset_option_names_the_prefix(cli_dev, prepared, capsys):
    run_cli(capsys, "upload", prepared, "--stage", "dev", "--dataset", "trial-1")

    assert bucket_keys(cli_dev.bucket, "datasets/trial-1/") == local_keys(prepared, "datasets/trial-1/")


def test_hidden_files_are_not_uploaded(cli_dev, prepared, capsys):
    (prepared / ".DS_Store").write_bytes(b"finder")

    run_cli(capsys, "upload", prepared, "--stage", "dev")

    assert PREFIX + ".DS_Store" not in bucket_keys(cli_dev.bucket)


def test_folder_without_report_is_refused(cli_dev, tmp_path, capsys):
    (tmp_path / "images").mkdir()

    status, _, err = run_cli(capsys, "upload", tmp_path / "images", "--stage", "dev")

    assert status == 1
    assert "is not a prepared dataset (no report.json)" in err


def test_multipart_object_with_the_same_sha256_is_current():
    class S3:
        def head_object(self, **_):
            return {"Metadata": {SHA256_METADATA: "ab" * 32}}

    file = LocalFile(path=None, key="k", size=10, sha256="ab" * 32, md5="00")

    assert is_current(S3(), "bucket", file, {"Size": 10, "ETag": '"abc-2"'})
