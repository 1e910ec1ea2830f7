"""Generated inputs for the evaluation analysis tests: seeded predictions, a 120-breed confusion
shaped like the blog's (Eskimo dog mostly taken for malamute and Siberian husky), and small
prepared datasets on disk (classes.json, train.lst, validation.lst, tiny JPEGs)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from core.breeds import default_classes


def random_predictions(classes: int, images: int, seed: int) -> tuple[list[int], list[list[float]]]:
    """Labels and softmax probabilities that are right more often than chance, but not always."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, size=images)
    logits = rng.normal(size=(images, classes))
    logits[np.arange(images), labels] += 1.5
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return labels.tolist(), probabilities.tolist()


def one_hot(class_id: int, classes: int, confidence: float = 0.95) -> list[float]:
    """Probabilities with ``confidence`` on ``class_id`` and the rest spread evenly."""
    rest = (1.0 - confidence) / (classes - 1)
    return [confidence if index == class_id else rest for index in range(classes)]


def names(classes: int) -> list[str]:
    return [f"breed {index:02d}" for index in range(classes)]


def image_names(count: int) -> list[str]:
    return [f"img/{index:04d}.jpg" for index in range(count)]


def stanford_names() -> list[str]:
    return [str(record["name"]) for record in default_classes()]


def eskimo_dog_predictions(per_class: int = 10) -> tuple[list[int], list[list[float]], list[str]]:
    """120 breeds, each predicted right, except Eskimo dog: 1 right, 5 malamute, 4 Siberian husky."""
    breeds = stanford_names()
    eskimo, malamute, husky = (breeds.index(name) for name in ("Eskimo dog", "malamute", "Siberian husky"))
    labels, probabilities = [], []
    for class_id in range(len(breeds)):
        for image in range(per_class):
            predicted = class_id
            if class_id == eskimo:
                predicted = eskimo if image == 0 else malamute if image <= 5 else husky
            labels.append(class_id)
            probabilities.append(one_hot(predicted, len(breeds), confidence=0.8))
    return labels, probabilities, breeds


def write_dataset(
    root: Path,
    class_names: list[str],
    validation_per_class: int = 3,
    train_per_class: int = 3,
    *,
    with_images: bool = True,
    image_size: tuple[int, int] = (48, 36),
) -> dict[str, int]:
    """A prepared dataset (``--format lst``) under ``root``; returns validation image -> class id."""
    root.mkdir(parents=True, exist_ok=True)
    classes = [{"id": index, "name": name} for index, name in enumerate(class_names)]
    (root / "classes.json").write_text(json.dumps(classes), encoding="utf-8")
    listed = {}
    for split, per_class in (("validation", validation_per_class), ("train", train_per_class)):
        lines = []
        for class_id in range(len(class_names)):
            for number in range(per_class):
                relative = f"c{class_id:03d}/{split}_{number}.jpg"
                lines.append(f"{len(lines)}\t{class_id}\t{relative}")
                if with_images:
                    shade = (class_id * 40 + number * 7) % 256
                    write_jpeg(root / split / relative, shade=shade, size=image_size)
                if split == "validation":
                    listed[relative] = class_id
        (root / f"{split}.lst").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return listed


def write_jpeg(path: Path, shade: int, size: tuple[int, int] = (48, 36)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (shade, 255 - shade, 128)).save(path, "JPEG")


def write_predictions(path: Path, predictions: dict[str, list[float]]) -> Path:
    lines = [json.dumps({"image": image, "probabilities": p}) for image, p in predictions.items()]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def predictions_for(
    listed: dict[str, int], classes: int, wrong: dict[str, int] | None = None
) -> dict[str, list[float]]:
    """Confident predictions for every listed image: right, except ``wrong`` (image -> predicted id)."""
    wrong = wrong or {}
    return {image: one_hot(wrong.get(image, class_id), classes) for image, class_id in listed.items()}


def to_recordio(lst_root: Path, rec_root: Path) -> dict[str, str]:
    """What ``prepare --format recordio`` makes of an lst dataset's validation part: classes.json and
    validation.rec/.idx (record N is the list's line N). Returns extracted name (``N.jpg``) -> lst path."""
    from training.data.recordio import RecordWriter

    rec_root.mkdir(parents=True)
    (rec_root / "classes.json").write_bytes((lst_root / "classes.json").read_bytes())
    names = {}
    with RecordWriter(rec_root / "validation.rec", rec_root / "validation.idx") as writer:
        for line in (lst_root / "validation.lst").read_text(encoding="utf-8").splitlines():
            index, class_id, relative = line.split("\t")
            writer.write_image(int(index), float(class_id), (lst_root / "validation" / relative).read_bytes())
            names[f"{index}.jpg"] = relative
    return names
