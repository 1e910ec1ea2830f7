"""``status --stage S``: the stage's recent training and tuning jobs, their accuracy and cost, and its
model registry: versions, approval, accuracy and which one the stage's pin serves."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core import layout
from core.accuracy_gate import GATE_METRIC, final_metric
from core.model_package import RegisteredModel
from core.model_pin import ModelPinError, PinnedModel, load_pinned_model
from training import aws
from training.commands import options
from training.console import format_duration, format_table
from training.errors import TrainingError
from training.jobs import registry
from training.jobs.follow import best_job
from training.jobs.pricing import billed_cost, money, price_table
from training.jobs.stage_jobs import stage_training_jobs, stage_tuning_jobs

TRAINING_HEADERS = (
    "TRAINING JOB",
    "STATUS",
    "VAL ACC",
    "STARTED (UTC)",
    "INSTANCES",
    "RUNTIME",
    "BILLABLE",
    "COST",
)
TUNING_HEADERS = (
    "TUNING JOB",
    "STATUS",
    "JOBS DONE/MAX",
    "BEST TRAINING JOB",
    "BEST VAL ACC",
    "STARTED (UTC)",
)
REGISTRY_HEADERS = ("VERSION", "APPROVAL", "VAL ACC", "TRAINING JOB", "FORCED", "PINNED")


def register(subcommands: Any) -> None:
    parser = options.command_parser(
        subcommands,
        "status",
        summary="list the stage's recent training and tuning jobs with accuracy and cost",
        description=(
            f"List the stage's newest training jobs (tuning jobs' included) and tuning jobs, found by "
            f"their tags, with status, {GATE_METRIC}, runtime, billable time and cost so far, and the "
            "newest versions of its model registry with approval, accuracy, whether --force promoted "
            "them and which one models/<stage>.json pins. Costs come from training/jobs/prices.json; "
            f"'~' marks an estimate for a running job.\n\n{options.NEEDS_AWS}"
        ),
        example_list=(f"{options.PROG} status --stage dev", f"{options.PROG} status --stage prod --limit 25"),
    )
    options.add_stage(parser)
    parser.add_argument(
        "--limit", type=options.positive_int, default=10, metavar="N", help="jobs of each kind (default: 10)"
    )
    options.add_models_dir(parser)
    parser.set_defaults(run=run)


@aws.reports_errors
def run(args: argparse.Namespace) -> int:
    try:
        group = aws.required_outputs(args.stage, "Training", layout.OUTPUT_MODEL_PACKAGE_GROUP)[
            layout.OUTPUT_MODEL_PACKAGE_GROUP
        ]
    except TrainingError as error:  # not deployed: its jobs may still be running (and billing)
        print(f"stage {args.stage}: {error}")
        group = None
    sagemaker = aws.client("sagemaker")
    now = datetime.now(UTC)
    training = stage_training_jobs(sagemaker, args.stage, args.limit)
    tuning = stage_tuning_jobs(sagemaker, args.stage, args.limit)
    if group is not None or training or tuning:
        if group is None:
            print()
        print(training_table(training, now) if training else f"no training jobs for stage {args.stage}")
        print()
        print(tuning_table(tuning) if tuning else f"no tuning jobs for stage {args.stage}")
    if group is not None:
        models = registry.newest(sagemaker, group, args.limit)
        print()
        pin = pinned(args.stage, args.models_dir)
        print(registry_table(models, pin) if models else f"no model versions in {group}")
    return 0


def pinned(stage: str, models_dir: Path) -> PinnedModel | None:
    try:
        return load_pinned_model(stage, path=models_dir / f"{stage}.json")
    except ModelPinError:
        return None


def registry_table(models: list[RegisteredModel], pin: PinnedModel | None) -> str:
    return format_table(REGISTRY_HEADERS, [registry_row(model, pin) for model in models])


def registry_row(model: RegisteredModel, pin: PinnedModel | None) -> list[str]:
    is_pinned = pin is not None and pin.artifact is not None and pin.artifact.url == model.model_data_url
    accuracy = model.validation_accuracy
    return [
        str(model.version),
        model.approval,
        f"{accuracy:.4f}" if accuracy is not None else "-",
        model.training_job or "-",
        "yes" if model.forced else "-",
        "yes" if is_pinned else "-",
    ]


def training_table(jobs: list[dict[str, Any]], now: datetime) -> str:
    return format_table(TRAINING_HEADERS, [training_row(job, now) for job in jobs])


def training_row(job: dict[str, Any], now: datetime) -> list[str]:
    status = job["TrainingJobStatus"]
    if status == "InProgress" and job.get("SecondaryStatus"):
        status += f"/{job['SecondaryStatus']}"
    accuracy = final_metric(job)
    resources = job.get("ResourceConfig", {})
    spot = " spot" if job.get("EnableManagedSpotTraining") else ""
    return [
        job["TrainingJobName"],
        status,
        f"{accuracy:.4f}" if accuracy is not None else "-",
        started(job),
        f"{resources.get('InstanceCount', 1)} x {resources.get('InstanceType', '?')}{spot}",
        format_duration(runtime_seconds(job, now)),
        format_duration(job.get("BillableTimeInSeconds")),
        cost(job, now),
    ]


def started(job: dict[str, Any]) -> str:
    return f"{job['CreationTime'].astimezone(UTC):%Y-%m-%d %H:%M}" if job.get("CreationTime") else "-"


def runtime_seconds(job: dict[str, Any], now: datetime) -> float | None:
    if job.get("TrainingTimeInSeconds") is not None:
        return float(job["TrainingTimeInSeconds"])
    start = job.get("TrainingStartTime")
    if start is None:
        return None
    return max(0.0, ((job.get("TrainingEndTime") or now) - start).total_seconds())


def cost(job: dict[str, Any], now: datetime) -> str:
    """Billed cost (billable seconds, spot savings included); '~' estimate while it runs."""
    resources = job.get("ResourceConfig", {})
    instance_type, count = resources.get("InstanceType", "?"), resources.get("InstanceCount", 1)
    billable = job.get("BillableTimeInSeconds")
    if billable is not None:
        amount = billed_cost(instance_type, billable, count)
        return money(amount) if amount is not None else "?"
    elapsed = runtime_seconds(job, now)
    if job["TrainingJobStatus"] != "InProgress" or elapsed is None:
        return "-"
    amount = billed_cost(instance_type, elapsed, count)
    if amount is None:
        return "?"
    if job.get("EnableManagedSpotTraining"):
        amount *= 1 - price_table().spot_savings
    return "~" + money(amount)


def tuning_table(jobs: list[dict[str, Any]]) -> str:
    return format_table(TUNING_HEADERS, [tuning_row(job) for job in jobs])


def tuning_row(job: dict[str, Any]) -> list[str]:
    counters = job.get("TrainingJobStatusCounters", {})
    done = sum(
        counters.get(key, 0) for key in ("Completed", "RetryableError", "NonRetryableError", "Stopped")
    )
    limit = (
        job.get("HyperParameterTuningJobConfig", {})
        .get("ResourceLimits", {})
        .get("MaxNumberOfTrainingJobs", "?")
    )
    best = best_job(job)
    return [
        job["HyperParameterTuningJobName"],
        job["HyperParameterTuningJobStatus"],
        f"{done}/{limit}",
        best[0] if best else "-",
        f"{best[1]:.4f}" if best else "-",
        started(job),
    ]
