"""training.data.splits at its edges, called directly: each limit at the edge and one past it, the exact
assignment a seed gives, and every error message word for word.

Written against what a mutation run (benchmarks/mutation.py) showed no other test pinned down.
"""

from __future__ import annotations

import random
import re
import sys
from dataclasses import FrozenInstanceError
from pathlib import Path

import numpy as np
import pytest
from scipy.io import savemat

from training.data import splits
from training.data.splits import Assignment, KFoldSplit, OfficialSplit, StratifiedSplit
from training.errors import TrainingError

BREED = "n02085620-Chihuahua"
OTHER = "n02085782-Japanese_spaniel"


def names(count: int) -> list[str]:
    return [f"{BREED.split('-')[0]}_{number:04d}.jpg" for number in range(count)]


def shuffled(images: list[str], seed: int) -> list[str]:
    """What the module promises: a breed's sorted names shuffled by a fresh Random(seed)."""
    order = sorted(images)
    random.Random(seed).shuffle(order)  # noqa: S311
    return order


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


def save_list(path: Path, relative_paths: list[str], variable: str = "file_list") -> Path:
    """A Stanford-style .mat list: a cell array of 1-element string arrays."""
    cells = np.empty((len(relative_paths), 1), dtype=object)
    for row, relative in enumerate(relative_paths):
        cells[row, 0] = np.array([relative])
    savemat(str(path), {variable: cells})
    return path


# ---------------------------------------------------------------------------- every method


@pytest.mark.parametrize(
    ("split", "field", "value"),
    [
        (StratifiedSplit(0.2), "validation_fraction", 5.0),
        (KFoldSplit(folds=3, fold=1), "fold", 9),
        (OfficialSplit(Path("lists")), "lists_dir", Path("elsewhere")),
    ],
    ids=["stratified", "kfold", "official"],
)
def test_a_split_cannot_change_after_its_settings_were_checked(split, field: str, value) -> None:
    with pytest.raises(FrozenInstanceError):
        setattr(split, field, value)


# ---------------------------------------------------------------------------- stratified


def test_stratified_split_defaults_to_a_fifth_for_validation() -> None:
    assert StratifiedSplit().describe() == {"method": "stratified", "validation_fraction": 0.2}
    assert splits.DEFAULT_VALIDATION_FRACTION == 0.2


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5])
def test_stratified_split_refuses_a_fraction_outside_0_to_1(fraction: float) -> None:
    message = f"--validation-fraction must be between 0 and 1 (exclusive), not {fraction}"
    with pytest.raises(TrainingError, match=exactly(message)):
        StratifiedSplit(fraction)


@pytest.mark.parametrize("fraction", [0.001, 0.999])
def test_stratified_split_accepts_a_fraction_just_inside_0_to_1(fraction: float) -> None:
    assert StratifiedSplit(fraction).validation_fraction == fraction


@pytest.mark.parametrize("seed", [0, 1, 42])
def test_stratified_split_validates_the_first_round_n_times_fraction_of_the_seeded_shuffle(seed: int) -> None:
    images = names(10)
    assignment = StratifiedSplit(0.3).assign({BREED: list(reversed(images))}, seed)[BREED]
    validation = sorted(shuffled(images, seed)[:3])
    assert assignment == Assignment(sorted(set(images) - set(validation)), validation)


@pytest.mark.parametrize(
    ("count", "fraction", "validation"),
    [(2, 0.2, 1), (10, 0.01, 1), (10, 0.2, 2), (10, 0.25, 2), (10, 0.26, 3), (10, 0.99, 9), (3, 0.5, 2)],
)
def test_stratified_split_sends_at_least_one_and_at_most_all_but_one_to_validation(
    count: int, fraction: float, validation: int
) -> None:
    train, held_out = StratifiedSplit(fraction).assign({BREED: names(count)}, 0)[BREED]
    assert (len(train), len(held_out)) == (count - validation, validation)


@pytest.mark.parametrize("count", [0, 1])
def test_stratified_split_refuses_a_breed_with_fewer_than_two_images(count: int) -> None:
    message = (
        f"breed folder {BREED!r} has {count} usable image(s); a train/validation split "
        "needs at least 2 per breed: add images, or leave the breed out with --breeds"
    )
    with pytest.raises(TrainingError, match=exactly(message)):
        StratifiedSplit().assign({OTHER: names(5), BREED: names(count)}, 0)


def test_stratified_split_of_a_breed_does_not_depend_on_the_other_breeds() -> None:
    alone = StratifiedSplit().assign({BREED: names(20)}, 3)
    together = StratifiedSplit().assign({OTHER: names(30), BREED: names(20)}, 3)
    assert together[BREED] == alone[BREED]
    assert list(together) == [OTHER, BREED]


# ---------------------------------------------------------------------------- k-fold


def test_k_fold_split_describes_itself() -> None:
    assert KFoldSplit(folds=5, fold=2).describe() == {"method": "kfold", "folds": 5, "fold": 2}


