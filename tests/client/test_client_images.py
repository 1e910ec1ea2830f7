"""Image preparation: what goes as it is, what becomes a JPEG, and which files are refused."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from client import images
from client.images import (
    RESIZED_LONG_SIDE,
    ImageError,
    api_content_type,
    human_size,
    prepare_image,
)
from core.api_contract import IMAGE_CONTENT_TYPES, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def exif_with_orientation(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    return exif.tobytes()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` without the pixel data: a decompression bomb
    as Pillow first sees one, at no cost to the test."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )


# --- Sent as it is ------------------------------------------------------------------------------
def test_small_jpeg_is_sent_byte_for_byte(make_image):
    path = make_image("dog.jpg")

    prepared = prepare_image(path)

    assert (prepared.data, prepared.content_type, prepared.note) == (
        path.read_bytes(),
        "image/jpeg",
        None,
    )


def test_small_png_without_transparency_is_sent_byte_for_byte(make_image):
    path = make_image("dog.png")

    prepared = prepare_image(path)

    assert (prepared.data, prepared.content_type) == (path.read_bytes(), "image/png")


def test_jpeg_with_upright_exif_orientation_is_sent_byte_for_byte(make_image):
    path = make_image("dog.jpg", exif=exif_with_orientation(1))

    assert prepare_image(path).data == path.read_bytes()


def test_phone_mpo_jpeg_is_sent_byte_for_byte_as_jpeg(tmp_path):
    path = tmp_path / "phone.jpg"
    first, second = Image.new("RGB", (64, 48), "red"), Image.new("RGB", (64, 48), "blue")
    first.save(path, "MPO", save_all=True, append_images=[second])

    prepared = prepare_image(path)

    assert (prepared.data, prepared.content_type) == (path.read_bytes(), "image/jpeg")


def test_jpeg_with_a_2048_px_long_side_is_sent_byte_for_byte(make_image):
    path = make_image("wide.jpg", size=(2048, 16))

    assert prepare_image(path).data == path.read_bytes()


# --- Converted ----------------------------------------------------------------------------------
def test_large_photo_is_shrunk_to_a_1024_px_long_side(make_image):
    path = make_image("big.jpg", size=(3000, 2000))

    prepared = prepare_image(path)

    assert opened(prepared.data).size == (RESIZED_LONG_SIDE, 683)


def test_large_photo_becomes_a_jpeg_within_the_api_limits(make_image):
    path = make_image("big.png", size=(3000, 2000))

    prepared = prepare_image(path)
    image = opened(prepared.data)

    assert image.format == "JPEG"
    assert prepared.content_type == "image/jpeg"
    assert len(prepared.data) <= MAX_IMAGE_BYTES
    assert image.width * image.height <= MAX_IMAGE_PIXELS


def test_resize_note_gives_sizes_before_and_after_and_why(make_image):
    path = make_image("big.jpg", size=(3000, 2000))

    note = prepare_image(path).note

    assert note.startswith(f"3000x2000 JPEG, {human_size(path.stat().st_size)} -> 1024x683 JPEG, ")
    assert note.endswith("(long side over 2048 px)")


def test_small_photo_over_the_byte_limit_is_reencoded_without_resizing(make_image):
    path = make_image("noisy.png", size=(300, 200), noise=True)

    prepared = prepare_image(path, max_bytes=path.stat().st_size - 1)

    assert opened(prepared.data).size == (300, 200)
    assert len(prepared.data) < path.stat().st_size
    assert "over " in prepared.note


def test_quality_is_lowered_until_the_jpeg_fits(make_image):
    path = make_image("noisy.png", size=(200, 200), noise=True)
    at_quality_60 = io.BytesIO()
    Image.open(path).convert("RGB").save(at_quality_60, "JPEG", quality=60)

    prepared = prepare_image(path, max_bytes=at_quality_60.tell())

    assert prepared.data == at_quality_60.getvalue()
    assert "at quality 60" in prepared.note


def test_image_that_no_quality_makes_small_enough_is_an_error(make_image):
    path = make_image("noisy.png", size=(200, 200), noise=True)

    with pytest.raises(ImageError, match=r"noisy\.png: cannot compress it under 100 B"):
        prepare_image(path, max_bytes=100)


def test_exif_rotated_photo_is_sent_upright(make_image):
    # Orientation 6: the camera was turned; viewers rotate the pixels 90 degrees clockwise.
    path = make_image("rotated.jpg", size=(60, 30), exif=exif_with_orientation(6))

    prepared = prepare_image(path)

    assert opened(prepared.data).size == (30, 60)
    assert "EXIF orientation applied" in prepared.note


def test_png_with_transparency_becomes_a_jpeg_on_white(tmp_path):
    path = tmp_path / "cutout.png"
    Image.new("RGBA", (40, 30), (0, 0, 0, 0)).save(path)

    prepared = prepare_image(path)
    image = opened(prepared.data)

    assert image.format == "JPEG"
    assert min(image.getpixel((20, 15))) >= 250


@pytest.mark.parametrize(
    ("name", "mode"),
    [("dog.gif", "P"), ("dog.webp", "RGB"), ("dog.bmp", "RGB"), ("dog.tiff", "RGB")],
)
def test_format_the_api_does_not_take_becomes_a_jpeg_of_the_same_size(make_image, name, mode):
    path = make_image(name, mode=mode)

    prepared = prepare_image(path)
    image = opened(prepared.data)

    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (64, 48))
    assert prepared.content_type == "image/jpeg"


def test_cmyk_jpeg_becomes_an_rgb_jpeg(make_image):
    path = make_image("print.jpg", mode="CMYK")

    assert opened(prepare_image(path).data).mode == "RGB"


def test_content_types_the_client_sends_are_the_api_contract_ones():
    assert {api_content_type(name) for name in ("JPEG", "MPO", "PNG")} == set(IMAGE_CONTENT_TYPES)
    assert api_content_type("WEBP") is None


# --- Refused ------------------------------------------------------------------------------------
def test_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(ImageError, match=r"^.*nowhere\.jpg: no such file$"):
        prepare_image(tmp_path / "nowhere.jpg")


def test_empty_file_is_an_error_naming_it(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")

    with pytest.raises(ImageError, match=r"empty\.jpg: the file is empty$"):
        prepare_image(path)


def test_text_file_is_an_error_saying_it_is_not_an_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("not a photo\n")

    with pytest.raises(ImageError, match=r"notes\.jpg: not an image Pillow can read"):
        prepare_image(path)


def test_directory_is_an_error_naming_it(tmp_path):
    with pytest.raises(ImageError, match=r"is a directory, not an image file$"):
        prepare_image(tmp_path)


@pytest.mark.parametrize("brand", [b"heic", b"mif1"])
def test_heic_file_is_an_error_asking_for_jpeg(tmp_path, brand):
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(b"\x00\x00\x00\x18ftyp" + brand + b"\x00" * 64)

    with pytest.raises(ImageError, match=r"IMG_0001\.HEIC: HEIC is not supported: convert to JPEG"):
        prepare_image(path)


@pytest.mark.parametrize(
    "size",
    [(16_000, 12_000), (20_000, 20_000)],  # just over Pillow's own limit (192 MP); far over it
    ids=["over-photo-limit", "far-over-it"],
)
def test_decompression_bomb_is_refused_before_decoding(tmp_path, size):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(*size))

    with pytest.raises(ImageError, match=r"bomb\.png: .*(pixels|decompression bomb)"):
        prepare_image(path)


def test_bomb_limit_is_our_own_check_too(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "MAX_PHOTO_PIXELS", 100 * 100)
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(101, 100))

    with pytest.raises(ImageError) as caught:
        prepare_image(path)

    assert caught.value.reason == (
        "101x100 is 10,100 pixels, more than any camera's photo (10,000): possibly a decompression bomb"
    )


def test_photo_over_the_api_pixel_limit_is_shrunk_not_refused(tmp_path):
    path = tmp_path / "60mp.jpg"
    Image.new("RGB", (8960, 6720), (120, 90, 60)).save(path, quality=50)  # 60.2 MP

    prepared = prepare_image(path)

    assert MAX_IMAGE_PIXELS < 8960 * 6720
    assert opened(prepared.data).size == (RESIZED_LONG_SIDE, 768)
    assert prepared.note.endswith(f"(over the API's limit of {MAX_IMAGE_PIXELS:,} pixels)")


def test_truncated_photo_that_needs_converting_is_an_error(make_image):
    path = make_image("cut.jpg", size=(2100, 64))
    path.write_bytes(path.read_bytes()[:2000])

    with pytest.raises(ImageError, match=r"cut\.jpg: the image data is damaged or truncated"):
        prepare_image(path)


@pytest.mark.parametrize(("size", "text"), [(512, "512 B"), (180 * 1024, "180 KB"), (6_400_000, "6.1 MB")])
def test_human_size_rounds_to_one_unit(size, text):
    assert human_size(size) == text


def test_prepare_image_accepts_a_path_as_text(make_image):
    path: Path = make_image("dog.jpg")

    assert prepare_image(str(path)).data == path.read_bytes()
