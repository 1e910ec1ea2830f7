"""Image bytes to the network's input tensor: the ONE place where local prediction preprocesses.

What SageMaker's hosted image-classification container is BELIEVED to do with an ``application/x-image``
request (its inference code is not public, and this could not be checked against the hosted container
offline):

1. decode the bytes (JPEG, PNG, ...); EXIF orientation is ignored, as MXNet's decoders ignore it (the
   client CLI and the web page rotate photos upright before upload, so both paths see the same pixels);
2. convert to RGB (grayscale, CMYK, palette and alpha images included);
3. resize to the input shape of ``model-shapes.json`` (e.g. 224 x 224), ignoring the aspect ratio, with
   bilinear interpolation as OpenCV's ``INTER_LINEAR`` (which ``mx.image.imresize`` calls) computes it:
   half-pixel centres, no anti-aliasing, rounded back to 8 bits;
4. channels first (C, H, W), float32 values 0..255, and no mean subtraction or scaling: the algorithm's
   ResNet normalizes its input itself, with its first batch norm (``bn_data``).

Decoding uses Pillow; MXNet uses OpenCV. Both decode lossless images identically; JPEG decoders may differ
by a level here and there (tests/local/golden measures it against MXNet's own ``mx.image`` path).
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image

from local.model.errors import ImageDecodeError


def decode_rgb(data: bytes) -> np.ndarray:
    """The image as an (H, W, 3) uint8 RGB array, EXIF orientation ignored."""
    if not data:
        raise ImageDecodeError("the image is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageDecodeError(f"the image has too many pixels to decode safely: {error}") from error
    except (OSError, SyntaxError, ValueError) as error:
        head = data[:8].hex(" ")
        raise ImageDecodeError(
            f"the {len(data)} bytes are not a decodable image (they start with {head}; "
            f"JPEG starts with ff d8 ff, PNG with 89 50 4e 47): {error}"
        ) from error


def _axis_weights(source: int, target: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OpenCV INTER_LINEAR's source indices and weights along one axis."""
    scale = source / target
    position = (np.arange(target, dtype=np.float64) + 0.5) * scale - 0.5
    low = np.floor(position).astype(np.int64)
    fraction = position - low
    fraction[low < 0] = 0.0
    low[low < 0] = 0
    at_end = low >= source - 1
    fraction[at_end] = 0.0
    low[at_end] = source - 1
    high = np.minimum(low + 1, source - 1)
    return low, high, fraction


def resize_bilinear(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W, C) uint8 resized to (height, width, C) uint8, as OpenCV's INTER_LINEAR does (within a level)."""
    if rgb.shape[:2] == (height, width):
        return rgb
    rows_low, rows_high, row_fraction = _axis_weights(rgb.shape[0], height)
    cols_low, cols_high, col_fraction = _axis_weights(rgb.shape[1], width)
    top_rows, bottom_rows = rgb[rows_low], rgb[rows_high]  # gather in uint8: never a float copy of it all
    corners = [
        rows[:, cols].astype(np.float32) for rows in (top_rows, bottom_rows) for cols in (cols_low, cols_high)
    ]
    col_weight = col_fraction.astype(np.float32)[None, :, None]
    top = corners[0] * (1 - col_weight) + corners[1] * col_weight
    bottom = corners[2] * (1 - col_weight) + corners[3] * col_weight
    row_weight = row_fraction.astype(np.float32)[:, None, None]
    blended = top * (1 - row_weight) + bottom * row_weight
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def to_tensor(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 to (3, H, W) float32 0..255, the network's input layout."""
    return np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32)


def preprocess(data: bytes, image_shape: tuple[int, int, int]) -> np.ndarray:
    """Image bytes to the (C, H, W) float32 tensor for a network whose input is ``image_shape``."""
    channels, height, width = image_shape
    if channels != 3:
        raise ValueError(f"only 3-channel (RGB) networks are supported, this one takes {image_shape}")
    return to_tensor(resize_bilinear(decode_rgb(data), height, width))
