"""Every stage setting is checked as documented: each limit at its edge and one past it; the stage
and endpoint switches name their allowed values.

The tables below name every field of ``StageConfig``; a new setting without a declared bound, or
without cases here, fails ``test_every_setting_declares_its_bound_and_is_tested``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import pytest

from core.stage_config import (
    BOUND,
    LOG_RETENTION_DAYS,
    STAGE_COMPONENTS,
    STAGES,
    Bound,
    ConfigError,
    StageConfig,
    between,
    endpoint_switch,
    setting,
    stage_config,
)

CONFIGURATION_DOC = Path(__file__).parents[2] / "docs" / "configuration.md"
BASE = STAGES["dev"]  # endpoint_instance_count 1, api_rate_limit 5, training_max_runtime_hours 6

GPU = "a GPU type 'ml.<family>.<size>' with family one of g4dn, g5, g6, g6e, p3, p4d, p5"
NAME = "1-10 lower-case letters and digits, starting with a letter"
FLAG = "True or False"
DAYS = "1 to 3650 days"
PERIODS = (
    "one of CloudWatch Logs' periods: "
    "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653"
)
EMAIL = "None (no subscription) or an email address such as oncall@example.com"
ORIGINS = "'*' or a list of https:// origins (http://localhost allowed for development)"
TAGS = (
    "up to 48 tags, keys of 1-128 characters (not starting with 'aws:', not Project or Stage, "
    "which the app sets), values of at most 256 characters"
)
MANY_TAGS = {f"t{i}": "v" for i in range(48)}

# (changes to the dev stage) that are allowed: every limit at its edge.
ACCEPTED = [
    {"name": "a"},
    {"name": "a123456789"},
    {"retain_data": True},
    {"retain_data": False},
    {"noncurrent_version_expiration_days": 1},
    {"noncurrent_version_expiration_days": 3650},
    {"access_log_expiration_days": 1},
    {"access_log_expiration_days": 3650},
    *[{"log_retention_days": days} for days in LOG_RETENTION_DAYS],
    *[
        {"endpoint_instance_type": f"ml.{family}.{size}"}
        for family in ("g4dn", "g5", "g6", "g6e", "p3", "p4d", "p5")
        for size in ("large", "xlarge", "48xlarge")
    ],
    {"endpoint_instance_count": 1},
    {"endpoint_instance_count": 10, "endpoint_max_instance_count": 10},
    {"endpoint_max_instance_count": 1},
    {"endpoint_max_instance_count": 20},
    {"endpoint_invocations_per_instance": 1},
    {"endpoint_invocations_per_instance": 100_000},
    {"canary_traffic_percent": None},
    {"canary_traffic_percent": 1},
    {"canary_traffic_percent": 50},
    {"alarm_email": None},
    {"alarm_email": "oncall@example.com"},
    {"alarm_email": "a.b+alarms@ops.example.co.uk"},
    {"data_capture_percent": 0},
    {"data_capture_percent": 100},
    {"api_rate_limit": 0.001, "api_quota_per_day": None},
    {"api_rate_limit": 10_000},
    {"api_burst_limit": 1},
    {"api_burst_limit": 5_000},
    {"api_quota_per_day": None},
    {"api_quota_per_day": 1},
    {"api_quota_per_day": 432_000},
    {"api_rate_limit": 0.5, "api_quota_per_day": 43_200},
    {"api_key_required": False},
    {"cors_allowed_origins": ("*",)},
    {"cors_allowed_origins": ("https://dogs.example.com", "http://localhost:3000")},
    {"cors_allowed_origins": ["https://dogs.example.com"]},
    {"function_memory_mb": 128},
    {"function_memory_mb": 10_240},
    {"function_reserved_concurrency": 1},
    {"function_reserved_concurrency": 500},
    {"training_instance_type": "ml.p4d.24xlarge"},
    {"training_max_instance_count": 1},
    {"training_max_instance_count": 20},
    {"training_spot": False},
    {"training_max_runtime_hours": 1},
    {"training_max_runtime_hours": 120, "training_max_wait_hours": 120},
    {"training_max_wait_hours": 6},
    {"training_max_wait_hours": 240},
    {"min_validation_accuracy": 0.0},
    {"min_validation_accuracy": 1.0},
    {"min_validation_accuracy": 1},
    {"tags": {}},
    {"tags": MANY_TAGS},
    {"tags": {"k" * 128: "v" * 256, "Owner": ""}},
    {"tags": {"k": "v"}},
]

# (changes, the setting named, allowed values): each one past an edge, or of the wrong kind.
REJECTED = [
    ({"name": ""}, NAME),
    ({"name": "a1234567890"}, NAME),
    ({"name": "1dev"}, NAME),
    ({"name": "Dev"}, NAME),
    ({"name": "dev-2"}, NAME),
    ({"retain_data": 1}, FLAG),
    ({"retain_data": "yes"}, FLAG),
    ({"noncurrent_version_expiration_days": 0}, DAYS),
    ({"noncurrent_version_expiration_days": 3651}, DAYS),
    ({"noncurrent_version_expiration_days": 7.0}, DAYS),
    ({"access_log_expiration_days": 0}, DAYS),
    ({"access_log_expiration_days": 3651}, DAYS),
    ({"access_log_expiration_days": True}, DAYS),
    ({"log_retention_days": 0}, PERIODS),
    ({"log_retention_days": 2}, PERIODS),
    ({"log_retention_days": 3654}, PERIODS),
    ({"log_retention_days": True}, PERIODS),
    ({"endpoint_instance_type": "ml.m5.xlarge"}, GPU),
    ({"endpoint_instance_type": "g4dn.xlarge"}, GPU),
    ({"endpoint_instance_type": "ml.g4dn.xlarge "}, GPU),
    ({"endpoint_instance_type": "xml.g4dn.xlarge"}, GPU),
    ({"endpoint_instance_type": "ml.g4dn.huge"}, GPU),
    ({"endpoint_instance_type": "ml.g4.xlarge"}, GPU),
    ({"endpoint_instance_type": None}, GPU),
    ({"endpoint_instance_count": 0}, "1 to 10"),
    ({"endpoint_max_instance_count": 11, "endpoint_instance_count": 11}, "1 to 10"),
    ({"endpoint_max_instance_count": 0}, "endpoint_instance_count (1) to 20"),
    ({"endpoint_instance_count": 3, "endpoint_max_instance_count": 2}, "endpoint_instance_count (3) to 20"),
    ({"endpoint_max_instance_count": 21}, "endpoint_instance_count (1) to 20"),
    ({"endpoint_max_instance_count": 2.0}, "endpoint_instance_count (1) to 20"),
    ({"endpoint_invocations_per_instance": 0}, "1 to 100000"),
    ({"endpoint_invocations_per_instance": 100_001}, "1 to 100000"),
    ({"canary_traffic_percent": 0}, "None (all at once) or 1 to 50"),
    ({"canary_traffic_percent": 51}, "None (all at once) or 1 to 50"),
    ({"canary_traffic_percent": 99}, "None (all at once) or 1 to 50"),
    ({"alarm_email": "not-an-address"}, EMAIL),
    ({"alarm_email": "oncall@example"}, EMAIL),
    ({"alarm_email": "on call@example.com"}, EMAIL),
    ({"alarm_email": "@example.com"}, EMAIL),
    ({"alarm_email": "oncall@example."}, EMAIL),
    ({"alarm_email": ""}, EMAIL),
    ({"data_capture_percent": -1}, "0 to 100"),
    ({"data_capture_percent": 101}, "0 to 100"),
    ({"data_capture_percent": 500}, "0 to 100"),
    ({"api_rate_limit": 0}, "more than 0 and at most 10000"),
    ({"api_rate_limit": 10_001}, "more than 0 and at most 10000"),
    ({"api_rate_limit": "5"}, "more than 0 and at most 10000"),
    ({"api_burst_limit": 0}, "1 to 5000"),
    ({"api_burst_limit": 5_001}, "1 to 5000"),
    ({"api_quota_per_day": 0}, "None (no quota) or 1 to api_rate_limit x 86400 (432000)"),
    ({"api_quota_per_day": 432_001}, "None (no quota) or 1 to api_rate_limit x 86400 (432000)"),
    ({"api_quota_per_day": 5000.0}, "None (no quota) or 1 to api_rate_limit x 86400 (432000)"),
    (
        {"api_rate_limit": 0.5, "api_quota_per_day": 43_201},
        "None (no quota) or 1 to api_rate_limit x 86400 (43200)",
    ),
    ({"api_key_required": None}, FLAG),
    ({"cors_allowed_origins": ()}, ORIGINS),
    ({"cors_allowed_origins": ("http://example.com",)}, ORIGINS),
    ({"cors_allowed_origins": ("https://dogs.example.com", "ftp://x")}, ORIGINS),
    ({"cors_allowed_origins": "*"}, ORIGINS),
    ({"cors_allowed_origins": (None,)}, ORIGINS),
    ({"function_memory_mb": 127}, "128 to 10240"),
    ({"function_memory_mb": 10_241}, "128 to 10240"),
    ({"function_reserved_concurrency": 0}, "1 to 500"),
    ({"function_reserved_concurrency": 501}, "1 to 500"),
    ({"training_instance_type": "ml.c5.xlarge"}, GPU),
    ({"training_max_instance_count": 0}, "1 to 20"),
    ({"training_max_instance_count": 21}, "1 to 20"),
    ({"training_spot": 0}, FLAG),
    ({"training_max_runtime_hours": 0}, "1 to 120"),
    ({"training_max_wait_hours": 240, "training_max_runtime_hours": 121}, "1 to 120"),
    ({"training_max_wait_hours": 5}, "training_max_runtime_hours (6) to 240"),
    ({"training_max_wait_hours": 241}, "training_max_runtime_hours (6) to 240"),
    ({"training_spot": False, "training_max_wait_hours": 5}, "training_max_runtime_hours (6) to 240"),
    ({"min_validation_accuracy": -0.01}, "0.0 to 1.0"),
    ({"min_validation_accuracy": 1.01}, "0.0 to 1.0"),
    ({"min_validation_accuracy": True}, "0.0 to 1.0"),
    ({"tags": {**MANY_TAGS, "one": "too many"}}, TAGS),
    ({"tags": {"k" * 129: "v"}}, TAGS),
    ({"tags": {"": "v"}}, TAGS),
    ({"tags": {"Owner": "v" * 257}}, TAGS),
    ({"tags": {"aws:owner": "me"}}, TAGS),
    ({"tags": {"Project": "other"}}, TAGS),
    ({"tags": {"Stage": "other"}}, TAGS),
    ({"tags": {"Owner": 7}}, TAGS),
    ({"tags": {7: "v"}}, TAGS),
    ({"tags": [("Owner", "me")]}, TAGS),
]


def _named(changes: dict) -> str:
    """The setting a rejected case is about: the last one it changes (the others make room)."""
    return list(changes)[-1]


@pytest.mark.parametrize("changes", ACCEPTED, ids=repr)
def test_a_value_at_its_limit_is_accepted(changes):
    config = replace(BASE, **changes)
    assert all(getattr(config, name) == value for name, value in changes.items())


@pytest.mark.parametrize(("changes", "allowed"), REJECTED, ids=[repr(c) for c, _ in REJECTED])
def test_a_value_past_its_limit_fails_naming_the_setting_and_its_allowed_values(changes, allowed):
    name = _named(changes)
    with pytest.raises(ConfigError) as raised:
        replace(BASE, **changes)
    assert str(raised.value) == f"invalid {name}={changes[name]!r}: allowed values are {allowed}"


def test_every_setting_declares_its_bound_and_is_tested():
    names = [f.name for f in fields(StageConfig)]
    unbounded = [f.name for f in fields(StageConfig) if not isinstance(f.metadata.get(BOUND), Bound)]
    assert unbounded == [], "declare these settings with setting(bound=...) in core/stage_config.py"
    assert sorted({name for changes in ACCEPTED for name in changes}) == sorted(names)
    assert sorted({_named(changes) for changes, allowed in REJECTED}) == sorted(names)


def _settings_table(text: str) -> str:
    """The per-stage table: its header and the rows that follow it."""
    lines = text[text.index("| setting | dev | prod | allowed |") :].splitlines()
    return "\n".join(itertools.takewhile(lambda line: line.startswith("|"), lines))


def test_every_setting_is_in_the_per_stage_table_of_the_configuration_doc():
    text = CONFIGURATION_DOC.read_text()
    table = _settings_table(text)
    missing = [f.name for f in fields(StageConfig) if f.name != "name" and f"`{f.name}`" not in table]
    assert missing == []


def _shown(value) -> str:
    """A setting's value as the configuration doc's table writes it."""
    if value is None or value == {}:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:,}"
    if isinstance(value, tuple):
        return ", ".join(map(_shown, value))
    return f"`{value}`"


def test_the_configuration_docs_table_shows_each_stages_values():
    text = CONFIGURATION_DOC.read_text()
    table = _settings_table(text)
    checked = 0
    for row in table.splitlines()[2:]:
        setting_cell, dev, prod, _ = (cell.strip() for cell in row.strip("|").split("|"))
        names = re.findall(r"`(\w+)`", setting_cell.split("(")[0])
        for stage, cell in (("dev", dev), ("prod", prod)):
            parts = cell.split(" / ") if len(names) > 1 else [cell]
            for name, part in zip(names, parts, strict=True):
                assert part.startswith(_shown(getattr(STAGES[stage], name))), (stage, name, part)
                checked += 1
    assert checked == 2 * (len(fields(StageConfig)) - 1)  # every setting but the name


def test_a_setting_without_a_bound_fails_when_the_config_is_built():
    @dataclass(frozen=True)
    class Unchecked(StageConfig):
        extra: int = field(default=0)

    with pytest.raises(TypeError) as raised:
        Unchecked(**{f.name: getattr(BASE, f.name) for f in fields(StageConfig)})
    assert str(raised.value) == "extra declares no allowed values: define it with setting(...)"


def test_a_new_setting_declared_with_its_bound_is_checked():
    @dataclass(frozen=True)
    class Extended(StageConfig):
        extra: int = setting(between(1, 2), 3)

    with pytest.raises(ConfigError) as raised:
        Extended(**{f.name: getattr(BASE, f.name) for f in fields(StageConfig)})
    assert str(raised.value) == "invalid extra=3: allowed values are 1 to 2"


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_the_built_in_stages_are_within_their_bounds(stage):
    config = STAGES[stage]
    assert replace(config) == config


def test_reserved_concurrency_protects_the_account_in_every_stage():
    # A slow endpoint (the 18 s path) at prod's rate would otherwise hold ~900 of the account's
    # default 1,000 executions; the reservation caps the function well below that.
    for config in STAGES.values():
        assert config.function_reserved_concurrency <= 100
        assert config.function_reserved_concurrency >= config.api_rate_limit


def test_default_stage_is_dev():
    assert stage_config(None).name == "dev"


def test_unknown_stage_names_the_setting_and_the_allowed_values():
    with pytest.raises(ConfigError) as raised:
        stage_config("qa")
    assert (
        str(raised.value)
        == "invalid stage='qa': allowed values are dev, prod (choose one with -c stage=NAME)"
    )


@pytest.mark.parametrize(("value", "enabled"), [(None, True), ("on", True), ("true", True), (True, True)])
def test_endpoint_switch_turns_the_endpoint_on(value, enabled):
    assert endpoint_switch(value) is enabled


@pytest.mark.parametrize("value", ["off", "false", False])
def test_endpoint_switch_turns_the_endpoint_off(value):
    assert endpoint_switch(value) is False


@pytest.mark.parametrize("value", ["maybe", "", "OFF", 0, 1, "no"])
def test_endpoint_switch_names_the_allowed_values_otherwise(value):
    with pytest.raises(ConfigError) as raised:
        endpoint_switch(value)
    assert str(raised.value) == (
        f"invalid endpoint={value!r}: allowed values are on, off, true, false (choose with -c endpoint=off)"
    )


def test_a_stage_has_a_storage_training_and_serving_stack_named_for_it():
    assert [STAGES["prod"].stack_name(c) for c in STAGE_COMPONENTS] == [
        "DogBreeds-prod-Storage",
        "DogBreeds-prod-Training",
        "DogBreeds-prod-Serving",
    ]
