"""Check each source image and produce what the algorithm reads: RGB JPEG.

Functions here run in worker processes: they take and return plain values and never raise for a
bad image. A valid upright RGB JPEG is recognised from its header (EXIF included) and its
end-of-image marker without decoding it (the fast path, taken by almost every Stanford Dogs file)
and is copied byte for byte; anything else is decoded in full, so truncated and corrupt files are
caught, and re-encoded as an upright RGB JPEG.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from PIL import Image

JPEG_QUALITY = 95
JPEG_SUFFIX = ".jpg"
JPEG_END = b"\xff\xd9"
JPEG_FORMATS = ("JPEG", "MPO")  # MPO: a camera's multi-picture JPEG, which decoders read as its first picture
# Transparent pixels are flattened onto white: a dog photo's likeliest background.
FLATTEN_BACKGROUND = (255, 255, 255)
KNOWN_MAGIC = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"GIF8": "GIF",
    b"BM": "BMP",
    b"RIFF": "WEBP",
}
# MXNet decodes pixels as stored and ignores EXIF: a photo tagged to be shown turned would train
# turned, so it is re-encoded upright (a copy would keep the tag and the stored pixels).
EXIF_ORIENTATION_TAG = 0x0112
UPRIGHT = 1
TURNED = range(2, 9)
MODE_REASONS = {"L": "grayscale", "LA": "grayscale", "CMYK": "CMYK", "I;16": "16-bit", "I": "32-bit"}

COPY, CONVERT, SKIP = "copy", "convert", "skip"


class Inspection(NamedTuple):
    action: str  # COPY, CONVERT or SKIP
    reason: str = ""


def output_name(source_name: str) -> str:
    """The file name an image gets in the prepared dataset: its stem, as a ``.jpg``."""
    return Path(source_name).stem + JPEG_SUFFIX


def inspect_image(path: str) -> Inspection:
    """Whether ``path`` can be copied as it is, must be converted to RGB JPEG, or must be skipped."""
    from PIL import Image

    head = b""
    try:
        with open(path, "rb") as file:
            head = file.read(16)
            if not head:
                return Inspection(SKIP, "empty file")
            file.seek(0)
            with Image.open(file) as image:
                if (
                    image.format in JPEG_FORMATS
                    and image.mode == "RGB"
                    and _ends_with(file, JPEG_END)
                    and exif_orientation(image) == UPRIGHT
                ):
                    return Inspection(COPY)
                image.load()  # decodes everything: a truncated or corrupt file raises here
                reasons = conversion_reasons(image, Path(path).suffix)
    except Image.DecompressionBombError as error:
        return Inspection(SKIP, f"too large to decode safely: {error}")
    except OSError as error:
        if isinstance(error, FileNotFoundError | PermissionError | IsADirectoryError):
            return Inspection(SKIP, f"unreadable: {error.strerror}")
        return Inspection(SKIP, _unreadable_image_reason(head, error))
    except (SyntaxError, ValueError, EOFError) as error:  # what some Pillow plugins raise on bad data
        return Inspection(SKIP, _unreadable_image_reason(head, error))
    if reasons:
        return Inspection(CONVERT, "; ".join(reasons) + ": re-encoded as RGB JPEG")
    return Inspection(COPY)


def exif_orientation(image: Image.Image) -> int:
    """The EXIF orientation that turns ``image`` upright: 2 to 8, else ``UPRIGHT`` (1), which also
    stands for none and for values outside the standard's 1 to 8 (that no viewer applies)."""
    orientation = image.getexif().get(EXIF_ORIENTATION_TAG, UPRIGHT)
    return orientation if orientation in TURNED else UPRIGHT


def _ends_with(file: io.BufferedReader, marker: bytes) -> bool:
    file.seek(-len(marker), io.SEEK_END)
    return file.read(len(marker)) == marker


def _unreadable_image_reason(head: bytes, error: BaseException) -> str:
    image_format = next((name for magic, name in KNOWN_MAGIC.items() if head.startswith(magic)), None)
    if image_format is None:
        return "not an image (no JPEG, PNG, GIF, BMP or WebP signature)"
    return f"truncated or corrupt {image_format}: {error}"


def conversion_reasons(image: Image.Image, suffix: str) -> list[str]:
    """Why an image that decodes is not yet an RGB JPEG (empty when it is)."""
    reasons = []
    if image.format not in JPEG_FORMATS:
        named_jpeg = suffix.lower() in (".jpg", ".jpeg")
        reasons.append(f"{image.format} data in a {suffix} file" if named_jpeg else f"{image.format} image")
    if (orientation := exif_orientation(image)) != UPRIGHT:
        reasons.append(f"EXIF orientation {orientation}, which MXNet ignores")
    if _has_transparency(image):
        reasons.append("transparency")
    elif image.mode == "P":
        reasons.append("palette colours")
    elif image.mode != "RGB":
        reasons.append(MODE_REASONS.get(image.mode, f"{image.mode} pixels"))
    return reasons


def _has_transparency(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def to_rgb(image: Image.Image) -> Image.Image:
    """The image upright, in RGB, with transparency flattened onto ``FLATTEN_BACKGROUND``."""
    from PIL import Image, ImageOps

    image = ImageOps.exif_transpose(image)
    if _has_transparency(image):
        rgba = image.convert("RGBA")
        flattened = Image.new("RGB", rgba.size, FLATTEN_BACKGROUND)
        flattened.paste(rgba, mask=rgba.getchannel("A"))
        return flattened
    return image.convert("RGB")


def encode_jpeg(image: Image.Image) -> bytes:
    # Fixed settings and no metadata: the same pixels always give the same bytes.
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def write_image(source: str, destination: str, action: str) -> None:
    """Write ``source`` to ``destination`` as an RGB JPEG: copied for COPY, re-encoded for CONVERT."""
    if action == COPY:
        shutil.copyfile(source, destination)
        return
    from PIL import Image

    with Image.open(source) as image:
        Path(destination).write_bytes(encode_jpeg(to_rgb(image)))


def shrunk_size(size: tuple[int, int], shorter_side: int) -> tuple[int, int]:
    """``size`` scaled so its shorter side is ``shorter_side``; unchanged if already no larger."""
    width, height = size
    shorter = min(width, height)
    if shorter <= shorter_side:
        return size
    scale = shorter_side / shorter
    if width <= height:
        return shorter_side, max(1, round(height * scale))
    return max(1, round(width * scale)), shorter_side


def record_jpeg(source: str, shorter_side: int) -> bytes:
    """The JPEG a RecordIO record holds: RGB, downscaled so the shorter side is ``shorter_side``."""
    from PIL import Image

    with Image.open(source) as image:
        # JPEG only: decode at 1/2, 1/4 or 1/8 scale when that is still at least the target size.
        image.draft(None, shrunk_size(image.size, shorter_side))
        rgb = to_rgb(image)
    target = shrunk_size(rgb.size, shorter_side)  # after to_rgb, which may have turned it upright
    if rgb.size != target:
        rgb = rgb.resize(target, Image.Resampling.LANCZOS)
    return encode_jpeg(rgb)
