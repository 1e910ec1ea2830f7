"""Per-stage settings: one frozen dataclass per stage, validated when built.

Plain Python (no CDK import), so the command-line tools read the same settings as the stacks.

``app.py`` picks a stage with ``-c stage=NAME``; everything a stage deploys is decided here and in
its pinned-model file (``models/<stage>.json``, see ``core.model_pin``).

Every setting declares its allowed values once, next to the field (``setting(bound=...)``); the
README's per-stage table shows the same values, and a test walks every field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from core.layout import TAG_PROJECT, TAG_STAGE, stack_name

DEFAULT_STAGE = "dev"
# The stacks of a stage, each named ``stack_name(stage, component)`` (stacks/stages.py builds them).
STAGE_COMPONENTS = ("Storage", "Training", "Serving")

# GPU instance families SageMaker real-time endpoints offer; the built-in image-classification
# algorithm serves on GPU or CPU, the product is designed for GPU.
GPU_INSTANCE_FAMILIES = ("g4dn", "g5", "g6", "g6e", "p3", "p4d", "p5")
_INSTANCE_TYPE = re.compile(r"ml\.(?P<family>[a-z0-9]+)\.(?P<size>[0-9]*x?large)")
# Good enough to catch a typo; SNS sends a confirmation that proves the address.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")

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
# AWS allows 50 tags per resource; the app adds Project and Stage itself.
MAX_EXTRA_TAGS = 48
SECONDS_PER_DAY = 86_400

# The key of a field's metadata that holds its Bound (any key would do).
BOUND = "bound"  # mutation: equivalent


class ConfigError(ValueError):
    """A setting has a value the app cannot deploy; the message names the setting."""


@dataclass(frozen=True)  # mutation: equivalent (nothing assigns to a Bound)
class Bound:
    """The values one setting accepts: ``accepts(value, config)`` and their description."""

    accepts: Callable[[Any, Any], bool]
    describe: Callable[[Any], str]

    def check(self, config: Any, setting: str) -> None:
        value = getattr(config, setting)
        if not self.accepts(value, config):
            raise ConfigError(f"invalid {setting}={value!r}: allowed values are {self.describe(config)}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return _is_int(value) or isinstance(value, float)


def between(low: int, high: int, unit: str = "") -> Bound:
    """A whole number from ``low`` to ``high``, both included."""
    return Bound(lambda v, _: _is_int(v) and low <= v <= high, lambda _: f"{low} to {high}{unit}")


def between_setting(low_setting: str, high: int, unit: str = "") -> Bound:
    """A whole number from another (earlier) setting's value to ``high``."""
    return Bound(
        lambda v, c: _is_int(v) and getattr(c, low_setting) <= v <= high,
        lambda c: f"{low_setting} ({getattr(c, low_setting)}) to {high}{unit}",
    )


def fraction() -> Bound:
    return Bound(lambda v, _: _is_number(v) and 0.0 <= v <= 1.0, lambda _: "0.0 to 1.0")


def positive_up_to(high: int) -> Bound:
    """A number above 0 (fractions allowed) and at most ``high``."""
    return Bound(lambda v, _: _is_number(v) and 0 < v <= high, lambda _: f"more than 0 and at most {high}")


def a_day_at(rate_setting: str) -> Bound:
    """Requests from 1 to a whole day at another (earlier) setting's rate: more could never be used."""

    def most(config: Any) -> int:
        return int(getattr(config, rate_setting) * SECONDS_PER_DAY)

    return Bound(
        lambda v, c: _is_int(v) and 1 <= v <= most(c),
        lambda c: f"1 to {rate_setting} x {SECONDS_PER_DAY} ({most(c)})",
    )


def optional(bound: Bound, meaning: str) -> Bound:
    """None (``meaning``) or a value ``bound`` accepts."""
    return Bound(
        lambda v, c: v is None or bound.accepts(v, c), lambda c: f"None ({meaning}) or {bound.describe(c)}"
    )


def one_of(values: tuple[int, ...], what: str) -> Bound:
    return Bound(lambda v, _: _is_int(v) and v in values, lambda _: f"{what}: " + ", ".join(map(str, values)))


def flag() -> Bound:
    return Bound(lambda v, _: isinstance(v, bool), lambda _: "True or False")


def matching(pattern: str | re.Pattern[str], description: str) -> Bound:
    compiled = re.compile(pattern)
    return Bound(lambda v, _: isinstance(v, str) and compiled.fullmatch(v) is not None, lambda _: description)


def gpu_instance_type() -> Bound:
    def accepts(value: Any, _: Any) -> bool:
        match = _INSTANCE_TYPE.fullmatch(value) if isinstance(value, str) else None
        return match is not None and match.group("family") in GPU_INSTANCE_FAMILIES

    return Bound(
        accepts,
        lambda _: "a GPU type 'ml.<family>.<size>' with family one of " + ", ".join(GPU_INSTANCE_FAMILIES),
    )


def origins() -> Bound:
    def accepts(value: Any, _: Any) -> bool:
        return (
            isinstance(value, (tuple, list))
            and len(value) > 0
            and all(
                isinstance(o, str) and (o == "*" or o.startswith(("https://", "http://localhost")))
                for o in value
            )
        )

    return Bound(
        accepts, lambda _: "'*' or a list of https:// origins (http://localhost allowed for development)"
    )


