"""Check that a PNG decodes completely, with the standard library alone.

A PNG's pixels are a zlib stream split over IDAT chunks, one filter-type byte before each row. So
a full check needs no image library: every chunk complete and its CRC right, the chunks in the
order the PNG standard requires, the zlib stream inflating to exactly the rows the header declares
(counted per Adam7 pass when interlaced) and ending there, and each row's filter type one of the
five that exist. The stream is inflated piece by piece and never held whole. This is stricter than
Pillow, which ignores CRCs after the image data and accepts a stream that ends early, and it also
refuses what Pillow's ``PngImagePlugin`` fails on while reading the metadata chunks it parses.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator

_MAGIC_LENGTH = 8
_CHUNK_HEAD = struct.Struct(">I4s")
_CRC = struct.Struct(">I")
_IHDR = struct.Struct(">IIBBBBB")
_MAX_CHUNK_LENGTH = 2**31 - 1
_CHUNK_TYPE = re.compile(rb"[A-Za-z]{4}\Z")
# Channels per colour type, and the bit depths each allows (PNG specification, table 11.1).
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_BIT_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_INDEXED, _GREYSCALE, _TRUECOLOUR = 3, 0, 2
# Adam7 passes: first column, first row, column step, row step.
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_MAX_FILTER_TYPE = 4  # None, Sub, Up, Average, Paeth
_INFLATE_PIECE = 1 << 20  # bytes of rows inflated at a time
_APNG_CHUNKS = frozenset({b"acTL", b"fcTL", b"fdAT"})
# Fewest bytes Pillow's PngImagePlugin reads from each chunk it parses (it fails on fewer).
_MINIMUM_LENGTHS = {b"gAMA": 4, b"cHRM": 32, b"sRGB": 1, b"pHYs": 9}
_MAX_TEXT_CHUNK = 1 << 20  # PngImagePlugin.MAX_TEXT_CHUNK: the most one compressed chunk may inflate to
_MAX_TEXT_MEMORY = 64 << 20  # PngImagePlugin.MAX_TEXT_MEMORY: the most all text chunks may hold


class PngError(ValueError):
    """The PNG does not decode; the message is for the client, ``detail`` for the log."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


def check_png_decodes(data: bytes) -> tuple[int, int]:
    """The PNG's width and height, once all of it has been checked as the module docstring says."""
    reader = _PngReader(data)
    reader.read()
    return reader.width, reader.height


class _PngReader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.width = self.height = 0
        self.colour_type = 0
        self.has_palette = False
        self.text_bytes = 0
        self.rows: _RowCheck | None = None

    def read(self) -> None:
        chunks = self._chunks()
        chunk_type, body = next(chunks, (b"", b""))
        if chunk_type != b"IHDR":
            raise _malformed("its first chunk is not IHDR")
        self._header(body)
        seen_image_data = image_data_ended = False
        for chunk_type, body in chunks:
            if chunk_type == b"IEND":
                break
            if chunk_type == b"IDAT":
                if image_data_ended:
                    raise _malformed("its image data (IDAT) is split by other chunks")
                if self.colour_type == _INDEXED and not self.has_palette:
                    raise _malformed("it is indexed-colour without a palette (PLTE) before its image data")
                assert self.rows is not None
                self.rows.feed(body)
                seen_image_data = True
                continue
            image_data_ended = seen_image_data
            self._other_chunk(chunk_type, body, seen_image_data)
        else:
            raise _cut_short("it ends before its IEND chunk")
        if not seen_image_data:
            raise _cut_short("it holds no image data (IDAT)")
        assert self.rows is not None
        self.rows.finish()

    def _chunks(self) -> Iterator[tuple[bytes, bytes]]:
        data, position = self.data, _MAGIC_LENGTH
        while True:
            if position + _CHUNK_HEAD.size > len(data):
                raise _cut_short(f"it ends inside a chunk header at byte {position}")
            length, chunk_type = _CHUNK_HEAD.unpack_from(data, position)
            if not _CHUNK_TYPE.match(chunk_type):
                raise _corrupt(f"bytes {chunk_type!r} at byte {position + 4} are not a chunk type")
            if length > _MAX_CHUNK_LENGTH:
                raise _corrupt(f"chunk {chunk_type.decode()} claims {length:,} bytes")
            start = position + _CHUNK_HEAD.size
            end = start + length
            if end + _CRC.size > len(data):
                raise _cut_short(f"it ends inside its {chunk_type.decode()} chunk")
            (crc,) = _CRC.unpack_from(data, end)
            if zlib.crc32(data[start:end], zlib.crc32(chunk_type)) != crc:
                raise _corrupt(f"its {chunk_type.decode()} chunk at byte {position} fails its CRC check")
            yield chunk_type, data[start:end]
            position = end + _CRC.size

    def _header(self, body: bytes) -> None:
        if len(body) != _IHDR.size:
            raise _malformed(f"its IHDR chunk has {len(body)} bytes, not 13")
        width, height, depth, colour_type, compression, filter_method, interlace = _IHDR.unpack(body)
        if depth not in _BIT_DEPTHS.get(colour_type, ()):
            raise _malformed(f"colour type {colour_type} with bit depth {depth} does not exist")
        if compression != 0 or filter_method != 0 or interlace > 1:
            raise _malformed(
                f"unknown compression {compression}, filter method {filter_method} or interlace {interlace}"
            )
        self.width, self.height, self.colour_type = width, height, colour_type
        self.rows = _RowCheck(width, height, depth * _CHANNELS[colour_type], interlaced=interlace == 1)

    def _other_chunk(self, chunk_type: bytes, body: bytes, after_image_data: bool) -> None:
        name = chunk_type.decode()
        if chunk_type == b"PLTE":
            if self.has_palette or after_image_data or self.colour_type in (_GREYSCALE, 4):
                raise _malformed(
                    "its palette (PLTE) is repeated, misplaced or not allowed for its colour type"
                )
            if not body or len(body) % 3 or len(body) > 3 * 256:
                raise _malformed(f"its palette (PLTE) has {len(body)} bytes")
            self.has_palette = True
        elif chunk_type in _APNG_CHUNKS:
            raise PngError("the PNG is animated (APNG): send a single still image")
        elif chunk_type[0] & 0x20 == 0:  # an uppercase first letter: a chunk a decoder must understand
            raise _malformed(f"it has a critical chunk {name} that no decoder knows")
        elif len(body) < _MINIMUM_LENGTHS.get(chunk_type, 0):
            raise _malformed(f"its {name} chunk is cut short")
        elif chunk_type == b"tRNS":
            minimum = {_GREYSCALE: 2, _TRUECOLOUR: 6}.get(self.colour_type, 0)
            if len(body) < minimum:
                raise _malformed("its transparency (tRNS) chunk is cut short")
        elif chunk_type in (b"tEXt", b"zTXt", b"iTXt", b"iCCP"):
            self.text_bytes += len(_text_value(chunk_type, body))
            if self.text_bytes > _MAX_TEXT_MEMORY:
                raise _malformed(f"its text chunks hold more than {_MAX_TEXT_MEMORY:,} bytes")


