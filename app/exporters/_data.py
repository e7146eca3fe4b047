"""What several exporters send, read from the store in one place: current values per usage point."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from app import timeline
from app.domain import Direction, EcoWattDay, MaxPower, OffpeakRange, TempoDay, UsagePoint, subscribed_power
from app.exporters.base import ExportContext
from app.pricing.costs import offpeak_hours
from app.pricing.source import BucketCost

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


def is_offpeak(local: dt.time, ranges: Sequence[OffpeakRange]) -> bool:
    for window in ranges:
        if window.crosses_midnight:
            if local >= window.start or local < window.end:
                return True
        elif window.start <= local < window.end:
            return True
    return False


def split_buckets(costs: Sequence[BucketCost]) -> tuple[int | None, int | None, Decimal | None]:
    """HP and HC Wh (None when the offer has no such buckets) and the total cost of the buckets."""
    hp = [c.wh for c in costs if c.bucket == "hp" or c.bucket.endswith("_hp")]
    hc = [c.wh for c in costs if c.bucket == "hc" or c.bucket.endswith("_hc")]
    total = sum((c.euros for c in costs), Decimal(0)) if costs else None
    return (sum(hp) if hp or hc else None), (sum(hc) if hp or hc else None), total


async def hphc_from_curve(
    context: ExportContext, point: UsagePoint, ranges: Sequence[OffpeakRange], day: dt.date
) -> tuple[int | None, int | None]:
    """HP/HC Wh of one Paris day from the stored load curve and the off-peak windows."""
    if not ranges:
        return None, None
    start, end = timeline.day_bounds_utc(day)
    readings = await context.store.completed_intervals(
        point.usage_point_id, Direction.CONSUMPTION, start, end
    )
    known = [r for r in readings if r.average_w is not None]
    if not known:
        return None, None
    hp = hc = 0
    for reading in known:
        assert reading.average_w is not None
        watt_minutes = reading.average_w * reading.minutes
        if is_offpeak(timeline.to_paris(reading.start).time(), ranges):
            hc += watt_minutes
        else:
            hp += watt_minutes
    return round(hp / 60), round(hc / 60)


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
        ranges = await offpeak_hours(store, pdl, contract, point)
        for direction in (Direction.CONSUMPTION, Direction.PRODUCTION):
            wanted = point.has_consumption if direction is Direction.CONSUMPTION else point.has_production
            if not wanted:
                continue
            part = await _direction(context, point, direction, today, ranges)
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
    ranges: Sequence[OffpeakRange],
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
                buckets = await context.costs.daily(pdl, last.day, last.day)
                part.hp_wh, part.hc_wh, part.day_cost = split_buckets(buckets)
            if part.hp_wh is None:
                part.hp_wh, part.hc_wh = await hphc_from_curve(context, point, ranges, last.day)
    return part


def kwh(wh: int | float | None) -> float | None:
    return None if wh is None else round(wh / 1000, 3)
