"""MXNet RecordIO, the ``application/x-recordio`` input of the built-in algorithm, in pure Python.

A ``.rec`` file is a sequence of parts: ``uint32 magic``, ``uint32 lrecord`` (continuation flag
``cflag`` in the top 3 bits, data length in the low 29), the data, then zero padding to a multiple
of 4. A record is one part (cflag 0) unless its data holds the magic word at a 4-byte-aligned
offset: dmlc's ``RecordIOWriter`` then cuts the record at each such word, drops the word, and
writes the pieces as parts with cflag 1 (first), 2 (middle) and 3 (last); readers put the magic
back between them. Without the split, MXNet's chunked reader (``num_parts > 1``, and every chunk
boundary), which finds records by scanning for the magic, would start a record inside an image.
``encode_record`` writes exactly the bytes dmlc writes, so our files equal ``im2rec``'s.

An image record's data is an ``IRHeader`` (``flag``, ``label``, ``id``, ``id2``) followed by the
encoded image. The ``.idx`` file maps each record's id to the offset of its first part's magic,
one ``id<TAB>offset`` line per record, which is what MXNet's ``MXIndexedRecordIO`` and ``im2rec`` write.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

MAGIC = 0xCED7230A
MAGIC_BYTES = struct.pack("<I", MAGIC)
RECORD_HEADER = struct.Struct("<II")  # magic, lrecord
IMAGE_HEADER = struct.Struct("<IfQQ")  # IRHeader: flag, label, id, id2
LENGTH_BITS = 29
MAX_RECORD_BYTES = (1 << LENGTH_BITS) - 1  # dmlc refuses a record of 2**29 bytes or more
WHOLE, FIRST, MIDDLE, LAST = 0, 1, 2, 3  # cflag of a part


class ImageRecord(NamedTuple):
    label: float
    id: int
    image: bytes


class Record(NamedTuple):
    offset: int  # of its first part's magic: what the .idx file gives for it
    data: bytes


class RecordIOError(ValueError):
    """A ``.rec`` file that is not RecordIO as MXNet writes it; the message says where."""


def pack_image(label: float, record_id: int, image: bytes) -> bytes:
    """The data of an image record: a single-label ``IRHeader`` (flag 0) and the encoded image."""
    return IMAGE_HEADER.pack(0, label, record_id, 0) + image


def unpack_image(data: bytes) -> ImageRecord:
    if len(data) < IMAGE_HEADER.size:
        raise RecordIOError(f"a {len(data)}-byte record is too short for its {IMAGE_HEADER.size}-byte header")
    flag, label, record_id, _ = IMAGE_HEADER.unpack_from(data)
    if flag != 0:
        raise RecordIOError(f"multi-label record (flag {flag}): only single-label records are supported")
    return ImageRecord(label, record_id, data[IMAGE_HEADER.size :])


def _padding(length: int) -> int:
    return -length % 4


def _part(cflag: int, data: bytes) -> bytes:
    return RECORD_HEADER.pack(MAGIC, cflag << LENGTH_BITS | len(data)) + data


def encode_record(data: bytes) -> bytes:
    """The bytes dmlc's ``RecordIOWriter::WriteRecord`` writes for ``data``, padding included."""
    if len(data) > MAX_RECORD_BYTES:
        raise RecordIOError(f"a record holds at most {MAX_RECORD_BYTES} bytes, not {len(data)}")
    parts = []
    start = 0  # where the current part's data begins
    found = data.find(MAGIC_BYTES)
    while found != -1:
        if found % 4 == 0:  # dmlc looks only at aligned words
            parts.append(_part(FIRST if start == 0 else MIDDLE, data[start:found]))
            start = found + 4
            found = data.find(MAGIC_BYTES, start)
        else:
            found = data.find(MAGIC_BYTES, found + 1)
    parts.append(_part(LAST if start else WHOLE, data[start:]))
    return b"".join(parts) + b"\0" * _padding(len(data))


