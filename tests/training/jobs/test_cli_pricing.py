"""Cost estimates from the dated price table."""

from __future__ import annotations

import pytest

from core.stage_config import STAGES
from training.jobs.pricing import UnknownPrice, billed_cost, estimate_line, price_table, training_cost


def test_estimate_is_price_times_hours_times_instances():
    estimate = training_cost("ml.p3.2xlarge", hours=2, count=3, spot=False)

    assert estimate.total == pytest.approx(3.825 * 2 * 3)


def test_spot_estimate_deducts_the_typical_saving():
    estimate = training_cost("ml.g4dn.xlarge", hours=10, count=1, spot=True)

    assert estimate.total == pytest.approx(0.736 * 10 * (1 - price_table().spot_savings))


def test_every_estimate_names_the_price_tables_date_and_region():
    line = estimate_line("ml.g5.xlarge", 1, 1, spot=False)

    assert f"us-east-1 list prices of {price_table().date}, approximate" in line


def test_spot_estimate_says_the_saving_is_typical_not_promised():
    line = estimate_line("ml.g5.xlarge", 1, 1, spot=True)

    assert "assuming the typical 70% saving; it varies" in line


def test_unknown_instance_type_raises_unknown_price():
    with pytest.raises(UnknownPrice, match="no training price for ml.x99.large in training/jobs/prices.json"):
        training_cost("ml.x99.large", 1, 1, spot=False)


def test_unknown_instance_type_estimate_line_says_unknown():
    assert estimate_line("ml.x99.large", 1, 1, spot=False).startswith(
        "estimated cost: unknown (no training price for"
    )


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_every_stages_training_instance_type_has_a_price(stage):
    assert STAGES[stage].training_instance_type in price_table().training_per_hour


def test_billed_cost_is_billable_hours_times_price_times_instances():
    assert billed_cost("ml.g4dn.xlarge", billable_seconds=1800, count=2) == pytest.approx(0.736)