def _text_value(chunk_type: bytes, body: bytes) -> bytes:
    """The value of a text or ICC profile chunk, inflated if compressed; refuses a broken one."""
    keyword, separator, rest = body.partition(b"\x00")
    if chunk_type == b"tEXt":
        return rest
    if not separator or not rest:
        raise _malformed(f"its {chunk_type.decode()} chunk is cut short")
    if chunk_type == b"iTXt":
        compressed, method = rest[0], rest[1:2]
        fields = rest[2:].split(b"\x00", 2)  # language, translated keyword, text
        if not method or len(fields) < 3:
            raise _malformed("its iTXt chunk is cut short")
        if not compressed:
            return fields[2]
        rest = method + fields[2]
    if rest[0] != 0:
        raise _malformed(f"its {chunk_type.decode()} chunk uses unknown compression method {rest[0]}")
    inflater = zlib.decompressobj()
    try:
        value = inflater.decompress(rest[1:], _MAX_TEXT_CHUNK)
    except zlib.error as error:
        raise _corrupt(f"its {chunk_type.decode()} chunk does not inflate", error) from None
    if inflater.unconsumed_tail:
        raise _malformed(f"its {chunk_type.decode()} chunk inflates to more than {_MAX_TEXT_CHUNK:,} bytes")
    return value


class _RowCheck:
    """Inflates the image data piece by piece and checks each row's filter-type byte."""

    def __init__(self, width: int, height: int, bits_per_pixel: int, *, interlaced: bool) -> None:
        passes = _ADAM7 if interlaced else ((0, 0, 1, 1),)
        self.rows: list[tuple[int, int]] = []  # (rows, bytes per row with its filter byte), per pass
        for column, row, column_step, row_step in passes:
            pass_width = max(0, -(-(width - column) // column_step))
            pass_height = max(0, -(-(height - row) // row_step))
            if pass_width and pass_height:
                self.rows.append((pass_height, 1 + -(-(pass_width * bits_per_pixel) // 8)))
        self.expected = sum(count * stride for count, stride in self.rows)
        self.inflater = zlib.decompressobj()
        self.received = 0

    def feed(self, compressed: bytes) -> None:
        if self.inflater.eof:
            if compressed:
                raise _corrupt("its image data goes on after the end of its zlib stream")
            return
        while compressed:
            try:
                piece = self.inflater.decompress(compressed, _INFLATE_PIECE)
            except zlib.error as error:
                raise _corrupt("its image data does not inflate", error) from None
            self._check_rows(piece)
            compressed = self.inflater.unconsumed_tail
        if self.inflater.unused_data:
            raise _corrupt("its image data goes on after the end of its zlib stream")

    def finish(self) -> None:
        if not self.inflater.eof or self.received != self.expected:
            raise _cut_short(
                f"its image data inflates to {self.received:,} bytes of the {self.expected:,} "
                "its header declares"
            )

    def _check_rows(self, piece: bytes) -> None:
        start, self.received = self.received, self.received + len(piece)
        if self.received > self.expected:
            raise _corrupt(f"its image data inflates to more than the {self.expected:,} bytes it declares")
        # The pass whose bytes the piece starts in, and the piece's offset into that pass.
        offset = start
        for count, stride in self.rows:
            size = count * stride
            if offset >= size:
                offset -= size
                continue
            taken = min(len(piece), size - offset)
            filter_types = piece[(-offset) % stride : taken : stride]
            if filter_types and max(filter_types) > _MAX_FILTER_TYPE:
                raise _corrupt(f"a row has filter type {max(filter_types)}, and only 0-4 exist")
            piece, offset = piece[taken:], 0
            if not piece:
                return


def _malformed(what: str) -> PngError:
    return PngError(f"the PNG is malformed: {what}")


def _corrupt(what: str, error: Exception | None = None) -> PngError:
    cause = f" ({type(error).__name__}: {error})" if error else ""
    return PngError("the PNG cannot be decoded: its image data is cut short or corrupt", what + cause)


def _cut_short(what: str) -> PngError:
    return PngError("the PNG cannot be decoded: its image data is cut short or corrupt", what)