class RecordWriter:
    """Writes ``<name>.rec`` and its ``<name>.idx`` side by side; use as a context manager."""

    def __init__(self, record_path: Path, index_path: Path) -> None:
        self._records = open(record_path, "wb")  # noqa: SIM115 - closed by close()
        self._index = open(index_path, "w", encoding="ascii", newline="\n")  # noqa: SIM115
        self._offset = 0

    def write_image(self, record_id: int, label: float, image: bytes) -> None:
        self.write(record_id, pack_image(label, record_id, image))

    def write(self, record_id: int, data: bytes) -> None:
        try:
            encoded = encode_record(data)
        except RecordIOError as error:
            raise RecordIOError(f"record {record_id}: {error}") from None
        self._index.write(f"{record_id}\t{self._offset}\n")
        self._records.write(encoded)
        self._offset += len(encoded)

    def close(self) -> None:
        self._records.close()
        self._index.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def read_records(record_path: Path) -> Iterator[Record]:
    """Each record of a ``.rec`` file in order, its parts joined as MXNet's reader joins them."""
    with open(record_path, "rb") as file:
        if os.fstat(file.fileno()).st_size == 0:
            return  # mmap refuses an empty file
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:  # not all of it in memory
            yield from _records(record_path, data)


def _records(record_path: Path, data: mmap.mmap) -> Iterator[Record]:
    offset = 0
    pieces: list[bytes] = []  # of a split record, while its parts are read
    first = 0  # offset of the split record's first part, set by it before any use  # mutation: equivalent
    while offset < len(data):
        if offset + RECORD_HEADER.size > len(data):
            raise RecordIOError(f"{record_path}: {len(data) - offset} stray bytes at offset {offset}")
        magic, lrecord = RECORD_HEADER.unpack_from(data, offset)
        if magic != MAGIC:
            raise RecordIOError(f"{record_path}: no RecordIO magic at offset {offset}")
        cflag, length = lrecord >> LENGTH_BITS, lrecord & MAX_RECORD_BYTES
        start = offset + RECORD_HEADER.size
        if start + length > len(data):
            raise RecordIOError(f"{record_path}: the part at offset {offset} ends after the file")
        if cflag not in (WHOLE, FIRST, MIDDLE, LAST) or (cflag in (WHOLE, FIRST)) == bool(pieces):
            expected = "a middle or last part" if pieces else "a whole record or a first part"
            raise RecordIOError(f"{record_path}: cflag {cflag} at offset {offset}, expected {expected}")
        if cflag == FIRST:
            first = offset
        piece = data[start : start + length]
        offset = start + length + _padding(length)
        if cflag == WHOLE:
            yield Record(start - RECORD_HEADER.size, piece)
        elif cflag == LAST:
            yield Record(first, MAGIC_BYTES.join([*pieces, piece]))
            pieces = []
        else:
            pieces.append(piece)
    if pieces:
        raise RecordIOError(f"{record_path}: the record at offset {first} has no last part")


def read_index(index_path: Path) -> list[tuple[int, int]]:
    """The ``(id, offset)`` lines of a ``.idx`` file."""
    try:
        return [
            (int(record_id), int(offset))
            for record_id, offset in (line.split("\t") for line in Path(index_path).read_text().splitlines())
        ]
    except ValueError:
        raise RecordIOError(f"{index_path}: a line is not 'id<TAB>offset'") from None


def check_written(record_path: Path, index_path: Path, labels: Sequence[tuple[int, float]]) -> None:
    """Reads a written ``.rec``/``.idx`` pair back: one record per ``(id, label)`` in order, each at
    the offset its ``.idx`` line gives; RecordIOError naming the first difference."""
    index = read_index(index_path)
    count, difference = 0, ""
    for record in read_records(record_path):  # one at a time: a .rec can be gigabytes
        if count < min(len(index), len(labels)) and not difference:
            (index_id, offset), (record_id, label) = index[count], labels[count]
            image = unpack_image(record.data)
            if (image.id, image.label, index_id, offset) != (record_id, label, record_id, record.offset):
                difference = (
                    f"{record_path}: record {record_id} (label {label}) reads back as record {image.id} "
                    f"(label {image.label}) at offset {record.offset}, indexed as {index_id} at {offset}"
                )
        count += 1
    if not count == len(index) == len(labels):
        raise RecordIOError(
            f"{record_path} holds {count} records and {index_path} {len(index)} lines, expected {len(labels)}"
        )
    if difference:
        raise RecordIOError(difference)
