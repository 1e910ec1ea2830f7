"""Write one split of a prepared dataset: an image folder and its ``.lst``, or a ``.rec`` and its ``.idx``."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path

from training.data.images import record_jpeg, write_image
from training.data.parallel import Workers
from training.data.recordio import RecordWriter, check_written


def write_image_folder(
    folder: Path,
    sources: Sequence[str],
    outputs: Sequence[str],
    actions: Sequence[str],
    workers: Workers,
    *,
    label: str,
) -> None:
    """Copy or re-encode each source to ``folder/<output>`` (outputs are ``<breed folder>/<file>``)."""
    for breed_folder in sorted({output.split("/")[0] for output in outputs}):
        (folder / breed_folder).mkdir(parents=True)
    folder.mkdir(exist_ok=True)  # an empty split still gets its folder
    arguments = [
        (source, str(folder / output), action)
        for source, output, action in zip(sources, outputs, actions, strict=True)
    ]
    for _ in workers.map(write_image, arguments, label=label):
        pass


def write_list(path: Path, lines: Sequence[tuple[int, int, str]]) -> None:
    """A ``.lst`` file: ``index<TAB>class_id<TAB>path`` per image."""
    with open(path, "w", encoding="utf-8", newline="\n") as file:
        file.writelines(f"{index}\t{class_id}\t{relative}\n" for index, class_id, relative in lines)


def write_records(
    record_path: Path,
    index_path: Path,
    sources: Sequence[str],
    labels: Sequence[tuple[int, int]],
    resize: int,
    workers: Workers,
    *,
    label: str,
) -> None:
    """One record per source, in order, holding its JPEG shrunk so the shorter side is ``resize``;
    then the pair is read back as MXNet reads it, split records and ``.idx`` offsets included."""
    encode = partial(record_jpeg, shorter_side=resize)
    jpegs = workers.map(encode, [(source,) for source in sources], label=label)
    with RecordWriter(record_path, index_path) as writer:
        for (record_id, class_id), jpeg in zip(labels, jpegs, strict=True):
            writer.write_image(record_id, float(class_id), jpeg)
    check_written(record_path, index_path, [(record_id, float(class_id)) for record_id, class_id in labels])
