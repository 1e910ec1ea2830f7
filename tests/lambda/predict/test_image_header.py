"""read_image_header: dimensions from the header agree with Pillow; bad headers fail clearly."""

from __future__ import annotations

import dataclasses
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from image_header import CorruptImage, ImageHeader, UnsupportedImageType, read_image_header

from .helpers import (
    exif_bytes,
    jpeg_bytes,
    jpeg_header_claiming,
    jpeg_segment,
    pillow_size,
    png_bytes,
    png_header_claiming,
    sof0_segment,
)

JPEGS = {
    "baseline": lambda: jpeg_bytes((64, 48)),
    "progressive": lambda: jpeg_bytes((97, 31), progressive=True),
    "optimized": lambda: jpeg_bytes((33, 65), optimize=True),
    "exif": lambda: jpeg_bytes((40, 30), exif=exif_bytes()),
    "grayscale": lambda: jpeg_bytes((17, 300), mode="L"),
    "cmyk": lambda: jpeg_bytes((123, 45), mode="CMYK"),
    "one-pixel": lambda: jpeg_bytes((1, 1)),
}
PNGS = {
    "rgb": lambda: png_bytes((64, 48)),
    "rgba": lambda: png_bytes((97, 31), mode="RGBA"),
    "palette": lambda: png_bytes((33, 65), mode="P"),
    "grayscale": lambda: png_bytes((17, 300), mode="L"),
    "16-bit": lambda: png_bytes((5, 7), mode="I;16"),
    "1-bit": lambda: png_bytes((9, 2), mode="1"),
}


@pytest.mark.parametrize("make_jpeg", JPEGS.values(), ids=JPEGS.keys())
def test_jpeg_dimensions_match_pillow(make_jpeg):
    data = make_jpeg()

    header = read_image_header(data)

    assert header.format == "jpeg"
    assert (header.width, header.height) == pillow_size(data)


@pytest.mark.parametrize("make_png", PNGS.values(), ids=PNGS.keys())
def test_png_dimensions_match_pillow(make_png):
    data = make_png()

    header = read_image_header(data)

    assert header.format == "png"
    assert (header.width, header.height) == pillow_size(data)


def test_pixels_is_width_times_height():
    assert ImageHeader("png", 300, 200).pixels == 60_000


def test_huge_claimed_dimensions_are_read_without_pixel_data():
    assert read_image_header(png_header_claiming(40_000, 30_000)) == ImageHeader("png", 40_000, 30_000)
    assert read_image_header(jpeg_header_claiming(65_535, 65_535)) == ImageHeader("jpeg", 65_535, 65_535)


def test_jpeg_fill_bytes_before_a_marker_are_skipped():
    data = b"\xff\xd8" + b"\xff\xff\xff" + sof0_segment(width=320, height=240)

    assert read_image_header(data) == ImageHeader("jpeg", 320, 240)


def test_jpeg_standalone_markers_before_the_frame_are_skipped():
    data = b"\xff\xd8" + b"\xff\x01" + b"\xff\xd0" + sof0_segment(width=320, height=240)

    assert read_image_header(data) == ImageHeader("jpeg", 320, 240)


@pytest.mark.parametrize("marker", [0xC4, 0xC8, 0xCC], ids=["DHT", "JPG", "DAC"])
def test_jpeg_segments_in_the_frame_marker_range_that_are_not_frames_are_skipped(marker):
    # Their payload would read as 0x0101 by 0x0101 if mistaken for a frame header.
    data = b"\xff\xd8" + jpeg_segment(marker, b"\x00\x01\x01\x01\x01\x00") + sof0_segment(320, 240)

    assert read_image_header(data) == ImageHeader("jpeg", 320, 240)


@pytest.mark.parametrize("marker", [0xC1, 0xC2, 0xC3, 0xC5, 0xC9, 0xCF])
def test_jpeg_dimensions_come_from_any_start_of_frame_marker(marker):
    frame = sof0_segment(width=320, height=240)
    data = b"\xff\xd8" + frame[:1] + bytes([marker]) + frame[2:]

    assert read_image_header(data) == ImageHeader("jpeg", 320, 240)


@pytest.mark.parametrize("cut", [3, 4, 6, 20, 100])
def test_truncated_jpeg_is_corrupt(cut):
    data = jpeg_bytes((64, 48), exif=exif_bytes())

    with pytest.raises(CorruptImage, match="truncated"):
        read_image_header(data[:cut])


