"""``training.data.recordio`` against bytes derived by hand from dmlc's RecordIO format: a record whose
data holds the magic word at a 4-byte-aligned offset is split into parts (cflag 1, 2, 3) with the
word dropped, and the reader joins the parts with the word put back."""

from __future__ import annotations

import random
import struct

import pytest

from training.data.recordio import (
    MAX_RECORD_BYTES,
    Record,
    RecordIOError,
    RecordWriter,
    check_written,
    encode_record,
    pack_image,
    read_index,
    read_records,
    unpack_image,
)

M = bytes.fromhex("0a23d7ce")  # 0xced7230a, little-endian


def header(hex_lrecord: str) -> bytes:
    """The magic and an lrecord written as its 4 little-endian bytes, e.g. '04000020': cflag 1, length 4."""
    return M + bytes.fromhex(hex_lrecord)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(b"ABCDEFG", header("07000000") + b"ABCDEFG\0", id="whole, padded to 4"),
        pytest.param(b"ABCD", header("04000000") + b"ABCD", id="whole, no padding"),
        pytest.param(b"", header("00000000"), id="empty"),
        pytest.param(
            b"ABCD" + M + b"EFGH" + M + b"xyz",
            header("04000020") + b"ABCD" + header("04000040") + b"EFGH" + header("03000060") + b"xyz\0",
            id="first, middle, last",
        ),
        pytest.param(M, header("00000020") + header("00000060"), id="only the magic"),
        pytest.param(M + b"AB", header("00000020") + header("02000060") + b"AB\0\0", id="magic first"),
        pytest.param(b"ABCD" + M, header("04000020") + b"ABCD" + header("00000060"), id="magic last"),
        pytest.param(M + M, header("00000020") + header("00000040") + header("00000060"), id="two magics"),
        pytest.param(b"A" + M + b"BCD", header("08000000") + b"A" + M + b"BCD", id="unaligned magic"),
        pytest.param(
            b"AB" + M + b"C" + M, header("0b000000") + b"AB" + M + b"C" + M + b"\0", id="two unaligned"
        ),
        pytest.param(
            b"AB" + M + b"CD" + M + b"EF",
            header("08000020") + b"AB" + M + b"CD" + header("02000060") + b"EF\0\0",
            id="unaligned, then aligned",
        ),
        pytest.param(b"ABCDE" + M[:3], header("08000000") + b"ABCDE" + M[:3], id="partial magic at the end"),
    ],
)
def test_encode_record_writes_the_parts_dmlc_writes(payload, expected):
    assert encode_record(payload) == expected


def test_writer_splits_a_record_at_an_aligned_magic(tmp_path):
    with RecordWriter(tmp_path / "x.rec", tmp_path / "x.idx") as writer:
        writer.write(0, b"ABCD" + M + b"EF")

    assert (tmp_path / "x.rec").read_bytes() == header("04000020") + b"ABCD" + header("02000060") + b"EF\0\0"


@pytest.mark.parametrize("length", [0, 1, 2, 3, 4, 5, 8, 13])
def test_records_are_padded_to_a_multiple_of_four(length):
    assert len(encode_record(b"x" * length)) == 8 + length + (-length % 4)


def test_a_record_of_the_largest_size_is_accepted():
    class Largest(bytes):  # a record of 2**29 - 1 bytes without holding half a gigabyte
        def __len__(self) -> int:
            return MAX_RECORD_BYTES

    assert encode_record(Largest(b"ABCD")).startswith(header("04000000") + b"ABCD")


def test_a_record_one_byte_over_the_size_limit_is_refused():
    class OneOver(bytes):
        def __len__(self) -> int:
            return MAX_RECORD_BYTES + 1

    with pytest.raises(RecordIOError, match=r"^a record holds at most 536870911 bytes, not 536870912$"):
        encode_record(OneOver(b"ABCD"))


def test_writer_names_the_record_that_is_too_large(tmp_path, monkeypatch):
    monkeypatch.setattr("training.data.recordio.MAX_RECORD_BYTES", 3)
    with (
        RecordWriter(tmp_path / "x.rec", tmp_path / "x.idx") as writer,
        pytest.raises(RecordIOError, match=r"^record 7: a record holds at most 3 bytes, not 4$"),
    ):
        writer.write(7, b"ABCD")


def write_file(tmp_path, records: list[tuple[int, bytes]]) -> tuple:
    paths = tmp_path / "x.rec", tmp_path / "x.idx"
    with RecordWriter(*paths) as writer:
        for record_id, data in records:
            writer.write(record_id, data)
    return paths


def test_index_gives_each_record_the_offset_of_its_first_part(tmp_path):
    split = b"ABCD" + M + b"E"  # 8 + 4 + 8 + 1 + 3 padding = 24 bytes
    rec, idx = write_file(tmp_path, [(5, split), (6, b"FG"), (9, b"")])

    assert read_index(idx) == [(5, 0), (6, 24), (9, 36)]
    assert list(read_records(rec)) == [Record(0, split), Record(24, b"FG"), Record(36, b"")]


def test_reader_restores_the_magic_between_parts(tmp_path):
    payloads = [M, M + M, b"AB" + M + b"CD" + M + b"EF", b"ABCD" + M, M + b"xyz", b"A" + M + b"BCD"]
    rec, _ = write_file(tmp_path, list(enumerate(payloads)))

    assert [record.data for record in read_records(rec)] == payloads


def test_random_payloads_full_of_magic_round_trip(tmp_path):
    rng = random.Random(8)
    pieces = [M, M[:2], M[2:], b"\0", b"ab", b"\xce"]
    payloads = [b"".join(rng.choice(pieces) for _ in range(rng.randrange(40))) for _ in range(200)]
    rec, idx = write_file(tmp_path, list(enumerate(payloads)))

    records = list(read_records(rec))
    assert [record.data for record in records] == payloads
    assert [record.offset for record in records] == [offset for _, offset in read_index(idx)]