def resource_tags() -> Bound:
    def accepts(value: Any, _: Any) -> bool:
        return (
            isinstance(value, dict)
            and len(value) <= MAX_EXTRA_TAGS
            and all(
                isinstance(k, str)
                and isinstance(v, str)
                and 1 <= len(k) <= 128
                and len(v) <= 256
                and not k.startswith("aws:")
                and k not in (TAG_PROJECT, TAG_STAGE)
                for k, v in value.items()
            )
        )

    return Bound(
        accepts,
        lambda _: (
            f"up to {MAX_EXTRA_TAGS} tags, keys of 1-128 characters (not starting with 'aws:', "
            f"not {TAG_PROJECT} or {TAG_STAGE}, which the app sets), values of at most 256 characters"
        ),
    )


def setting(bound: Bound, default: Any = MISSING, default_factory: Any = MISSING) -> Any:
    """A dataclass field that declares its allowed values (``bound``) next to it."""
    return field(default=default, default_factory=default_factory, metadata={BOUND: bound})


@dataclass(frozen=True)
class StageConfig:
    """Everything that differs between stages."""

    name: str = setting(
        matching(r"[a-z][a-z0-9]{0,9}", "1-10 lower-case letters and digits, starting with a letter")
    )
    # Data bucket: dev is disposable (destroyed with its objects), prod is kept.
    retain_data: bool = setting(flag())
    noncurrent_version_expiration_days: int = setting(between(1, 3650, " days"))
    access_log_expiration_days: int = setting(between(1, 3650, " days"))
    log_retention_days: int = setting(one_of(LOG_RETENTION_DAYS, "one of CloudWatch Logs' periods"))
    # Endpoint.
    endpoint_instance_type: str = setting(gpu_instance_type(), "ml.g4dn.xlarge")
    # The minimum auto scaling keeps, and the starting count.
    endpoint_instance_count: int = setting(between(1, 10), 1)
    endpoint_max_instance_count: int = setting(between_setting("endpoint_instance_count", 20), 2)
    # Target tracking on SageMakerVariantInvocationsPerInstance (invocations per minute).
    endpoint_invocations_per_instance: int = setting(between(1, 100_000), 600)
    # Model updates are blue/green with automatic rollback; a canary percentage shifts that share
    # of capacity first and waits, None shifts all at once.
    canary_traffic_percent: int | None = setting(optional(between(1, 50), "all at once"), None)
    # Alarms go to an SNS topic; an email address subscribes to it (confirm the email once).
    alarm_email: str | None = setting(
        optional(matching(_EMAIL, "an email address such as oncall@example.com"), "no subscription"), None
    )
    # Share of requests and responses the endpoint writes to the data bucket (data-capture/) for
    # later monitoring; 0 turns capture off.
    data_capture_percent: int = setting(between(0, 100), 0)
    # API.
    api_rate_limit: float = setting(positive_up_to(10_000), 10.0)  # steady requests per second
    api_burst_limit: int = setting(between(1, 5_000), 20)
    api_quota_per_day: int | None = setting(optional(a_day_at("api_rate_limit"), "no quota"), None)
    api_key_required: bool = setting(flag(), True)
    cors_allowed_origins: tuple[str, ...] = setting(origins(), ("*",))
    # Prediction function.
    function_memory_mb: int = setting(between(128, 10_240), 512)
    # Executions reserved for (and the most allowed to) the prediction function. A slow endpoint
    # then answers the excess with 503 ServiceBusy instead of starving every other function of
    # the account (1,000 by default, of which Lambda keeps 100 unreserved).
    function_reserved_concurrency: int = setting(between(1, 500), 10)
    # Training (python -m training train): managed spot by default, bounded in time and size.
    training_instance_type: str = setting(gpu_instance_type(), "ml.g4dn.xlarge")
    training_max_instance_count: int = setting(between(1, 20), 4)
    training_spot: bool = setting(flag(), True)
    # SageMaker's limit is 28 days; a runaway job should not get near it.
    training_max_runtime_hours: int = setting(between(1, 120), 6)
    # Spot: runtime plus time waiting for capacity.
    training_max_wait_hours: int = setting(between_setting("training_max_runtime_hours", 240), 12)
    # The gate before a model is registered or promoted.
    min_validation_accuracy: float = setting(fraction(), 0.8)
    tags: dict[str, str] = setting(resource_tags(), default_factory=dict)

    def __post_init__(self) -> None:
        for setting_field in fields(self):
            if BOUND not in setting_field.metadata:
                raise TypeError(
                    f"{setting_field.name} declares no allowed values: define it with setting(...)"
                )
            setting_field.metadata[BOUND].check(self, setting_field.name)

    def stack_name(self, component: str) -> str:
        return stack_name(self.name, component)


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
        function_reserved_concurrency=10,  # its burst limit: 5 requests/s at up to 2 s each
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
        # Its burst limit: 50 requests/s at up to 2 s each (the endpoint's latency alarm); a slow
        # endpoint holds at most 100 executions, not the ~900 that 50/s x 18 s would.
        function_reserved_concurrency=100,
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
    """``-c endpoint=on|off`` (default on): off leaves the endpoint out, so the stage idles at $0.

    ``true``/``false`` mean the same, as strings or as the booleans a cdk.json context holds."""
    if value is None or value is True or value in ("on", "true"):
        return True
    if value is False or value in ("off", "false"):
        return False
    raise ConfigError(
        f"invalid endpoint={value!r}: allowed values are on, off, true, false (choose with -c endpoint=off)"
    )
