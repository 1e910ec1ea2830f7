"""``cost --stage S``: what a stage keeps running and costs, and what a training or tuning run costs.

Works offline from the stage settings (core/stage_config.py), the stage's pinned model
(models/<stage>.json) and the dated price table (training/jobs/prices.json), so it answers before
anything is deployed. Requests (API Gateway, Lambda, Step Functions) and S3 storage are billed by
use, not by the hour, and are left out of the hourly figures.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from core.model_pin import ModelPinError, load_pinned_model
from core.stage_config import StageConfig, endpoint_switch
from training.commands import options
from training.errors import TrainingError
from training.jobs.pricing import PriceTable, UnknownPrice, money, price_table, training_cost

# stacks/constructs/serving_monitoring.py: API 5xx and latency, function errors and throttles,
# and the endpoint's errors and latency when it runs.
ALARMS_WITHOUT_ENDPOINT = 4
ALARMS_WITH_ENDPOINT = 6
DEFAULT_TUNING_JOBS = 10


def register(subcommands: Any) -> None:
    parser = options.command_parser(
        subcommands,
        "cost",
        summary="what a stage keeps running and costs per hour and month, and per training or tuning run "
        "(offline)",
        description=(
            "Print what the stage keeps running and costs per hour and per month (endpoint instances at "
            "the auto scaling minimum, up to the maximum, plus CloudWatch), then the most a training run "
            "and a tuning run can cost. Works offline, no AWS access: from core/stage_config.py, "
            "models/<stage>.json and the dated price table training/jobs/prices.json, whose date is "
            "printed."
        ),
        example_list=(
            f"{options.PROG} cost --stage dev",
            f"{options.PROG} cost --stage prod --endpoint off --tuning-jobs 20",
        ),
    )
    options.add_stage(
        parser, "the stage whose settings to price (core/stage_config.py); need not be deployed"
    )
    parser.add_argument(
        "--endpoint",
        choices=("on", "off"),
        default="on",
        help="as deployed with -c endpoint=on|off (default: on)",
    )
    parser.add_argument(
        "--tuning-jobs",
        type=int,
        default=DEFAULT_TUNING_JOBS,
        metavar="N",
        help=f"training jobs in the tuning estimate (default: {DEFAULT_TUNING_JOBS})",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = options.config(args)
    prices = price_table()
    try:
        has_model = load_pinned_model(config.name).has_model
    except ModelPinError as error:
        raise TrainingError(str(error)) from None
    endpoint_running = has_model and endpoint_switch(args.endpoint)
    for line in report(config, prices, endpoint_running=endpoint_running, tuning_jobs=args.tuning_jobs):
        print(line)
    return 0


def report(config: StageConfig, prices: PriceTable, *, endpoint_running: bool, tuning_jobs: int) -> list[str]:
    """The cost report's lines (plain data in, text out, so tests need no AWS)."""
    price = _hosting(config.endpoint_instance_type, prices)
    fleet = (
        f"{config.endpoint_instance_count} to {config.endpoint_max_instance_count} x "
        f"{config.endpoint_instance_type} at {money(price, prices, cents=False)}/h = "
        f"{money(price * config.endpoint_instance_count, prices)} to "
        f"{money(price * config.endpoint_max_instance_count, prices)} per hour"
    )
    lines = [f"stage {config.name}: prices are {prices.label}", "", "kept running (billed by the hour):"]
    if endpoint_running:
        hourly_minimum = price * config.endpoint_instance_count
        hourly_maximum = price * config.endpoint_max_instance_count
        lines.append(f"  endpoint: {fleet}")
    else:
        hourly_minimum = hourly_maximum = 0.0
        lines.append("  endpoint: none (no pinned model, or deployed with -c endpoint=off): $0.00 per hour")
        lines.append(f"    once a model is pinned and the endpoint is on: {fleet}")
    alarms = ALARMS_WITH_ENDPOINT if endpoint_running else ALARMS_WITHOUT_ENDPOINT
    fixed = cloudwatch_per_month(alarms, prices)
    lines.append(f"  CloudWatch: 1 dashboard and {alarms} alarms = {money(fixed, prices)} per month")
    month = prices.hours_per_month
    lines += [
        f"  total: {money(hourly_minimum * month + fixed, prices)} per month at the minimum "
        f"(up to {money(hourly_maximum * month + fixed, prices)} fully scaled out), "
        f"{money(hourly_minimum, prices)} per idle hour",
        "  not included: requests (API Gateway, Lambda, Step Functions) and S3 storage, billed by use",
        "",
        "per run (the most it can cost):",
        "  training: "
        + _run(config.training_instance_type, config.training_max_runtime_hours, 1, config, prices),
        f"  tuning, {tuning_jobs} jobs: "
        + _run(config.training_instance_type, config.training_max_runtime_hours, tuning_jobs, config, prices),
        "  python -m training train/tune print the same estimate, for the exact run, before they start",
    ]
    return lines


