"""Small Stanford-Dogs-shaped trees made with Pillow, and readers for what prepare writes.

``make_stanford_tree`` makes four breeds of small RGB JPEGs (40x30 and 30x40, every image different) and
one of each awkward file Stanford Dogs or a careless copy of it may hold, spread over the breeds.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from core.breeds import STANFORD_DOGS_FOLDERS
from training.data.prepare import PrepareOptions, prepare

# Chihuahua, beagle, Eskimo dog, Siberian husky: ids 0..3 once sorted.
TREE_FOLDERS = tuple(STANFORD_DOGS_FOLDERS[index] for index in (0, 11, 97, 99))
RGB_IMAGES_PER_BREED = (10, 9, 11, 8)
# (breed index, file name) -> what report.json's reason for the file says
CONVERTED_FILES = {
    (0, "n02085620_gray.jpg"): "grayscale",
    (0, "n02085620_cmyk.jpg"): "CMYK",
    (1, "n02088364_rgba.jpg"): "PNG data in a .jpg file",
    (1, "n02088364_palette.png"): "PNG image",
}
SKIPPED_FILES = {
    (2, "n02109961_empty.jpg"): "empty file",
    (2, "n02109961_truncated.jpg"): "truncated or corrupt JPEG",
    (3, "n02110185_text.jpg"): "not an image",
    (3, "notes.txt"): "not an image",
}
USABLE_PER_BREED = tuple(
    count + sum(1 for (breed, _) in CONVERTED_FILES if breed == index)
    for index, count in enumerate(RGB_IMAGES_PER_BREED)
)


def image_bytes(mode: str, size: tuple[int, int], colour: object, image_format: str = "JPEG") -> bytes:
    image = Image.new(mode, size, colour)
    # A stripe makes every image different and gives the JPEG encoder something to code.
    image.paste(Image.new(mode, (size[0] // 3, size[1]), 0 if mode in ("L", "P") else (0,) * len(mode)))
    buffer = io.BytesIO()
    image.save(buffer, image_format, quality=90)
    return buffer.getvalue()


def palette_png_with_transparency(size: tuple[int, int]) -> bytes:
    image = Image.new("P", size, 1)
    image.putpalette([0, 0, 0, 200, 30, 30] + [0, 0, 0] * 254)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=0)
    return buffer.getvalue()


def awkward_file(name: str) -> bytes:
    rgb_jpeg = image_bytes("RGB", (40, 30), (90, 140, 200))
    makers: dict[str, Callable[[], bytes]] = {
        "gray": lambda: image_bytes("L", (40, 30), 128),
        "cmyk": lambda: image_bytes("CMYK", (40, 30), (10, 80, 160, 20)),
        "rgba": lambda: image_bytes("RGBA", (30, 40), (200, 100, 50, 128), "PNG"),
        "palette": lambda: palette_png_with_transparency((40, 30)),
        "empty": lambda: b"",
        "truncated": lambda: rgb_jpeg[: len(rgb_jpeg) * 2 // 3],
        "text": lambda: b"this is not a photo of a dog\n",
        "notes": lambda: b"breed notes\n",
    }
    return makers[Path(name).stem.split("_")[-1]]()


def make_stanford_tree(root: Path, rgb_per_breed: tuple[int, ...] = RGB_IMAGES_PER_BREED) -> Path:
    """``root/Images/<breed folder>/<wnid>_<n>.jpg``; returns ``root``."""
    for breed, (folder, count) in enumerate(zip(TREE_FOLDERS, rgb_per_breed, strict=True)):
        breed_dir = root / "Images" / folder
        breed_dir.mkdir(parents=True)
        wnid = folder.split("-")[0]
        for number in range(count):
            size = (40, 30) if number % 3 else (30, 40)
            colour = (25 * breed + 5, 20 * number % 256, 255 - 10 * number)
            (breed_dir / f"{wnid}_{1000 + number}.jpg").write_bytes(image_bytes("RGB", size, colour))
    for breed, name in [*CONVERTED_FILES, *SKIPPED_FILES]:
        (root / "Images" / TREE_FOLDERS[breed] / name).write_bytes(awkward_file(name))
    return root


def copy_rgb_images(images_dir: Path, target: Path, folders: tuple[str, ...], per_breed: int = 10) -> Path:
    """A new tree at ``target`` with up to ``per_breed`` of the RGB JPEGs of ``folders``."""
    for folder in folders:
        (target / folder).mkdir(parents=True)
        for source in sorted((images_dir / folder).glob("*_1???.jpg"))[:per_breed]:
            (target / folder / source.name).write_bytes(source.read_bytes())
    return target


def run_prepare(images: Path, out: Path, **options: Any) -> dict[str, Any]:
    """``prepare`` in this process (one worker unless told), returning its report."""
    return prepare(PrepareOptions(images_dir=images, out=out, **options))


def read_list(path: Path) -> list[tuple[int, int, str]]:
    """A ``.lst`` file's ``(index, class_id, path)`` lines."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        index, class_id, relative = line.split("\t")
        rows.append((int(index), int(class_id), relative))
    return rows


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by its relative path: two equal results mean identical trees."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def save_official_list(path: Path, relative_paths: list[str]) -> None:
    """A Stanford-style ``.mat`` list: ``file_list`` a cell array of paths, ``labels`` 1-based."""
    import numpy as np
    from scipy.io import savemat

    file_list = np.empty((len(relative_paths), 1), dtype=object)
    for row, relative in enumerate(relative_paths):
        file_list[row, 0] = np.array([relative])
    labels = [TREE_FOLDERS.index(relative.split("/")[0]) + 1 for relative in relative_paths]
    savemat(str(path), {"file_list": file_list, "labels": np.array(labels, dtype=float).reshape(-1, 1)})
