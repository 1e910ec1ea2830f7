"""What an evaluation reads and writes: a prepared dataset's validation list, and predictions.

Predictions are cached as JSON lines, one per validation image, appended as they arrive so an
interrupted run loses nothing and a re-run resumes where it stopped:

    {"image": "<path as in validation.lst>", "probabilities": [p0, p1, ...]}

Every loader checks its input and raises ``TrainingError`` saying what is wrong, where, and how
to fix it, never a traceback.

A dataset prepared with ``--format recordio`` has no validation list or image folder: its
validation images are taken out of ``validation.rec`` into a folder of the same layout as
``--format lst`` (``classes.json``, ``validation.lst``, ``validation/<record id>.jpg``), which is
then read like any other. Record ``1234`` of the ``.rec`` is the image ``1234.jpg``.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from core import layout
from training.errors import TrainingError

NUMBER_TYPES = {int, float}  # exactly: bool, a subclass of int, is not a probability
EXTRACTED_STAMP = "extracted-from.txt"  # which .rec (path, size, mtime) the extracted images came from


@dataclass(frozen=True)
class ValidationSet:
    """A prepared dataset's classes and its validation images with their true class ids."""

    root: Path
    class_names: list[str]
    images: dict[str, int]  # path as in validation.lst -> class id
    name: str = ""  # the dataset's name: the prepared folder's
    sha256: str = ""  # classes.json then validation.lst (lst) or validation.rec (recordio)
    format: str = "lst"

    def image_file(self, image: str) -> Path:
        return self.root / layout.image_dir("validation") / image

    def example_files(self, class_id: int, split: str = "train", limit: int = 3) -> list[Path]:
        """Up to ``limit`` local images of ``class_id`` from ``split`` (for thumbnails), if present."""
        listing = self.root / layout.list_file(split)
        if not listing.is_file():
            return []
        found = []
        for line in listing.read_text(encoding="utf-8").splitlines():
            fields = line.split("\t")
            if len(fields) == 3 and int(float(fields[1])) == class_id:
                path = self.root / layout.image_dir(split) / fields[2]
                if path.is_file():
                    found.append(path)
                    if len(found) == limit:
                        break
        return found


def load_validation_set(root: Path, extract_to: Path | None = None) -> ValidationSet:
    """Read ``classes.json`` and the validation images of a dataset made by ``prepare``.

    A RecordIO dataset's validation images are extracted into ``extract_to`` first (once: a
    second call finds them there); ``TrainingError`` when it has no such folder to go to.
    """
    record_path = root / layout.record_file("validation")
    if not (root / layout.list_file("validation")).is_file() and record_path.is_file():
        if extract_to is None:
            raise TrainingError(
                f"{root} is a RecordIO dataset: its validation images must be extracted from "
                f"{record_path.name} into a folder, and none was given"
            )
        extract_validation_records(root, extract_to)
        extracted = _load_listed_set(extract_to)
        digest = dataset_digest(root / layout.CLASSES_FILE, record_path)
        return ValidationSet(
            extract_to, extracted.class_names, extracted.images, root.name, digest, "recordio"
        )
    listed = _load_listed_set(root)
    digest = dataset_digest(root / layout.CLASSES_FILE, root / layout.list_file("validation"))
    return ValidationSet(root, listed.class_names, listed.images, root.name, digest, "lst")


def dataset_digest(*paths: Path) -> str:
    """The SHA-256 of the files' contents, one after the other, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def extract_validation_records(root: Path, folder: Path) -> None:
    """``root/validation.rec``'s images as ``folder/validation/<id>.jpg`` with ``validation.lst``
    and a copy of ``classes.json``; skipped when ``folder`` already holds this very ``.rec``'s."""
    from training.data.recordio import read_records, unpack_image

    record_path = root / layout.record_file("validation")
    classes_path = root / layout.CLASSES_FILE
    if not classes_path.is_file():
        raise TrainingError(
            f"{classes_path} is missing: --lists takes a folder made by `python -m training prepare`"
        )
    stamp = f"{record_path.resolve()} {record_path.stat().st_size} {record_path.stat().st_mtime_ns}\n"
    stamp_path = folder / EXTRACTED_STAMP
    if stamp_path.is_file() and stamp_path.read_text(encoding="utf-8") == stamp:
        return
    images_dir = folder / layout.image_dir("validation")
    try:
        if images_dir.exists():
            shutil.rmtree(images_dir)
        images_dir.mkdir(parents=True)
        lines = []
        for record in read_records(record_path):
            image = unpack_image(record.data)
            name = f"{image.id}.jpg"
            (images_dir / name).write_bytes(image.image)
            lines.append(f"{image.id}\t{int(image.label)}\t{name}\n")
        shutil.copyfile(classes_path, folder / layout.CLASSES_FILE)
        (folder / layout.list_file("validation")).write_text("".join(lines), encoding="utf-8")
        stamp_path.write_text(stamp, encoding="utf-8")
    except ValueError as error:  # the reader's RecordIOError
        raise TrainingError(
            f"{record_path} is not a readable RecordIO file ({error}): prepare it again"
        ) from None
    except OSError as error:
        raise TrainingError(
            f"cannot extract {record_path} into {folder}: {error.strerror or error}"
        ) from None


