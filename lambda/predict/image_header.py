"""Read an image's format and dimensions from its header, without decoding a pixel.

Standard library only: it runs in the prediction Lambda on every request, on up to 4 MiB of image,
so it looks at the few bytes it needs and skips everything else by length.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass

from core.api_contract import JPEG_MAGIC, PNG_MAGIC


class UnsupportedImageType(ValueError):
    """The data is neither a JPEG nor a PNG."""


class CorruptImage(ValueError):
    """The header is truncated or malformed, or claims an empty image; the message says which."""


@dataclass(frozen=True)
class ImageHeader:
    format: str  # "jpeg" or "png"
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def read_image_header(data: bytes) -> ImageHeader:
    """The format and dimensions of a JPEG or PNG image."""
    if data.startswith(PNG_MAGIC):
        return _read_png_header(data)
    if data.startswith(JPEG_MAGIC):
        return _read_jpeg_header(data)
    raise UnsupportedImageType(_describe_unsupported(data))


# --- PNG --------------------------------------------------------------------------------------
# The first chunk must be IHDR: length 13, type, width, height, 5 bytes of flags, then a CRC.
_IHDR = struct.Struct(">I4sII5sI")
_PNG_MAX_DIMENSION = 2**31 - 1


def _read_png_header(data: bytes) -> ImageHeader:
    start = len(PNG_MAGIC)
    if len(data) < start + _IHDR.size:
        raise CorruptImage(f"the PNG is truncated: {len(data)} bytes, too short for its IHDR header chunk")
    length, chunk_type, width, height, _flags, crc = _IHDR.unpack_from(data, start)
    if chunk_type != b"IHDR" or length != 13:
        raise CorruptImage("the PNG's first chunk is not a valid IHDR header chunk")
    if zlib.crc32(data[start + 4 : start + 4 + 4 + length]) != crc:
        raise CorruptImage("the PNG's IHDR header chunk fails its CRC check")
    if width > _PNG_MAX_DIMENSION or height > _PNG_MAX_DIMENSION:
        raise CorruptImage(f"the PNG's header claims an impossible size {width}x{height}")
    _check_not_empty("PNG", width, height)
    return ImageHeader("png", width, height)


# --- JPEG -------------------------------------------------------------------------------------
# Start-of-frame markers SOF0-SOF15 hold the dimensions; C4 (DHT), C8 (JPG) and CC (DAC) share
# the range but are other segments.
_START_OF_FRAME = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-RST7: no length field
_START_OF_IMAGE, _END_OF_IMAGE, _START_OF_SCAN = 0xD8, 0xD9, 0xDA
_FILL_BYTES = re.compile(rb"\xff+")  # a marker is any number of 0xFF then the marker code
_SEGMENT_LENGTH = struct.Struct(">H")
_FRAME_SIZE = struct.Struct(">HH")  # height, width, after the length and the sample precision
# Real files have a few dozen segments before the frame (a 4 MiB file of maximal APPn segments has
# 64); the cap keeps a crafted file of millions of empty segments from costing a third of a second.
_MAX_SEGMENTS_BEFORE_FRAME = 1_000


def _read_jpeg_header(data: bytes) -> ImageHeader:
    position = 2  # after SOI
    for _ in range(_MAX_SEGMENTS_BEFORE_FRAME):
        fill = _FILL_BYTES.match(data, position)
        if fill is None:
            if position >= len(data):
                raise _truncated_jpeg(data)
            raise CorruptImage(
                f"the JPEG is malformed: expected a marker at byte {position}, found 0x{data[position]:02X}"
            )
        position = fill.end()
        if position >= len(data):
            raise _truncated_jpeg(data)
        marker = data[position]
        position += 1
        if marker in _STANDALONE:
            continue
        if marker in (_START_OF_IMAGE, _END_OF_IMAGE, _START_OF_SCAN, 0x00):
            raise CorruptImage(
                f"the JPEG is malformed: marker 0x{marker:02X} at byte {position - 1} "
                "comes before any frame header (SOF)"
            )
        if position + 2 > len(data):
            raise _truncated_jpeg(data)
        (length,) = _SEGMENT_LENGTH.unpack_from(data, position)
        if length < 2:
            raise CorruptImage(
                f"the JPEG is malformed: segment 0x{marker:02X} at byte {position - 1} has length {length}"
            )
        if marker in _START_OF_FRAME:
            return _read_frame_header(data, position, length)
        position += length
    raise CorruptImage(
        f"the JPEG is malformed: no frame header (SOF) in its first {_MAX_SEGMENTS_BEFORE_FRAME:,} segments"
    )


def _read_frame_header(data: bytes, position: int, length: int) -> ImageHeader:
    # length(2) precision(1) height(2) width(2) components(1), then 3 bytes per component
    if length < 8:
        raise CorruptImage(f"the JPEG's frame header is malformed: length {length}")
    if position + 7 > len(data):
        raise _truncated_jpeg(data)
    height, width = _FRAME_SIZE.unpack_from(data, position + 3)
    _check_not_empty("JPEG", width, height)
    return ImageHeader("jpeg", width, height)


def _truncated_jpeg(data: bytes) -> CorruptImage:
    return CorruptImage(
        f"the JPEG is truncated: its {len(data)} bytes end before the frame header (SOF) "
        "that holds its dimensions"
    )


# --- Both -------------------------------------------------------------------------------------
def _check_not_empty(image_format: str, width: int, height: int) -> None:
    if width == 0 or height == 0:
        raise CorruptImage(f"the {image_format}'s header claims an empty image {width}x{height}")


_OTHER_FORMATS = (  # (offset, signature, name): for a helpful message only
    (0, b"GIF8", "GIF"),
    (8, b"WEBP", "WebP"),
    (4, b"ftypheic", "HEIC"),
    (4, b"ftypheix", "HEIC"),
    (4, b"ftypmif1", "HEIF"),
    (4, b"ftypavif", "AVIF"),
    (0, b"BM", "BMP"),
    (0, b"II*\x00", "TIFF"),
    (0, b"MM\x00*", "TIFF"),
    (0, b"%PDF", "PDF"),
)


def _describe_unsupported(data: bytes) -> str:
    for offset, signature, name in _OTHER_FORMATS:
        if data.startswith(signature, offset):
            return f"the image is {name}, not JPEG or PNG"
    first_bytes = data[:8].hex(" ").upper()
    return f"the data is neither JPEG nor PNG (it starts with bytes {first_bytes or 'nothing'})"
