"""Hyperparameters of the built-in image-classification algorithm: one place for defaults and checks.

The defaults start from the blog's run (ResNet-50, ImageNet weights, crop/colour/transform
augmentation, early stopping) with the learning rate its author recommended afterwards (0.0005;
0.0001 learned too slowly). ``num_classes`` and ``num_training_samples`` are not defaults: they
are counted from the uploaded lists. The training stack renders ``DEFAULTS`` into the state
machine; its data check and the CLI validate with ``resolve``. Standard library only: it runs in
Lambda too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULTS: dict[str, str] = {
    "num_layers": "50",
    "use_pretrained_model": "1",
    "image_shape": "3,224,224",
    "resize": "256",
    "epochs": "120",
    "early_stopping": "true",
    "early_stopping_min_epochs": "5",
    "early_stopping_patience": "5",
    "early_stopping_tolerance": "0.0",
    "learning_rate": "0.0005",
    "mini_batch_size": "32",
    "optimizer": "sgd",
    "momentum": "0.9",
    "augmentation_type": "crop_color_transform",
    "checkpoint_frequency": "1",
    "precision_dtype": "float32",
}
COUNTED = ("num_classes", "num_training_samples")

_CHOICES = {
    "num_layers": ("18", "34", "50", "101", "152", "200"),
    "use_pretrained_model": ("0", "1"),
    "early_stopping": ("true", "false"),
    "optimizer": ("sgd", "adam", "rmsprop", "nag"),
    "augmentation_type": ("crop", "crop_color", "crop_color_transform"),
    "precision_dtype": ("float32", "float16"),
    "multi_label": ("0", "1"),
    "use_weighted_loss": ("0", "1"),
    "kv_store": ("dist_sync", "dist_async"),
}
_INTEGERS = {  # name: (minimum, maximum)
    "resize": (1, 10_000),
    "epochs": (1, 1_000),
    "early_stopping_min_epochs": (1, 1_000),
    "early_stopping_patience": (1, 1_000),
    "mini_batch_size": (1, 10_000),
    "checkpoint_frequency": (1, 1_000),
    "lr_scheduler_step": (1, 1_000),
    "top_k": (1, 1_000),
}
_NUMBERS = {  # name: (exclusive minimum, inclusive maximum)
    "learning_rate": (0.0, 1.0),
    "momentum": (-1e-12, 1.0),
    "weight_decay": (-1e-12, 1.0),
    "beta_1": (-1e-12, 1.0),
    "beta_2": (-1e-12, 1.0),
    "eps": (0.0, 1.0),
    "gamma": (-1e-12, 1.0),
    "lr_scheduler_factor": (0.0, 1.0),
    "early_stopping_tolerance": (-1e-12, 1.0),
}
_FREE_FORM = ("image_shape", "lr_scheduler_step")
KNOWN = frozenset(DEFAULTS) | frozenset(_CHOICES) | frozenset(_INTEGERS) | frozenset(_NUMBERS)


class HyperparameterError(ValueError):
    """A hyperparameter the algorithm would reject, or one that does not fit the data."""


def resolve(
    overrides: Mapping[str, Any],
    *,
    num_classes: int,
    num_training_samples: int,
    defaults: Mapping[str, str] = DEFAULTS,
) -> dict[str, str]:
    """``defaults`` with ``overrides`` and the counted values, checked; every value a string.

    Raises ``HyperparameterError`` naming the hyperparameter, its value and what is allowed.
    """
    counted = set(overrides) & set(COUNTED)
    if counted:
        raise HyperparameterError(
            f"{', '.join(sorted(counted))} are counted from the uploaded lists; do not set them"
        )
    unknown = sorted(set(overrides) - KNOWN)
    if unknown:
        raise HyperparameterError(
            f"unknown hyperparameters {unknown}: the image-classification algorithm takes "
            + ", ".join(sorted(KNOWN | set(COUNTED)))
        )
    values = {**defaults, **{name: _text(value) for name, value in overrides.items()}}
    for name, value in values.items():
        _check(name, value)
    if num_classes < 2:
        raise HyperparameterError(f"num_classes={num_classes}: the lists need at least 2 classes")
    if num_training_samples < 1:
        raise HyperparameterError("num_training_samples=0: the training list is empty")
    batch = int(values["mini_batch_size"])
    if batch > num_training_samples:
        raise HyperparameterError(
            f"mini_batch_size={batch} is larger than the {num_training_samples} training images; "
            f"use at most {num_training_samples}"
        )
    values["num_classes"] = str(num_classes)
    values["num_training_samples"] = str(num_training_samples)
    return values


def parse_assignments(assignments: list[str]) -> dict[str, str]:
    """``["learning_rate=0.001", ...]`` (the CLI's ``--hp``) as a dict; bad syntax raises."""
    parsed = {}
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise HyperparameterError(f"--hp {assignment!r}: expected name=value, e.g. learning_rate=0.001")
        parsed[name.strip()] = value.strip()
    return parsed


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check(name: str, value: str) -> None:
    if name in _CHOICES and value not in _CHOICES[name]:
        raise HyperparameterError(f"{name}={value!r}: allowed values are {', '.join(_CHOICES[name])}")
    if name in _INTEGERS and name not in _FREE_FORM:
        low, high = _INTEGERS[name]
        if not value.isdigit() or not low <= int(value) <= high:
            raise HyperparameterError(f"{name}={value!r}: allowed values are whole numbers {low} to {high}")
    if name in _NUMBERS:
        above, up_to = _NUMBERS[name]
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not above < number <= up_to:
            raise HyperparameterError(
                f"{name}={value!r}: allowed values are numbers in ({max(above, 0)}, {up_to}]"
            )
    if name == "image_shape":
        parts = value.split(",")
        if len(parts) != 3 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
            raise HyperparameterError(f"image_shape={value!r}: expected channels,height,width like 3,224,224")
