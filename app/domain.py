"""Plain domain objects shared by every layer (stdlib only).

Conventions: instants are timezone-aware UTC datetimes, calendar days are Paris-local dates,
energy is in Wh (integers), power in W (load curve averages) or VA (daily maximum).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar


class Direction(StrEnum):
    CONSUMPTION = "consumption"
    PRODUCTION = "production"


class PricingOption(StrEnum):
    BASE = "BASE"
    HC_HP = "HC_HP"
    TEMPO = "TEMPO"
    EJP = "EJP"
    HC_WEEKEND = "HC_WEEKEND"
    UNKNOWN = "UNKNOWN"


class DailySource(StrEnum):
    """Where a stored daily figure comes from: the meter's own daily index, or the sum of the curve."""

    METER = "meter"
    CURVE = "curve"


class TempoColor(StrEnum):
    BLUE = "BLUE"
    WHITE = "WHITE"
    RED = "RED"


class DataKind(StrEnum):
    """What a sync request fetches; also the key of stored coverage."""

    USAGE_POINTS = "usage_points"
    CONTRACT = "contract"
    ADDRESS = "address"
    DAILY_CONSUMPTION = "daily_consumption"
    DAILY_PRODUCTION = "daily_production"
    CURVE_CONSUMPTION = "curve_consumption"
    CURVE_PRODUCTION = "curve_production"
    MAX_POWER = "max_power"
    TEMPO = "tempo"
    ECOWATT = "ecowatt"
    OFFERS = "offers"
    USAGE_STATS = "usage_stats"

    @property
    def direction(self) -> Direction | None:
        if self in (DataKind.DAILY_CONSUMPTION, DataKind.CURVE_CONSUMPTION, DataKind.MAX_POWER):
            return Direction.CONSUMPTION
        if self in (DataKind.DAILY_PRODUCTION, DataKind.CURVE_PRODUCTION):
            return Direction.PRODUCTION
        return None

    @property
    def is_ranged(self) -> bool:
        """Kinds fetched by date range and tracked by coverage."""
        return self in RANGED_KINDS

    @staticmethod
    def daily(direction: Direction) -> DataKind:
        return DataKind.DAILY_CONSUMPTION if direction is Direction.CONSUMPTION else DataKind.DAILY_PRODUCTION

    @staticmethod
    def curve(direction: Direction) -> DataKind:
        return DataKind.CURVE_CONSUMPTION if direction is Direction.CONSUMPTION else DataKind.CURVE_PRODUCTION


RANGED_KINDS = frozenset(
    {
        DataKind.DAILY_CONSUMPTION,
        DataKind.DAILY_PRODUCTION,
        DataKind.CURVE_CONSUMPTION,
        DataKind.CURVE_PRODUCTION,
        DataKind.MAX_POWER,
        DataKind.TEMPO,
    }
)


@dataclass(frozen=True, slots=True, order=True)
class DateRange:
    """An inclusive range of Paris-local days."""

    first: dt.date
    last: dt.date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"empty date range {self.first}..{self.last}")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.first <= day <= self.last

    def iter_days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range(self.days)]


def merge_date_ranges(ranges: Iterable[DateRange]) -> list[DateRange]:
    """Sorted, disjoint, non-adjacent ranges holding the same days (overlapping and adjacent merge)."""
    one_day = dt.timedelta(days=1)
    merged: list[DateRange] = []
    for current in sorted(ranges, key=lambda r: (r.first, r.last)):
        if merged and current.first <= merged[-1].last + one_day:
            if current.last > merged[-1].last:
                merged[-1] = DateRange(merged[-1].first, current.last)
        else:
            merged.append(current)
    return merged


@dataclass(frozen=True, slots=True)
class OffpeakRange:
    """One off-peak window in local wall-clock time; end <= start means it crosses midnight."""

    start: dt.time
    end: dt.time

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True, slots=True)
class UsagePoint:
    usage_point_id: str
    name: str = ""
    subscribed_power_kva: int | None = None
    pricing_option: PricingOption = PricingOption.UNKNOWN
    offpeak_hours: tuple[OffpeakRange, ...] = ()
    has_consumption: bool = True
    has_production: bool = False
    is_active: bool = True
    activation_date: dt.date | None = None
    oldest_available_data_date: dt.date | None = None
    linked_production_pdl_id: str | None = None

    @property
    def earliest_known_data_day(self) -> dt.date | None:
        days = [d for d in (self.activation_date, self.oldest_available_data_date) if d is not None]
        return max(days) if days else None