def test_jpeg_cut_inside_the_frame_header_is_corrupt():
    data = jpeg_header_claiming(320, 240)
    cut_in_width = len(data) - 11  # the frame's last 11 bytes: one of width, count, components

    with pytest.raises(CorruptImage, match="truncated"):
        read_image_header(data[:cut_in_width])


@pytest.mark.parametrize("cut", [8, 12, 20, 28, 32])
def test_truncated_png_is_corrupt(cut):
    with pytest.raises(CorruptImage, match="truncated"):
        read_image_header(png_bytes()[:cut])


def test_png_with_a_damaged_header_chunk_is_corrupt():
    data = bytearray(png_header_claiming(320, 240))
    data[18] ^= 0xFF  # a width byte: the CRC no longer matches

    with pytest.raises(CorruptImage, match="CRC"):
        read_image_header(bytes(data))


def test_png_whose_first_chunk_is_not_ihdr_is_corrupt():
    data = png_header_claiming(320, 240).replace(b"IHDR", b"IDAT")

    with pytest.raises(CorruptImage, match="IHDR"):
        read_image_header(data)


@pytest.mark.parametrize("width, height", [(0, 240), (320, 0), (0, 0)])
def test_png_with_zero_dimension_is_corrupt(width, height):
    with pytest.raises(CorruptImage, match="empty image"):
        read_image_header(png_header_claiming(width, height))


@pytest.mark.parametrize("width, height", [(0, 240), (320, 0)])
def test_jpeg_with_zero_dimension_is_corrupt(width, height):
    with pytest.raises(CorruptImage, match="empty image"):
        read_image_header(jpeg_header_claiming(width, height))


def test_jpeg_scan_before_any_frame_header_is_corrupt():
    data = b"\xff\xd8" + jpeg_segment(0xDA, b"\x01\x01\x00\x00\x3f\x00") + sof0_segment(320, 240)

    with pytest.raises(CorruptImage, match="before any frame header"):
        read_image_header(data)


def test_jpeg_with_garbage_where_a_marker_belongs_is_corrupt():
    with pytest.raises(CorruptImage, match="expected a marker"):
        read_image_header(b"\xff\xd8\xff\xe0\x00\x04ab" + b"garbage")


def test_jpeg_segment_length_below_two_is_corrupt():
    with pytest.raises(CorruptImage, match="has length 1"):
        read_image_header(b"\xff\xd8\xff\xe0\x00\x01")


def test_jpeg_of_millions_of_empty_segments_is_refused_after_the_segment_cap():
    data = b"\xff\xd8" + b"\xff\xfe\x00\x02" * 1_000_000  # 4 MB of empty comments

    with pytest.raises(CorruptImage) as raised:
        read_image_header(data)

    assert str(raised.value) == "the JPEG is malformed: no frame header (SOF) in its first 1,000 segments"


def test_jpeg_frame_header_as_the_1000th_segment_is_read():
    data = b"\xff\xd8" + b"\xff\xfe\x00\x02" * 999 + sof0_segment(64, 48)

    assert read_image_header(data) == ImageHeader("jpeg", 64, 48)


def test_jpeg_frame_header_as_the_1001st_segment_is_past_the_cap():
    data = b"\xff\xd8" + b"\xff\xfe\x00\x02" * 1_000 + sof0_segment(64, 48)

    with pytest.raises(CorruptImage, match="no frame header"):
        read_image_header(data)


@pytest.mark.parametrize(
    "data, named",
    [
        (b"GIF89a\x01\x00\x01\x00", "GIF"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "WebP"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "HEIC"),
        (b"BM\x36\x00\x00\x00", "BMP"),
        (b"\x00\x00\x00\x18ftypheix\x00\x00\x00\x00", "HEIC"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00", "HEIF"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00", "AVIF"),
        (b"II*\x00\x08\x00\x00\x00", "TIFF"),
        (b"MM\x00*\x00\x00\x00\x08", "TIFF"),
        (b"%PDF-1.7\n", "PDF"),
    ],
)
def test_other_image_formats_are_unsupported_and_named(data, named):
    with pytest.raises(UnsupportedImageType, match=f"the image is {named}, not JPEG or PNG"):
        read_image_header(data)


