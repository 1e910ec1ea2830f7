"""The errors of local/model, each with a message that says what was wrong."""

from __future__ import annotations


class ModelLoadError(ValueError):
    """The model could not be found, read or converted (a missing file, a bad format, an unknown operator)."""


class ImageDecodeError(ValueError):
    """The bytes are not an image that can be decoded (not JPEG/PNG/..., truncated, or far too large)."""
