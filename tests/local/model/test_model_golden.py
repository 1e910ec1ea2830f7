"""Local probabilities against MXNet 1.9.1's own forward pass (tests/local/golden, scripts/mxnet-golden)."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from local.model import load
from local.model.params import read_params_file
from local.model.preprocess import decode_rgb, preprocess, resize_bilinear

TOLERANCE = 1e-4


def _cases(golden: dict, **match: str) -> list[dict]:
    cases = [c for c in golden["cases"] if all(c.get(k) == v for k, v in match.items())]
    assert cases, f"no golden case with {match}"
    return cases


def test_golden_files_come_from_mxnet_1_9_1(golden):
    assert golden["mxnet_version"] == "1.9.1"


@pytest.mark.parametrize("image", ["exact-224.png", "exact-224.jpg", "wide-300x200.jpg"])
def test_small_resnet_matches_mxnet_from_image_bytes(golden, golden_dir, image):
    (case,) = _cases(golden, model="small-resnet", image=image)
    model = load(golden_dir / "small-resnet")

    probabilities = model.predict((golden_dir / "images" / image).read_bytes())

    np.testing.assert_allclose(probabilities, case["probabilities"], rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("image", ["exact-224.png", "exact-224.jpg"])
def test_image_of_the_input_size_gives_mxnets_exact_tensor(golden, golden_dir, image):
    (case,) = _cases(golden, model="small-resnet", image=image)

    tensor = preprocess((golden_dir / "images" / image).read_bytes(), (3, 224, 224))

    assert hashlib.sha256(tensor[None].tobytes()).hexdigest() == case["tensor_sha256"]


def test_resize_is_within_one_level_of_mxnet_imresize(golden_dir):
    mxnet_pixels = np.asarray(
        Image.open(golden_dir / "images" / "wide-300x200.mxnet-resized.png").convert("RGB")
    )

    ours = resize_bilinear(decode_rgb((golden_dir / "images" / "wide-300x200.jpg").read_bytes()), 224, 224)

    assert ours.shape == mxnet_pixels.shape == (224, 224, 3)
    assert np.abs(ours.astype(int) - mxnet_pixels.astype(int)).max() <= 1


def test_operator_variants_match_mxnet_on_the_same_tensor(golden, golden_dir):
    """avg pooling with padding, count_include_pad False, the full convention, grouped conv with bias,
    BatchNorm with every attribute at its default (fix_gamma True), sigmoid and tanh."""
    (case,) = _cases(golden, model="variants")
    model = load(golden_dir / "variants")

    probabilities = model.forward(np.load(golden_dir / "images" / case["tensor"]))

    np.testing.assert_allclose(probabilities[0], case["probabilities"], rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("model", ["small-resnet", "variants"])
def test_golden_bn_data_gamma_is_not_one_so_fix_gamma_is_exercised(golden_dir, model):
    (params,) = golden_dir.joinpath(model).glob("*.params")

    gamma = read_params_file(params)["arg:bn_data_gamma"]

    assert np.abs(gamma - 1).min() > 0.01


def test_mxnet_stays_out_of_the_main_environment():
    root = Path(__file__).resolve().parents[3]
    pinned = [
        line.split("==")[0].strip().lower()
        for name in ("requirements.txt", "requirements-dev.txt")
        for line in (root / name).read_text().splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "-r"))
    ]

    assert importlib.util.find_spec("mxnet") is None
    assert "onnxruntime" in pinned and not any(package.startswith("mxnet") for package in pinned)