@dataclass(frozen=True, slots=True)
class Contract:
    usage_point_id: str
    segment: str | None = None
    subscribed_power_kva: int | None = None
    distribution_tariff: str | None = None
    offpeak_hours: tuple[OffpeakRange, ...] = ()
    last_activation_date: dt.date | None = None
    last_distribution_tariff_change_date: dt.date | None = None
    contract_status: str | None = None
    meter_type: str | None = None
    usage_point_status: str | None = None


def subscribed_power(contract: Contract | None, point: UsagePoint | None) -> int | None:
    """The subscribed power in kVA: the Enedis contract's, else the gateway's usage-point list's."""
    return (contract.subscribed_power_kva if contract else None) or (
        point.subscribed_power_kva if point else None
    )


def contract_offpeak(contract: Contract | None, point: UsagePoint | None) -> tuple[OffpeakRange, ...]:
    """Off-peak hours as Enedis states them: the contract's, else the usage-point list's. The hours in
    force, with the user's override, come from `app.pricing.costs.offpeak_hours`."""
    return (contract.offpeak_hours if contract else ()) or (point.offpeak_hours if point else ())


@dataclass(frozen=True, slots=True)
class Address:
    usage_point_id: str
    street: str | None = None
    locality: str | None = None
    postal_code: str | None = None
    insee_code: str | None = None
    city: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class DailyEnergy:
    usage_point_id: str
    direction: Direction
    day: dt.date
    wh: int
    source: DailySource = DailySource.METER
    complete: bool = True


@dataclass(frozen=True, slots=True)
class IntervalReading:
    """Average power over [start, start + minutes); average_w None means a missing slot, not zero."""

    usage_point_id: str
    direction: Direction
    start: dt.datetime
    minutes: int
    average_w: int | None

    @property
    def energy_wh(self) -> float | None:
        return None if self.average_w is None else self.average_w * self.minutes / 60


@dataclass(frozen=True, slots=True)
class MaxPower:
    usage_point_id: str
    day: dt.date
    va: int
    at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class TempoDay:
    day: dt.date
    color: TempoColor


@dataclass(frozen=True, slots=True)
class EcoWattDay:
    day: dt.date
    level: int
    message: str = ""
    hourly: tuple[int, ...] = ()
    generated_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Offer:
    """A supplier offer for one subscribed power, valid over [valid_from, valid_to)."""

    provider: str
    name: str
    option: PricingOption
    power_kva: int
    subscription_eur_month: Decimal
    prices_eur_kwh: tuple[tuple[str, Decimal], ...]
    valid_from: dt.date
    valid_to: dt.date | None = None
    offpeak_hours: tuple[OffpeakRange, ...] = ()
    source: str = ""

    def price(self, bucket: str) -> Decimal | None:
        return dict(self.prices_eur_kwh).get(bucket)


@dataclass(frozen=True, slots=True)
class UsageStats:
    cached_requests: int
    no_cache_requests: int
    cached_limit: int
    no_cache_limit: int
    date: dt.date

    @property
    def cached_remaining(self) -> int:
        return max(0, self.cached_limit - self.cached_requests)


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Fetched(Generic[T]):
    """What a range request brought back. `partial` holds the gateway's message when some chunks failed
    (PARTIAL_DATA): only the days present in `items` may then be counted as fetched."""

    items: list[T]
    partial: str | None = None


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One HTTP request sent to the gateway (quota accounting). Never holds secrets."""

    route: str
    usage_point_id: str | None
    status: int | None
    outcome: str
    at: dt.datetime
    counts_against_quota: bool


class SyncPhase(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    DONE = "done"
    QUOTA = "quota"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """Progress of the sync of one usage point ("" for the account as a whole)."""

    usage_point_id: str
    phase: SyncPhase
    done: int = 0
    total: int = 0
    step: str = ""
    last_success: dt.datetime | None = None
    last_error_code: str | None = None
    last_error_message: str | None = None
    updated_at: dt.datetime | None = None
