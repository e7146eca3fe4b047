"""What several exporters send, read from the store in one place: current values per usage point."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from app import timeline
from app.costing import contract_timeline, day_split, peak_offpeak_from_curve
from app.domain import Direction, EcoWattDay, MaxPower, TempoDay, UsagePoint, subscribed_power
from app.exporters.base import ExportContext
from app.tariff_rules import ContractPeriod

EPOCH_DAY = dt.date(1970, 1, 1)


@dataclass
class DirectionSummary:
    day: dt.date | None = None  # newest stored day
    day_wh: int | None = None
    hp_wh: int | None = None
    hc_wh: int | None = None
    day_cost: Decimal | None = None
    yesterday_wh: int | None = None
    month: dt.date | None = None  # first day of the current Paris month
    month_wh: int | None = None
    year: dt.date | None = None
    year_wh: int | None = None
    total_wh: int = 0  # every stored day


@dataclass
class PointSummary:
    point: UsagePoint
    subscribed_kva: int | None
    consumption: DirectionSummary | None = None
    production: DirectionSummary | None = None
    max_power: MaxPower | None = None


@dataclass
class Summary:
    today: dt.date
    points: list[PointSummary] = field(default_factory=list)
    tempo: dict[str, TempoDay] = field(default_factory=dict)  # "today" / "tomorrow"
    ecowatt: dict[str, EcoWattDay] = field(default_factory=dict)


async def summarize(context: ExportContext) -> Summary:
    store = context.store
    now = context.clock()
    today = timeline.paris_today(now)
    summary = Summary(today=today)
    contracts = await store.contracts()
    for point in await store.usage_points():
        pdl = point.usage_point_id
        contract = contracts.get(pdl)
        entry = PointSummary(
            point=point,
            subscribed_kva=subscribed_power(contract, point),
        )
        periods = await contract_timeline(store, pdl)
        for direction in (Direction.CONSUMPTION, Direction.PRODUCTION):
            wanted = point.has_consumption if direction is Direction.CONSUMPTION else point.has_production
            if not wanted:
                continue
            part = await _direction(context, point, direction, today, periods)
            if direction is Direction.CONSUMPTION:
                entry.consumption = part
            else:
                entry.production = part
        recent = await store.max_power(pdl, today - dt.timedelta(days=400), today)
        entry.max_power = recent[-1] if recent else None
        summary.points.append(entry)
    one = dt.timedelta(days=1)
    for day in await store.tempo(today, today + one):
        summary.tempo["today" if day.day == today else "tomorrow"] = day
    for eco in await store.ecowatt(today, today + one):
        summary.ecowatt["today" if eco.day == today else "tomorrow"] = eco
    return summary


async def _direction(
    context: ExportContext,
    point: UsagePoint,
    direction: Direction,
    today: dt.date,
    periods: Sequence[ContractPeriod],
) -> DirectionSummary:
    store = context.store
    pdl = point.usage_point_id
    part = DirectionSummary()
    years = await store.daily_energy(pdl, direction, "year", EPOCH_DAY, today)
    part.total_wh = sum(wh for _, wh in years)
    part.year = today.replace(month=1, day=1)
    part.year_wh = next((wh for key, wh in years if key == part.year), None)
    part.month = today.replace(day=1)
    months = await store.daily_energy(pdl, direction, "month", part.month, today)
    part.month_wh = months[0][1] if months else None
    recent = await store.daily(pdl, direction, today - dt.timedelta(days=400), today - dt.timedelta(days=1))
    if recent:
        last = recent[-1]
        part.day, part.day_wh = last.day, last.wh
        if last.day == today - dt.timedelta(days=1):
            part.yesterday_wh = last.wh
        if direction is Direction.CONSUMPTION:
            if context.costs is not None:
                part.hp_wh, part.hc_wh, part.day_cost = await day_split(context.costs, pdl, last.day)
            if part.hp_wh is None:
                part.hp_wh, part.hc_wh = await peak_offpeak_from_curve(store, pdl, periods, last.day)
    return part


def kwh(wh: int | float | None) -> float | None:
    return None if wh is None else round(wh / 1000, 3)
