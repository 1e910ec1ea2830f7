"""``python -m training prepare`` through ``training.cli.main``: summary, progress, errors, help."""

from __future__ import annotations

import json

import pytest
from prepare_trees import TREE_FOLDERS

from core.breeds import STANFORD_DOGS_FOLDERS, split_folder
from training.cli import main
from training.data.prepare import missing_stanford_breeds


def test_prepare_returns_0_and_prints_a_summary(stanford_tree, tmp_path, capsys):
    status = main(["prepare", str(stanford_tree), "--out", str(tmp_path / "out"), "--workers", "1"])
    out = capsys.readouterr().out
    assert status == 0
    assert "prepared 34 training and 8 validation images of 4 breeds (lst)" in out
    assert "4 skipped, 4 re-encoded" in out and str(tmp_path / "out") in out


def test_prepare_shows_progress_on_stderr(stanford_tree, tmp_path, capsys):
    main(["prepare", str(stanford_tree), "--out", str(tmp_path / "out"), "--workers", "1"])
    err = capsys.readouterr().err
    assert "checking images" in err and "writing train" in err


def test_progress_in_a_log_is_plain_lines(stanford_tree, tmp_path, capsys):
    main(["prepare", str(stanford_tree), "--out", str(tmp_path / "out"), "--workers", "1"])
    err = capsys.readouterr().err
    assert "checking images: 46/46 images in " in err
    assert "\r" not in err


def test_options_reach_prepare(stanford_tree, tmp_path, capsys):
    arguments = ["--breeds", "beagle,Chihuahua", "--folds", "2", "--fold", "2"]
    status = main(
        ["prepare", str(stanford_tree), "--out", str(tmp_path / "out"), "--workers", "1", *arguments]
    )
    assert status == 0
    report = (tmp_path / "out" / "report.json").read_text()
    assert '"method": "kfold"' in report and '"breeds_subset": true' in report


ERROR_CASES = {
    "missing images": (["{missing}"], "is not a folder"),
    "no breed folders": (["{empty}"], "0 breed folder(s)"),
    "not a breed folder": (["{odd}"], "not Stanford Dogs breed folders"),
    "fold out of range": (
        ["{tree}", "--folds", "3", "--fold", "4"],
        "--fold must be between 1 and --folds (3)",
    ),
    "fold without folds": (["{tree}", "--fold", "1"], "--folds K and --fold I go together"),
    "unknown breed": (["{tree}", "--breeds", "pudel,beagle"], "unknown breed(s) for --breeds: 'pudel'"),
    "too many breeds": (["{tree}", "--breeds", "9"], "--breeds must be between 2 and the 4 breeds"),
    "bad fraction": (
        ["{tree}", "--validation-fraction", "1.5"],
        "--validation-fraction must be between 0 and 1",
    ),
    "resize with lst": (["{tree}", "--resize", "128"], "--resize applies to --format recordio only"),
    "out around the images": (["{tree}", "--out", "{tree}/.."], "overlaps the images"),
    "out not a dataset": (["{tree}", "--out", "{odd}"], "is not empty and has no report.json"),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_errors_exit_1_with_one_line_and_no_traceback(case, stanford_tree, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "odd" / "cats").mkdir(parents=True)
    (tmp_path / "odd" / TREE_FOLDERS[0]).mkdir()
    places = {
        "missing": tmp_path / "missing",
        "empty": tmp_path / "empty",
        "odd": tmp_path / "odd",
        "tree": stanford_tree,
    }
    arguments, message = ERROR_CASES[case]
    arguments = [argument.format(**places) for argument in arguments]
    if "--out" not in arguments:
        arguments += ["--out", str(tmp_path / "out")]
    status = main(["prepare", *arguments, "--workers", "1"])
    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith("error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_help_explains_the_options_and_exits_0(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["prepare", "--help"])
    help_text = capsys.readouterr().out
    assert exit_info.value.code == 0
    for option in ("--out", "--official-split", "--folds", "--breeds", "--format", "--resize", "--workers"):
        assert option in help_text
    assert "1-based" in help_text


def test_split_options_are_mutually_exclusive(stanford_tree, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "prepare",
                str(stanford_tree),
                "--out",
                str(tmp_path),
                "--folds",
                "3",
                "--validation-fraction",
                "0.3",
            ]
        )
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


# --- A partial tree is a subset, said so ----------------------------------------------------------
def test_partial_tree_is_prepared_as_a_subset_naming_what_is_missing(stanford_tree, tmp_path, capsys):
    status = main(["prepare", str(stanford_tree), "--out", str(tmp_path / "out"), "--workers", "1"])
    captured = capsys.readouterr()

    assert status == 0
    images = stanford_tree / "Images"
    assert (
        f"note: {images} holds 4 of the 120 Stanford Dogs breeds, so this prepares a 4-breed subset, "
        "not the whole dataset. Missing: 116 breeds (Japanese spaniel, Maltese dog, Pekinese, Shih-Tzu, "
        "Blenheim spaniel, ...; all in report.json's missing_breeds)."
    ) in captured.err
    assert captured.out.splitlines()[-1] == (
        "a subset: 116 of the 120 Stanford Dogs breeds are not in the images folder "
        "(report.json's missing_breeds)"
    )
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["breeds_subset"] is True
    assert len(report["missing_breeds"]) == 116
    assert "Japanese spaniel" in report["missing_breeds"]
    assert not {split_folder(folder)[1] for folder in TREE_FOLDERS} & set(report["missing_breeds"])


def test_breeds_chosen_on_purpose_get_no_note(stanford_tree, tmp_path, capsys):
    main(["prepare", str(stanford_tree), "--out", str(tmp_path / "out"), "--workers", "1", "--breeds", "3"])

    assert "note:" not in capsys.readouterr().err


def test_whole_stanford_set_misses_nothing():
    assert missing_stanford_breeds(list(STANFORD_DOGS_FOLDERS)) == []


def test_tree_of_other_breed_folders_is_not_called_a_stanford_subset():
    assert missing_stanford_breeds([STANFORD_DOGS_FOLDERS[0], "n09999999-Wolfdog"]) == []


def test_missing_breeds_are_in_class_order():
    present = list(STANFORD_DOGS_FOLDERS[1:119])

    assert missing_stanford_breeds(present) == [STANFORD_DOGS_FOLDERS[0], STANFORD_DOGS_FOLDERS[119]]
