"""How ``prepare`` splits: stratified by seed, k-fold, Stanford's official lists, breed subsets."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prepare_trees import (
    TREE_FOLDERS,
    USABLE_PER_BREED,
    copy_rgb_images,
    read_list,
    run_prepare,
    save_official_list,
    tree_bytes,
)

from core.layout import CLASSES_FILE, SPLITS, list_file
from training.data.splits import KFoldSplit, OfficialSplit, StratifiedSplit
from training.errors import TrainingError

SORTED_FOLDERS = sorted(TREE_FOLDERS)


def paths_by_split(out: Path) -> dict[str, set[str]]:
    return {split: {path for _, _, path in read_list(out / list_file(split))} for split in SPLITS}


def per_breed(paths: set[str]) -> dict[str, int]:
    return {folder: sum(1 for path in paths if path.startswith(f"{folder}/")) for folder in SORTED_FOLDERS}


@pytest.mark.parametrize("fraction", [0.2, 0.5])
def test_each_breed_sends_round_n_times_fraction_images_to_validation(stanford_tree, tmp_path, fraction):
    run_prepare(stanford_tree, tmp_path / "out", split=StratifiedSplit(fraction))
    split = paths_by_split(tmp_path / "out")
    usable = dict(zip(TREE_FOLDERS, USABLE_PER_BREED, strict=True))
    expected = {folder: max(1, round(usable[folder] * fraction)) for folder in SORTED_FOLDERS}
    assert per_breed(split["validation"]) == expected
    assert per_breed(split["train"]) == {
        folder: usable[folder] - expected[folder] for folder in SORTED_FOLDERS
    }


def test_same_seed_gives_byte_identical_trees(stanford_tree, tmp_path):
    run_prepare(stanford_tree, tmp_path / "first", seed=7)
    run_prepare(stanford_tree, tmp_path / "second", seed=7)
    assert tree_bytes(tmp_path / "first") == tree_bytes(tmp_path / "second")


def test_worker_count_does_not_change_the_output(stanford_tree, tmp_path):
    run_prepare(stanford_tree, tmp_path / "one", workers=1)
    run_prepare(stanford_tree, tmp_path / "two", workers=2)
    assert tree_bytes(tmp_path / "one") == tree_bytes(tmp_path / "two")


def test_different_seed_gives_a_different_split(stanford_tree, tmp_path):
    run_prepare(stanford_tree, tmp_path / "seed0", seed=0)
    run_prepare(stanford_tree, tmp_path / "seed1", seed=1)
    assert (
        paths_by_split(tmp_path / "seed0")["validation"] != paths_by_split(tmp_path / "seed1")["validation"]
    )


def test_a_breed_with_a_single_usable_image_is_an_error_naming_it(images_dir, tmp_path):
    tree = copy_rgb_images(images_dir, tmp_path / "Images", TREE_FOLDERS[:2])
    for extra in sorted((tree / TREE_FOLDERS[1]).iterdir())[1:]:
        extra.unlink()
    with pytest.raises(TrainingError, match=f"{TREE_FOLDERS[1]}.* 1 usable image"):
        run_prepare(tree, tmp_path / "out")


def test_breeds_number_draws_that_many_breeds_with_the_seed_and_renumbers_them(stanford_tree, tmp_path):
    report = run_prepare(stanford_tree, tmp_path / "out", breeds=2, seed=3)
    chosen = sorted(random.Random(3).sample(SORTED_FOLDERS, 2))
    classes = json.loads((tmp_path / "out" / CLASSES_FILE).read_text())
    assert [f"{record['wnid']}-{record['name'].replace(' ', '_')}" for record in classes] == chosen
    for split in SPLITS:
        for _, class_id, path in read_list(tmp_path / "out" / list_file(split)):
            assert path.split("/")[0] == chosen[class_id]
    assert report["breeds_subset"] is True


def test_breeds_are_found_by_name_folder_or_wnid_in_any_case(stanford_tree, tmp_path):
    report = run_prepare(
        stanford_tree, tmp_path / "out", breeds=("siberian HUSKY", "Eskimo_dog", "N02085620")
    )
    assert [record["name"] for record in report["classes"]] == ["Chihuahua", "Eskimo dog", "Siberian husky"]
    assert [record["id"] for record in report["classes"]] == [0, 1, 2]


def test_an_unknown_breed_is_an_error_suggesting_close_matches(stanford_tree, tmp_path):
    with pytest.raises(TrainingError, match="'Siberian huskey' .did you mean 'Siberian husky'"):
        run_prepare(stanford_tree, tmp_path / "out", breeds=("Siberian huskey", "beagle"))
    assert not (tmp_path / "out").exists()


def test_a_breed_subset_keeps_each_breeds_split_from_the_full_dataset(stanford_tree, tmp_path):
    run_prepare(stanford_tree, tmp_path / "all")
    run_prepare(stanford_tree, tmp_path / "subset", breeds=("beagle", "Siberian husky"))
    subset = paths_by_split(tmp_path / "subset")
    for split, paths in paths_by_split(tmp_path / "all").items():
        assert subset[split] == {
            path for path in paths if path.split("/")[0] in (TREE_FOLDERS[1], TREE_FOLDERS[3])
        }


def test_k_folds_partition_every_breed(stanford_tree, tmp_path):
    validations = []
    for fold in (1, 2, 3):
        out = tmp_path / f"fold{fold}"
        report = run_prepare(stanford_tree, out, split=KFoldSplit(folds=3, fold=fold))
        split = paths_by_split(out)
        everything = split["train"] | split["validation"]
        assert split["train"].isdisjoint(split["validation"])
        assert all(count >= 1 for count in per_breed(split["validation"]).values())
        assert report["split"] == {"method": "kfold", "folds": 3, "fold": fold}
        validations.append(split["validation"])
    assert set.union(*validations) == everything
    assert sum(len(validation) for validation in validations) == len(everything)


@pytest.mark.parametrize("fold", [0, 4])
def test_a_fold_outside_1_to_k_is_an_error(fold):
    with pytest.raises(TrainingError, match="--fold must be between 1 and --folds"):
        KFoldSplit(folds=3, fold=fold)


def test_official_split_follows_stanfords_mat_lists(stanford_tree, tmp_path):
    names = {
        folder: sorted(p.name for p in (stanford_tree / "Images" / folder).glob("*_1???.jpg"))
        for folder in TREE_FOLDERS
    }
    train = [f"{folder}/{name}" for folder in TREE_FOLDERS for name in names[folder][:6]]
    test = [f"{folder}/{name}" for folder in TREE_FOLDERS for name in names[folder][6:8]]
    save_official_list(tmp_path / "train_list.mat", train)
    save_official_list(tmp_path / "test_list.mat", test)
    report = run_prepare(stanford_tree, tmp_path / "out", split=OfficialSplit(tmp_path))
    assert paths_by_split(tmp_path / "out") == {"train": set(train), "validation": set(test)}
    assert report["split"]["method"] == "official"
    left_out = {item["path"] for item in report["skipped"] if "in neither" in item["reason"]}
    assert f"{TREE_FOLDERS[0]}/{names[TREE_FOLDERS[0]][8]}" in left_out


def official_lists_with_the_last_breed_in_train(stanford_tree: Path, lists_dir: Path, images: int) -> str:
    """Official lists naming 6 training images of every breed but the last, which gets ``images``;
    returns the last breed's folder."""
    names = {
        folder: sorted(p.name for p in (stanford_tree / "Images" / folder).glob("*_1???.jpg"))
        for folder in TREE_FOLDERS
    }
    last = TREE_FOLDERS[-1]
    kept = {folder: 6 for folder in TREE_FOLDERS} | {last: images}
    train = [f"{folder}/{name}" for folder in TREE_FOLDERS for name in names[folder][: kept[folder]]]
    save_official_list(lists_dir / "train_list.mat", train)
    save_official_list(
        lists_dir / "test_list.mat", [f"{folder}/{names[folder][7]}" for folder in TREE_FOLDERS]
    )
    return last


