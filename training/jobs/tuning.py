"""The CreateHyperParameterTuningJob request: what is tuned, over which ranges, within which budget.

Tuned: learning rate (log scale), mini-batch size and optimizer; everything else is fixed at
``hyperparameters.DEFAULTS`` plus the counts of the dataset. Each training job runs on one instance
of the stage's training type; spot jobs keep no checkpoints (jobs of one tuning run would share
the prefix), so an interrupted one starts over within its own runtime limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core import layout
from core.accuracy_gate import GATE_METRIC
from core.hyperparameters import resolve
from core.training_job import TrainingJobSpec, tuning_job_definition
from training.data.datasets import UploadedDataset
from training.errors import TrainingError

LEARNING_RATE = ("0.00001", "0.01")
MINI_BATCH_SIZES = ("16", "32", "64")
OPTIMIZERS = ("sgd", "adam", "rmsprop", "nag")
TUNED = ("learning_rate", "mini_batch_size", "optimizer")


@dataclass(frozen=True)
class Budget:
    """The hard limits of one tuning job."""

    max_jobs: int
    max_parallel: int
    max_runtime_seconds: int
    instance_type: str
    spot: bool
    max_wait_seconds: int


def tuning_job_name(stage: str, now: datetime | None = None) -> str:
    """``tune-<stage>-<yymmdd-HHMMSS>``: tuning job names have at most 32 characters."""
    return f"tune-{stage}-{(now or datetime.now(UTC)):%y%m%d-%H%M%S}"


def parameter_ranges(num_training_samples: int) -> dict[str, list[dict[str, Any]]]:
    batch_sizes = [size for size in MINI_BATCH_SIZES if int(size) <= num_training_samples]
    if not batch_sizes:
        raise TrainingError(
            f"the dataset has only {num_training_samples} training images, fewer than the smallest "
            f"mini-batch size tuned ({MINI_BATCH_SIZES[0]}): tune on a larger dataset"
        )
    return {
        "ContinuousParameterRanges": [
            {
                "Name": "learning_rate",
                "MinValue": LEARNING_RATE[0],
                "MaxValue": LEARNING_RATE[1],
                "ScalingType": "Logarithmic",
            }
        ],
        "CategoricalParameterRanges": [
            {"Name": "mini_batch_size", "Values": batch_sizes},
            {"Name": "optimizer", "Values": list(OPTIMIZERS)},
        ],
    }


def static_hyperparameters(num_classes: int, num_training_samples: int) -> dict[str, str]:
    values = resolve({}, num_classes=num_classes, num_training_samples=num_training_samples)
    return {name: value for name, value in values.items() if name not in TUNED}


def tuning_request(
    *,
    name: str,
    stage: str,
    dataset: UploadedDataset,
    num_classes: int,
    num_training_samples: int,
    budget: Budget,
    role_arn: str,
    image_uri: str,
) -> dict[str, Any]:
    definition = tuning_job_definition(
        TrainingJobSpec(
            stage=stage,
            image_uri=image_uri,
            role_arn=role_arn,
            bucket=dataset.bucket,
            channels=layout.input_channels(dataset.bucket, dataset.prefix, dataset.format),
            hyperparameters=static_hyperparameters(num_classes, num_training_samples),
            instance_type=budget.instance_type,
            instance_count=1,
            max_runtime_seconds=budget.max_runtime_seconds,
            spot=budget.spot,
            max_wait_seconds=budget.max_wait_seconds,
        ),
        tuned=TUNED,
    )
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": GATE_METRIC},
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": budget.max_jobs,
                "MaxParallelTrainingJobs": budget.max_parallel,
            },
            "ParameterRanges": parameter_ranges(num_training_samples),
            "TrainingJobEarlyStoppingType": "Auto",
        },
        "TrainingJobDefinition": definition,
        "Tags": layout.job_tags(stage),
    }
