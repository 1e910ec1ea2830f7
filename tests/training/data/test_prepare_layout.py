"""What ``prepare --format lst`` writes: the files of ``core.layout`` and their contents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from prepare_trees import (
    CONVERTED_FILES,
    SKIPPED_FILES,
    TREE_FOLDERS,
    USABLE_PER_BREED,
    copy_rgb_images,
    read_list,
    run_prepare,
    tree_bytes,
)

from core.breeds import classes_from_folders
from core.layout import CLASSES_FILE, REPORT_FILE, SPLITS, image_dir, list_file


@pytest.fixture(scope="module")
def prepared(stanford_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The shared tree prepared once with the defaults: (OUT, report)."""
    out = tmp_path_factory.mktemp("prepared") / "dataset"
    return out, run_prepare(stanford_tree, out)


def listed(out: Path) -> dict[str, list[tuple[int, int, str]]]:
    return {split: read_list(out / list_file(split)) for split in SPLITS}


def test_classes_json_lists_the_breeds_in_sorted_folder_order(prepared):
    out, _ = prepared
    classes = json.loads((out / CLASSES_FILE).read_text())
    assert classes == classes_from_folders(sorted(TREE_FOLDERS))
    assert [record["id"] for record in classes] == [0, 1, 2, 3]


def test_list_lines_are_index_class_id_and_breed_folder_path_sorted_by_path(prepared):
    out, _ = prepared
    for rows in listed(out).values():
        assert [index for index, _, _ in rows] == list(range(len(rows)))
        paths = [path for _, _, path in rows]
        assert paths == sorted(paths)
        assert all(path.count("/") == 1 and path.endswith(".jpg") for path in paths)


def test_each_split_folder_holds_exactly_its_listed_images(prepared):
    out, _ = prepared
    for split, rows in listed(out).items():
        folder = out / image_dir(split)
        on_disk = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())
        assert on_disk == sorted(path for _, _, path in rows)


def test_class_ids_match_the_breed_folder_of_each_path(prepared):
    out, _ = prepared
    ids = {folder: class_id for class_id, folder in enumerate(sorted(TREE_FOLDERS))}
    for rows in listed(out).values():
        assert all(class_id == ids[path.split("/")[0]] for _, class_id, path in rows)


def test_train_and_validation_share_no_image(prepared):
    out, _ = prepared
    lists = listed(out)
    train, validation = ({path for _, _, path in lists[split]} for split in SPLITS)
    assert train.isdisjoint(validation)
    assert len(train) + len(validation) == sum(USABLE_PER_BREED)


def test_rgb_jpegs_are_copied_byte_for_byte(prepared, images_dir):
    out, _ = prepared
    for split, rows in listed(out).items():
        for _, _, path in rows:
            if Path(path).stem.split("_")[-1].isdigit():  # the RGB JPEGs: <wnid>_1000.jpg ...
                assert (out / image_dir(split) / path).read_bytes() == (images_dir / path).read_bytes()


@pytest.mark.parametrize(("breed", "name"), sorted(CONVERTED_FILES))
def test_converted_files_become_rgb_jpegs_with_the_same_stem(prepared, breed, name):
    out, report = prepared
    expected = f"{TREE_FOLDERS[breed]}/{Path(name).stem}.jpg"
    split = next(split for split, rows in listed(out).items() if expected in {path for _, _, path in rows})
    with Image.open(out / image_dir(split) / expected) as image:
        assert (image.format, image.mode) == ("JPEG", "RGB")
    reasons = {item["path"]: item["reason"] for item in report["reencoded"]}
    assert CONVERTED_FILES[breed, name] in reasons[f"{TREE_FOLDERS[breed]}/{name}"]


def test_transparent_pixels_are_flattened_onto_white(prepared):
    out, _ = prepared
    path = f"{TREE_FOLDERS[1]}/n02088364_rgba.jpg"
    split = next(split for split, rows in listed(out).items() if path in {p for _, _, p in rows})
    with Image.open(out / image_dir(split) / path) as image:
        red, green, blue = image.convert("RGB").getpixel((25, 20))
    # (200, 100, 50) at half opacity over white
    assert abs(red - 227) < 8 and abs(green - 177) < 8 and abs(blue - 152) < 8


def test_unusable_files_are_skipped_with_their_reason_and_left_out(prepared):
    out, report = prepared
    reasons = {item["path"]: item["reason"] for item in report["skipped"]}
    assert set(reasons) == {f"{TREE_FOLDERS[breed]}/{name}" for breed, name in SKIPPED_FILES}
    for (breed, name), fragment in SKIPPED_FILES.items():
        assert fragment in reasons[f"{TREE_FOLDERS[breed]}/{name}"]
    all_listed = {Path(path).stem for rows in listed(out).values() for _, _, path in rows}
    assert all_listed.isdisjoint(Path(name).stem for _, name in SKIPPED_FILES)


def test_report_counts_match_the_lists(prepared):
    out, report = prepared
    lists = listed(out)
    assert json.loads((out / REPORT_FILE).read_text()) == report
    assert report["totals"] == {
        "train": len(lists["train"]),
        "validation": len(lists["validation"]),
        "skipped": len(SKIPPED_FILES),
        "reencoded": len(CONVERTED_FILES),
    }
    for record in report["classes"]:
        for split in SPLITS:
            assert record[split] == sum(1 for _, class_id, _ in lists[split] if class_id == record["id"])
    assert (report["format"], report["seed"]) == ("lst", 0)


def test_images_dir_may_be_the_images_folder_or_the_folder_holding_it(prepared, images_dir, tmp_path):
    out, _ = prepared
    run_prepare(images_dir, tmp_path / "direct")
    assert tree_bytes(tmp_path / "direct") == tree_bytes(out)


def test_a_png_and_a_jpeg_with_one_stem_keep_the_first_and_report_the_other(tmp_path, images_dir):
    tree = copy_rgb_images(images_dir, tmp_path / "Images", TREE_FOLDERS[:2])
    png = tree / TREE_FOLDERS[0] / "n02085620_1000.png"
    Image.new("RGB", (40, 30), "green").save(png)
    report = run_prepare(tree, tmp_path / "out")
    skipped = {item["path"]: item["reason"] for item in report["skipped"]}
    assert "would also become" in skipped[f"{TREE_FOLDERS[0]}/n02085620_1000.png"]


def test_files_beside_the_breed_folders_are_reported_not_read(tmp_path, images_dir):
    tree = copy_rgb_images(images_dir, tmp_path / "Images", TREE_FOLDERS[:2])
    (tree / "README.txt").write_text("Stanford Dogs\n")
    report = run_prepare(tree, tmp_path / "out")
    assert {"path": "README.txt", "reason": "not inside a breed folder"} in report["skipped"]
