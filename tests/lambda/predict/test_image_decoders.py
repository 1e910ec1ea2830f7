"""jpeg_decode and png_decode: never accept what Pillow's full decode refuses, accept what it reads.

Pillow's ``Image.open`` + ``load`` is the judge (as in test_predict_properties); the decoders avoid
Pillow's Python layer for the cold start's sake, so these tests compare them with it directly, on
damaged images and on the cases where the two could part: Pillow's own header reading, the PNG
features Pillow cannot write (Adam7 interlacing), and what Pillow tolerates that we refuse.
"""

from __future__ import annotations

import io
import os
import random
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from image_decode import UndecodableImage, check_decodes
from image_header import CorruptImage, UnsupportedImageType, read_image_header
from jpeg_decode import JpegError, check_jpeg_decodes, decode, read_markers
from PIL import Image, PngImagePlugin
from png_decode import PngError, check_png_decodes

from .helpers import fully_decodes, jpeg_bytes, jpeg_segment, noise_png, png_bytes

HANDLER_DIR = Path(__file__).resolve().parents[3] / "lambda" / "predict"


def we_accept(image: bytes) -> bool:
    try:
        check_decodes(image, read_image_header(image))
    except (UndecodableImage, CorruptImage, UnsupportedImageType):
        return False
    return True


