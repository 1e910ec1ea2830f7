"""`python -m training cost`: what a stage costs while deployed and per run, offline."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.stage_config import STAGES
from training.commands.cost import report
from training.errors import TrainingError
from training.jobs.pricing import price_table


def test_prod_report_prices_the_minimum_endpoint_fleet_per_hour_and_month():
    prices = price_table()
    lines = report(STAGES["prod"], prices, endpoint_running=True, tuning_jobs=10)
    hourly = prices.hosting_per_hour["ml.g4dn.xlarge"] * 2
    monthly = hourly * prices.hours_per_month + prices.monthly["cloudwatch_dashboard"] + 6 * 0.10
    text = "\n".join(lines)
    assert "2 to 6 x ml.g4dn.xlarge" in text
    assert f"${monthly:,.2f} per month at the minimum" in text
    assert f"${hourly:,.2f} per idle hour" in text


def test_report_names_the_price_table_date():
    lines = report(STAGES["dev"], price_table(), endpoint_running=True, tuning_jobs=10)
    assert f"list prices of {price_table().date}" in lines[0]


def test_a_stage_without_a_running_endpoint_idles_at_no_hourly_cost_and_says_what_one_would_cost():
    text = "\n".join(report(STAGES["dev"], price_table(), endpoint_running=False, tuning_jobs=10))
    assert "endpoint: none" in text
    assert "$0.00 per idle hour" in text
    assert "once a model is pinned and the endpoint is on: 1 to 2 x ml.g4dn.xlarge" in text
    assert "1 dashboard and 4 alarms" in text


def test_per_run_estimates_cover_training_and_the_tuning_budget_with_spot():
    prices = price_table()
    text = "\n".join(report(STAGES["dev"], prices, endpoint_running=False, tuning_jobs=4))
    on_demand = prices.training_per_hour["ml.g4dn.xlarge"] * 6 * 4
    assert f"tuning, 4 jobs: 4 x ml.g4dn.xlarge x 6 h: at most ${on_demand:,.2f} on demand" in text
    assert "with managed spot" in text


def test_an_endpoint_type_missing_from_the_table_is_a_clear_error():
    config = replace(STAGES["dev"], endpoint_instance_type="ml.p5.48xlarge")
    with pytest.raises(
        TrainingError, match=r"no hosting price for ml.p5.48xlarge in training/jobs/prices.json"
    ):
        report(config, price_table(), endpoint_running=True, tuning_jobs=1)


def test_cost_command_runs_offline_and_exits_zero(capsys):
    from training.cli import main

    assert main(["cost", "--stage", "dev"]) == 0
    out = capsys.readouterr().out
    assert "kept running (billed by the hour):" in out
    assert "per run (the most it can cost):" in out