@pytest.mark.parametrize("data", [b"hello world", b"", b"\xff\xd8", b"\x89PNG"])
def test_unknown_magic_bytes_are_unsupported(data):
    with pytest.raises(UnsupportedImageType, match="neither JPEG nor PNG"):
        read_image_header(data)


def test_both_errors_are_value_errors():
    assert issubclass(UnsupportedImageType, ValueError)
    assert issubclass(CorruptImage, ValueError)


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from(
        [b"", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"]
    ),
    rest=st.binary(max_size=64),
)
def test_any_bytes_give_a_header_or_one_of_the_two_errors(prefix, rest):
    try:
        header = read_image_header(prefix + rest)
    except (UnsupportedImageType, CorruptImage) as error:
        assert str(error)
    else:
        assert header.width > 0 and header.height > 0


def _png_with_first_chunk(length: int, chunk_type: bytes, fields: bytes) -> bytes:
    """A PNG signature and one chunk whose CRC is right, so only its type or length is wrong."""
    body = chunk_type + fields
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", length) + body + struct.pack(">I", zlib.crc32(body))


IHDR_FIELDS = struct.pack(">IIBBBBB", 320, 240, 8, 2, 0, 0, 0)


@pytest.mark.parametrize(
    "data",
    [_png_with_first_chunk(13, b"IDAT", IHDR_FIELDS), _png_with_first_chunk(14, b"IHDR", IHDR_FIELDS)],
    ids=["type-idat-with-a-valid-crc", "ihdr-of-length-14"],
)
def test_png_whose_first_chunk_is_not_a_13_byte_ihdr_is_corrupt_even_with_a_valid_crc(data):
    with pytest.raises(CorruptImage) as raised:
        read_image_header(data)

    assert str(raised.value) == "the PNG's first chunk is not a valid IHDR header chunk"


def test_png_header_chunk_with_a_wrong_crc_says_so_exactly():
    data = bytearray(png_header_claiming(320, 240))
    data[-1] ^= 0x01

    with pytest.raises(CorruptImage) as raised:
        read_image_header(bytes(data))

    assert str(raised.value) == "the PNG's IHDR header chunk fails its CRC check"


@pytest.mark.parametrize("width, height", [(2**31 - 1, 1), (1, 2**31 - 1)])
def test_png_dimensions_up_to_the_formats_cap_are_read(width, height):
    assert read_image_header(png_header_claiming(width, height)) == ImageHeader("png", width, height)


@pytest.mark.parametrize("width, height", [(2**31, 1), (1, 2**31)])
def test_png_dimension_one_past_the_formats_cap_is_corrupt(width, height):
    with pytest.raises(CorruptImage) as raised:
        read_image_header(png_header_claiming(width, height))

    assert str(raised.value) == f"the PNG's header claims an impossible size {width}x{height}"


def _frame_header_of_length(length: int) -> bytes:
    """SOI and a frame header whose length field says ``length``, followed by enough bytes to read."""
    fields = struct.pack(">BHHB", 8, 48, 64, 1) + bytes([1, 0x11, 0])
    return b"\xff\xd8\xff\xc0" + struct.pack(">H", length) + fields


def test_jpeg_frame_header_of_the_shortest_length_is_read():
    assert read_image_header(_frame_header_of_length(8)) == ImageHeader("jpeg", 64, 48)


def test_jpeg_frame_header_shorter_than_its_fields_is_corrupt():
    with pytest.raises(CorruptImage) as raised:
        read_image_header(_frame_header_of_length(7))

    assert str(raised.value) == "the JPEG's frame header is malformed: length 7"


def test_image_header_is_immutable():
    header = ImageHeader("png", 3, 2)

    with pytest.raises(dataclasses.FrozenInstanceError):
        header.width = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    "image_format, header", [("PNG", png_header_claiming), ("JPEG", jpeg_header_claiming)]
)
def test_empty_image_message_names_the_format_and_size(image_format, header):
    with pytest.raises(CorruptImage) as raised:
        read_image_header(header(0, 48))

    assert str(raised.value) == f"the {image_format}'s header claims an empty image 0x48"


def test_garbage_where_a_marker_belongs_is_named_with_its_position():
    with pytest.raises(CorruptImage) as raised:
        read_image_header(b"\xff\xd8\xff\xfe\x00\x02\x12\x34")  # SOI, an empty comment, garbage

    assert str(raised.value) == "the JPEG is malformed: expected a marker at byte 6, found 0x12"
