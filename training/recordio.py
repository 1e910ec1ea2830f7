"""MXNet RecordIO, the ``application/x-recordio`` input of the built-in algorithm, in pure Python.

A ``.rec`` file is a sequence of records: ``uint32 magic``, ``uint32 lrecord`` (continuation flag
in the top 3 bits, data length in the low 29), the data, then zero padding to a multiple of 4.
An image record's data is an ``IRHeader`` (``flag``, ``label``, ``id``, ``id2``) followed by the
encoded image. The ``.idx`` file maps each record's id to the offset of its magic, one
``id<TAB>offset`` line per record, which is what MXNet's ``MXIndexedRecordIO`` and ``im2rec`` write.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

MAGIC = 0xCED7230A
RECORD_HEADER = struct.Struct("<II")  # magic, lrecord
IMAGE_HEADER = struct.Struct("<IfQQ")  # IRHeader: flag, label, id, id2
LENGTH_BITS = 29
MAX_RECORD_BYTES = (1 << LENGTH_BITS) - 1
WHOLE_RECORD = 0  # cflag of a record that is not split into parts


class ImageRecord(NamedTuple):
    label: float
    id: int
    image: bytes


def pack_image(label: float, record_id: int, image: bytes) -> bytes:
    """The data of an image record: a single-label ``IRHeader`` (flag 0) and the encoded image."""
    return IMAGE_HEADER.pack(0, label, record_id, 0) + image


def unpack_image(data: bytes) -> ImageRecord:
    flag, label, record_id, _ = IMAGE_HEADER.unpack_from(data)
    if flag != 0:
        raise ValueError(f"multi-label record (flag {flag}): only single-label records are supported")
    return ImageRecord(label, record_id, data[IMAGE_HEADER.size :])


def _padding(length: int) -> int:
    return -length % 4


class RecordWriter:
    """Writes ``<name>.rec`` and its ``<name>.idx`` side by side; use as a context manager."""

    def __init__(self, record_path: Path, index_path: Path) -> None:
        self._records = open(record_path, "wb")  # noqa: SIM115 - closed by close()
        self._index = open(index_path, "w", encoding="ascii", newline="\n")  # noqa: SIM115
        self._offset = 0

    def write_image(self, record_id: int, label: float, image: bytes) -> None:
        self.write(record_id, pack_image(label, record_id, image))

    def write(self, record_id: int, data: bytes) -> None:
        if len(data) > MAX_RECORD_BYTES:
            raise ValueError(f"record {record_id} is {len(data)} bytes, over RecordIO's {MAX_RECORD_BYTES}")
        self._index.write(f"{record_id}\t{self._offset}\n")
        lrecord = (WHOLE_RECORD << LENGTH_BITS) | len(data)
        padding = _padding(len(data))
        self._records.write(RECORD_HEADER.pack(MAGIC, lrecord) + data + b"\0" * padding)
        self._offset += RECORD_HEADER.size + len(data) + padding

    def close(self) -> None:
        self._records.close()
        self._index.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def read_records(record_path: Path) -> Iterator[bytes]:
    """Each whole record's data, in file order (records split into parts are not supported)."""
    data = Path(record_path).read_bytes()
    offset = 0
    while offset < len(data):
        magic, lrecord = RECORD_HEADER.unpack_from(data, offset)
        if magic != MAGIC:
            raise ValueError(f"{record_path}: no RecordIO magic at offset {offset}")
        if lrecord >> LENGTH_BITS != WHOLE_RECORD:
            raise ValueError(f"{record_path}: record at offset {offset} is split into parts")
        length = lrecord & MAX_RECORD_BYTES
        start = offset + RECORD_HEADER.size
        yield data[start : start + length]
        offset = start + length + _padding(length)
