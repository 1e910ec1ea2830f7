"""MXNet's ``.params`` file (an NDArray list) read and written in plain numpy.

The layout, as MXNet 1.x's ``NDArray::Save`` writes it (src/ndarray/ndarray.cc), all little-endian:

    uint64 0x112 (list magic), uint64 0 (reserved)
    uint64 count, then per array:
        uint32 magic: 0xF993FAC9 (V2) or 0xF993FACA (V3, numpy shape semantics)
        int32 storage type (0 = dense; sparse arrays are not used by the algorithm)
        uint32 ndim, int64 dims[ndim]   (ndim 0: an empty array, nothing follows)
        int32 device type, int32 device id
        int32 dtype flag (0 float32, 1 float64, 2 float16, 3 uint8, 4 int32, 5 int8, 6 int64)
        the elements, C order
    uint64 count, then per name: uint64 length, bytes (``arg:<name>`` or ``aux:<name>``)
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from local.model.errors import ModelLoadError

LIST_MAGIC = 0x112
ARRAY_MAGICS = {0xF993FAC9: "V2", 0xF993FACA: "V3"}
V1_MAGIC = 0xF993FAC8
DTYPES = {0: "<f4", 1: "<f8", 2: "<f2", 3: "u1", 4: "<i4", 5: "i1", 6: "<i8"}
DENSE = 0
CPU = 1


class ParamsFormatError(ModelLoadError):
    """The bytes are not an MXNet NDArray list this reader understands."""


class _Reader:
    def __init__(self, data: bytes, source: str) -> None:
        self.data, self.offset, self.source = data, 0, source

    def take(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        if self.offset + size > len(self.data):
            raise ParamsFormatError(
                f"{self.source}: truncated at byte {self.offset} of {len(self.data)} (wanted {size} more)"
            )
        values = struct.unpack_from(fmt, self.data, self.offset)
        self.offset += size
        return values

    def raw(self, size: int) -> bytes:
        if self.offset + size > len(self.data):
            raise ParamsFormatError(f"{self.source}: truncated inside an array at byte {self.offset}")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk


def _read_array(reader: _Reader, index: int) -> np.ndarray:
    (magic,) = reader.take("<I")
    if magic not in ARRAY_MAGICS:
        detail = (
            "MXNet before 1.0 (V1/legacy layout)" if magic == V1_MAGIC or magic < 32 else "not an NDArray"
        )
        raise ParamsFormatError(f"{reader.source}: array {index} has magic {magic:#x}: {detail}; unsupported")
    (storage_type,) = reader.take("<i")
    if storage_type != DENSE:
        raise ParamsFormatError(f"{reader.source}: array {index} is sparse (storage type {storage_type})")
    (ndim,) = reader.take("<I")
    shape = reader.take(f"<{ndim}q") if ndim else ()
    if ndim == 0:
        return np.zeros((0,), dtype=np.float32)
    reader.take("<ii")  # device type and id: arrays are loaded on the CPU whatever they were saved from
    (type_flag,) = reader.take("<i")
    if type_flag not in DTYPES:
        raise ParamsFormatError(f"{reader.source}: array {index} has unknown dtype flag {type_flag}")
    dtype = np.dtype(DTYPES[type_flag])
    count = int(np.prod(shape, dtype=np.int64))
    return np.frombuffer(reader.raw(count * dtype.itemsize), dtype=dtype).reshape(shape).copy()


def load_params(data: bytes, source: str = "params") -> dict[str, np.ndarray]:
    """Parse a ``.params`` file's bytes into ``{"arg:conv0_weight": array, "aux:bn0_moving_mean": ...}``."""
    reader = _Reader(data, source)
    magic, _reserved = reader.take("<QQ")
    if magic != LIST_MAGIC:
        raise ParamsFormatError(
            f"{source}: not an MXNet .params file (magic {magic:#x}, expected {LIST_MAGIC:#x})"
        )
    (count,) = reader.take("<Q")
    arrays = [_read_array(reader, index) for index in range(count)]
    (name_count,) = reader.take("<Q")
    if name_count != count:
        raise ParamsFormatError(f"{source}: {count} arrays but {name_count} names; MXNet saves one name each")
    names = []
    for _ in range(name_count):
        (length,) = reader.take("<Q")
        names.append(reader.raw(length).decode("utf-8"))
    if reader.offset != len(data):
        raise ParamsFormatError(f"{source}: {len(data) - reader.offset} unexpected bytes after the names")
    return dict(zip(names, arrays, strict=True))


def dump_params(arrays: dict[str, np.ndarray]) -> bytes:
    """The inverse of :func:`load_params` (V2 arrays, on the CPU), as ``mx.nd.save`` writes them."""
    flags = {np.dtype(v): k for k, v in DTYPES.items()}
    parts = [struct.pack("<QQQ", LIST_MAGIC, 0, len(arrays))]
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        if array.dtype not in flags:
            raise ValueError(f"{name}: dtype {array.dtype} has no MXNet equivalent")
        parts.append(struct.pack("<IiI", 0xF993FAC9, DENSE, array.ndim))
        parts.append(struct.pack(f"<{array.ndim}q", *array.shape))
        parts.append(struct.pack("<iii", CPU, 0, flags[array.dtype]))
        parts.append(array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes())
    parts.append(struct.pack("<Q", len(arrays)))
    for name in arrays:
        encoded = name.encode("utf-8")
        parts.append(struct.pack("<Q", len(encoded)) + encoded)
    return b"".join(parts)


def read_params_file(path: Path) -> dict[str, np.ndarray]:
    return load_params(Path(path).read_bytes(), source=str(path))