def test_official_split_with_a_breed_missing_from_train_list_is_an_error_naming_it(stanford_tree, tmp_path):
    missing = official_lists_with_the_last_breed_in_train(stanford_tree, tmp_path, images=0)

    with pytest.raises(TrainingError) as raised:
        run_prepare(stanford_tree, tmp_path / "out", split=OfficialSplit(tmp_path))

    assert str(raised.value) == (
        f"breed folder {missing!r} has no usable image in train_list.mat: "
        "check that the lists belong to this copy of Stanford Dogs"
    )
    assert not (tmp_path / "out").exists()


def test_official_split_with_one_training_image_of_a_breed_is_enough(stanford_tree, tmp_path):
    last = official_lists_with_the_last_breed_in_train(stanford_tree, tmp_path, images=1)

    report = run_prepare(stanford_tree, tmp_path / "out", split=OfficialSplit(tmp_path))

    assert report["classes"][SORTED_FOLDERS.index(last)]["train"] == 1


def test_official_split_without_its_lists_is_an_error_naming_the_file(stanford_tree, tmp_path):
    with pytest.raises(TrainingError, match="train_list.mat not found"):
        run_prepare(stanford_tree, tmp_path / "out", split=OfficialSplit(tmp_path))


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=2, max_value=200), min_size=1, max_size=6),
    fraction=st.floats(min_value=0.01, max_value=0.99),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_stratified_split_partitions_every_breed_with_both_splits_non_empty(sizes, fraction, seed):
    images = {
        f"n{breed:08d}-breed": [f"{number}.jpg" for number in range(size)] for breed, size in enumerate(sizes)
    }
    assignments = StratifiedSplit(fraction).assign(images, seed)
    for folder, names in images.items():
        train, validation = assignments[folder]
        assert sorted(train + validation) == sorted(names)
        assert train and validation
        assert len(validation) == min(len(names) - 1, max(1, round(len(names) * fraction)))
