"""Preprocessing: decode, RGB, resize to the input shape, channels first, float32 0..255, no mean."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from local.model import ImageDecodeError, load, write_test_model
from local.model.preprocess import preprocess, resize_bilinear


def _encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def test_tensor_is_channels_first_float32_pixels_without_mean_subtraction():
    pixels = np.zeros((224, 224, 3), dtype=np.uint8)
    pixels[..., 0], pixels[..., 1], pixels[..., 2] = 10, 200, 255

    tensor = preprocess(_encode(Image.fromarray(pixels)), (3, 224, 224))

    assert tensor.shape == (3, 224, 224) and tensor.dtype == np.float32
    assert (tensor[0] == 10).all() and (tensor[1] == 200).all() and (tensor[2] == 255).all()


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK"])
def test_any_mode_becomes_three_channels(mode):
    image = Image.new("RGB", (50, 40), (30, 60, 90)).convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "PNG"

    tensor = preprocess(_encode(image, fmt), (3, 224, 224))

    assert tensor.shape == (3, 224, 224)


def test_resize_ignores_the_aspect_ratio_and_keeps_a_uniform_image_uniform():
    rgb = np.full((200, 300, 3), 77, dtype=np.uint8)

    resized = resize_bilinear(rgb, 224, 224)

    assert resized.shape == (224, 224, 3) and (resized == 77).all()


def test_resize_uses_half_pixel_centres():
    """Upscaling 2 pixels [0, 100] to 4 gives OpenCV INTER_LINEAR's [0, 25, 75, 100]."""
    rgb = np.array([[[0] * 3, [100] * 3]], dtype=np.uint8)

    resized = resize_bilinear(rgb, 1, 4)

    assert resized[0, :, 0].tolist() == [0, 25, 75, 100]


def test_exif_orientation_is_ignored_as_by_mxnet():
    image = Image.new("RGB", (60, 20), (0, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"

    tensor = preprocess(_encode(image, "JPEG", exif=exif), (3, 20, 60))

    assert tensor.shape == (3, 20, 60)  # not resized from a rotated 20 x 60


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"hello, this is text", "not a decodable image .*68 65 6c 6c 6f"),
        (_encode(Image.new("RGB", (64, 64)), "JPEG")[:200], "not a decodable image"),
    ],
)
def test_non_images_raise_image_decode_error(data, message):
    with pytest.raises(ImageDecodeError, match=message):
        preprocess(data, (3, 224, 224))


def test_decompression_bomb_is_an_image_decode_error(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)

    with pytest.raises(ImageDecodeError, match="too many pixels"):
        preprocess(_encode(Image.new("RGB", (64, 64))), (3, 224, 224))


def test_predict_batch_gives_one_row_per_image(tmp_path):
    model = load(write_test_model(tmp_path / "model.tar.gz", num_classes=4))
    images = [
        _encode(Image.new("RGB", size, color)) for size, color in (((300, 200), "red"), ((224, 224), "blue"))
    ]

    rows = model.predict_batch(images)

    assert len(rows) == 2 and all(len(row) == 4 and abs(sum(row) - 1) < 1e-5 for row in rows)
    assert rows[0] == pytest.approx(model.predict(images[0]), abs=1e-6)
