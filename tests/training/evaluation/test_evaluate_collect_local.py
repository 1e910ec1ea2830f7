"""``evaluate local --model SOURCE --lists OUT``: predictions from the model on this CPU (local.model),
end to end with a test model in the algorithm's layout, on lst and RecordIO datasets."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from cli_aws_helpers import run_cli
from evaluation_fixtures import names, to_recordio, write_dataset

from local.model import CpuModel, load, write_test_model
from training.evaluation.collection import ImageProgress
from training.evaluation.from_local import job_of_model

JOB = "dogbreeds-dev-20260101-120000"
CLASSES = 3


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    return write_test_model(tmp_path_factory.mktemp("model") / "model.tar.gz", num_classes=CLASSES)


@pytest.fixture(scope="module")
def model(model_file) -> CpuModel:
    return load(model_file)


@pytest.fixture
def dataset(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_dataset(tmp_path / "out", names(CLASSES), validation_per_class=2, train_per_class=1)
    return tmp_path / "out"


def collect(capsys, model_file, lists, predictions, *extra):
    return run_cli(
        capsys,
        *("evaluate", "local", "--model", model_file, "--lists", lists),
        *("--predictions", predictions, "--collect-only", *extra),
    )


def cached(predictions: Path) -> dict[str, list[float]]:
    records = [json.loads(line) for line in predictions.read_text().splitlines()]
    return {record["image"]: record["probabilities"] for record in records}


def listed(lists: Path) -> list[str]:
    return [line.split("\t")[2] for line in (lists / "validation.lst").read_text().splitlines()]


def assert_close(actual: list[float], expected: list[float]) -> None:
    assert actual == pytest.approx(expected, abs=1e-6)


def test_every_validation_image_gets_the_models_own_probabilities(model_file, model, dataset, capsys):
    predictions = dataset.parent / "predictions.jsonl"

    status, out, err = collect(capsys, model_file, dataset, predictions)

    assert status == 0, err
    assert f"predictions: {predictions}" in out
    got = cached(predictions)
    assert list(got) == listed(dataset)
    for image, probabilities in got.items():
        assert_close(probabilities, model.predict((dataset / "validation" / image).read_bytes()))


def test_images_go_to_the_runtime_in_batches_of_the_batch_size(model_file, dataset, capsys, monkeypatch):
    sizes = []
    predict_batch = CpuModel.predict_batch

    def recording(self, images):
        sizes.append(len(images))
        return predict_batch(self, images)

    monkeypatch.setattr(CpuModel, "predict_batch", recording)
    status, _, _ = collect(capsys, model_file, dataset, dataset.parent / "p.jsonl", "--batch-size", "4")

    assert status == 0
    assert sizes == [4, 2]


def test_progress_shows_images_per_second(model_file, dataset, capsys):
    _, _, err = collect(capsys, model_file, dataset, dataset.parent / "p.jsonl")

    assert re.search(r"^predicted 6/6 images, \d+\.\d\d images/s in \d+m\d\ds$", err, re.MULTILINE), err


def test_a_terminal_bar_shows_the_rate_while_predicting():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    progress = ImageProgress("predicted", 4, stream=Terminal(), rate=True)
    progress.file_done()

    assert re.fullmatch(r"predicted 1/4 images, \d+\.\d\d images/s", progress.line())
    progress.finish()


def test_a_rerun_predicts_only_what_the_cache_lacks_and_drops_a_torn_line(model_file, dataset, capsys):
    images = listed(dataset)
    predictions = dataset.parent / "predictions.jsonl"
    kept = {image: [1.0, 0.0, 0.0] for image in images[:2]}
    lines = [json.dumps({"image": image, "probabilities": p}) for image, p in kept.items()]
    predictions.write_text("\n".join(lines) + "\n" + lines[0][:20])

    status, _, err = collect(capsys, model_file, dataset, predictions)

    assert status == 0
    assert "predicting 4 of 6 validation images (2 already in" in err
    got = cached(predictions)
    assert set(got) == set(images)
    assert all(got[image] == kept[image] for image in kept)  # not predicted again


def test_a_complete_cache_needs_no_model(dataset, capsys):
    predictions = dataset.parent / "predictions.jsonl"
    predictions.write_text(
        "".join(json.dumps({"image": i, "probabilities": [0.2, 0.3, 0.5]}) + "\n" for i in listed(dataset))
    )

    status, _, err = collect(capsys, dataset.parent / "missing.tar.gz", dataset, predictions)

    assert status == 0, err
    assert "all 6 validation images already have a prediction" in err


def test_an_image_that_does_not_decode_is_reported_and_the_others_cached(model_file, dataset, capsys):
    broken = listed(dataset)[3]
    (dataset / "validation" / broken).write_bytes(b"not an image")
    predictions = dataset.parent / "predictions.jsonl"

    status, _, err = collect(capsys, model_file, dataset, predictions)

    assert status == 1
    assert f"error: {broken}: the 12 bytes are not a decodable image" in err
    assert "error: 1 of 6 images could not be predicted (see above)" in err
    assert f"evaluate predictions --lists {dataset} --predictions {predictions}" in err
    assert set(cached(predictions)) == set(listed(dataset)) - {broken}


def test_a_model_of_another_class_count_is_refused_before_predicting(tmp_path, dataset, capsys):
    other = write_test_model(tmp_path / "other.tar.gz", num_classes=5)
    predictions = tmp_path / "predictions.jsonl"

    status, _, err = collect(capsys, other, dataset, predictions)

    assert status == 1
    assert (
        f"error: {other} has 5 classes, {dataset} has 3: the model was trained on another class list" in err
    )
    assert not predictions.exists() or predictions.read_text() == ""


def test_a_model_that_cannot_be_loaded_is_a_one_line_error(tmp_path, dataset, capsys):
    status, _, err = collect(capsys, tmp_path / "missing.tar.gz", dataset, tmp_path / "p.jsonl")

    assert status == 1
    assert f"error: cannot load the model: {tmp_path / 'missing.tar.gz'}: no such file or folder" in err


def test_a_recordio_dataset_is_predicted_from_the_images_in_its_rec(model_file, model, dataset, capsys):
    recordio = dataset.parent / "rec"
    extracted = to_recordio(dataset, recordio)
    predictions = dataset.parent / "rec-eval" / "predictions.jsonl"

    status, _, err = collect(capsys, model_file, recordio, predictions)

    assert status == 0, err
    got = cached(predictions)
    assert set(got) == set(extracted)
    for name, relative in extracted.items():
        assert_close(got[name], model.predict((dataset / "validation" / relative).read_bytes()))


def test_with_a_job_the_report_is_written_at_the_jobs_default_place(model_file, dataset, capsys):
    status, out, err = run_cli(
        capsys, "evaluate", "local", "--model", model_file, "--job", JOB, "--lists", dataset
    )

    assert status == 0, err
    assert f"predictions: evaluation/{JOB}/predictions.jsonl" not in out  # not --collect-only
    metrics = json.loads((Path("evaluation") / JOB / "report" / "metrics.json").read_text())
    assert metrics["model"] == {"job": JOB, "predictions": f"evaluation/{JOB}/predictions.jsonl"}
    assert metrics["images"] == 6
    assert (Path("evaluation") / JOB / "report" / "report.html").is_file()
    assert "top-5 accuracy 1.0000 on 6 images" in out


@pytest.mark.parametrize(
    ("source", "job"),
    [
        (JOB, JOB),
        (f"s3://bucket/training/output/{JOB}/output/model.tar.gz", JOB),
        ("s3://bucket/models/model.tar.gz", None),
        ("model.tar.gz", None),
        ("./exported", None),
    ],
)
def test_the_job_a_model_source_names(source, job):
    assert job_of_model(source) == job


def test_an_existing_folder_named_like_a_job_is_a_path_not_a_job(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mymodel").mkdir()

    assert job_of_model("mymodel") is None
