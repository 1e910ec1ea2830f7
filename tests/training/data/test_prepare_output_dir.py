"""Where ``prepare`` writes: only over its own output, and never leaving half a dataset."""

from __future__ import annotations

import pytest
from prepare_trees import run_prepare, tree_bytes

from core.layout import REPORT_FILE, list_file, record_file
from training.data import prepare as prepare_module
from training.errors import TrainingError


def test_a_non_empty_folder_that_is_not_a_prepared_dataset_is_refused_and_kept(stanford_tree, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"precious")
    with pytest.raises(TrainingError, match="not a prepared dataset"):
        run_prepare(stanford_tree, out)
    assert tree_bytes(out) == {"holiday.jpg": b"precious"}


def test_a_previous_output_holding_other_files_is_refused_and_kept(stanford_tree, tmp_path):
    out = tmp_path / "out"
    run_prepare(stanford_tree, out)
    (out / "notes.md").write_text("mine\n")
    before = tree_bytes(out)
    with pytest.raises(TrainingError, match=r"holds files prepare does not write \(notes.md\)"):
        run_prepare(stanford_tree, out)
    assert tree_bytes(out) == before


def test_a_previous_output_is_replaced_whole(stanford_tree, tmp_path):
    out = tmp_path / "out"
    run_prepare(stanford_tree, out)
    run_prepare(stanford_tree, out, format="recordio")
    assert (out / record_file("train")).is_file()
    assert not (out / list_file("train")).exists() and not (out / "train").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]


def test_an_empty_folder_is_used(stanford_tree, tmp_path):
    (tmp_path / "out").mkdir()
    run_prepare(stanford_tree, tmp_path / "out")
    assert (tmp_path / "out" / REPORT_FILE).is_file()


def test_a_failed_run_leaves_the_previous_dataset_untouched(stanford_tree, tmp_path, monkeypatch):
    out = tmp_path / "out"
    run_prepare(stanford_tree, out)
    before = tree_bytes(out)

    def fail_halfway(staging, split, *arguments):
        (staging / list_file(split)).write_text("half\n")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(prepare_module, "write_split", fail_halfway)
    with pytest.raises(OSError, match="No space left"):
        run_prepare(stanford_tree, out, seed=5)
    assert tree_bytes(out) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]


def test_an_out_folder_inside_the_images_is_refused(stanford_tree):
    with pytest.raises(TrainingError, match="overlaps the images"):
        run_prepare(stanford_tree, stanford_tree / "Images" / "prepared")
    assert not (stanford_tree / "Images" / "prepared").exists()


def test_an_out_that_is_a_file_is_refused(stanford_tree, tmp_path):
    (tmp_path / "out").write_text("x")
    with pytest.raises(TrainingError, match="is a file"):
        run_prepare(stanford_tree, tmp_path / "out")
