"""Check that a JPEG decodes completely: its markers up to the scan, then libjpeg on all of it.

Pillow's ``Image.open`` + ``load`` does two things: ``JpegImagePlugin`` walks the markers up to the
start of scan in Python, then libjpeg-turbo (in Pillow's C core, ``PIL._imaging``) decodes the
file. Compiling Pillow's Python layer (``PIL.Image``, ``ImageFile``, the plugins) costs about half
of ``import boto3`` on every cold start, since the bundle ships no bytecode. So this module walks
the markers itself, refusing everything ``JpegImagePlugin`` refuses and more (it accepts only what
the JPEG standard allows), and calls the C decoder exactly as ``ImageFile.load`` would after
``draft("L", (1, 1))``: at 1/8 scale, in grayscale for a colour JPEG. libjpeg still entropy-decodes
every block, which is where truncation and corruption show. ``PIL._imaging`` is Pillow's private
interface: requirements.txt pins Pillow, and the tests judge this module by Pillow's public decode.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from PIL import _imaging

# Markers (the byte after 0xFF).
_SOF_HUFFMAN = frozenset({0xC0, 0xC1, 0xC2})  # baseline, extended, progressive
_SOF_ARITHMETIC = frozenset({0xC9, 0xCA})  # extended and progressive, arithmetic coding
_SOF_UNSUPPORTED = frozenset({0xC3, 0xC5, 0xC6, 0xC7, 0xCB, 0xCD, 0xCE, 0xCF, 0xDE})  # lossless, hierarchical
_DHT, _DQT, _DRI, _SOS, _APP0, _APP13, _APP14 = 0xC4, 0xDB, 0xDD, 0xDA, 0xE0, 0xED, 0xEE
_RESTART = frozenset(range(0xD0, 0xD8))  # standalone: no length
_SKIPPED = frozenset({0xCC, 0xDC, 0xDF, 0xFE, *range(0xE0, 0xF0)})  # DAC, DNL, EXP, COM, APPn
_APP1, _APP2 = 0xE1, 0xE2
_EXIF = b"Exif\x00\x00"
_TIFF_HEADERS = (b"MM\x00\x2a", b"II\x2a\x00", b"MM\x2a\x00", b"II\x00\x2a", b"MM\x00\x2b", b"II\x2b\x00")
_X_RESOLUTION, _RATIONAL = 0x011A, 5
_SEGMENTS = _SOF_HUFFMAN | _SOF_ARITHMETIC | _SOF_UNSUPPORTED | _SKIPPED | {_DHT, _DQT, _DRI, _SOS}
_ICC_PROFILE = b"ICC_PROFILE\x00"
_PHOTOSHOP = b"Photoshop 3.0\x00"
_MODES = {1: "L", 3: "RGB", 4: "CMYK"}  # by component count, as JpegImagePlugin maps them
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_MAX_SEGMENTS = 1_000  # before the scan; as image_header's cap


class JpegError(ValueError):
    """The JPEG does not decode; the message is for the client, ``detail`` for the log."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


@dataclass(frozen=True)
class Frame:
    width: int
    height: int
    components: int


def check_jpeg_decodes(data: bytes) -> Frame:
    """The JPEG's frame, once its markers are well formed and libjpeg decodes all of its data."""
    frame = read_markers(data)
    decode(data, frame)
    return frame