def corrupt(tmp_path, data: bytes):
    path = tmp_path / "bad.rec"
    path.write_bytes(data)
    return lambda: list(read_records(path))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\0\0\0\0" + bytes(4), "no RecordIO magic at offset 0"),
        (header("00000000") + M, "4 stray bytes at offset 8"),
        (header("05000000") + b"ABCD", "the part at offset 0 ends after the file"),
        (header("00000040"), "cflag 2 at offset 0, expected a whole record or a first part"),
        (header("00000060"), "cflag 3 at offset 0, expected a whole record or a first part"),
        (header("00000080"), "cflag 4 at offset 0, expected a whole record or a first part"),
        (header("00000020") + header("00000000"), "cflag 0 at offset 8, expected a middle or last part"),
        (header("00000020") + header("00000020"), "cflag 1 at offset 8, expected a middle or last part"),
        (
            header("00000000") + header("00000020") + header("00000040"),
            "the record at offset 8 has no last part",
        ),
    ],
)
def test_reader_refuses_what_mxnet_would_not_read(tmp_path, data, message):
    with pytest.raises(RecordIOError, match=f"^{tmp_path / 'bad.rec'}: {message}$"):
        corrupt(tmp_path, data)()


def test_image_records_carry_a_single_label_header():
    data = pack_image(3.0, 42, b"jpeg")

    assert data == struct.pack("<IfQQ", 0, 3.0, 42, 0) + b"jpeg"
    assert unpack_image(data) == (3.0, 42, b"jpeg")


def test_multi_label_and_short_records_are_refused():
    with pytest.raises(RecordIOError, match=r"^multi-label record \(flag 2\)"):
        unpack_image(struct.pack("<IfQQ", 2, 3.0, 42, 0))
    with pytest.raises(RecordIOError, match=r"^a 23-byte record is too short for its 24-byte header$"):
        unpack_image(bytes(23))
    assert unpack_image(bytes(24)) == (0.0, 0, b"")


def test_check_written_accepts_what_the_writer_wrote(tmp_path):
    rec, idx = tmp_path / "x.rec", tmp_path / "x.idx"
    with RecordWriter(rec, idx) as writer:
        writer.write_image(0, 1.0, M * 3)
        writer.write_image(1, 0.0, b"jpeg")

    check_written(rec, idx, [(0, 1.0), (1, 0.0)])


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([(0, 1.0)], "{rec} holds 2 records and {idx} 2 lines, expected 1"),
        ([(0, 1.0), (1, 0.0), (2, 0.0)], "{rec} holds 2 records and {idx} 2 lines, expected 3"),
        (
            [(0, 1.0), (1, 2.0)],
            "{rec}: record 1 (label 2.0) reads back as record 1 (label 0.0) at offset 36, indexed as 1 at 36",
        ),
        (
            [(0, 1.0), (5, 0.0)],
            "{rec}: record 5 (label 0.0) reads back as record 1 (label 0.0) at offset 36, indexed as 1 at 36",
        ),
    ],
)
def test_check_written_names_the_first_difference(tmp_path, labels, message):
    rec, idx = tmp_path / "x.rec", tmp_path / "x.idx"
    with RecordWriter(rec, idx) as writer:
        writer.write_image(0, 1.0, b"jpeg")
        writer.write_image(1, 0.0, b"jpeg")

    with pytest.raises(RecordIOError) as raised:
        check_written(rec, idx, labels)

    assert str(raised.value) == message.format(rec=rec, idx=idx)


def test_check_written_notices_an_index_missing_a_line(tmp_path):
    rec, idx = tmp_path / "x.rec", tmp_path / "x.idx"
    with RecordWriter(rec, idx) as writer:
        writer.write_image(0, 1.0, b"jpeg")
        writer.write_image(1, 0.0, b"jpeg")
    idx.write_text("0\t0\n")

    with pytest.raises(RecordIOError, match=r"holds 2 records and .*x.idx 1 lines, expected 2$"):
        check_written(rec, idx, [(0, 1.0), (1, 0.0)])


def test_check_written_notices_an_index_offset_that_is_off(tmp_path):
    rec, idx = tmp_path / "x.rec", tmp_path / "x.idx"
    with RecordWriter(rec, idx) as writer:
        writer.write_image(0, 1.0, b"jpeg")
        writer.write_image(1, 0.0, b"jpeg")
    idx.write_text("0\t0\n1\t40\n")

    with pytest.raises(RecordIOError, match=r"at offset 36, indexed as 1 at 40$"):
        check_written(rec, idx, [(0, 1.0), (1, 0.0)])


def test_an_index_line_that_is_not_id_and_offset_is_refused(tmp_path):
    (tmp_path / "x.idx").write_text("0\t0\nseven\n")

    with pytest.raises(RecordIOError, match=r"x.idx: a line is not 'id<TAB>offset'$"):
        read_index(tmp_path / "x.idx")


def test_an_empty_rec_file_holds_no_records(tmp_path):
    rec, idx = write_file(tmp_path, [])

    assert list(read_records(rec)) == []
    check_written(rec, idx, [])


def test_check_written_names_the_first_of_several_differences(tmp_path):
    rec, idx = write_file(tmp_path, [(0, pack_image(1.0, 0, b"a")), (1, pack_image(1.0, 1, b"b"))])

    with pytest.raises(
        RecordIOError, match=r": record 0 \(label 0.0\) reads back as record 0 \(label 1.0\) at offset 0,"
    ):
        check_written(rec, idx, [(0, 0.0), (1, 0.0)])
