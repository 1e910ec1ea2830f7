"""The model a stage serves, pinned in ``models/<stage>.json`` so a commit decides what deploys."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.breeds import default_classes
from core.s3_url import S3Location
from core.s3_url import parse_s3_url as _parse_s3_url

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")


class ModelPinError(ValueError):
    """The pinned-model file or an override is unusable; the message says which and why."""


@dataclass(frozen=True)
class PinnedModel:
    """What a stage serves. ``artifact`` is ``None`` while the stage has no model yet."""

    stage: str
    artifact: S3Location | None
    version: str
    class_names: tuple[str, ...]
    source: dict[str, Any] | None

    @property
    def has_model(self) -> bool:
        return self.artifact is not None


def parse_s3_url(url: str, setting: str) -> S3Location:
    location = _parse_s3_url(url)
    if location is None:
        raise ModelPinError(
            f"invalid {setting}={url!r}: expected s3://<bucket>/<key>, "
            "for example s3://my-bucket/training/output/job-1/output/model.tar.gz"
        )
    return location


def pin_path(stage: str) -> Path:
    return MODELS_DIR / f"{stage}.json"


def load_pinned_model(
    stage: str, model_data_url_override: str | None = None, path: Path | None = None
) -> PinnedModel:
    """Read the stage's pin; ``model_data_url_override`` (``-c modelDataUrl=``) replaces its artifact."""
    path = path or pin_path(stage)
    try:
        pin = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelPinError(
            f"{path} is missing: every stage needs a pinned-model file; copy models/dev.json "
            f'and set "stage": "{stage}"'
        ) from None
    except json.JSONDecodeError as error:
        raise ModelPinError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(pin, dict):
        raise ModelPinError(f"{path} must hold a JSON object, see models/README.md")
    unknown = set(pin) - {"stage", "modelDataUrl", "version", "classes", "source"}
    if unknown:
        raise ModelPinError(f"{path} has unknown fields {sorted(unknown)}, see models/README.md")
    if pin.get("stage") != stage:
        raise ModelPinError(f"{path} says stage={pin.get('stage')!r} but belongs to stage {stage!r}")

    url = model_data_url_override or pin.get("modelDataUrl")
    setting = "modelDataUrl (context)" if model_data_url_override else f"modelDataUrl in {path}"
    artifact = parse_s3_url(url, setting) if url is not None else None

    version = pin.get("version")
    if model_data_url_override or version is None:
        version = _derived_version(url)
    elif not isinstance(version, str) or not _VERSION.match(version):
        raise ModelPinError(f"invalid version={version!r} in {path}: 1-128 letters, digits and . _ : -")

    return PinnedModel(
        stage=stage,
        artifact=artifact,
        version=version,
        class_names=_class_names(pin.get("classes"), path),
        source=pin.get("source"),
    )


def _derived_version(url: str | None) -> str:
    if url is None:
        return "none"
    return "sha256-" + hashlib.sha256(url.encode()).hexdigest()[:12]


def _class_names(classes: Any, path: Path) -> tuple[str, ...]:
    if classes is None:
        classes = default_classes()
    if not isinstance(classes, list) or len(classes) < 2:
        raise ModelPinError(f"classes in {path} must be a list of at least 2 classes, or null")
    names = []
    for position, record in enumerate(classes):
        if not isinstance(record, dict) or record.get("id") != position:
            raise ModelPinError(
                f'classes[{position}] in {path} must be an object with "id": {position} '
                "(class ids are 0-based, contiguous and in order)"
            )
        name = record.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ModelPinError(f'classes[{position}] in {path} needs a non-empty "name"')
        names.append(name)
    if len(set(names)) != len(names):
        raise ModelPinError(f"classes in {path} repeat a name; each class needs its own")
    return tuple(names)
