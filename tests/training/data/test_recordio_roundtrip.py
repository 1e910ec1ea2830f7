"""``prepare --format recordio`` read back with a reader written here from the RecordIO format,
independent of ``training.data.recordio``: records, labels, ids, images and the ``.idx`` offsets."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from PIL import Image
from prepare_trees import read_list, run_prepare, tree_bytes

from core.layout import SPLITS, image_dir, index_file, list_file, record_file

MAGIC = b"\x0a\x23\xd7\xce"  # 0xced7230a, little-endian
RESIZE = 24  # the tree's images are 40x30 and 30x40


class Record(NamedTuple):
    offset: int
    flag: int
    label: float
    id: int
    id2: int
    jpeg: bytes


def read_rec(path: Path) -> list[Record]:
    data = path.read_bytes()
    records, offset = [], 0
    while offset < len(data):
        assert data[offset : offset + 4] == MAGIC, f"no magic at {offset}"
        (lrecord,) = struct.unpack("<I", data[offset + 4 : offset + 8])
        assert lrecord >> 29 == 0, "a whole record has continuation flag 0"
        length = lrecord & ((1 << 29) - 1)
        payload = data[offset + 8 : offset + 8 + length]
        flag, label, record_id, id2 = struct.unpack("<IfQQ", payload[:24])
        records.append(Record(offset, flag, label, record_id, id2, payload[24:]))
        offset += 8 + length + (4 - length % 4) % 4
    assert offset == len(data)
    return records


def read_idx(path: Path) -> list[tuple[int, int]]:
    return [tuple(int(field) for field in line.split("\t")) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def prepared_both(stanford_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The shared tree prepared as lst and as RecordIO (two workers) with the same seed."""
    root = tmp_path_factory.mktemp("recordio")
    report = run_prepare(stanford_tree, root / "rec", format="recordio", resize=RESIZE, workers=2)
    run_prepare(stanford_tree, root / "lst")
    return {"rec": root / "rec", "lst": root / "lst", "report": report}


@pytest.mark.parametrize("split", SPLITS)
def test_records_hold_the_ids_and_labels_of_the_lst_lines_in_order(prepared_both, split):
    records = read_rec(prepared_both["rec"] / record_file(split))
    lines = read_list(prepared_both["lst"] / list_file(split))
    assert [(r.id, r.label) for r in records] == [(index, float(class_id)) for index, class_id, _ in lines]
    assert all(r.flag == 0 and r.id2 == 0 for r in records)


@pytest.mark.parametrize("split", SPLITS)
def test_record_images_are_rgb_jpegs_with_the_shorter_side_resized(prepared_both, split):
    lines = read_list(prepared_both["lst"] / list_file(split))
    for record, (_, _, path) in zip(read_rec(prepared_both["rec"] / record_file(split)), lines, strict=True):
        with Image.open(prepared_both["lst"] / image_dir(split) / path) as original:
            width, height = original.size
        with Image.open(io.BytesIO(record.jpeg)) as image:
            image.load()
            assert (image.format, image.mode) == ("JPEG", "RGB")
            assert min(image.size) == RESIZE
            assert (image.width > image.height) == (width > height)


@pytest.mark.parametrize("split", SPLITS)
def test_idx_lines_give_each_record_id_and_the_offset_of_its_magic(prepared_both, split):
    records = read_rec(prepared_both["rec"] / record_file(split))
    assert read_idx(prepared_both["rec"] / index_file(split)) == [(r.id, r.offset) for r in records]


def test_images_smaller_than_resize_are_not_enlarged(stanford_tree, tmp_path):
    run_prepare(stanford_tree, tmp_path / "rec", format="recordio", resize=64)
    for split in SPLITS:
        for record in read_rec(tmp_path / "rec" / record_file(split)):
            with Image.open(io.BytesIO(record.jpeg)) as image:
                assert sorted(image.size) == [30, 40]


def test_recordio_output_is_the_rec_idx_pairs_classes_and_report(prepared_both):
    names = set(tree_bytes(prepared_both["rec"]))
    assert names == {
        "classes.json",
        "report.json",
        "train.rec",
        "train.idx",
        "validation.rec",
        "validation.idx",
    }
    report = prepared_both["report"]
    assert (report["format"], report["resize"]) == ("recordio", RESIZE)


def test_recordio_output_does_not_depend_on_the_worker_count(stanford_tree, prepared_both, tmp_path):
    run_prepare(stanford_tree, tmp_path / "rec", format="recordio", resize=RESIZE, workers=1)
    assert tree_bytes(tmp_path / "rec") == tree_bytes(prepared_both["rec"])


def test_writer_pads_each_record_to_a_multiple_of_four_bytes(tmp_path):
    from training.data.recordio import RecordWriter

    with RecordWriter(tmp_path / "x.rec", tmp_path / "x.idx") as writer:
        for record_id, size in enumerate([1, 2, 3, 4, 5]):
            writer.write_image(record_id, 1.0, b"j" * size)
    records = read_rec(tmp_path / "x.rec")
    assert [len(r.jpeg) for r in records] == [1, 2, 3, 4, 5]
    assert all(r.offset % 4 == 0 for r in records)
