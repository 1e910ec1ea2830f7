"""Where ``prepare`` writes: never over anything it did not write, never half a dataset.

The dataset is written into a new folder beside OUT (``.OUT.tmp-<random>``), which replaces OUT
only once complete: OUT stays as it was if the run fails. OUT may be new, empty, or a previous
prepare output holding only the names prepare writes.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.layout import CLASSES_FILE, REPORT_FILE, SPLITS, image_dir, index_file, list_file, record_file
from training.errors import TrainingError

OUR_OUTPUT_NAMES = frozenset(
    [CLASSES_FILE, REPORT_FILE]
    + [name for split in SPLITS for name in (list_file(split), image_dir(split).rstrip("/"))]
    + [name for split in SPLITS for name in (record_file(split), index_file(split))]
)


def check_output_location(images_dir: Path, out: Path) -> None:
    images, target = images_dir.resolve(), out.resolve()
    if target.is_relative_to(images) or images.is_relative_to(target):
        raise TrainingError(f"--out {out} overlaps the images in {images_dir}: choose a folder outside it")


def check_replaceable(out: Path) -> None:
    """OUT must be new, empty, or a previous prepare output holding only what prepare writes."""
    if out.exists() and not out.is_dir():
        raise TrainingError(
            f"--out {out} is a file: give a folder (new, empty, or a previous prepare output)"
        )
    existing = sorted(os.listdir(out)) if out.is_dir() else []
    if existing and REPORT_FILE not in existing:
        raise TrainingError(
            f"--out {out} is not empty and has no {REPORT_FILE}, so it is not a prepared dataset: "
            "refusing to replace it; choose a new or empty folder"
        )
    if foreign := [name for name in existing if name not in OUR_OUTPUT_NAMES]:
        raise TrainingError(
            f"--out {out} holds files prepare does not write ({', '.join(foreign[:5])}): refusing to "
            "replace it; move them out or choose another folder"
        )


@contextmanager
def staged_output(out: Path) -> Iterator[Path]:
    """A new folder beside OUT to write into; it replaces OUT on success and is removed on failure."""
    staging = out.parent / f".{out.name}.tmp-{secrets.token_hex(4)}"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
    except OSError as error:
        raise TrainingError(
            f"cannot write beside --out {out}: {error.strerror}; choose a writable folder"
        ) from error
    try:
        yield staging
        _replace(out, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _replace(out: Path, staging: Path) -> None:
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    if not out.exists():
        staging.rename(out)
        return
    previous = staging.with_name(staging.name.replace(".tmp-", ".old-"))
    out.rename(previous)
    try:
        staging.rename(out)
    except BaseException:
        previous.rename(out)
        raise
    shutil.rmtree(previous)
