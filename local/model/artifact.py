"""The files of a built-in image-classification model, read from a model.tar.gz or an extracted folder.

A training job writes ``image-classification-symbol.json``, ``image-classification-NNNN.params`` (NNNN is
an epoch number, not always 0000) and ``model-shapes.json``. When several ``.params`` are present (a folder
of checkpoints), the newest epoch is used, and a warning says which.
"""

from __future__ import annotations

import json
import logging
import re
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from local.model.errors import ModelLoadError

LOG = logging.getLogger(__name__)
ALGORITHM_PREFIX = "image-classification"
EXPECTED = "image-classification-symbol.json, image-classification-NNNN.params and model-shapes.json"


@dataclass(frozen=True)
class Artifact:
    source: str
    symbol_json: str
    params: bytes
    params_name: str
    epoch: int
    data_name: str
    image_shape: tuple[int, int, int]


def read_artifact(path: Path) -> Artifact:
    """Read a model.tar.gz (or .tar) or a folder holding the algorithm's files."""
    path = Path(path)
    if path.is_dir():
        files = {p.name: p for p in path.iterdir() if p.is_file()}
        return _select(str(path), sorted(files), lambda name: files[name].read_bytes())
    if not path.exists():
        raise ModelLoadError(f"{path}: no such file or folder")
    try:
        with tarfile.open(path) as archive:
            members = {Path(m.name).name: m for m in archive.getmembers() if m.isfile()}

            def read(name: str) -> bytes:
                handle = archive.extractfile(members[name])
                assert handle is not None  # regular files always have contents
                return handle.read()

            return _select(str(path), sorted(members), read)
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise ModelLoadError(f"{path}: not a readable model.tar.gz ({error})") from error


def _select(source: str, names: list[str], read: Callable[[str], bytes]) -> Artifact:
    symbols = [name for name in names if name.endswith("-symbol.json")]
    if not symbols:
        raise ModelLoadError(f"{source}: no *-symbol.json among {names or 'no files'}; expected {EXPECTED}")
    if len(symbols) > 1:
        if f"{ALGORITHM_PREFIX}-symbol.json" not in symbols:
            raise ModelLoadError(
                f"{source}: several symbols ({', '.join(symbols)}); keep one model per folder"
            )
        symbols = [f"{ALGORITHM_PREFIX}-symbol.json"]
    prefix = symbols[0].removesuffix("-symbol.json")
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)\.params$")
    epochs = {int(match.group(1)): name for name in names if (match := pattern.match(name))}
    if not epochs:
        raise ModelLoadError(f"{source}: no {prefix}-NNNN.params next to {symbols[0]}; expected {EXPECTED}")
    epoch = max(epochs)
    if len(epochs) > 1:
        LOG.warning(
            "%s: %d checkpoints (epochs %s); using the newest, %s",
            source,
            len(epochs),
            ", ".join(str(e) for e in sorted(epochs)),
            epochs[epoch],
        )
    if "model-shapes.json" not in names:
        raise ModelLoadError(
            f"{source}: no model-shapes.json (it gives the input shape); expected {EXPECTED}"
        )
    data_name, image_shape = parse_model_shapes(read("model-shapes.json"), f"{source}/model-shapes.json")
    return Artifact(
        source=source,
        symbol_json=read(symbols[0]).decode("utf-8"),
        params=read(epochs[epoch]),
        params_name=epochs[epoch],
        epoch=epoch,
        data_name=data_name,
        image_shape=image_shape,
    )


def parse_model_shapes(data: bytes, source: str) -> tuple[str, tuple[int, int, int]]:
    """``[{"name": "data", "shape": [1, 3, 224, 224]}]`` -> ("data", (3, 224, 224))."""
    try:
        entries = json.loads(data)
        entry = next(e for e in entries if not str(e["name"]).endswith("label"))
        name, shape = str(entry["name"]), [int(d) for d in entry["shape"]]
    except (json.JSONDecodeError, StopIteration, KeyError, TypeError, ValueError) as error:
        raise ModelLoadError(
            f'{source}: expected [{{"name": "data", "shape": [1, 3, 224, 224]}}], got {data[:200]!r}'
        ) from error
    if len(shape) == 4:
        shape = shape[1:]
    if len(shape) != 3 or min(shape) < 1:
        raise ModelLoadError(
            f"{source}: the input shape {entry['shape']} is not (batch,) channels, height, width"
        )
    return name, (shape[0], shape[1], shape[2])
