"""``status --stage S``: the stage's recent training and tuning jobs, their accuracy and cost."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from training import aws
from training.commands import options
from training.console import format_duration, format_table
from training.evaluation.metrics import GATE_METRIC
from training.jobs.follow import best_job
from training.jobs.pricing import billed_cost, money, price_table
from training.jobs.stage_jobs import final_metric, stage_training_jobs, stage_tuning_jobs

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


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser(
        "status",
        help="list the stage's recent training and tuning jobs with accuracy and cost",
        description=(
            f"List the stage's newest training jobs (tuning jobs' included) and tuning jobs, found by "
            f"their tags, with status, {GATE_METRIC}, runtime, billable time and cost so far. "
            "Costs come from training/jobs/prices.json; '~' marks an estimate for a running job."
        ),
    )
    options.add_stage(parser)
    parser.add_argument(
        "--limit", type=options.positive_int, default=10, metavar="N", help="jobs of each kind (default: 10)"
    )
    parser.set_defaults(run=run)


@aws.reports_errors
def run(args: argparse.Namespace) -> int:
    sagemaker = aws.client("sagemaker")
    now = datetime.now(UTC)
    training = stage_training_jobs(sagemaker, args.stage, args.limit)
    tuning = stage_tuning_jobs(sagemaker, args.stage, args.limit)
    print(training_table(training, now) if training else f"no training jobs for stage {args.stage}")
    print()
    print(tuning_table(tuning) if tuning else f"no tuning jobs for stage {args.stage}")
    return 0


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
