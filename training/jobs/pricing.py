"""Cost estimates from the dated price table ``training/jobs/prices.json`` (approximate list prices).

An estimate is an upper bound: SageMaker stops a job at its maximum runtime, and bills managed
spot jobs for fewer seconds than they ran (``BillableTimeInSeconds``). Every estimate names the
table's date, because prices change and the table does not follow them by itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from training.errors import TrainingError

PRICES_FILE = Path(__file__).resolve().parent / "prices.json"


class UnknownPrice(TrainingError):
    """The price table has no price for an instance type."""


@dataclass(frozen=True)
class PriceTable:
    date: str
    region: str
    currency: str
    spot_savings: float
    training_per_hour: dict[str, float]
    hosting_per_hour: dict[str, float]
    monthly: dict[str, float]
    hours_per_month: float

    @property
    def label(self) -> str:
        return f"{self.region} list prices of {self.date}, approximate (training/jobs/{PRICES_FILE.name})"

    def hourly(self, instance_type: str, table: str = "training") -> float:
        prices = self.training_per_hour if table == "training" else self.hosting_per_hour
        try:
            return prices[instance_type]
        except KeyError:
            raise UnknownPrice(
                f"no {table} price for {instance_type} in training/jobs/{PRICES_FILE.name} "
                f"(dated {self.date}): "
                "add it from https://aws.amazon.com/sagemaker/pricing/"
            ) from None


@dataclass(frozen=True)
class Estimate:
    """The most a run can cost: ``count`` instances of ``instance_type`` for ``hours`` each."""

    instance_type: str
    hours: float
    count: int
    spot: bool
    hourly_price: float
    prices: PriceTable

    @property
    def on_demand(self) -> float:
        return self.hourly_price * self.hours * self.count

    @property
    def total(self) -> float:
        """The expected maximum: on demand, less the typical spot saving when spot is used."""
        return self.on_demand * (1 - self.prices.spot_savings) if self.spot else self.on_demand

    def describe(self, unit: str = "instance") -> str:
        units = unit if self.count == 1 else f"{unit}s"
        hourly = money(self.hourly_price, self.prices, cents=False)
        text = (
            f"{self.count} {units} x {self.instance_type} x {self.hours:g} h at {hourly}/h = "
            f"at most {money(self.on_demand, self.prices)} on demand"
        )
        if self.spot:
            text += (
                f", about {money(self.total, self.prices)} with managed spot (assuming the typical "
                f"{self.prices.spot_savings:.0%} saving; it varies)"
            )
        return f"{text}; {self.prices.label}"


@cache
def price_table(path: Path = PRICES_FILE) -> PriceTable:
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return PriceTable(
        date=raw["date"],
        region=raw["region"],
        currency=raw["currency"],
        spot_savings=float(raw["spot_savings"]),
        training_per_hour={name: float(price) for name, price in raw["training_per_hour"].items()},
        hosting_per_hour={name: float(price) for name, price in raw["hosting_per_hour"].items()},
        monthly={name: float(price) for name, price in raw["monthly"].items()},
        hours_per_month=float(raw["hours_per_month"]),
    )


def training_cost(instance_type: str, hours: float, count: int, spot: bool) -> Estimate:
    """The estimate for ``count`` instances running ``hours``; UnknownPrice for a type not in the table."""
    prices = price_table()
    return Estimate(
        instance_type=instance_type,
        hours=hours,
        count=count,
        spot=spot,
        hourly_price=prices.hourly(instance_type),
        prices=prices,
    )


def billed_cost(instance_type: str, billable_seconds: float, count: int) -> float | None:
    """What SageMaker bills for ``billable_seconds`` per instance (spot savings already deducted
    from the seconds); None when the table has no price for the type."""
    prices = price_table()
    if instance_type not in prices.training_per_hour:
        return None
    return prices.hourly(instance_type) * billable_seconds / 3600 * count


def money(amount: float, prices: PriceTable | None = None, cents: bool = True) -> str:
    """``$4.42``; with ``cents=False`` as precise as the table (``$0.736``)."""
    currency = (prices or price_table()).currency
    number = f"{amount:,.2f}" if cents else f"{amount:,.4f}".rstrip("0").rstrip(".")
    return f"${number}" if currency == "USD" else f"{number} {currency}"


def estimate_line(instance_type: str, hours: float, count: int, spot: bool, unit: str = "instance") -> str:
    """``estimated cost: ...`` for the commands to print before they start anything billable."""
    try:
        estimate = training_cost(instance_type, hours, count, spot)
    except UnknownPrice as unknown:
        return f"estimated cost: unknown ({unknown})"
    return f"estimated cost: {estimate.describe(unit)}"
