"""evaluate on a dataset prepared with ``--format recordio``: the validation images come out of the
``.rec``, offline and for Batch Transform (uploaded next to the job's evaluation outputs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_aws_helpers import moto_client, run_cli
from evaluate_collect_helpers import (
    CLASS_NAMES,
    DATASET_PREFIX,
    JOB,
    TransformSimulator,
    create_evaluated_job,
)
from evaluation_fixtures import one_hot, write_predictions
from prepare_trees import image_bytes

from core import layout
from training.data.recordio import IMAGE_HEADER, MAGIC, RecordWriter
from training.errors import TrainingError
from training.evaluation.analysis import evaluate_offline
from training.evaluation.data import EXTRACTED_STAMP, load_validation_set

LABELS = {10: 0, 11: 0, 12: 1, 13: 2}  # record id -> class id, in file order


def jpeg_with_magic(shade: int) -> bytes:
    """A JPEG whose record holds the RecordIO magic at an aligned offset (after the image's end,
    where decoders ignore it): the writer must split it and the reader join it back."""
    jpeg = image_bytes("RGB", (40, 30), (shade, 90, 160))
    jpeg += b"\0" * (-(IMAGE_HEADER.size + len(jpeg)) % 4)
    return jpeg + MAGIC.to_bytes(4, "little") + b"tail"


IMAGES = {record_id: jpeg_with_magic(40 * index) for index, record_id in enumerate(LABELS)}


def write_recordio_dataset(root: Path) -> Path:
    """What ``prepare --format recordio`` leaves: classes.json and validation.rec/.idx (no lists)."""
    root.mkdir(parents=True)
    classes = [{"id": i, "name": name} for i, name in enumerate(CLASS_NAMES)]
    (root / layout.CLASSES_FILE).write_text(json.dumps(classes), encoding="utf-8")
    with RecordWriter(root / "validation.rec", root / "validation.idx") as writer:
        for record_id, class_id in LABELS.items():
            writer.write_image(record_id, float(class_id), IMAGES[record_id])
    return root


def test_validation_images_are_taken_out_of_the_rec_named_by_record_id(tmp_path: Path) -> None:
    validation = load_validation_set(write_recordio_dataset(tmp_path / "rec"), extract_to=tmp_path / "out")
    assert validation.images == {f"{record_id}.jpg": label for record_id, label in LABELS.items()}
    assert all(validation.image_file(f"{i}.jpg").read_bytes() == IMAGES[i] for i in LABELS)
    assert (validation.format, validation.name) == ("recordio", "rec")


def test_extraction_happens_once_per_rec_file(tmp_path: Path) -> None:
    root = write_recordio_dataset(tmp_path / "rec")
    load_validation_set(root, extract_to=tmp_path / "out")
    (tmp_path / "out" / "validation" / "10.jpg").write_bytes(b"left alone")
    load_validation_set(root, extract_to=tmp_path / "out")
    assert (tmp_path / "out" / "validation" / "10.jpg").read_bytes() == b"left alone"
    assert (tmp_path / "out" / EXTRACTED_STAMP).is_file()


def test_a_recordio_dataset_needs_a_folder_to_extract_into(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="is a RecordIO dataset: its validation images must be extracted"):
        load_validation_set(write_recordio_dataset(tmp_path / "rec"))


def test_a_damaged_rec_is_refused_with_advice(tmp_path: Path) -> None:
    root = write_recordio_dataset(tmp_path / "rec")
    (root / "validation.rec").write_bytes(b"not recordio at all")
    with pytest.raises(
        TrainingError, match="validation.rec is not a readable RecordIO file .*prepare it again"
    ):
        load_validation_set(root, extract_to=tmp_path / "out")


def test_offline_evaluation_of_a_recordio_dataset_has_metrics_and_thumbnails(tmp_path: Path) -> None:
    root = write_recordio_dataset(tmp_path / "rec")
    predictions = {f"{i}.jpg": one_hot(2 if i == 11 else label, 3) for i, label in LABELS.items()}
    write_predictions(tmp_path / "predictions.jsonl", predictions)
    result = evaluate_offline(root, tmp_path / "predictions.jsonl", tmp_path / "report")
    assert result["accuracy"] == 0.75 and result["dataset"]["format"] == "recordio"
    assert result["misclassified"][0]["image"] == "11.jpg"
    assert 'class="zoom"' in (tmp_path / "report" / "report.html").read_text(encoding="utf-8")


# --- Batch Transform -------------------------------------------------------------------------------
class RecordioTransform(TransformSimulator):
    """Plays the transform over the uploaded extracted images: right, except record 11 (taken for 2)."""

    def run_transform(self, **_: Any) -> None:
        request = self.requests("CreateTransformJob")[-1]
        s3 = moto_client("s3")
        output = request["TransformOutput"]["S3OutputPath"].removeprefix(f"s3://{self.bucket}/")
        for image in self.covered_images(request):
            record_id = int(image.removesuffix(".jpg"))
            predicted = 2 if record_id == 11 else LABELS[record_id]
            body = json.dumps(one_hot(predicted, 3)).encode()
            s3.put_object(Bucket=self.bucket, Key=f"{output}{image}.out", Body=body)


@pytest.fixture
def recordio_job(cli_dev, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    local = write_recordio_dataset(tmp_path / "prepared")
    s3 = moto_client("s3")
    for name in (layout.CLASSES_FILE, "validation.rec"):
        s3.put_object(Bucket=cli_dev.bucket, Key=DATASET_PREFIX + name, Body=(local / name).read_bytes())
    create_evaluated_job(cli_dev, fmt="recordio")
    return cli_dev, RecordioTransform(cli_dev.bucket).install(monkeypatch)


def test_batch_transform_reads_the_images_taken_out_of_the_rec(recordio_job, capsys) -> None:
    deployed, simulator = recordio_job
    status, out, err = run_cli(capsys, "evaluate", "transform", "--job", JOB, "--stage", "dev")
    assert status == 0, err
    source = simulator.requests("CreateTransformJob")[0]["TransformInput"]["DataSource"]["S3DataSource"]
    prefix = f"{layout.TRAINING_OUTPUT_PREFIX}{JOB}/evaluation/validation-images/"
    assert source["S3Uri"] == f"s3://{deployed.bucket}/{prefix}"
    listed = moto_client("s3").list_objects_v2(Bucket=deployed.bucket, Prefix=prefix)["Contents"]
    assert sorted(item["Key"].removeprefix(prefix) for item in listed) == sorted(f"{i}.jpg" for i in LABELS)
    metrics = json.loads((Path("evaluation") / JOB / "report" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["accuracy"] == 0.75
    assert metrics["model"]["job"] == JOB
    assert (
        metrics["dataset"]["name"] == layout.DEFAULT_DATASET_NAME
        and metrics["dataset"]["format"] == "recordio"
    )
