"""``upload``: a prepared folder to its S3 prefix, idempotent, resumable, report.json last, and S3
left equal to the folder (stale objects deleted, never outside the dataset's prefix)."""

from __future__ import annotations

import json

import pytest
from cli_aws_helpers import make_prepared_dataset, moto_client, record_s3_uploads, run_cli
from prepare_trees import run_prepare

from core import layout
from training import aws
from training.data.upload import SHA256_METADATA, LocalFile, Plan, delete_stale, is_current, put, stale_keys
from training.errors import TrainingError

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


# --- A re-prepared dataset replaces the uploaded one exactly ------------------------------------
def test_upload_after_prepare_with_another_seed_leaves_exactly_the_new_split(
    cli_dev, stanford_tree, tmp_path, capsys
):
    out = tmp_path / "out"
    # The test tree holds a few breeds, so prepare marks it a subset and upload names it so.
    prefix = f"datasets/{layout.SUBSET_DATASET_NAME}/"
    run_prepare(stanford_tree, out, seed=0)
    run_cli(capsys, "upload", out, "--stage", "dev")
    first = bucket_keys(cli_dev.bucket, prefix)
    run_prepare(stanford_tree, out, seed=1)

    status, out_text, _ = run_cli(capsys, "upload", out, "--stage", "dev")

    assert status == 0
    assert bucket_keys(cli_dev.bucket, prefix) == local_keys(out, prefix)
    stale = sorted(first - local_keys(out, prefix))
    assert stale  # the seed moved images between train/ and validation/
    for key in stale:
        assert f"delete s3://{cli_dev.bucket}/{key} (not in the local dataset)\n" in out_text


NEIGHBOURS = [
    "datasets/stanford-dogs-other/train/a.jpg",  # a dataset whose name starts with this one's
    "datasets/stanford-dogsx",
    "datasets/stanford-dogs",  # the prefix without its slash
    "datasets/other/train.lst",
    "dog-breeds/train.lst",
    "train.lst",
]


def put_objects(bucket, keys):
    s3 = moto_client("s3")
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"old")


def test_upload_deletes_stale_objects_and_never_outside_the_dataset_prefix(cli_dev, prepared, capsys):
    assert PREFIX == "datasets/stanford-dogs/"
    stale = [PREFIX + "train/n02085620/stale.jpg", PREFIX + "old.lst", PREFIX + ".DS_Store"]
    put_objects(cli_dev.bucket, NEIGHBOURS + stale)

    status, _, _ = run_cli(capsys, "upload", prepared, "--stage", "dev")

    assert status == 0
    assert bucket_keys(cli_dev.bucket) == local_keys(prepared)
    assert bucket_keys(cli_dev.bucket, "") == local_keys(prepared) | set(NEIGHBOURS)


def test_only_stale_objects_left_are_deleted_with_nothing_to_upload(cli_dev, prepared, capsys):
    run_cli(capsys, "upload", prepared, "--stage", "dev")
    put_objects(cli_dev.bucket, [PREFIX + "validation/stale.jpg"])

    status, _, err = run_cli(capsys, "upload", prepared, "--stage", "dev")

    assert status == 0
    assert "0 to upload (0 B), 1 to delete" in err
    assert bucket_keys(cli_dev.bucket) == local_keys(prepared)


def test_each_deletion_is_printed_before_it_happens(cli_dev, prepared, capsys, monkeypatch):
    stale = [f"{PREFIX}train/stale-{number}.jpg" for number in range(3)]
    put_objects(cli_dev.bucket, stale)
    printed_before_delete = []
    create = aws.client

    def spying_client(service, **kwargs):
        client = create(service, **kwargs)
        client.meta.events.register(
            "before-call.s3.DeleteObjects", lambda **_: printed_before_delete.append(capsys.readouterr().out)
        )
        return client

    monkeypatch.setattr(aws, "client", spying_client)
    run_cli(capsys, "upload", prepared, "--stage", "dev")

    assert len(printed_before_delete) == 1
    assert all(f"delete s3://{cli_dev.bucket}/{key} " in printed_before_delete[0] for key in stale)


