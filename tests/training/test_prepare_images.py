"""Checking one image file: what is copied, converted or skipped, and the RecordIO downscaling."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from prepare_trees import image_bytes

from training.images import CONVERT, COPY, SKIP, inspect_image, record_jpeg, shrunk_size


def write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_a_jpeg_missing_its_last_byte_is_skipped_as_truncated(tmp_path):
    data = image_bytes("RGB", (40, 30), (10, 200, 30))
    inspection = inspect_image(write(tmp_path, "cut.jpg", data[:-1]))
    assert inspection.action == SKIP and "truncated or corrupt JPEG" in inspection.reason


def test_a_jpeg_with_bytes_after_its_end_marker_is_copied(tmp_path):
    data = image_bytes("RGB", (40, 30), (10, 200, 30)) + b"\0\0trailer"
    assert inspect_image(write(tmp_path, "trailer.jpg", data)).action == COPY


def test_a_truncated_png_is_skipped(tmp_path):
    data = image_bytes("RGB", (40, 30), (10, 200, 30), "PNG")
    inspection = inspect_image(write(tmp_path, "cut.png", data[: len(data) // 2]))
    assert inspection.action == SKIP and "truncated or corrupt PNG" in inspection.reason


def test_a_palette_png_without_transparency_is_converted_for_its_palette(tmp_path):
    data = image_bytes("P", (40, 30), 3, "PNG")
    inspection = inspect_image(write(tmp_path, "palette.png", data))
    assert inspection.action == CONVERT and "palette" in inspection.reason


def test_a_missing_file_is_skipped_as_unreadable(tmp_path):
    inspection = inspect_image(str(tmp_path / "gone.jpg"))
    assert inspection.action == SKIP and inspection.reason.startswith("unreadable")


@pytest.mark.parametrize(
    ("size", "shorter_side", "expected"),
    [((500, 375), 256, (341, 256)), ((375, 500), 256, (256, 341)), ((200, 150), 256, (200, 150))],
)
def test_shrunk_size_scales_the_shorter_side_down_and_never_up(size, shorter_side, expected):
    assert shrunk_size(size, shorter_side) == expected


def test_record_jpeg_is_an_rgb_jpeg_with_the_shorter_side_resized(tmp_path):
    source = write(tmp_path, "gray.jpg", image_bytes("L", (120, 90), 99))
    with Image.open(io.BytesIO(record_jpeg(source, 45))) as image:
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (60, 45))