@pytest.mark.parametrize("folds", [1, 0, -3])
def test_k_fold_split_refuses_fewer_than_two_folds(folds: int) -> None:
    with pytest.raises(TrainingError, match=exactly(f"--folds must be at least 2, not {folds}")):
        KFoldSplit(folds=folds, fold=1)


@pytest.mark.parametrize("fold", [0, 4])
def test_k_fold_split_refuses_a_fold_outside_1_to_folds_saying_both(fold: int) -> None:
    with pytest.raises(TrainingError, match=exactly(f"--fold must be between 1 and --folds (3), not {fold}")):
        KFoldSplit(folds=3, fold=fold)


@pytest.mark.parametrize(("folds", "fold"), [(2, 1), (2, 2), (3, 3)])
def test_k_fold_split_accepts_folds_and_fold_at_their_limits(folds: int, fold: int) -> None:
    assert KFoldSplit(folds=folds, fold=fold).describe()["fold"] == fold


@pytest.mark.parametrize("fold", [1, 2, 3])
def test_k_fold_validation_is_every_folds_th_image_of_the_shuffle_from_the_fold(fold: int) -> None:
    images = names(8)
    assignment = KFoldSplit(folds=3, fold=fold).assign({BREED: images}, 5)[BREED]
    validation = sorted(shuffled(images, 5)[fold - 1 :: 3])
    assert assignment == Assignment(sorted(set(images) - set(validation)), validation)


def test_k_fold_split_with_exactly_as_many_images_as_folds_validates_one() -> None:
    train, validation = KFoldSplit(folds=3, fold=2).assign({BREED: names(3)}, 0)[BREED]
    assert (len(train), len(validation)) == (2, 1)


def test_k_fold_split_refuses_a_breed_with_fewer_images_than_folds() -> None:
    message = (
        f"breed folder {BREED!r} has 2 usable image(s), fewer than --folds 3: "
        "every fold needs one image of every breed; use fewer folds"
    )
    with pytest.raises(TrainingError, match=exactly(message)):
        KFoldSplit(folds=3, fold=1).assign({OTHER: names(3), BREED: names(2)}, 0)


# ---------------------------------------------------------------------------- official


def official(tmp_path: Path, train: list[str], validation: list[str]) -> OfficialSplit:
    save_list(tmp_path / "train_list.mat", train)
    save_list(tmp_path / "test_list.mat", validation)
    return OfficialSplit(tmp_path)


def test_official_split_describes_its_lists() -> None:
    assert OfficialSplit(Path("lists")).describe() == {
        "method": "official",
        "train_list": "train_list.mat",
        "validation_list": "test_list.mat",
    }
    assert OfficialSplit.unassigned_reason == "in neither train_list.mat nor test_list.mat"


def test_official_split_follows_the_lists_and_leaves_out_images_in_neither(tmp_path: Path) -> None:
    a, b, c, d = names(4)
    split = official(
        tmp_path, [f"{BREED}/{b}", f"{BREED}/{a}", f"{OTHER}/{a}"], [f"{BREED}/{c}", f"{OTHER}/{b}"]
    )
    assignments = split.assign({BREED: [a, b, c, d], OTHER: [a, b]}, 0)
    assert assignments == {BREED: Assignment([a, b], [c]), OTHER: Assignment([a], [b])}


def test_official_split_does_not_depend_on_the_seed(tmp_path: Path) -> None:
    a, b, c = names(3)
    split = official(tmp_path, [f"{BREED}/{a}", f"{BREED}/{b}"], [f"{BREED}/{c}"])
    assert split.assign({BREED: [a, b, c]}, 0) == split.assign({BREED: [a, b, c]}, 99)


def test_official_split_matches_windows_separators_in_the_lists(tmp_path: Path) -> None:
    a, b = names(2)
    split = official(tmp_path, [f"{BREED}\\{a}"], [f"{BREED}\\{b}"])
    assert split.assign({BREED: [a, b]}, 0) == {BREED: Assignment([a], [b])}


def test_official_split_refuses_an_image_in_both_lists_naming_one(tmp_path: Path) -> None:
    a, b, c = names(3)
    split = official(
        tmp_path, [f"{BREED}/{a}", f"{BREED}/{b}", f"{BREED}/{c}"], [f"{BREED}/{c}", f"{BREED}/{b}"]
    )
    message = f"2 image(s) are in both official lists, for example '{BREED}/{b}'"
    with pytest.raises(TrainingError, match=exactly(message)):
        split.assign({BREED: [a, b, c]}, 0)


def test_official_split_refuses_a_breed_missing_from_the_train_list_naming_it(tmp_path: Path) -> None:
    a, b = names(2)
    split = official(tmp_path, [f"{OTHER}/{a}"], [f"{OTHER}/{b}", f"{BREED}/{b}"])
    message = (
        f"breed folder {BREED!r} has no usable image in train_list.mat: "
        "check that the lists belong to this copy of Stanford Dogs"
    )
    with pytest.raises(TrainingError, match=exactly(message)):
        split.assign({OTHER: [a, b], BREED: [a, b]}, 0)


