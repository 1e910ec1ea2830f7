"""The .params (MXNet NDArray list) reader and writer."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from local.model.params import ParamsFormatError, dump_params, load_params

# mx.nd.save("t.params", {"arg:a": mx.nd.array([[1, 2], [3, 4]])}) with MXNet 1.9.1, byte for byte
MXNET_SAVED = bytes.fromhex(
    "1201000000000000"
    "0000000000000000"
    "0100000000000000"
    "c9fa93f9"
    "00000000"
    "02000000"
    "0200000000000000"
    "0200000000000000"
    "01000000"
    "00000000"
    "00000000"
    "0000803f000000400000404000008040"
    "0100000000000000"
    "0500000000000000"
    "6172673a61"
)


def test_reads_what_mxnet_wrote():
    arrays = load_params(MXNET_SAVED)

    assert list(arrays) == ["arg:a"]
    np.testing.assert_array_equal(arrays["arg:a"], np.array([[1, 2], [3, 4]], dtype=np.float32))


def test_writes_what_mxnet_writes():
    assert dump_params({"arg:a": np.array([[1, 2], [3, 4]], dtype=np.float32)}) == MXNET_SAVED


def test_round_trips_several_dtypes():
    arrays = {
        "arg:w": np.arange(24, dtype=np.float32).reshape(2, 3, 4),
        "aux:m": np.array([0.5, -1.5], dtype=np.float64),
        "arg:h": np.array([1, 2], dtype=np.float16),
    }

    loaded = load_params(dump_params(arrays))

    for name, value in arrays.items():
        assert loaded[name].dtype == value.dtype
        np.testing.assert_array_equal(loaded[name], value)


def test_wrong_magic_says_it_is_not_a_params_file():
    with pytest.raises(ParamsFormatError, match="not an MXNet .params file"):
        load_params(b"PK\x03\x04" + bytes(20), source="x.params")


def test_truncated_file_says_where():
    with pytest.raises(ParamsFormatError, match="truncated"):
        load_params(MXNET_SAVED[:-20])


def test_sparse_array_is_refused_clearly():
    sparse = MXNET_SAVED[:28] + struct.pack("<i", 1) + MXNET_SAVED[32:]

    with pytest.raises(ParamsFormatError, match="sparse"):
        load_params(sparse)
