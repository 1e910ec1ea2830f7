"""Decode an image completely, as the endpoint will, so that a corrupt one never costs a GPU call.

The header reader has already checked the format and the pixel limits, so nothing here allocates
more than those allow. A JPEG is decoded by libjpeg-turbo through Pillow's C core
(``jpeg_decode``); a PNG is inflated and checked row by row with the standard library
(``png_decode``). Neither imports Pillow's Python layer: compiling it on every cold start cost
about half of ``import boto3`` (README, Decisions).
"""

from __future__ import annotations

from image_header import ImageHeader
from jpeg_decode import JpegError, check_jpeg_decodes
from png_decode import PngError, check_png_decodes


class UndecodableImage(ValueError):
    """The image's data cannot be decoded; ``detail`` holds the decoder's own words, for logs only."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


def check_decodes(data: bytes, header: ImageHeader) -> None:
    """Raise ``UndecodableImage`` unless ``data`` decodes completely to the size its header gave."""
    try:
        if header.format == "jpeg":
            frame = check_jpeg_decodes(data)
            size = (frame.width, frame.height)
        else:
            size = check_png_decodes(data)
    except (JpegError, PngError) as error:
        raise UndecodableImage(str(error), error.detail) from None
    if size != (header.width, header.height):  # the header reader and the decoder disagree: a bug
        raise UndecodableImage(
            f"the {header.format.upper()} is malformed: it declares {header.width}x{header.height} pixels, "
            f"then {size[0]}x{size[1]}"
        )