def test_official_split_needs_one_training_image_and_no_validation_image(tmp_path: Path) -> None:
    a, b = names(2)
    split = official(tmp_path, [f"{BREED}/{a}", f"{OTHER}/{a}"], [f"{OTHER}/{b}"])
    assert split.assign({BREED: [a, b], OTHER: [a, b]}, 0) == {
        BREED: Assignment([a], []),
        OTHER: Assignment([a], [b]),
    }


# ---------------------------------------------------------------------------- read_official_list


def test_read_official_list_returns_the_paths_stripped_with_forward_slashes(tmp_path: Path) -> None:
    path = save_list(tmp_path / "train_list.mat", [f"{BREED}\\x.jpg ", f"{OTHER}/y.jpg"])
    assert splits.read_official_list(path) == [f"{BREED}/x.jpg", f"{OTHER}/y.jpg"]


def test_read_official_list_of_a_missing_file_says_which_files_it_expects(tmp_path: Path) -> None:
    path = tmp_path / "train_list.mat"
    message = (
        f"{path} not found: --official-split expects the folder holding Stanford's "
        "train_list.mat and test_list.mat (from lists.tar)"
    )
    with pytest.raises(TrainingError, match=exactly(message)):
        splits.read_official_list(path)


def test_read_official_list_of_a_folder_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "train_list.mat").mkdir()
    with pytest.raises(TrainingError, match="train_list.mat not found: "):
        splits.read_official_list(tmp_path / "train_list.mat")


def test_read_official_list_refuses_a_file_that_is_not_a_mat_file(tmp_path: Path) -> None:
    path = tmp_path / "train_list.mat"
    path.write_bytes(b"n02085620-Chihuahua/x.jpg\n" * 10)
    message = f"{path} is not a MATLAB v5 .mat file scipy can read: "  # then scipy's own words
    with pytest.raises(TrainingError, match=f"^{re.escape(message)}"):
        splits.read_official_list(path)


@pytest.mark.parametrize("content", [b"n02085620-Chihuahua/x.jpg\n", bytes(200)], ids=["short", "zeros"])
def test_read_official_list_refuses_a_short_or_zeroed_file_as_not_a_mat_file(tmp_path: Path, content) -> None:
    path = tmp_path / "train_list.mat"
    path.write_bytes(content)
    with pytest.raises(TrainingError, match=f"^{re.escape(f'{path} is not a MATLAB v5 .mat file')}"):
        splits.read_official_list(path)


def test_read_official_list_says_a_short_file_is_shorter_than_the_header(tmp_path: Path) -> None:
    path = tmp_path / "train_list.mat"
    path.write_bytes(b"n02085620-Chihuahua/x.jpg\n")
    message = (
        f"{path} is not a MATLAB v5 .mat file: at 26 bytes it is shorter than a .mat file's 128-byte "
        "header; extract train_list.mat from Stanford's lists.tar again"
    )
    with pytest.raises(TrainingError, match=exactly(message)):
        splits.read_official_list(path)


def test_read_official_list_says_a_zeroed_file_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "test_list.mat"
    path.write_bytes(bytes(200))
    message = (
        f"{path} is not a MATLAB v5 .mat file scipy can read: Mat file appears to be corrupt "
        "(first 20 bytes == 0); extract test_list.mat from Stanford's lists.tar again"
    )
    with pytest.raises(TrainingError, match=exactly(message)):
        splits.read_official_list(path)


def test_read_official_list_refuses_a_mat_file_without_a_file_list(tmp_path: Path) -> None:
    path = save_list(tmp_path / "train_list.mat", [f"{BREED}/x.jpg"], variable="annotation_list")
    message = f"{path} has no 'file_list' variable: is it a Stanford Dogs list?"
    with pytest.raises(TrainingError, match=exactly(message)):
        splits.read_official_list(path)


def test_read_official_list_without_scipy_says_how_to_install_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "scipy.io", None)  # makes ``from scipy.io import ...`` fail
    message = (
        "--official-split reads MATLAB files with scipy, which is not installed: "
        "pip install -r requirements.txt"
    )
    with pytest.raises(TrainingError, match=exactly(message)):
        splits.read_official_list(tmp_path / "train_list.mat")


def test_strings_flattens_nested_cell_arrays_and_strips_every_string() -> None:
    cells = np.empty((2, 1), dtype=object)
    cells[0, 0] = np.array([" a.jpg"])
    cells[1, 0] = np.array(["b.jpg "])
    assert splits._strings(cells) == ["a.jpg", "b.jpg"]
    assert splits._strings(" c.jpg\n") == ["c.jpg"]
    assert splits._strings(7) == ["7"]