def test_stale_objects_are_deleted_before_report_json_is_uploaded(cli_dev, prepared, capsys, monkeypatch):
    put_objects(cli_dev.bucket, [PREFIX + "train/stale.jpg"])
    calls = record_s3_uploads(monkeypatch)
    create = aws.client

    def spying_client(service, **kwargs):
        client = create(service, **kwargs)
        client.meta.events.register("before-call.s3.DeleteObjects", lambda **_: calls.append("DELETE"))
        return client

    monkeypatch.setattr(aws, "client", spying_client)
    run_cli(capsys, "upload", prepared, "--stage", "dev")

    assert calls[-2:] == ["DELETE", PREFIX + layout.REPORT_FILE]


def test_failed_upload_deletes_nothing(cli_dev, prepared, capsys, monkeypatch):
    put_objects(cli_dev.bucket, [PREFIX + "train/stale.jpg"])
    record_s3_uploads(monkeypatch, fail_keys={PREFIX + layout.CLASSES_FILE})

    assert run_cli(capsys, "upload", prepared, "--stage", "dev")[0] == 1

    assert PREFIX + "train/stale.jpg" in bucket_keys(cli_dev.bucket)


def test_dry_run_lists_every_deletion_and_deletes_nothing(cli_dev, prepared, capsys):
    stale = [f"{PREFIX}train/stale-{number:02}.jpg" for number in range(25)]  # more than the uploads listed
    put_objects(cli_dev.bucket, stale + NEIGHBOURS)

    status, out, _ = run_cli(capsys, "upload", prepared, "--stage", "dev", "--dry-run")

    assert status == 0
    deletions = [line for line in out.splitlines() if line.startswith("would delete")]
    assert deletions == [
        f"would delete s3://{cli_dev.bucket}/{key} (not in the local dataset)" for key in stale
    ]
    assert "25 to delete" in out and "nothing uploaded or deleted" in out
    assert bucket_keys(cli_dev.bucket, "") == set(stale + NEIGHBOURS)


@pytest.mark.parametrize(
    "prefix", ["datasets/", "datasets//", "datasets/a/b/", "datasets/a", "", "/", "other/a/"]
)
def test_deletion_refuses_anything_but_one_dataset_prefix(prefix):
    with pytest.raises(TrainingError, match=r"is not a dataset prefix \(datasets/<name>/\)$"):
        stale_keys(["datasets/a/b/c", "other/a/x"], set(), prefix)


def test_stale_keys_are_only_those_under_the_prefix_that_are_not_local():
    listed = ["datasets/a/x", "datasets/a/y", "datasets/ab/x", "datasets/a", "datasets/b/x"]

    assert stale_keys(listed, {"datasets/a/x"}, "datasets/a/") == ["datasets/a/y"]


class FakeS3:
    """Records delete_objects and put calls; answers deletions with ``errors``."""

    def __init__(self, errors=()):
        self.calls = []
        self.errors = list(errors)

    def delete_objects(self, Bucket, Delete):  # noqa: N803 - boto3's argument names
        self.calls.append(("delete_objects", [item["Key"] for item in Delete["Objects"]], Delete["Quiet"]))
        return {"Errors": self.errors} if self.errors else {}

    def put_object(self, Bucket, Key, Body, Metadata):  # noqa: N803
        self.calls.append(("put_object", Key, Body.read(), Metadata))

    def upload_file(self, Filename, Bucket, Key, ExtraArgs, Config, Callback):  # noqa: N803
        self.calls.append(("upload_file", Key, ExtraArgs))


def test_deletions_go_in_batches_of_at_most_a_thousand(capsys):
    keys = [f"datasets/a/{number:04}" for number in range(2001)]
    s3 = FakeS3()

    delete_stale(s3, Plan(bucket="b", prefix="datasets/a/", to_delete=keys))

    assert [len(call[1]) for call in s3.calls] == [1000, 1000, 1]
    assert [key for call in s3.calls for key in call[1]] == keys
    assert all(call[2] is True for call in s3.calls)