# --- Markers up to the scan -------------------------------------------------------------------
def read_markers(data: bytes) -> Frame:
    """Walk the segments from SOI to SOS; the one frame header they hold."""
    frame: Frame | None = None
    icc_segments: list[bytes] = []
    exif: list[bytes] = []
    position = 2  # after SOI
    for _ in range(_MAX_SEGMENTS):
        if position >= len(data):
            raise _cut_short(data)
        if data[position] != 0xFF:
            raise JpegError(
                f"the JPEG is malformed: expected a marker at byte {position}, found 0x{data[position]:02X}"
            )
        while position < len(data) and data[position] == 0xFF:  # fill bytes
            position += 1
        if position >= len(data):
            raise _cut_short(data)
        marker = data[position]
        position += 1
        if marker in _RESTART:
            continue
        if marker not in _SEGMENTS:  # SOI, EOI, TEM, JPGn, reserved codes, or a stuffed 0x00
            raise JpegError(
                f"the JPEG is malformed: marker 0x{marker:02X} at byte {position - 1} "
                "is not allowed before the scan"
            )
        if position + 2 > len(data):
            raise _cut_short(data)
        (length,) = _U16.unpack_from(data, position)
        end = position + length
        if length < 2:
            raise JpegError(
                f"the JPEG is malformed: segment 0x{marker:02X} at byte {position - 1} has length {length}"
            )
        if end > len(data):
            raise _cut_short(data)
        payload = data[position + 2 : end]
        position = end
        if marker in _SOF_HUFFMAN or marker in _SOF_ARITHMETIC:
            declared = _frame(payload, icc_segments)
            if frame is not None:
                raise JpegError(
                    f"the JPEG is malformed: it declares {frame.width}x{frame.height} pixels, "
                    f"then {declared.width}x{declared.height}"
                    if (frame.width, frame.height) != (declared.width, declared.height)
                    else "the JPEG is malformed: it has two frame headers (SOF)"
                )
            frame = declared
        elif marker == _SOS:
            if frame is None:
                raise JpegError("the JPEG is malformed: its scan comes before any frame header (SOF)")
            _check_exif_resolution(b"".join(exif))
            return frame
        elif marker == _DQT:
            _check_quantization_tables(payload)
        elif marker == _DHT:
            _check_huffman_tables(payload)
        elif marker == _DRI:
            if length != 4:
                raise JpegError(f"the JPEG is malformed: its restart interval segment has length {length}")
        elif marker in _SKIPPED:
            _check_application_segment(marker, payload, icc_segments)
            if marker == _APP1 and payload.startswith(_EXIF):
                exif.append(payload[len(_EXIF) :] if exif else payload)  # as JpegImagePlugin joins them
        elif marker in _SOF_UNSUPPORTED:
            raise JpegError(
                "the JPEG uses a lossless or hierarchical coding that the model's decoder does not read: "
                "save it as a baseline or progressive JPEG"
            )
    raise JpegError(f"the JPEG is malformed: no scan in its first {_MAX_SEGMENTS:,} segments")


def _frame(payload: bytes, icc_segments: list[bytes]) -> Frame:
    # precision(1) height(2) width(2) components(1), then 3 bytes per component
    if len(payload) < 6 or len(payload) != 6 + 3 * payload[5]:
        raise JpegError(f"the JPEG's frame header is malformed: length {len(payload) + 2}")
    precision, height, width, components = payload[0], *struct.unpack_from(">HH", payload, 1), payload[5]
    if precision != 8:
        raise JpegError(f"the JPEG has {precision}-bit samples: only 8-bit JPEGs are accepted")
    if components not in _MODES:
        raise JpegError(f"the JPEG has {components} colour components: only 1, 3 or 4 are accepted")
    if icc_segments and len(min(icc_segments)) < len(_ICC_PROFILE) + 2:
        # JpegImagePlugin reads each ICC segment's sequence number and count when it meets the frame.
        raise JpegError("the JPEG is malformed: an ICC profile segment is cut short")
    icc_segments.clear()
    return Frame(width, height, components)


def _check_quantization_tables(payload: bytes) -> None:
    offset = 0
    while offset < len(payload):
        precision, table = payload[offset] >> 4, payload[offset] & 0x0F
        size = 1 + 64 * (2 if precision else 1)
        if precision > 1 or table > 3 or offset + size > len(payload):
            raise _undecodable("a quantization table (DQT) is invalid or cut short")
        offset += size


def _check_huffman_tables(payload: bytes) -> None:
    offset = 0
    while offset < len(payload):
        kind, table = payload[offset] >> 4, payload[offset] & 0x0F
        if kind > 1 or table > 3 or offset + 17 > len(payload):
            raise _undecodable("a Huffman table (DHT) is invalid or cut short")
        symbols = sum(payload[offset + 1 : offset + 17])
        offset += 17 + symbols
        if symbols > 256 or offset > len(payload):
            raise _undecodable("a Huffman table (DHT) is invalid or cut short")


