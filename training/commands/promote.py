"""``promote MODEL --stage S``: approve a registered model and pin it in ``models/<stage>.json``."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core import layout
from core.accuracy_gate import GATE_METRIC, gate_refusal
from core.model_package import RegisteredModel
from core.model_pin import ModelPinError, load_pinned_model, parse_s3_url
from core.stage_config import StageConfig
from training import aws
from training.commands import options
from training.data.datasets import read_classes
from training.errors import TrainingError
from training.jobs import registry
from training.jobs.stage_jobs import check_stage, describe_training_job, tags_of


def register(subcommands: Any) -> None:
    parser = options.command_parser(
        subcommands,
        "promote",
        summary="approve a registered model and pin it for the stage (models/<stage>.json)",
        description=(
            "Find the model in the stage's model registry (its model package group) by its package "
            "ARN, its version number, or the training job that produced it; check it reaches the "
            "stage's min_validation_accuracy (core/stage_config.py); approve it in the registry; and "
            "write models/<stage>.json from the registry's record with the dataset's classes. A "
            "completed training job of the stage that is not registered yet (a tuning job's) is "
            "registered first, through the same data check and gate. --force promotes below the "
            "gate and records it in the registry and the pin. Commit the file and deploy to serve it."
            f"\n\n{options.NEEDS_AWS}"
        ),
        example_list=(
            f"{options.PROG} promote 3 --stage dev",
            f"{options.PROG} promote {options.EXAMPLE_JOB} --stage dev",
            (
                f"{options.PROG} promote arn:aws:sagemaker:eu-west-1:123456789012:model-package/GROUP/3",
                "--stage prod --force",
            ),
            "# then serve it: git commit models/dev.json && npx cdk deploy --all",
        ),
    )
    parser.add_argument(
        "model",
        type=model_reference,
        metavar="MODEL",
        help="a model package ARN, a version number of the stage's group, or a training job name",
    )
    options.add_stage(parser)
    parser.add_argument(
        "--force",
        action="store_true",
        help="promote even below the stage's minimum validation accuracy (recorded in registry and pin)",
    )
    options.add_models_dir(parser)
    parser.set_defaults(run=run)


def model_reference(value: str) -> str:
    if value.startswith("arn:") and ":model-package/" in value:
        return value
    if value.isdigit() and int(value) > 0:
        return value
    if layout.is_sagemaker_name(value):
        return value
    raise argparse.ArgumentTypeError(
        f"{value!r}: expected a model package ARN, a version number or a training job name"
    )


@aws.reports_errors
def run(args: argparse.Namespace) -> int:
    config = options.config(args)
    group = aws.required_outputs(args.stage, "Training", layout.OUTPUT_MODEL_PACKAGE_GROUP)[
        layout.OUTPUT_MODEL_PACKAGE_GROUP
    ]
    sagemaker = aws.client("sagemaker")
    s3 = aws.client("s3")
    model = registry.find(sagemaker, group, args.model)
    job = None
    if model is None:
        job = registered_job(sagemaker, args.model, args.stage, group)
        model = registry.register_training_job(
            sagemaker, s3, job=job, group=group, config=config, force=args.force
        )
        print(f"registered {job['TrainingJobName']} as version {model.version} of {group}")
    refusal = gate_refusal(
        f"model version {model.version}", model.validation_accuracy, config.min_validation_accuracy
    )
    check_gate(model, refusal, config, args.force)
    if job is None and model.training_job:
        job = describe_training_job(sagemaker, model.training_job)

    bucket = parse_s3_url(model.model_data_url, f"model version {model.version}'s ModelDataUrl").bucket
    dataset = model.dataset or ""
    if not dataset.startswith(layout.DATASETS_PREFIX):
        raise TrainingError(
            f"model version {model.version} records no dataset (datasets/<name>/) to read classes from"
        )
    classes = read_classes(s3, bucket, dataset)
    if job is not None:
        check_class_count(job, classes)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    forced = (refusal or "it passes the gate") + f"; promoted with --force at {now}" if args.force else None
    approved = registry.approve(
        sagemaker,
        model,
        f"promoted to stage {args.stage} at {now}"
        + (f"; forced: {refusal}" if args.force and refusal else ""),
        forced,
    )
    pin = pin_of(args.stage, approved, classes, bucket, now, args.force)
    path = write_pin(args.models_dir, args.stage, pin)
    print(
        f"approved version {approved.version} ({approved.training_job or approved.arn}, {GATE_METRIC} "
        f"{format_accuracy(approved.validation_accuracy)}) and pinned it for stage {args.stage} in {path}"
    )
    print(f"next: git commit {shown(path)} && {aws.deploy_command(args.stage)}")
    return 0


def registered_job(sagemaker: Any, name: str, stage: str, group: str) -> dict[str, Any]:
    """The stage's training job ``name``, to register: TrainingError when there is none."""
    job = describe_training_job(sagemaker, name) if layout.is_sagemaker_name(name) else None
    if job is None:
        raise TrainingError(
            f"no version {name} in model package group {group}, and no training job of that name in "
            f"{aws.region_of(sagemaker)}: list the registry with `python -m training status --stage {stage}`"
        )
    check_stage("training job", name, tags_of(sagemaker, job["TrainingJobArn"]), stage)
    return job


def check_gate(model: RegisteredModel, refusal: str | None, config: StageConfig, force: bool) -> None:
    if refusal is None or force:
        return
    raise TrainingError(
        f"{refusal} of stage {config.name} (min_validation_accuracy in core/stage_config.py): "
        "pass --force to promote it anyway"
    )


def pin_of(
    stage: str, model: RegisteredModel, classes: list[dict[str, Any]], bucket: str, now: str, force: bool
) -> dict[str, Any]:
    """The pin, from the registry's record of the approved version."""
    return {
        "stage": stage,
        "modelDataUrl": model.model_data_url,
        "version": model.training_job or f"{model.group}-{model.version}",
        "classes": classes,
        "source": {
            "modelPackageArn": model.arn,
            "modelPackageVersion": model.version,
            "trainingJob": model.training_job,
            "validationAccuracy": model.validation_accuracy,
            "dataset": aws.s3_url(bucket, model.dataset or ""),
            "promotedAt": now,
            "forced": force,
        },
    }


def check_class_count(job: dict[str, Any], classes: list[dict[str, Any]]) -> None:
    trained = job.get("HyperParameters", {}).get("num_classes")
    if trained is not None and trained != str(len(classes)):
        raise TrainingError(
            f"training job {job['TrainingJobName']} learned {trained} classes but the dataset's "
            f"classes.json lists {len(classes)}: it was re-uploaded since; promote a job trained on it"
        )


def write_pin(models_dir: Path, stage: str, pin: dict[str, Any]) -> Path:
    """Writes ``<models_dir>/<stage>.json`` atomically, after checking it reads as a valid pin."""
    models_dir.mkdir(parents=True, exist_ok=True)
    path = models_dir / f"{stage}.json"
    descriptor, temporary = tempfile.mkstemp(dir=models_dir, prefix=f".{stage}.", suffix=".json")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(json.dumps(pin, indent=2, ensure_ascii=False) + "\n")
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would survive the replace
        load_pinned_model(stage, path=Path(temporary))
        os.replace(temporary, path)
    except ModelPinError as error:
        raise TrainingError(f"the pin for {pin.get('version')} would be invalid: {error}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def shown(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it (``models/dev.json``)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def format_accuracy(accuracy: float | None) -> str:
    return f"{accuracy:.4f}" if accuracy is not None else "not reported"
