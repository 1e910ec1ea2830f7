"""Turn a Stanford Dogs ``Images/`` tree into the dataset layout of ``core.layout``.

``prepare`` finds the breed folders, picks the breeds, checks every file (in worker processes),
splits the usable images, and writes lists and images (or RecordIO files), ``classes.json`` and
``report.json`` into a new folder beside OUT, which then replaces OUT. A failed run leaves OUT
as it was. Everything iterates in sorted order, so the same inputs and seed give the same bytes
whatever the number of workers.
"""

from __future__ import annotations

import difflib
import json
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from core.breeds import STANFORD_DOGS_FOLDERS, classes_from_folders, split_folder
from core.layout import (
    CLASSES_FILE,
    FORMATS,
    REPORT_FILE,
    SPLITS,
    SUBSET_DATASET_NAME,
    Format,
    image_dir,
    index_file,
    list_file,
    record_file,
)
from training.console import say
from training.data.dataset_writers import write_image_folder, write_list, write_records
from training.data.images import CONVERT, SKIP, inspect_image, output_name
from training.data.output_dir import check_output_location, check_replaceable, staged_output
from training.data.parallel import Workers
from training.data.splits import KFoldSplit, OfficialSplit, StratifiedSplit
from training.errors import TrainingError

IMAGES_SUBDIR = "Images"  # what Stanford's images.tar unpacks to
DEFAULT_RESIZE = 256
FOLDER_EXAMPLE = "'<wnid>-<Breed_name>', for example 'n02110185-Siberian_husky'"

Split = StratifiedSplit | KFoldSplit | OfficialSplit
MISSING_NAMED = 5  # missing breeds named in the warning; report.json lists them all
BreedChoice = int | tuple[str, ...] | None  # a number of breeds drawn with the seed, or names


@dataclass(frozen=True)
class PrepareOptions:
    images_dir: Path
    out: Path
    seed: int = 0
    split: Split = field(default_factory=StratifiedSplit)
    breeds: BreedChoice = None
    format: Format = "lst"
    resize: int = DEFAULT_RESIZE  # RecordIO only: the shorter side, never enlarged
    workers: int = 1

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise TrainingError(f"--workers must be at least 1, not {self.workers}")
        if self.resize < 1:
            raise TrainingError(f"--resize must be at least 1 pixel, not {self.resize}")
        if self.format not in FORMATS:
            raise TrainingError(f"--format must be one of {', '.join(FORMATS)}, not {self.format!r}")


class SourceImage(NamedTuple):
    folder: str
    name: str
    action: str  # images.COPY or images.CONVERT
    reason: str

    @property
    def output_path(self) -> str:
        return f"{self.folder}/{output_name(self.name)}"


class Entry(NamedTuple):
    position: int  # the line's index in the list file
    class_id: int
    image: SourceImage


def skip(path: str, reason: str) -> dict[str, str]:
    return {"path": path, "reason": reason}


def prepare(options: PrepareOptions) -> dict[str, Any]:
    """Prepare the dataset into ``options.out`` and return its report (also in ``report.json``)."""
    images_dir = find_images_dir(options.images_dir)
    out = Path(os.path.abspath(options.out))  # so `--out .` has a name and a parent to stage beside
    check_output_location(images_dir, out)
    check_replaceable(out)
    all_folders, skipped = scan_breed_folders(images_dir)
    missing = missing_stanford_breeds(all_folders)
    if missing and options.breeds is None:
        say(partial_tree_warning(images_dir, len(all_folders), missing))
    folders = select_breeds(all_folders, options.breeds, options.seed)
    with Workers(options.workers) as workers:
        images, unusable = check_images(images_dir, folders, workers)
        by_folder: dict[str, list[str]] = {folder: [] for folder in folders}
        for image in images:  # already sorted by folder and name
            by_folder[image.folder].append(image.name)
        assignments = options.split.assign(by_folder, options.seed)
        entries = {split: list_entries(images, assignments, folders, split) for split in SPLITS}
        listed = {entry.image for split_entries in entries.values() for entry in split_entries}
        unassigned = getattr(options.split, "unassigned_reason", "assigned to no split")
        skipped += unusable + [skip(f"{i.folder}/{i.name}", unassigned) for i in images if i not in listed]
        report = build_report(options, folders, len(all_folders), entries, skipped, missing)
        with staged_output(out) as staging:
            write_text(staging / CLASSES_FILE, classes_from_folders(folders))
            for split, split_entries in entries.items():
                write_split(staging, split, split_entries, images_dir, options, workers)
            write_text(staging / REPORT_FILE, report)
    return report


