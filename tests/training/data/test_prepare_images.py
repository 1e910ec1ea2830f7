"""Checking one image file: what is copied, converted or skipped, and the RecordIO downscaling."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from prepare_trees import TREE_FOLDERS, copy_rgb_images, image_bytes, run_prepare

from core.layout import SPLITS, image_dir
from training.data.images import CONVERT, COPY, SKIP, inspect_image, record_jpeg, shrunk_size, write_image


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


def jpeg_with_orientation(orientation: int, size: tuple[int, int] = (40, 30)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste(Image.new("RGB", (size[0] // 4, size[1]), (0, 0, 0)))  # a dark band on the stored left
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


@pytest.mark.parametrize("orientation", [2, 3, 4, 5, 6, 7, 8])
def test_an_rgb_jpeg_turned_by_exif_is_converted(tmp_path, orientation):
    inspection = inspect_image(write(tmp_path, "turned.jpg", jpeg_with_orientation(orientation)))
    assert inspection == (
        CONVERT,
        f"EXIF orientation {orientation}, which MXNet ignores: re-encoded as RGB JPEG",
    )


@pytest.mark.parametrize("orientation", [0, 1, 9])
def test_an_rgb_jpeg_upright_or_with_an_orientation_no_viewer_applies_is_copied(tmp_path, orientation):
    assert inspect_image(write(tmp_path, "upright.jpg", jpeg_with_orientation(orientation))) == (COPY, "")


def test_a_grayscale_jpeg_turned_by_exif_names_both_reasons(tmp_path):
    image = Image.new("L", (40, 30), 90)
    exif = Image.Exif()
    exif[0x0112] = 8
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    inspection = inspect_image(write(tmp_path, "gray.jpg", buffer.getvalue()))
    assert inspection.reason == "EXIF orientation 8, which MXNet ignores; grayscale: re-encoded as RGB JPEG"


def test_a_converted_exif_turned_jpeg_is_written_upright_without_the_tag(tmp_path):
    source = write(tmp_path, "turned.jpg", jpeg_with_orientation(6))  # shown turned 90 degrees clockwise
    write_image(source, str(tmp_path / "out.jpg"), CONVERT)

    with Image.open(tmp_path / "out.jpg") as image:
        assert image.size == (30, 40)
        assert image.getexif().get(0x0112) is None
        assert sum(image.getpixel((15, 2))) < 150 and sum(image.getpixel((15, 37))) > 150  # band on top


def test_lst_prepare_re_encodes_an_exif_turned_jpeg_and_reports_it(images_dir, tmp_path):
    tree = copy_rgb_images(images_dir, tmp_path / "Images", TREE_FOLDERS[:2], per_breed=4)
    turned = f"{TREE_FOLDERS[0]}/turned.jpg"
    (tree / turned).write_bytes(jpeg_with_orientation(6))

    report = run_prepare(tree, tmp_path / "out")

    assert report["reencoded"] == [
        {"path": turned, "reason": "EXIF orientation 6, which MXNet ignores: re-encoded as RGB JPEG"}
    ]
    split = next(split for split in SPLITS if (tmp_path / "out" / image_dir(split) / turned).exists())
    with Image.open(tmp_path / "out" / image_dir(split) / turned) as image:
        assert image.size == (30, 40) and image.getexif().get(0x0112) is None
