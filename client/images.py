"""Turn a photo on disk into an image the API accepts: a JPEG or PNG within its limits.

Small JPEGs and PNGs go byte for byte. Anything else Pillow reads (phone photos over the limits,
WebP, GIF, BMP, TIFF, transparency, rotated EXIF) becomes an upright RGB JPEG no larger than the
model needs: it sees 224x224 pixels, so a 1024 px long side loses nothing.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from core.api_contract import IMAGE_CONTENT_TYPES, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS

MAX_UNTOUCHED_LONG_SIDE = 2048
RESIZED_LONG_SIDE = 1024
JPEG_QUALITIES = (90, 80, 70, 60, 50, 40, 30)
Image.preinit()  # registers the JPEG and PNG plugins, and their MIME types, before any open
JPEG_CONTENT_TYPE = Image.MIME["JPEG"]
# Refused before reading it into memory: nothing this large is a photo (a video passed by mistake).
MAX_FILE_BYTES = 256 * 1024 * 1024
# Refused from the header: more pixels than a camera's photo (Pillow's own decompression-bomb limit,
# about 179 MP; 100 and 108 MP cameras pass). A photo over the API's smaller limit is shrunk instead.
MAX_PHOTO_PIXELS = 2 * 89_478_485  # twice Pillow's default Image.MAX_IMAGE_PIXELS, where it refuses
# ISO base media "ftyp" brands of HEIF/HEIC photos (iPhones' default), which Pillow cannot read.
HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
_UNTOUCHED_MODES = ("RGB", "L")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


@dataclass(frozen=True)
class PreparedImage:
    """The bytes to send, their content type, and what was changed (``None``: sent as is)."""

    data: bytes
    content_type: str
    note: str | None = None


class ImageError(Exception):
    """A file that cannot be sent; the message names the file and what is wrong with it."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def prepare_image(path: str | Path, *, max_bytes: int = MAX_IMAGE_BYTES) -> PreparedImage:
    """Read ``path`` and return what to send: the file itself when the API takes it as it is,
    otherwise an upright RGB JPEG with its long side at most 1024 px and at most ``max_bytes``.

    A photo over the API's pixel limit is shrunk like any large one. Raises ``ImageError`` for a
    missing, empty, unreadable or HEIC file, and for one with more pixels than any camera's photo.
    """
    data = read_image_file(path)
    with open_image(path, data) as image:
        content_type = api_content_type(image.format)
        reasons = reasons_to_convert(image, content_type, len(data), max_bytes)
        if not reasons and content_type is not None:  # no reasons: a content type the API takes
            return PreparedImage(data, content_type)
        before = f"{image.width}x{image.height} {image.format}, {human_size(len(data))}"
        try:
            converted = shrink_upright_rgb(image)
        except (OSError, ValueError, EOFError) as error:
            raise ImageError(path, f"the image data is damaged or truncated ({error})") from None
    encoded, quality = encode_jpeg(path, converted, max_bytes)
    after = f"{converted.width}x{converted.height} JPEG, {human_size(len(encoded))}"
    if quality != JPEG_QUALITIES[0]:
        after += f" at quality {quality}"
    return PreparedImage(encoded, JPEG_CONTENT_TYPE, f"{before} -> {after} ({'; '.join(reasons)})")