def find_images_dir(path: Path) -> Path:
    if not path.is_dir():
        raise TrainingError(
            f"{path} is not a folder: give Stanford Dogs' {IMAGES_SUBDIR}/ folder, or the folder holding it"
        )
    return path / IMAGES_SUBDIR if (path / IMAGES_SUBDIR).is_dir() else path


def scan_breed_folders(images_dir: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The breed folders, sorted (their positions are the class ids), and what was passed over."""
    folders, not_breeds, skipped = [], [], []
    for entry in sorted(os.scandir(images_dir), key=lambda entry: entry.name):
        if not entry.is_dir():
            skipped.append(skip(entry.name, "not inside a breed folder"))
        elif entry.name.startswith("."):
            skipped.append(skip(entry.name, "hidden folder, not read"))
        else:
            try:
                split_folder(entry.name)
                folders.append(entry.name)
            except ValueError:
                not_breeds.append(entry.name)
    if not_breeds:
        raise TrainingError(
            f"{images_dir} holds folders that are not Stanford Dogs breed folders ({FOLDER_EXAMPLE}): "
            f"{', '.join(not_breeds)}; move them elsewhere"
        )
    if len(folders) < 2:
        raise TrainingError(
            f"{images_dir} holds {len(folders)} breed folder(s), a classifier needs at least 2: expected "
            f"Stanford Dogs' {IMAGES_SUBDIR}/ folder with one folder per breed ({FOLDER_EXAMPLE})"
        )
    return folders, skipped


def missing_stanford_breeds(folders: list[str]) -> list[str]:
    """The Stanford Dogs breed folders that a tree of Stanford Dogs folders lacks, in class order;
    none for the whole set, or for a tree holding other folders too (another dataset)."""
    present = set(folders)
    if not present <= set(STANFORD_DOGS_FOLDERS):
        return []
    return [folder for folder in STANFORD_DOGS_FOLDERS if folder not in present]


def partial_tree_warning(images_dir: Path, found: int, missing: list[str]) -> str:
    names = [split_folder(folder)[1] for folder in missing]
    examples = ", ".join(names[:MISSING_NAMED]) + (", ..." if len(names) > MISSING_NAMED else "")
    return (
        f"note: {images_dir} holds {found} of the {len(STANFORD_DOGS_FOLDERS)} Stanford Dogs breeds, so "
        f"this prepares a {found}-breed subset, not the whole dataset. Missing: {len(missing)} breeds "
        f"({examples}; all in report.json's missing_breeds). For the whole dataset, extract all of "
        f"images.tar; `upload` names a subset {SUBSET_DATASET_NAME}, and --breeds picks one on purpose."
    )


def _breed_key(text: str) -> str:
    return " ".join(text.replace("_", " ").split()).casefold()


def select_breeds(folders: list[str], choice: BreedChoice, seed: int) -> list[str]:
    """All folders; ``choice`` of them drawn with ``seed``; or those named (name, folder or wnid)."""
    if choice is None:
        return folders
    if isinstance(choice, int):
        if not 2 <= choice <= len(folders):
            raise TrainingError(
                f"--breeds must be between 2 and the {len(folders)} breeds found, not {choice}"
            )
        return sorted(random.Random(seed).sample(folders, choice))  # noqa: S311 - reproducible, not secret
    lookup: dict[str, str] = {}
    for folder in folders:
        wnid, name = split_folder(folder)
        for key in (_breed_key(name), wnid.casefold(), _breed_key(folder)):
            lookup.setdefault(key, folder)
    names = {split_folder(folder)[1].casefold(): split_folder(folder)[1] for folder in folders}
    chosen, unknown = set(), []
    for requested in choice:
        if (found := lookup.get(_breed_key(requested))) is not None:
            chosen.add(found)
        else:
            close = difflib.get_close_matches(_breed_key(requested), list(names), n=3, cutoff=0.6)
            hint = (
                f"did you mean {' or '.join(repr(names[key]) for key in close)}?"
                if close
                else "no close match"
            )
            unknown.append(f"{requested!r} ({hint})")
    if unknown:
        raise TrainingError(
            f"unknown breed(s) for --breeds: {', '.join(unknown)}; give breed names as in the folder names "
            "('Siberian husky' or 'Siberian_husky') or wnids ('n02110185')"
        )
    if len(chosen) < 2:
        raise TrainingError("--breeds names a single breed: a classifier needs at least 2")
    return sorted(chosen)


def check_images(
    images_dir: Path, folders: list[str], workers: Workers
) -> tuple[list[SourceImage], list[dict[str, str]]]:
    """Usable images (sorted by folder and name) and the files skipped, each with the reason."""
    candidates, skipped = [], []
    for folder in folders:
        for entry in sorted(os.scandir(images_dir / folder), key=lambda entry: entry.name):
            path = f"{folder}/{entry.name}"
            if entry.is_dir():
                skipped.append(skip(path, "a folder inside a breed folder, not read"))
            elif any(character in entry.name for character in "\t\r\n"):
                skipped.append(skip(path, "file name holds a tab or line break, which a .lst line cannot"))
            else:
                candidates.append((folder, entry.name))
    arguments = [(str(images_dir / folder / name),) for folder, name in candidates]
    images: list[SourceImage] = []
    taken: dict[str, str] = {}
    for (folder, name), inspection in zip(
        candidates, workers.map(inspect_image, arguments, label="checking images"), strict=True
    ):
        path = f"{folder}/{name}"
        image = SourceImage(folder, name, inspection.action, inspection.reason)
        if inspection.action == SKIP:
            skipped.append(skip(path, inspection.reason))
        elif image.output_path in taken:
            skipped.append(
                skip(path, f"would also become {image.output_path}, kept from {taken[image.output_path]}")
            )
        else:
            taken[image.output_path] = path
            images.append(image)
    return images, skipped


def list_entries(
    images: list[SourceImage], assignments: dict[str, Any], folders: list[str], split: str
) -> list[Entry]:
    """One split's list, sorted by output path (the algorithm shuffles), indexed from 0."""
    class_ids = {folder: class_id for class_id, folder in enumerate(folders)}
    chosen = {(folder, name) for folder in folders for name in getattr(assignments[folder], split)}
    selected = sorted(
        (image for image in images if (image.folder, image.name) in chosen), key=lambda i: i.output_path
    )
    return [Entry(index, class_ids[image.folder], image) for index, image in enumerate(selected)]


def build_report(
    options: PrepareOptions,
    folders: list[str],
    folders_found: int,
    entries: dict[str, list[Entry]],
    skipped: list[dict[str, str]],
    missing: Sequence[str] = (),
) -> dict[str, Any]:
    """``missing``: the Stanford Dogs breed folders the images folder lacks (a partial tree)."""
    classes = classes_from_folders(folders)
    for record in classes:
        for split in SPLITS:
            record[split] = sum(1 for entry in entries[split] if entry.class_id == record["id"])
    listed = sorted(
        (entry.image for split in SPLITS for entry in entries[split]), key=lambda image: image.output_path
    )
    reencoded = [skip(f"{i.folder}/{i.name}", i.reason) for i in listed if i.action == CONVERT]
    report: dict[str, Any] = {
        "format": options.format,
        "seed": options.seed,
        "split": options.split.describe(),
    }
    if options.format == "recordio":
        report["resize"] = options.resize
    return report | {
        "breeds_subset": len(folders) < folders_found or bool(missing),
        "missing_breeds": [split_folder(folder)[1] for folder in missing],
        "classes": classes,
        "totals": {
            **{split: len(entries[split]) for split in SPLITS},
            "skipped": len(skipped),
            "reencoded": len(reencoded),
        },
        "skipped": sorted(skipped, key=lambda item: item["path"]),
        "reencoded": reencoded,
    }


def write_text(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_split(
    staging: Path,
    split: str,
    entries: list[Entry],
    images_dir: Path,
    options: PrepareOptions,
    workers: Workers,
) -> None:
    sources = [str(images_dir / entry.image.folder / entry.image.name) for entry in entries]
    if options.format == "lst":
        actions = [entry.image.action for entry in entries]
        outputs = [entry.image.output_path for entry in entries]
        write_image_folder(
            staging / image_dir(split), sources, outputs, actions, workers, label=f"writing {split}"
        )
        lines = [(entry.position, entry.class_id, entry.image.output_path) for entry in entries]
        write_list(staging / list_file(split), lines)
    else:
        labels = [(entry.position, entry.class_id) for entry in entries]
        records = (staging / record_file(split), staging / index_file(split))
        write_records(*records, sources, labels, options.resize, workers, label=f"writing {split}.rec")


def summary(report: dict[str, Any], out: Path) -> str:
    totals = report["totals"]
    text = (
        f"prepared {totals['train']} training and {totals['validation']} validation images of "
        f"{len(report['classes'])} breeds ({report['format']}) in {out}: {totals['skipped']} skipped, "
        f"{totals['reencoded']} re-encoded (see {out / REPORT_FILE})"
    )
    missing = report.get("missing_breeds")
    if missing:
        text += (
            f"\na subset: {len(missing)} of the {len(STANFORD_DOGS_FOLDERS)} Stanford Dogs breeds are "
            "not in the images folder (report.json's missing_breeds)"
        )
    return text