def test_objects_s3_refuses_to_delete_fail_the_upload(capsys):
    s3 = FakeS3(errors=[{"Key": "datasets/a/x", "Code": "AccessDenied"}])

    with pytest.raises(
        TrainingError,
        match=r"^1 stale objects could not be deleted \(first: datasets/a/x "
        r"\(AccessDenied\)\); report.json was not uploaded: run the same command again$",
    ):
        delete_stale(s3, Plan(bucket="b", prefix="datasets/a/", to_delete=["datasets/a/x"]))


# --- One request per file under the multipart threshold ------------------------------------------
@pytest.mark.parametrize(("size", "call"), [(0, "put_object"), (99, "put_object"), (100, "upload_file")])
def test_files_under_the_multipart_threshold_are_one_put_object(tmp_path, size, call):
    from boto3.s3.transfer import TransferConfig

    path = tmp_path / "file"
    path.write_bytes(b"x" * size)
    file = LocalFile(path=path, key="datasets/a/file", size=size, sha256="ab" * 32, md5="00")
    s3, sent = FakeS3(), []

    put(s3, "bucket", file, TransferConfig(multipart_threshold=100), sent.append)

    assert s3.calls[0][:2] == (call, "datasets/a/file")
    if call == "put_object":
        assert s3.calls[0][2:] == (b"x" * size, {SHA256_METADATA: "ab" * 32})
        assert sent == [size]


# --- A dry run works offline -------------------------------------------------------------------
OFFLINE_BUCKET = "<stage dev's data bucket>"


def test_dry_run_of_an_undeployed_stage_lists_every_file_and_exits_0(cli_aws, prepared, capsys):
    status, out, err = run_cli(capsys, "upload", prepared, "--stage", "dev", "--dry-run")

    assert status == 0
    assert (
        "cannot compare with S3, so every file is listed: stack DogBreeds-dev-Storage is not deployed" in err
    )
    uploads = [line for line in out.splitlines() if line.startswith("would upload")]
    assert sorted(uploads) == [
        f"would upload s3://{OFFLINE_BUCKET}/{key}" for key in sorted(local_keys(prepared))
    ]
    assert (
        uploads[-1] == f"would upload s3://{OFFLINE_BUCKET}/{PREFIX}{layout.REPORT_FILE}"
    )  # the last, as uploaded
    assert "would delete: unknown, as S3 was not compared" in out
    assert out.splitlines()[-1].startswith(f"dry run: nothing uploaded or deleted ({len(uploads)} files (")
    assert out.splitlines()[-1].endswith(
        f"to upload to s3://{OFFLINE_BUCKET}/{PREFIX} unless already there; not compared with S3)"
    )


def test_dry_run_without_credentials_says_why_it_cannot_compare(fake_aws, prepared, capsys, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookup

    status, out, err = run_cli(capsys, "upload", prepared, "--stage", "dev", "--dry-run")

    assert status == 0
    assert "cannot compare with S3, so every file is listed: no AWS credentials found" in err
    assert f"would upload s3://{OFFLINE_BUCKET}/{PREFIX}{layout.REPORT_FILE}" in out


def test_dry_run_without_network_says_it_cannot_reach_aws(fake_aws, prepared, capsys, monkeypatch):
    import socket

    with socket.socket() as probe:  # a local port nothing listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")

    status, out, err = run_cli(capsys, "upload", prepared, "--stage", "dev", "--dry-run")

    assert status == 0
    assert "cannot compare with S3, so every file is listed: cannot reach AWS" in err
    assert "not compared with S3" in out


def test_upload_without_dry_run_still_needs_the_stage(cli_aws, prepared, capsys):
    status, _, err = run_cli(capsys, "upload", prepared, "--stage", "dev")

    assert status == 1
    assert "stack DogBreeds-dev-Storage is not deployed" in err