def read_image_file(path: str | Path) -> bytes:
    """The file's bytes; ``ImageError`` when it is missing, empty, unreadable or huge."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImageError(path, f"{human_size(size)} is too large to be a photo")
        data = file.read_bytes()
    except FileNotFoundError:
        raise ImageError(path, "no such file") from None
    except IsADirectoryError:
        raise ImageError(path, "is a directory, not an image file") from None
    except PermissionError:
        raise ImageError(path, "permission denied") from None
    except OSError as error:
        raise ImageError(path, f"cannot read the file ({error.strerror or error})") from None
    if not data:
        raise ImageError(path, "the file is empty")
    return data


def open_image(path: str | Path, data: bytes) -> Image.Image:
    """Open ``data`` lazily (header only), refusing non-images, HEIC and decompression bombs."""
    try:
        with warnings.catch_warnings():
            # The pixel check below is ours; Pillow's own warning would only repeat it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        raise ImageError(path, f"too many pixels for a photo: {error}") from None
    except UnidentifiedImageError:
        if is_heif(data):
            raise ImageError(path, "HEIC is not supported: convert to JPEG first") from None
        raise ImageError(
            path, "not an image Pillow can read: send a JPEG, PNG, WebP, GIF, BMP or TIFF file"
        ) from None
    except (OSError, ValueError, EOFError) as error:
        raise ImageError(path, f"the image header is damaged ({error})") from None
    pixels = image.width * image.height
    if pixels > MAX_PHOTO_PIXELS:
        image.close()
        raise ImageError(
            path,
            f"{image.width}x{image.height} is {pixels:,} pixels, more than any camera's photo "
            f"({MAX_PHOTO_PIXELS:,}): possibly a decompression bomb",
        )
    return image


def is_heif(data: bytes) -> bool:
    """Whether ``data`` starts like a HEIF/HEIC file (``....ftypheic`` and similar brands)."""
    return data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS


def api_content_type(image_format: str | None) -> str | None:
    """The content type the API accepts for Pillow's ``image_format``, or ``None``.

    MPO, the multi-picture JPEG many phone cameras write, is a JPEG to the API.
    """
    mime = Image.MIME.get("JPEG" if image_format == "MPO" else image_format or "")
    return mime if mime in IMAGE_CONTENT_TYPES else None


def reasons_to_convert(image: Image.Image, content_type: str | None, size: int, max_bytes: int) -> list[str]:
    """Why ``image`` cannot go as it is (empty: it can), from its header alone."""
    reasons = []
    if content_type is None:
        reasons.append(f"the API takes JPEG or PNG, not {image.format}")
    if has_transparency(image):
        reasons.append("transparency flattened onto white")
    elif content_type is not None and image.mode not in _UNTOUCHED_MODES:
        reasons.append(f"{image.mode} pixels converted to RGB")
    if needs_exif_transpose(image):
        reasons.append("EXIF orientation applied")
    if size > max_bytes:
        reasons.append(f"over {human_size(max_bytes)}")
    if image.width * image.height > MAX_IMAGE_PIXELS:
        reasons.append(f"over the API's limit of {MAX_IMAGE_PIXELS:,} pixels")
    elif max(image.size) > MAX_UNTOUCHED_LONG_SIDE:
        reasons.append(f"long side over {MAX_UNTOUCHED_LONG_SIDE} px")
    return reasons


def has_transparency(image: Image.Image) -> bool:
    return image.mode in _ALPHA_MODES or "transparency" in image.info


def needs_exif_transpose(image: Image.Image) -> bool:
    """Whether the EXIF orientation tag asks for a rotation or flip (values 2 to 8)."""
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except (OSError, ValueError, SyntaxError):  # damaged EXIF: the pixels are still fine
        return False
    return orientation in range(2, 9)


def shrink_upright_rgb(image: Image.Image) -> Image.Image:
    """``image`` (its first frame) upright, in RGB, with its long side at most 1024 px."""
    # JPEGs decode at 1/2 to 1/8 scale when that still leaves at least 1024 px: much faster.
    image.draft("RGB", (RESIZED_LONG_SIDE, RESIZED_LONG_SIDE))
    upright = ImageOps.exif_transpose(image)
    rgb = flatten_to_rgb(upright)
    rgb.thumbnail((RESIZED_LONG_SIDE, RESIZED_LONG_SIDE), Image.Resampling.LANCZOS)
    return rgb


def flatten_to_rgb(image: Image.Image) -> Image.Image:
    """``image`` in RGB; transparent areas become white (the model was trained on photos)."""
    if has_transparency(image):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image if image.mode == "RGB" else image.convert("RGB")


def encode_jpeg(path: str | Path, image: Image.Image, max_bytes: int) -> tuple[bytes, int]:
    """``image`` as JPEG at the highest quality of ``JPEG_QUALITIES`` that fits ``max_bytes``."""
    for quality in JPEG_QUALITIES:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        if buffer.tell() <= max_bytes:
            return buffer.getvalue(), quality
    raise ImageError(
        path,
        f"cannot compress it under {human_size(max_bytes)} even at JPEG quality {JPEG_QUALITIES[-1]}",
    )


def human_size(size: int) -> str:
    """``size`` bytes for people: ``512 B``, ``180 KB``, ``6.1 MB``."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