def _check_application_segment(marker: int, payload: bytes, icc_segments: list[bytes]) -> None:
    """Refuse what JpegImagePlugin's reading of JFIF, Adobe and Photoshop segments would fail on."""
    too_short = len(payload) < 7  # both read a 2-byte version at offset 5
    if (marker == _APP0 and payload.startswith(b"JFIF") and too_short) or (
        marker == _APP14 and payload.startswith(b"Adobe") and too_short
    ):
        raise JpegError(f"the JPEG is malformed: its APP{marker & 0x0F} segment is cut short")
    if marker == _APP2 and payload.startswith(_ICC_PROFILE):
        icc_segments.append(payload)
    if marker == _APP13 and payload.startswith(_PHOTOSHOP):
        _check_photoshop_resources(payload)


def _check_photoshop_resources(payload: bytes) -> None:
    """JpegImagePlugin stops quietly where a field runs out, but fails where a resource ends
    right after its 2-byte code (it then reads the name length past the end)."""
    offset = len(_PHOTOSHOP)
    while payload[offset : offset + 4] == b"8BIM":
        offset += 4
        if offset + 2 > len(payload):
            return
        offset += 2
        if offset >= len(payload):
            raise JpegError("the JPEG is malformed: its Photoshop segment is cut short")
        offset += 1 + payload[offset]
        offset += offset & 1
        if offset + 4 > len(payload):
            return
        (size,) = _U32.unpack_from(payload, offset)
        offset += 4 + size
        offset += offset & 1


def _check_exif_resolution(exif: bytes) -> None:
    """Refuse an EXIF XResolution that is not one rational number, as the EXIF standard has it.

    JpegImagePlugin reads the resolution when the JFIF segment gave none; it catches most failures,
    but not the IndexError of a one-character or one-byte XResolution. The walk follows Pillow's
    reading of IFD0 and stops quietly wherever Pillow's does (it catches those errors).
    """
    for _ in range(2):  # Image.Exif.load strips up to two prefixes
        exif = exif.removeprefix(_EXIF)
    head = exif[:8]
    if len(head) < 8 or not head.startswith(_TIFF_HEADERS) or head[2] == 0x2B:  # BigTIFF: Pillow fails
        return
    endian = "<" if head.startswith(b"II") else ">"
    (offset,) = struct.unpack_from(endian + "L", head, 4)
    if offset + 2 > len(exif):
        return
    (count,) = struct.unpack_from(endian + "H", exif, offset)
    for entry in range(offset + 2, offset + 2 + 12 * count, 12):
        if entry + 12 > len(exif):
            return
        tag, kind, values = struct.unpack_from(endian + "HHL", exif, entry)
        if tag == _X_RESOLUTION and (kind, values) != (_RATIONAL, 1):
            raise JpegError(
                f"the JPEG is malformed: its EXIF XResolution is {values} value(s) of type {kind}, "
                "not one rational number"
            )


def _cut_short(data: bytes) -> JpegError:
    return JpegError(
        "the JPEG cannot be decoded: its image data is cut short or corrupt",
        f"OSError: image file is truncated ({len(data)} bytes end before the scan)",
    )


# --- The scan ---------------------------------------------------------------------------------
def decode(data: bytes, frame: Frame) -> None:
    """libjpeg on the whole file, as ImageFile.load calls it after ``draft("L", (1, 1))``."""
    mode = _MODES[frame.components]
    raw_mode = "CMYK;I" if mode == "CMYK" else mode  # Adobe's inverted CMYK, as JpegImagePlugin assumes
    if mode == "RGB":
        mode = raw_mode = "L"  # draft: libjpeg converts to grayscale and skips the chroma IDCT
    scale = next(s for s in (8, 4, 2, 1) if min(frame.width, frame.height) >= s)
    size = (-(-frame.width // scale), -(-frame.height // scale))
    decoder = _imaging.jpeg_decoder(mode, raw_mode, "", scale, 0)
    try:
        decoder.setimage(_imaging.new(mode, size), (0, 0, *size))
        consumed, error_code = decoder.decode(data)
    except Exception as error:  # noqa: BLE001 - any decoder failure means the same to a client
        raise _undecodable(f"{type(error).__name__}: {error}") from None
    finally:
        decoder.cleanup()
    if consumed >= 0:  # libjpeg still wants data: the file ended before its end-of-image marker
        raise _undecodable(f"OSError: image file is truncated ({len(data) - consumed} bytes not processed)")
    if error_code < 0:
        raise _undecodable(f"OSError: {_imaging.getcodecstatus(error_code)} when reading image file")


def _undecodable(detail: str) -> JpegError:
    return JpegError("the JPEG cannot be decoded: its image data is cut short or corrupt", detail)
