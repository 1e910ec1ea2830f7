"""Per-stage settings: one frozen dataclass per stage, validated when built.

Plain Python (no CDK import), so the command-line tools read the same settings as the stacks.

``app.py`` picks a stage with ``-c stage=NAME``; everything a stage deploys is decided here and in
its pinned-model file (``models/<stage>.json``, see ``stacks.model_pin``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from training.layout import stack_name

DEFAULT_STAGE = "dev"

# GPU instance families SageMaker real-time endpoints offer; the built-in image-classification
# algorithm serves on GPU or CPU, the product is designed for GPU.
GPU_INSTANCE_FAMILIES = ("g4dn", "g5", "g6", "g6e", "p3", "p4d", "p5")
_INSTANCE_TYPE = re.compile(r"^ml\.(?P<family>[a-z0-9]+)\.(?P<size>[0-9]*x?large)$")


# The retention periods CloudWatch Logs offers, in days.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


class ConfigError(ValueError):
    """A setting has a value the app cannot deploy; the message names the setting."""


@dataclass(frozen=True)
class StageConfig:
    """Everything that differs between stages."""

    name: str
    # Data bucket: dev is disposable (destroyed with its objects), prod is kept.
    retain_data: bool
    noncurrent_version_expiration_days: int
    access_log_expiration_days: int
    log_retention_days: int
    # Endpoint.
    endpoint_instance_type: str = "ml.g4dn.xlarge"
    endpoint_instance_count: int = 1  # the minimum auto scaling keeps, and the starting count
    endpoint_max_instance_count: int = 2
    # Target tracking on SageMakerVariantInvocationsPerInstance (invocations per minute).
    endpoint_invocations_per_instance: int = 600
    # Model updates are blue/green with automatic rollback; a canary percentage shifts that share
    # of capacity first and waits, None shifts all at once.
    canary_traffic_percent: int | None = None
    # Alarms go to an SNS topic; an email address subscribes to it (confirm the email once).
    alarm_email: str | None = None
    # Share of requests and responses the endpoint writes to the data bucket (data-capture/) for
    # later monitoring; 0 turns capture off.
    data_capture_percent: int = 0
    # API.
    api_rate_limit: float = 10.0  # steady requests per second
    api_burst_limit: int = 20
    api_quota_per_day: int | None = None
    api_key_required: bool = True
    cors_allowed_origins: tuple[str, ...] = ("*",)
    # Prediction function.
    function_memory_mb: int = 512
    # Training (python -m training train): managed spot by default, bounded in time and size.
    training_instance_type: str = "ml.g4dn.xlarge"
    training_max_instance_count: int = 4
    training_spot: bool = True
    training_max_runtime_hours: int = 6
    training_max_wait_hours: int = 12  # spot: runtime plus time waiting for capacity
    min_validation_accuracy: float = 0.8  # the gate before a model is registered or promoted
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check(
            re.fullmatch(r"[a-z][a-z0-9]{0,9}", self.name) is not None,
            "stage",
            self.name,
            "1-10 lower-case letters and digits, starting with a letter",
        )
        match = _INSTANCE_TYPE.match(self.endpoint_instance_type)
        _check(
            match is not None and match.group("family") in GPU_INSTANCE_FAMILIES,
            "endpoint_instance_type",
            self.endpoint_instance_type,
            "a GPU type 'ml.<family>.<size>' with family one of " + ", ".join(GPU_INSTANCE_FAMILIES),
        )
        _check(
            1 <= self.endpoint_instance_count <= 10,
            "endpoint_instance_count",
            self.endpoint_instance_count,
            "1 to 10",
        )
        _check(
            0 < self.api_rate_limit <= 10_000,
            "api_rate_limit",
            self.api_rate_limit,
            "0 < rate <= 10000",
        )
        _check(1 <= self.api_burst_limit <= 5_000, "api_burst_limit", self.api_burst_limit, "1 to 5000")
        _check(
            self.api_quota_per_day is None or self.api_quota_per_day >= 1,
            "api_quota_per_day",
            self.api_quota_per_day,
            "None (no quota) or a positive number of requests",
        )
        _check(
            self.log_retention_days in LOG_RETENTION_DAYS,
            "log_retention_days",
            self.log_retention_days,
            "one of CloudWatch Logs' periods: " + ", ".join(map(str, LOG_RETENTION_DAYS)),
        )
        for setting in ("noncurrent_version_expiration_days", "access_log_expiration_days"):
            value = getattr(self, setting)
            _check(1 <= value <= 3650, setting, value, "1 to 3650 days")
        match = _INSTANCE_TYPE.match(self.training_instance_type)
        _check(
            match is not None and match.group("family") in GPU_INSTANCE_FAMILIES,
            "training_instance_type",
            self.training_instance_type,
            "a GPU type 'ml.<family>.<size>' with family one of " + ", ".join(GPU_INSTANCE_FAMILIES),
        )
        _check(
            1 <= self.training_max_instance_count <= 20,
            "training_max_instance_count",
            self.training_max_instance_count,
            "1 to 20",
        )
        _check(
            1 <= self.training_max_runtime_hours <= 120,
            "training_max_runtime_hours",
            self.training_max_runtime_hours,
            "1 to 120 (SageMaker's limit is 28 days; a runaway job should not get near it)",
        )
        _check(
            not self.training_spot or self.training_max_runtime_hours <= self.training_max_wait_hours <= 240,
            "training_max_wait_hours",
            self.training_max_wait_hours,
            f"at least training_max_runtime_hours ({self.training_max_runtime_hours}) and at most 240",
        )
        _check(
            0.0 <= self.min_validation_accuracy <= 1.0,
            "min_validation_accuracy",
            self.min_validation_accuracy,
            "0.0 to 1.0",
        )
        _check(
            128 <= self.function_memory_mb <= 10_240,
            "function_memory_mb",
            self.function_memory_mb,
            "128 to 10240",
        )
        _check(
            len(self.cors_allowed_origins) > 0
            and all(
                o == "*" or o.startswith("https://") or o.startswith("http://localhost")
                for o in self.cors_allowed_origins
            ),
            "cors_allowed_origins",
            self.cors_allowed_origins,
            "'*' or a list of https:// origins (http://localhost allowed for development)",
        )

    def stack_name(self, component: str) -> str:
        return stack_name(self.name, component)


def _check(ok: bool, setting: str, value: object, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"invalid {setting}={value!r}: allowed values are {allowed}")


STAGES: dict[str, StageConfig] = {
    "dev": StageConfig(
        name="dev",
        retain_data=False,
        noncurrent_version_expiration_days=7,
        access_log_expiration_days=30,
        log_retention_days=14,
        endpoint_instance_count=1,
        api_rate_limit=5,
        api_burst_limit=10,
        api_quota_per_day=5_000,
        min_validation_accuracy=0.5,
    ),
    "prod": StageConfig(
        name="prod",
        retain_data=True,
        noncurrent_version_expiration_days=90,
        access_log_expiration_days=365,
        log_retention_days=90,
        endpoint_instance_count=2,  # SageMaker spreads two or more instances across Availability Zones
        endpoint_max_instance_count=6,
        canary_traffic_percent=10,
        api_rate_limit=50,
        api_burst_limit=100,
        training_max_runtime_hours=8,
        training_max_wait_hours=16,
    ),
}


def stage_config(name: str | None) -> StageConfig:
    """The config of stage ``name`` (``None``: the default stage)."""
    name = DEFAULT_STAGE if name is None else name
    try:
        return STAGES[name]
    except KeyError:
        raise ConfigError(
            f"invalid stage={name!r}: allowed values are {', '.join(sorted(STAGES))} "
            "(choose one with -c stage=NAME)"
        ) from None


def endpoint_switch(value: object) -> bool:
    """``-c endpoint=on|off`` (default on): off leaves the endpoint out, so the stage idles at $0."""
    if value is None or value in ("on", True, "true"):
        return True
    if value in ("off", False, "false"):
        return False
    raise ConfigError(f"invalid endpoint={value!r}: allowed values are on, off (choose with -c endpoint=off)")
