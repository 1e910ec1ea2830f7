"""The ResNet-50 symbol with 120 classes, as the algorithm builds it (written by MXNet), loads and runs."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from local.model import load
from local.model.params import dump_params
from local.model.symbol import parse_symbol
from local.model.testmodel import random_params


@pytest.fixture(scope="module")
def resnet50_folder(golden_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("resnet50")
    for name in ("image-classification-symbol.json", "model-shapes.json"):
        shutil.copy(golden_dir / "resnet50-120" / name, folder / name)
    symbol = (folder / "image-classification-symbol.json").read_text()
    (folder / "image-classification-0042.params").write_bytes(
        dump_params(random_params(symbol, (3, 224, 224)))
    )
    return folder


def test_resnet50_symbol_uses_only_supported_operators_and_has_bn_data(golden_dir):
    symbol = parse_symbol((golden_dir / "resnet50-120" / "image-classification-symbol.json").read_text())

    names = {node.name: node for node in symbol.nodes}

    assert names["bn_data"].flag("fix_gamma", False) is True
    assert sum(node.op == "Convolution" for node in symbol.nodes) == 53  # 49 + 4 projection shortcuts


def test_resnet50_gives_120_probabilities_that_sum_to_one(resnet50_folder):
    model = load(resnet50_folder)
    batch = np.random.default_rng(1).uniform(0, 255, (2, 3, 224, 224)).astype(np.float32)

    probabilities = model.forward(batch)

    assert model.num_classes == 120 and model.image_shape == (3, 224, 224) and model.epoch == 42
    assert probabilities.shape == (2, 120)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (probabilities >= 0).all()


def test_resnet50_has_resnet50s_parameter_count(resnet50_folder):
    params = random_params((resnet50_folder / "image-classification-symbol.json").read_text(), (3, 224, 224))

    weights = sum(v.size for k, v in params.items() if k.startswith("arg:"))

    assert 23_700_000 < weights < 23_800_000  # ResNet-50's 23.5M backbone plus a 2048x120 classifier
