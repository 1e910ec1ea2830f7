"""How images are divided into training and validation: stratified, k-fold or Stanford's official split.

Every method works per breed folder on the sorted list of that folder's usable image names and
returns ``{folder: Assignment(train, validation)}``. The random methods shuffle each breed with a
fresh ``random.Random(seed)``, so a breed's split does not depend on which other breeds are
prepared with it: a ``--breeds`` subset gets the same split as the full dataset, breed for breed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from training.errors import TrainingError

DEFAULT_VALIDATION_FRACTION = 0.2
OFFICIAL_TRAIN_LIST = "train_list.mat"
OFFICIAL_VALIDATION_LIST = "test_list.mat"  # Stanford's test list is our validation set
OFFICIAL_FILE_LIST_VARIABLE = "file_list"

ImagesByFolder = Mapping[str, Sequence[str]]  # breed folder -> sorted usable file names


class Assignment(NamedTuple):
    train: list[str]
    validation: list[str]


def _shuffled(names: Sequence[str], seed: int) -> list[str]:
    shuffled = sorted(names)
    random.Random(seed).shuffle(shuffled)  # noqa: S311 - a reproducible split, not a secret
    return shuffled


def _assignment(names: Sequence[str], validation: set[str]) -> Assignment:
    return Assignment(
        sorted(name for name in names if name not in validation),
        sorted(name for name in names if name in validation),
    )


@dataclass(frozen=True)
class StratifiedSplit:
    """The blog's split: per breed, ``round(n * fraction)`` images (at least 1) go to validation."""

    validation_fraction: float = DEFAULT_VALIDATION_FRACTION

    def __post_init__(self) -> None:
        if not 0 < self.validation_fraction < 1:
            raise TrainingError(
                f"--validation-fraction must be between 0 and 1 (exclusive), not {self.validation_fraction}"
            )

    def describe(self) -> dict[str, Any]:
        return {"method": "stratified", "validation_fraction": self.validation_fraction}

    def assign(self, images: ImagesByFolder, seed: int) -> dict[str, Assignment]:
        assignments = {}
        for folder, names in images.items():
            if len(names) < 2:
                raise TrainingError(
                    f"breed folder {folder!r} has {len(names)} usable image(s); a train/validation split "
                    "needs at least 2 per breed: add images, or leave the breed out with --breeds"
                )
            count = min(len(names) - 1, max(1, round(len(names) * self.validation_fraction)))
            assignments[folder] = _assignment(names, set(_shuffled(names, seed)[:count]))
        return assignments


@dataclass(frozen=True)
class KFoldSplit:
    """Stratified k-fold: each breed's shuffled images are dealt into ``folds`` folds in turn;
    fold ``fold`` (1-based, like the blog's ``fold_1`` lists) is validation, the others train."""

    folds: int
    fold: int

    def __post_init__(self) -> None:
        if self.folds < 2:
            raise TrainingError(f"--folds must be at least 2, not {self.folds}")
        if not 1 <= self.fold <= self.folds:
            raise TrainingError(f"--fold must be between 1 and --folds ({self.folds}), not {self.fold}")

    def describe(self) -> dict[str, Any]:
        return {"method": "kfold", "folds": self.folds, "fold": self.fold}

    def assign(self, images: ImagesByFolder, seed: int) -> dict[str, Assignment]:
        assignments = {}
        for folder, names in images.items():
            if len(names) < self.folds:
                raise TrainingError(
                    f"breed folder {folder!r} has {len(names)} usable image(s), fewer than --folds "
                    f"{self.folds}: every fold needs one image of every breed; use fewer folds"
                )
            shuffled = _shuffled(names, seed)
            assignments[folder] = _assignment(names, set(shuffled[self.fold - 1 :: self.folds]))
        return assignments


@dataclass(frozen=True)
class OfficialSplit:
    """Stanford's own split: ``train_list.mat`` is train, ``test_list.mat`` is validation.

    Images in neither list are left out and reported; the seed plays no part."""

    lists_dir: Path
    unassigned_reason: ClassVar[str] = f"in neither {OFFICIAL_TRAIN_LIST} nor {OFFICIAL_VALIDATION_LIST}"

    def describe(self) -> dict[str, Any]:
        return {
            "method": "official",
            "train_list": OFFICIAL_TRAIN_LIST,
            "validation_list": OFFICIAL_VALIDATION_LIST,
        }

    def assign(self, images: ImagesByFolder, seed: int) -> dict[str, Assignment]:
        train = set(read_official_list(self.lists_dir / OFFICIAL_TRAIN_LIST))
        validation = set(read_official_list(self.lists_dir / OFFICIAL_VALIDATION_LIST))
        if both := sorted(train & validation):
            raise TrainingError(f"{len(both)} image(s) are in both official lists, for example {both[0]!r}")
        assignments = {}
        for folder, names in images.items():
            paths = {name: f"{folder}/{name}" for name in names}
            assignments[folder] = Assignment(
                [name for name in names if paths[name] in train],
                [name for name in names if paths[name] in validation],
            )
            if not assignments[folder].train:
                raise TrainingError(
                    f"breed folder {folder!r} has no usable image in {OFFICIAL_TRAIN_LIST}: "
                    "check that the lists belong to this copy of Stanford Dogs"
                )
        return assignments


MAT_HEADER_BYTES = 128  # MATLAB v5: 116 bytes of text, subsystem offset, version, endianness


def read_official_list(path: Path) -> list[str]:
    """The ``file_list`` of a Stanford Dogs ``.mat`` list: paths like ``n02085620-Chihuahua/x.jpg``."""
    try:
        from scipy.io import loadmat
        from scipy.io.matlab import MatReadError
    except ImportError as error:
        raise TrainingError(
            "--official-split reads MATLAB files with scipy, which is not installed: "
            "pip install -r requirements.txt"
        ) from error
    if not path.is_file():
        raise TrainingError(
            f"{path} not found: --official-split expects the folder holding Stanford's "
            f"{OFFICIAL_TRAIN_LIST} and {OFFICIAL_VALIDATION_LIST} (from lists.tar)"
        )
    advice = f"extract {path.name} from Stanford's lists.tar again"
    try:
        contents = loadmat(str(path))
    except IndexError as error:  # scipy reads past the end of a file shorter than the header
        raise TrainingError(
            f"{path} is not a MATLAB v5 .mat file: at {path.stat().st_size} bytes it is shorter than "
            f"a .mat file's {MAT_HEADER_BYTES}-byte header; {advice}"
        ) from error
    except MatReadError as error:  # e.g. a file of zeros, which a failed copy can leave
        raise TrainingError(
            f"{path} is not a MATLAB v5 .mat file scipy can read: {error}; {advice}"
        ) from error
    except (ValueError, NotImplementedError, OSError) as error:
        raise TrainingError(f"{path} is not a MATLAB v5 .mat file scipy can read: {error}") from error
    if OFFICIAL_FILE_LIST_VARIABLE not in contents:
        raise TrainingError(
            f"{path} has no {OFFICIAL_FILE_LIST_VARIABLE!r} variable: is it a Stanford Dogs list?"
        )
    return [text.replace("\\", "/") for text in _strings(contents[OFFICIAL_FILE_LIST_VARIABLE])]


def _strings(value: Any) -> list[str]:
    """Every string in a loadmat value: cell arrays load as nested object arrays of 1-element arrays."""
    if isinstance(value, str):
        return [value.strip()]
    if hasattr(value, "ravel"):
        return [text for item in value.ravel() for text in _strings(item)]
    return [str(value).strip()]