def encode(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def png_chunk(chunk_type: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + chunk_type + body + struct.pack(">I", zlib.crc32(chunk_type + body))


ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def handmade_png(width, height, *, interlaced=False, filter_types=range(5), rows_kept=None, seed=0) -> bytes:
    """An 8-bit RGB PNG of random bytes with random row filters; Adam7 when ``interlaced``.
    ``rows_kept`` cuts the raw rows short (the zlib stream then ends early, and validly)."""
    rng = random.Random(seed)
    passes = ADAM7 if interlaced else ((0, 0, 1, 1),)
    rows = []
    for column, row, column_step, row_step in passes:
        pass_width = max(0, -(-(width - column) // column_step))
        pass_height = max(0, -(-(height - row) // row_step))
        if pass_width and pass_height:
            for _ in range(pass_height):
                pixels = bytes(rng.randrange(256) for _ in range(3 * pass_width))
                rows.append(bytes([rng.choice(list(filter_types))]) + pixels)
    raw = b"".join(rows[:rows_kept])
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 1 if interlaced else 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(raw))
        + png_chunk(b"IEND", b"")
    )


def _corpus() -> list[bytes]:
    noise = Image.effect_noise((40, 30), 64)
    rgb = Image.merge("RGB", [noise, noise.rotate(90), noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT)])
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0128] = 2  # ResolutionUnit: inch
    exif[0x011A] = 72.0  # XResolution
    text = PngImagePlugin.PngInfo()
    text.add_text("Title", "a dog")
    text.add_text("Comment", "compressed " * 20, zip=True)
    text.add_itxt("Description", "international", zip=True)
    return [
        encode(rgb, "JPEG", quality=90),
        encode(rgb, "JPEG", progressive=True),
        encode(rgb.convert("L"), "JPEG"),
        encode(rgb.convert("CMYK"), "JPEG"),
        encode(rgb, "JPEG", exif=exif.tobytes(), icc_profile=b"icc" * 100),
        encode(rgb, "JPEG", dpi=(300, 300), optimize=True),
        encode(rgb, "PNG"),
        encode(rgb.convert("RGBA"), "PNG"),
        encode(rgb.convert("P"), "PNG", transparency=3),
        encode(rgb.convert("L"), "PNG", pnginfo=text),
        encode(rgb.convert("1"), "PNG"),
        encode(rgb.convert("I;16"), "PNG"),
        encode(rgb.convert("LA"), "PNG"),
        encode(rgb, "PNG", icc_profile=b"icc" * 100, dpi=(72, 72)),
        handmade_png(13, 11, interlaced=True),
    ]


CORPUS = _corpus()


@pytest.mark.parametrize("image", CORPUS, ids=range(len(CORPUS)))
def test_every_valid_image_is_accepted_and_pillow_agrees(image):
    assert fully_decodes(image)
    assert we_accept(image)


@st.composite
def damaged(draw) -> bytes:
    image = bytearray(draw(st.sampled_from(CORPUS)))
    damage = draw(st.sampled_from(["cut", "flip", "overwrite", "header byte"]))
    if damage == "cut":
        return bytes(image[: draw(st.integers(0, len(image) - 1))])
    if damage == "flip":
        for _ in range(draw(st.integers(1, 4))):
            image[draw(st.integers(0, len(image) - 1))] ^= 1 << draw(st.integers(0, 7))
    elif damage == "overwrite":
        start = draw(st.integers(0, len(image) - 1))
        patch = draw(st.binary(min_size=1, max_size=16))
        image[start : start + len(patch)] = patch
    else:  # the markers and chunks before the pixels, where the two readers differ most
        image[draw(st.integers(0, min(len(image), 400) - 1))] = draw(st.integers(0, 255))
    return bytes(image)


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's own, about the damaged EXIF it reads
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(image=damaged())
def test_a_damaged_image_we_accept_is_one_fully_decodes(image):
    if we_accept(image):
        assert fully_decodes(image), f"accepted, yet Pillow cannot decode it: {image.hex()}"


# --- JPEG: Pillow's header reading, mirrored -------------------------------------------------
JPEG = jpeg_bytes((64, 48), quality=90)
_SOF = JPEG.index(b"\xff\xc0")


def tiff_ifd(entries: list[tuple[int, int, int, bytes]]) -> bytes:
    """A little-endian TIFF header and one IFD of (tag, type, count, 4-byte value) entries."""
    body = b"".join(struct.pack("<HHI4s", *entry) for entry in entries)
    return b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(entries)) + body + b"\x00" * 4


def test_exif_x_resolution_of_one_byte_is_refused_as_pillow_fails_on_it():
    # Found by the differential fuzz: JpegImagePlugin reads the resolution from EXIF when JFIF
    # gives none, and its IndexError on a one-byte XResolution escapes Image.open.
    exif = tiff_ifd([(0x0128, 3, 1, b"\x02\x00\x00\x00"), (0x011A, 1, 1, b"\x48\x00\x00\x00")])
    no_jfif = JPEG[:2] + JPEG[2 + 2 + 16 :]  # Pillow's JFIF segment is 16 bytes long
    image = no_jfif[:2] + jpeg_segment(0xE1, b"Exif\x00\x00" + exif) + no_jfif[2:]
    assert not fully_decodes(image)

    with pytest.raises(JpegError) as refused:
        read_markers(image)

    assert str(refused.value) == (
        "the JPEG is malformed: its EXIF XResolution is 1 value(s) of type 1, not one rational number"
    )


def test_short_jfif_segment_is_refused_though_libjpeg_alone_decodes_it():
    image = JPEG[:2] + jpeg_segment(0xE0, b"JFIF\x00\x01") + JPEG[2:]
    decode(image, read_markers(JPEG))  # libjpeg reads the pixels: only the marker walk can refuse
    assert not fully_decodes(image)

    with pytest.raises(JpegError, match=r"^the JPEG is malformed: its APP0 segment is cut short$"):
        read_markers(image)


def test_exif_x_resolution_as_one_rational_is_accepted():
    exif = tiff_ifd([(0x0128, 3, 1, b"\x02\x00\x00\x00"), (0x011A, 5, 1, struct.pack("<I", 38))])
    exif += struct.pack("<II", 72, 1)
    image = JPEG[:2] + jpeg_segment(0xE1, b"Exif\x00\x00" + exif) + JPEG[2:]

    assert fully_decodes(image)
    assert we_accept(image)


def test_short_quantization_table_is_refused():
    dqt = JPEG.index(b"\xff\xdb")
    length = struct.unpack_from(">H", JPEG, dqt + 2)[0]
    image = JPEG[:dqt] + b"\xff\xdb" + struct.pack(">H", length - 1) + JPEG[dqt + 4 : dqt + 2 + length - 1]
    image += JPEG[dqt + 2 + length :]
    assert not fully_decodes(image)

    with pytest.raises(
        JpegError, match=r"^the JPEG cannot be decoded: its image data is cut short or corrupt$"
    ):
        read_markers(image)


@pytest.mark.parametrize(
    ("inserted", "message"),
    [
        (b"\xff\x01", "the JPEG is malformed: marker 0x01 at byte 3 is not allowed before the scan"),
        (b"\xff\xd8", "the JPEG is malformed: marker 0xD8 at byte 3 is not allowed before the scan"),
        (b"\xff\xf0", "the JPEG is malformed: marker 0xF0 at byte 3 is not allowed before the scan"),
        (b"\x00", "the JPEG is malformed: expected a marker at byte 2, found 0x00"),
        (jpeg_segment(0xE0, b"JFIF\x00\x01"), "the JPEG is malformed: its APP0 segment is cut short"),
        (jpeg_segment(0xEE, b"Adobe\x00"), "the JPEG is malformed: its APP14 segment is cut short"),
    ],
)
def test_marker_that_pillow_refuses_before_the_scan_is_refused(inserted, message):
    image = JPEG[:2] + inserted + JPEG[2:]
    assert not fully_decodes(image)

    with pytest.raises(JpegError) as refused:
        read_markers(image)

    assert str(refused.value) == message


def test_twelve_bit_jpeg_is_refused_with_what_is_accepted():
    image = JPEG[: _SOF + 4] + b"\x0c" + JPEG[_SOF + 5 :]

    with pytest.raises(JpegError, match=r"^the JPEG has 12-bit samples: only 8-bit JPEGs are accepted$"):
        check_jpeg_decodes(image)


def test_lossless_jpeg_is_refused_with_what_to_do():
    image = JPEG[:_SOF] + b"\xff\xc3" + JPEG[_SOF + 2 :]

    with pytest.raises(JpegError, match=r"save it as a baseline or progressive JPEG$"):
        check_jpeg_decodes(image)


def test_truncated_scan_names_the_bytes_left_in_the_log_detail():
    with pytest.raises(JpegError) as refused:
        check_jpeg_decodes(JPEG[:-2])

    assert refused.value.detail.startswith("OSError: image file is truncated (")


# --- PNG --------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(1, 1), (2, 3), (3, 2), (5, 5), (9, 9), (17, 6)])
def test_interlaced_png_of_any_size_is_accepted_as_pillow_reads_it(size):
    image = handmade_png(*size, interlaced=True)

    assert fully_decodes(image)
    assert check_png_decodes(image) == size


def test_interlaced_png_with_an_unknown_row_filter_is_refused():
    image = handmade_png(9, 9, interlaced=True, filter_types=[5])
    assert not fully_decodes(image)

    with pytest.raises(PngError) as refused:
        check_png_decodes(image)

    assert refused.value.detail == "a row has filter type 5, and only 0-4 exist"


def test_png_whose_image_data_ends_early_is_refused_though_pillow_reads_it():
    image = handmade_png(8, 8, rows_kept=5)
    assert fully_decodes(image)  # Pillow's zlib decoder stops quietly when the stream ends

    with pytest.raises(PngError) as refused:
        check_png_decodes(image)

    assert str(refused.value) == "the PNG cannot be decoded: its image data is cut short or corrupt"
    assert refused.value.detail == "its image data inflates to 125 bytes of the 200 its header declares"


def test_png_with_image_data_after_its_zlib_stream_is_refused():
    image = handmade_png(4, 4)
    end = image.index(b"IEND") - 4
    image = image[:end] + png_chunk(b"IDAT", b"\x00") + image[end:]

    with pytest.raises(PngError) as refused:
        check_png_decodes(image)

    assert refused.value.detail == "its image data goes on after the end of its zlib stream"


def test_animated_png_is_refused_with_what_to_send():
    image = png_bytes((8, 8))
    idat = image.index(b"IDAT") - 4
    image = image[:idat] + png_chunk(b"acTL", struct.pack(">II", 1, 0)) + image[idat:]

    with pytest.raises(PngError, match=r"^the PNG is animated \(APNG\): send a single still image$"):
        check_png_decodes(image)


@pytest.mark.parametrize(
    ("chunk", "message"),
    [
        (png_chunk(b"gAMA", b"\x00\x01"), "the PNG is malformed: its gAMA chunk is cut short"),
        (png_chunk(b"pHYs", b"\x00" * 8), "the PNG is malformed: its pHYs chunk is cut short"),
        (png_chunk(b"tRNS", b"\x00" * 5), "the PNG is malformed: its transparency (tRNS) chunk is cut short"),
        (png_chunk(b"zTXt", b"key\x00\x01xyz"),
         "the PNG is malformed: its zTXt chunk uses unknown compression method 1"),
        (png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(bytes(2**20 + 1))),
         "the PNG is malformed: its iCCP chunk inflates to more than 1,048,576 bytes"),
    ],
)  # fmt: skip
def test_metadata_chunk_that_pillow_fails_on_is_refused(chunk, message):
    image = png_bytes((8, 8))  # RGB: tRNS needs 6 bytes
    idat = image.index(b"IDAT") - 4
    image = image[:idat] + chunk + image[idat:]
    assert not fully_decodes(image)

    with pytest.raises(PngError) as refused:
        check_png_decodes(image)

    assert str(refused.value) == message


def test_png_with_corrupt_pixels_fails_the_crc_of_its_image_data():
    image = bytearray(noise_png(32, 24))
    image[image.index(b"IDAT") + 40] ^= 0x10

    with pytest.raises(PngError) as refused:
        check_png_decodes(bytes(image))

    assert refused.value.detail == "its IDAT chunk at byte 33 fails its CRC check"


# --- Cold start -------------------------------------------------------------------------------
def test_checking_images_imports_neither_pillows_python_layer_nor_powertools():
    """What the cold-start target rests on: compiling these cost most of the handler's import."""
    code = (
        "import sys, predict_handler, predict_request\n"
        f"predict_request.check_image({jpeg_bytes()!r})\n"
        f"predict_request.check_image({png_bytes()!r})\n"
        "print(' '.join(sorted(m for m in sys.modules "
        "if m.startswith(('PIL', 'aws_lambda_powertools', 'typing_extensions')))))"
    )
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HANDLER_DIR), *sys.path])}

    loaded = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    ).stdout.split()

    assert loaded == ["PIL", "PIL._imaging", "PIL._version"]
