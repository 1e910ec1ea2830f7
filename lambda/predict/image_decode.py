"""Decode an image completely, as the endpoint will, so that a corrupt one never costs a GPU call.

Pillow's decoders (libjpeg-turbo, zlib) run on the whole file; the header reader has already
checked the format and the pixel limits, so nothing here allocates more than those allow. A JPEG
decodes at 1/8 scale in grayscale (``draft``): libjpeg still entropy-decodes every block, which is
where truncation and corruption show, but skips most of the inverse DCT and colour conversion.
"""

from __future__ import annotations

import io

from image_header import ImageHeader
from PIL import ImageFile, JpegImagePlugin, PngImagePlugin

# A truncated file must fail, never decode with grey padding (Pillow's default, kept explicit).
ImageFile.LOAD_TRUNCATED_IMAGES = False

# The plugins' classes directly, not Image.open: it would import and try every other format too.
_DECODERS = {"jpeg": JpegImagePlugin.JpegImageFile, "png": PngImagePlugin.PngImageFile}
_SMALLEST_DRAFT = (1, 1)  # Pillow then picks its largest reduction, 1/8


class UndecodableImage(ValueError):
    """The image's data cannot be decoded; ``detail`` holds the decoder's own words, for logs only."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


def check_decodes(data: bytes, header: ImageHeader) -> None:
    """Raise ``UndecodableImage`` unless ``data`` decodes completely to the size its header gave."""
    name = header.format.upper()
    try:
        with _DECODERS[header.format](io.BytesIO(data)) as image:
            if image.size != (header.width, header.height):
                raise UndecodableImage(
                    f"the {name} is malformed: it declares {header.width}x{header.height} pixels, "
                    f"then {image.width}x{image.height}"
                )
            if header.format == "jpeg":
                image.draft("L", _SMALLEST_DRAFT)
            image.load()
    except UndecodableImage:
        raise
    except Exception as error:  # noqa: BLE001 - any decoder failure means the same to a client
        raise UndecodableImage(
            f"the {name} cannot be decoded: its image data is cut short or corrupt",
            f"{type(error).__name__}: {error}",
        ) from None
