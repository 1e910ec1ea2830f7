"""``promote JOB --stage S``: pin a completed training job's model in ``models/<stage>.json``."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.model_pin import MODELS_DIR, ModelPinError, load_pinned_model
from training import aws
from training.commands import options
from training.data.datasets import dataset_of_channel, read_classes
from training.errors import TrainingError
from training.evaluation.metrics import GATE_METRIC, meets_gate
from training.jobs.stage_jobs import check_stage, describe_training_job, final_metric, tags_of


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser(
        "promote",
        help="pin a completed training job's model for the stage (models/<stage>.json)",
        description=(
            "Check that the training job completed and reached the stage's min_validation_accuracy "
            "(core/stage_config.py), then write models/<stage>.json with its model artifact, the dataset's "
            "classes and where it came from. Commit the file and deploy to serve the model."
        ),
    )
    parser.add_argument("job", type=options.job_name, metavar="JOB", help="the training job to promote")
    options.add_stage(parser)
    parser.add_argument(
        "--force", action="store_true", help="promote even below the stage's minimum validation accuracy"
    )
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=MODELS_DIR,
        metavar="DIR",
        help="where the pinned-model files are (default: the repository's models/)",
    )
    parser.set_defaults(run=run)


@aws.reports_errors
def run(args: argparse.Namespace) -> int:
    config = options.config(args)
    sagemaker = aws.client("sagemaker")
    job = describe_training_job(sagemaker, args.job)
    if job is None:
        raise TrainingError(
            f"no training job named {args.job} in {aws.region_of(sagemaker)}: "
            f"list the stage's jobs with `python -m training status --stage {args.stage}`"
        )
    check_stage("training job", args.job, tags_of(sagemaker, job["TrainingJobArn"]), args.stage)
    check_completed(job)
    accuracy = final_metric(job)
    check_accuracy(args.job, accuracy, config.min_validation_accuracy, config.name, args.force)

    bucket, dataset_prefix = dataset_of_channel(train_channel_uri(job))
    classes = read_classes(aws.client("s3"), bucket, dataset_prefix)
    check_class_count(job, classes)
    pin = {
        "stage": args.stage,
        "modelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"],
        "version": args.job,
        "classes": classes,
        "source": {
            "trainingJob": args.job,
            "validationAccuracy": accuracy,
            "dataset": aws.s3_url(bucket, dataset_prefix),
            "promotedAt": datetime.now(UTC).isoformat(timespec="seconds"),
            "forced": args.force,
        },
    }
    path = write_pin(args.models_dir, args.stage, pin)
    print(f"pinned {args.job} ({GATE_METRIC} {format_accuracy(accuracy)}) for stage {args.stage} in {path}")
    print(f"next: git commit {shown(path)} && {aws.deploy_command(args.stage)}")
    return 0


def check_completed(job: dict[str, Any]) -> None:
    status = job["TrainingJobStatus"]
    if status != "Completed":
        reason = f" ({job['FailureReason']})" if job.get("FailureReason") else ""
        raise TrainingError(
            f"training job {job['TrainingJobName']} is {status}{reason}: only a Completed job can be promoted"
        )


def check_accuracy(name: str, accuracy: float | None, minimum: float, stage: str, force: bool) -> None:
    if force or (accuracy is not None and meets_gate(accuracy, minimum)):
        return
    if accuracy is None:
        raise TrainingError(
            f"training job {name} reported no {GATE_METRIC}, so it cannot be checked against stage "
            f"{stage}'s minimum {minimum:.4f}: pass --force to promote it anyway"
        )
    raise TrainingError(
        f"training job {name} reached {GATE_METRIC} {accuracy:.4f}, below stage {stage}'s minimum "
        f"{minimum:.4f} (min_validation_accuracy in core/stage_config.py): pass --force to promote it anyway"
    )


def train_channel_uri(job: dict[str, Any]) -> str:
    for channel in job.get("InputDataConfig", []):
        if channel.get("ChannelName") == "train":
            return channel["DataSource"]["S3DataSource"]["S3Uri"]
    raise TrainingError(f"training job {job['TrainingJobName']} has no train channel to find its dataset by")


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