def cloudwatch_per_month(alarms: int, prices: PriceTable) -> float:
    """The stage's dashboard and ``alarms`` alarms, per month."""
    return prices.monthly["cloudwatch_dashboard"] + alarms * prices.monthly["cloudwatch_alarm"]


def markdown_summary(configs: Sequence[StageConfig], prices: PriceTable) -> list[str]:
    """The README's cost table (``scripts/docs``): per stage, per hour and per month, endpoint on and off."""
    lines = [
        "| stage | endpoint, once a model is pinned | per hour | per month: endpoint + CloudWatch "
        "| with `-c endpoint=off` | a training run at its maximum runtime |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for config in configs:
        hourly = _hosting(config.endpoint_instance_type, prices) * config.endpoint_instance_count
        endpoint_month = hourly * prices.hours_per_month
        watch = cloudwatch_per_month(ALARMS_WITH_ENDPOINT, prices)
        idle = cloudwatch_per_month(ALARMS_WITHOUT_ENDPOINT, prices)
        spot = "with spot" if config.training_spot else "on demand"
        run = training_cost(
            config.training_instance_type, config.training_max_runtime_hours, 1, config.training_spot
        )
        lines.append(
            f"| {config.name} | {config.endpoint_instance_count} x `{config.endpoint_instance_type}` "
            f"| {money(hourly, prices)} | **{money(endpoint_month, prices)}** + {money(watch, prices)} = "
            f"{money(endpoint_month + watch, prices)} | {money(idle, prices)} a month, $0 an hour "
            f"| {money(run.total, prices)} ({run.hours:g} h {spot}) |"
        )
    return lines


def markdown_table(configs: Sequence[StageConfig], prices: PriceTable, tuning_jobs: int) -> list[str]:
    """docs/costs.md's table (``scripts/docs``): the figures ``cost`` prints, one row per stage."""
    lines = [
        "| stage | endpoint instances | endpoint per hour | endpoint per month | CloudWatch per month "
        "(endpoint on / off) | total per month | training run, at most | "
        f"tuning run ({tuning_jobs} jobs), at most |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for config in configs:
        price = _hosting(config.endpoint_instance_type, prices)
        low, high = price * config.endpoint_instance_count, price * config.endpoint_max_instance_count
        month = prices.hours_per_month
        on = cloudwatch_per_month(ALARMS_WITH_ENDPOINT, prices)
        off = cloudwatch_per_month(ALARMS_WITHOUT_ENDPOINT, prices)
        runtime = config.training_max_runtime_hours
        lines.append(
            f"| {config.name} | {config.endpoint_instance_count} to {config.endpoint_max_instance_count} x "
            f"`{config.endpoint_instance_type}` at {money(price, prices, cents=False)}/h "
            f"| {money(low, prices)} to {money(high, prices)} "
            f"| {money(low * month, prices)} to {money(high * month, prices)} "
            f"| {money(on, prices)} / {money(off, prices)} "
            f"| {money(low * month + on, prices)} to {money(high * month + on, prices)} "
            f"| {_run(config.training_instance_type, runtime, 1, config, prices)} "
            f"| {_run(config.training_instance_type, runtime, tuning_jobs, config, prices)} |"
        )
    return lines


def _hosting(instance_type: str, prices: PriceTable) -> float:
    try:
        return prices.hourly(instance_type, table="hosting")
    except UnknownPrice as unknown:
        raise TrainingError(str(unknown)) from None


def _run(instance_type: str, hours: float, count: int, config: StageConfig, prices: PriceTable) -> str:
    try:
        estimate = training_cost(instance_type, hours, count, config.training_spot)
    except UnknownPrice as unknown:
        return f"unknown ({unknown})"
    text = f"{count} x {instance_type} x {hours:g} h: at most {money(estimate.on_demand, prices)} on demand"
    if config.training_spot:
        text += f", about {money(estimate.total, prices)} with managed spot"
    return text
