"""Reading the algorithm's artifact: tar.gz or folder, the epoch in the name, several checkpoints, and
clear errors for missing files, unknown operators and parameters that do not fit."""

from __future__ import annotations

import json
import logging
import tarfile

import numpy as np
import pytest

from local.model import ModelLoadError, load, write_test_model
from local.model.params import dump_params, read_params_file
from local.model.testmodel import small_resnet_symbol


@pytest.fixture
def model_folder(tmp_path):
    """The test model extracted: image-classification-symbol.json, -0007.params, model-shapes.json."""
    archive = write_test_model(tmp_path / "model.tar.gz", num_classes=5)
    folder = tmp_path / "extracted"
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder


def test_test_model_has_the_algorithms_files_and_a_nonzero_epoch(tmp_path):
    archive = write_test_model(tmp_path / "model.tar.gz")

    with tarfile.open(archive) as tar:
        names = sorted(tar.getnames())

    assert names == [
        "image-classification-0007.params",
        "image-classification-symbol.json",
        "model-shapes.json",
    ]
    assert archive.stat().st_size < 200_000


def test_tar_and_folder_load_the_same_model_with_its_epoch(tmp_path, model_folder):
    from_tar = load(write_test_model(tmp_path / "again.tar.gz", num_classes=5))
    from_folder = load(model_folder)
    batch = np.random.default_rng(0).uniform(0, 255, (1, 3, 224, 224)).astype(np.float32)

    assert from_tar.epoch == from_folder.epoch == 7
    assert from_tar.num_classes == 5 and from_tar.image_shape == (3, 224, 224)
    np.testing.assert_allclose(from_tar.forward(batch), from_folder.forward(batch), atol=1e-7)


def test_several_checkpoints_use_the_newest_epoch_and_say_so(model_folder, caplog):
    params = read_params_file(model_folder / "image-classification-0007.params")
    older = {name: np.zeros_like(value) for name, value in params.items()}
    (model_folder / "image-classification-0003.params").write_bytes(dump_params(older))
    (model_folder / "image-classification-0012.params").write_bytes(dump_params(params))
    (model_folder / "image-classification-0007.params").write_bytes(dump_params(older))

    with caplog.at_level(logging.WARNING, logger="local.model.artifact"):
        model = load(model_folder)

    assert model.epoch == 12 and model.params_name == "image-classification-0012.params"
    assert "(epochs 3, 7, 12); using the newest, image-classification-0012.params" in caplog.text
    probabilities = model.forward(np.full((1, 3, 224, 224), 128, dtype=np.float32))[0]
    assert abs(probabilities.max() - 0.2) > 1e-3  # the all-zero older checkpoints would give 5 x 0.2


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("image-classification-symbol.json", "no *-symbol.json"),
        ("image-classification-0007.params", "no image-classification-NNNN.params"),
        ("model-shapes.json", "no model-shapes.json"),
    ],
)
def test_missing_file_is_named(model_folder, missing, message):
    (model_folder / missing).unlink()

    with pytest.raises(ModelLoadError, match=message.replace("*", r"\*")):
        load(model_folder)


def test_nonexistent_path_says_so(tmp_path):
    with pytest.raises(ModelLoadError, match="no such file or folder"):
        load(tmp_path / "model.tar.gz")


def test_a_file_that_is_not_a_tar_says_so(tmp_path):
    path = tmp_path / "model.tar.gz"
    path.write_bytes(b"not a tar at all")

    with pytest.raises(ModelLoadError, match="not a readable model.tar.gz"):
        load(path)


def test_unknown_operator_is_named(model_folder):
    path = model_folder / "image-classification-symbol.json"
    symbol = json.loads(path.read_text())
    next(node for node in symbol["nodes"] if node["name"] == "relu0")["op"] = "LRN"
    path.write_text(json.dumps(symbol))

    with pytest.raises(ModelLoadError, match="unsupported MXNet operator\\(s\\) LRN"):
        load(model_folder)


def test_symbol_without_a_softmax_output_is_refused(model_folder):
    path = model_folder / "image-classification-symbol.json"
    symbol = json.loads(path.read_text())
    symbol["heads"] = [[next(i for i, n in enumerate(symbol["nodes"]) if n["name"] == "fc1"), 0, 0]]
    path.write_text(json.dumps(symbol))

    with pytest.raises(ModelLoadError, match="the output is FullyConnected 'fc1', not a softmax"):
        load(model_folder)


def test_missing_parameter_is_named(model_folder):
    path = model_folder / "image-classification-0007.params"
    params = read_params_file(path)
    del params["arg:conv0_weight"]
    path.write_bytes(dump_params(params))

    with pytest.raises(ModelLoadError, match="no arg:conv0_weight"):
        load(model_folder)


def test_parameter_of_the_wrong_shape_is_named(model_folder):
    path = model_folder / "image-classification-0007.params"
    params = read_params_file(path)
    params["arg:fc1_weight"] = params["arg:fc1_weight"][:3]
    path.write_bytes(dump_params(params))

    with pytest.raises(ModelLoadError, match=r"fc1_weight has shape \(3, 16\); the symbol needs \(5, 16\)"):
        load(model_folder)


def test_model_shapes_in_an_unknown_layout_shows_the_expected_one(model_folder):
    (model_folder / "model-shapes.json").write_text('{"data": "3,224,224"}')

    with pytest.raises(ModelLoadError, match='expected \\[\\{"name": "data"'):
        load(model_folder)


def test_forward_rejects_a_batch_of_the_wrong_shape(model_folder):
    model = load(model_folder)

    with pytest.raises(ValueError, match=r"batch of shape \(N, 3, 224, 224\); got \(3, 224, 224\)"):
        model.forward(np.zeros((3, 224, 224), dtype=np.float32))


def test_old_style_attr_key_is_read(model_folder):
    """Symbols saved before MXNet 1.0 keep attributes under "attr" or "param" instead of "attrs"."""
    path = model_folder / "image-classification-symbol.json"
    symbol = json.loads(small_resnet_symbol(5))
    for node in symbol["nodes"]:
        if "attrs" in node:
            node["attr"] = node.pop("attrs")
    path.write_text(json.dumps(symbol))

    assert load(model_folder).num_classes == 5