def _load_listed_set(root: Path) -> ValidationSet:
    classes_path = root / layout.CLASSES_FILE
    list_path = root / layout.list_file("validation")
    for path in (classes_path, list_path):
        if not path.is_file():
            raise TrainingError(
                f"{path} is missing: --lists takes a folder made by `python -m training prepare` "
                f"(with {layout.list_file('validation')}, or {layout.record_file('validation')} for RecordIO)"
            )
    try:
        classes = json.loads(classes_path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise TrainingError(f"{classes_path} is not valid JSON: {error}") from None
    if not isinstance(classes, list) or any(
        not isinstance(c, dict) or c.get("id") != i or not isinstance(c.get("name"), str)
        for i, c in enumerate(classes)
    ):
        raise TrainingError(f'{classes_path} must list classes in id order: [{{"id": 0, "name": ...}}, ...]')
    names = [c["name"] for c in classes]
    images: dict[str, int] = {}
    for number, line in enumerate(list_path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        try:
            class_id = int(float(fields[1]))
        except (IndexError, ValueError):
            raise TrainingError(f"{list_path} line {number}: expected index<TAB>class_id<TAB>path") from None
        if len(fields) != 3 or not 0 <= class_id < len(names):
            raise TrainingError(
                f"{list_path} line {number}: class id {class_id} is not in {classes_path} "
                f"(0 to {len(names) - 1})"
            )
        images[fields[2]] = class_id
    if not images:
        raise TrainingError(f"{list_path} lists no images")
    return ValidationSet(root=root, class_names=names, images=images)


def load_predictions(path: Path, validation: ValidationSet) -> dict[str, list[float]]:
    """The cached predictions, checked against the validation set.

    Raises ``TrainingError`` for an empty or unreadable file, a line that is not a prediction, an
    image the list does not have, or a probability vector of the wrong length.
    """
    if not path.is_file() or path.stat().st_size == 0:
        raise TrainingError(
            f"{path} is empty or missing: collect predictions with `evaluate transform|api|local` first"
        )
    predictions: dict[str, list[float]] = {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            image, probabilities = parse_line(line, f"{path} line {number}")
            if image not in validation.images:
                raise TrainingError(
                    f"{path} line {number}: {image!r} is not in validation.lst: "
                    "the predictions belong to another dataset"
                )
            if len(probabilities) != len(validation.class_names):
                raise TrainingError(
                    f"{path} line {number}: {len(probabilities)} probabilities for "
                    f"{len(validation.class_names)} classes: the model was trained on another class list"
                )
            predictions[image] = probabilities
    if not predictions:
        raise TrainingError(f"{path} holds no predictions")
    return predictions


def parse_line(line: str, where: str) -> tuple[str, list[float]]:
    try:
        record = json.loads(line)
    except ValueError:
        raise TrainingError(f"{where}: not a JSON object; the file may be cut short") from None
    image = record.get("image") if isinstance(record, dict) else None
    probabilities = _probability_list(record.get("probabilities")) if isinstance(record, dict) else None
    if not isinstance(image, str) or probabilities is None:
        raise TrainingError(f'{where}: expected {{"image": "<path>", "probabilities": [numbers]}}')
    return image, probabilities


def _probability_list(value: Any) -> list[float] | None:
    """``value`` as floats if it is a non-empty list of finite numbers (not booleans), else None.
    Their sum is finite only when each is: ``inf - inf`` and ``nan`` stay non-finite, and
    probabilities are far from overflowing. A list of floats only (the usual) is not copied."""
    if not isinstance(value, list) or not value:
        return None
    types = set(map(type, value))
    if not types <= NUMBER_TYPES or not math.isfinite(sum(value)):
        return None
    return value if types == {float} else [float(p) for p in value]


def done_images(path: Path) -> set[str]:
    """Images already in a (possibly interrupted) predictions file; a torn last line is ignored."""
    if not path.is_file():
        return set()
    done = set()
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # the line an interruption cut short: predicted again
            if isinstance(record, dict) and isinstance(record.get("image"), str):
                done.add(record["image"])
    return done


def append_predictions(handle: IO[str], predictions: Iterable[tuple[str, list[float]]]) -> None:
    """Append and flush each prediction, so an interruption keeps everything written so far."""
    for image, probabilities in predictions:
        handle.write(json.dumps({"image": image, "probabilities": probabilities}) + "\n")
        handle.flush()


def repair_torn_tail(path: Path) -> None:
    """Make an interrupted cache safe to append to: a last line cut short (not valid JSON) is
    removed, so its image is predicted again and ``load_predictions`` does not refuse the file; a
    valid last line that only lacks its newline gets one."""
    if not path.is_file():
        return
    data = path.read_bytes()
    start = data.rfind(b"\n") + 1
    tail = data[start:]
    if not tail.strip():
        return
    try:
        json.loads(tail)
    except ValueError:
        with path.open("rb+") as handle:
            handle.truncate(start)
        return
    with path.open("ab") as handle:
        handle.write(b"\n")
