"""``--wait``: follow a training run or a tuning job until it ends, printing what changes."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

from core.accuracy_gate import GATE_METRIC
from training.console import say
from training.errors import TrainingError
from training.jobs.stage_jobs import describe_training_job, final_metric

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
EPOCH_ACCURACY = re.compile(r"Epoch\[(\d+)\] Validation-accuracy=([0-9.]+(?:[eE][-+]?\d+)?)")
REASON_LENGTH = 400


def pause(seconds: float) -> None:
    """Waits between checks (tests replace it)."""
    time.sleep(seconds)


class ValidationLog:
    """The latest ``Epoch[N] Validation-accuracy=X`` line of a job's CloudWatch logs, best effort:
    the log group appears only once the job runs, and reading it may not be allowed."""

    def __init__(self, logs: Any, job_name: str) -> None:
        self.logs = logs
        self.job_name = job_name
        self.start_ms = 0
        self.latest: tuple[int, float] | None = None

    def poll(self) -> tuple[int, float] | None:
        try:
            pages = self.logs.get_paginator("filter_log_events").paginate(
                logGroupName=LOG_GROUP,
                logStreamNamePrefix=f"{self.job_name}/",
                filterPattern='"Validation-accuracy"',
                startTime=self.start_ms,
            )
            for page in pages:
                for event in page.get("events", []):
                    self.read_event(event)
        except Exception:  # noqa: S110 - progress display only; the job's status decides the outcome
            pass
        return self.latest

    def read_event(self, event: dict[str, Any]) -> None:
        self.start_ms = max(self.start_ms, event["timestamp"] + 1)
        match = EPOCH_ACCURACY.search(event.get("message", ""))
        if match:
            epoch, accuracy = int(match.group(1)), float(match.group(2))
            if self.latest is None or epoch >= self.latest[0]:
                self.latest = (epoch, accuracy)


def follow_training(
    sfn: Any, sagemaker: Any, logs: Any, execution_arn: str, job_name: str, poll_seconds: float
) -> dict[str, Any] | None:
    """Polls until the execution ends; returns the training job on success, raises TrainingError
    with the reason otherwise."""
    validation = ValidationLog(logs, job_name)
    last_line = None
    while True:
        execution = sfn.describe_execution(executionArn=execution_arn)
        job = describe_training_job(sagemaker, job_name)
        line = training_line(execution["status"], job, validation.poll())
        if line != last_line:
            say(f"[{datetime.now(UTC):%H:%M:%S}] {line}")
            last_line = line
        if execution["status"] != "RUNNING":
            break
        pause(poll_seconds)
    if execution["status"] == "SUCCEEDED":
        return job
    raise TrainingError(training_failure(execution, job))


def training_line(status: str, job: dict[str, Any] | None, latest: tuple[int, float] | None) -> str:
    parts = [f"execution {status}"]
    if job is None:
        parts.append("training job not created yet (checking the data)")
    else:
        parts.append(f"job {job['TrainingJobStatus']}/{job.get('SecondaryStatus', '-')}")
    if latest is not None:
        parts.append(f"epoch {latest[0]} validation accuracy {latest[1]:.4f}")
    return ", ".join(parts)


def training_failure(execution: dict[str, Any], job: dict[str, Any] | None) -> str:
    name = execution.get("name", "the execution")
    if job is not None and job.get("TrainingJobStatus") in ("Failed", "Stopped"):
        reason = job.get("FailureReason") or job["TrainingJobStatus"].lower()
        return f"training job {job['TrainingJobName']} {job['TrainingJobStatus'].lower()}: {one_line(reason)}"
    details = ": ".join(one_line(part) for part in (execution.get("error"), execution.get("cause")) if part)
    return f"execution {name} {execution['status']}" + (f": {details}" if details else "")


def follow_tuning(sagemaker: Any, name: str, poll_seconds: float) -> dict[str, Any]:
    """Polls until the tuning job ends; returns it when Completed, raises TrainingError otherwise."""
    last_line = None
    while True:
        job = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        line = tuning_line(job)
        if line != last_line:
            say(f"[{datetime.now(UTC):%H:%M:%S}] {line}")
            last_line = line
        if job["HyperParameterTuningJobStatus"] not in ("InProgress", "Stopping"):
            break
        pause(poll_seconds)
    if job["HyperParameterTuningJobStatus"] == "Completed":
        return job
    reason = one_line(job.get("FailureReason") or "") or "no reason given"
    raise TrainingError(f"tuning job {name} {job['HyperParameterTuningJobStatus'].lower()}: {reason}")


def tuning_line(job: dict[str, Any]) -> str:
    counters = job.get("TrainingJobStatusCounters", {})
    failed = counters.get("RetryableError", 0) + counters.get("NonRetryableError", 0)
    line = (
        f"tuning {job['HyperParameterTuningJobStatus']}: {counters.get('Completed', 0)} completed, "
        f"{counters.get('InProgress', 0)} running, {failed} failed, {counters.get('Stopped', 0)} stopped"
    )
    best = best_job(job)
    return line + (f"; best so far {best[0]} {GATE_METRIC}={best[1]:.4f}" if best else "")


def best_job(job: dict[str, Any]) -> tuple[str, float] | None:
    best = job.get("BestTrainingJob")
    metric = (best or {}).get("FinalHyperParameterTuningJobObjectiveMetric")
    if not best or not metric:
        return None
    return best["TrainingJobName"], float(metric["Value"])


def final_accuracy(job: dict[str, Any] | None) -> str:
    value = final_metric(job) if job else None
    return f"{value:.4f}" if value is not None else "not reported"


def one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= REASON_LENGTH else text[: REASON_LENGTH - 3] + "..."
