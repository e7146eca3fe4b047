"""Hourly energy (and cost) per tariff bucket, built from the store for the long-term statistics.

Energy is kept in watt-minutes (integers: average W x slot minutes) so that sums never drift; one kWh is
60,000 watt-minutes. Hours are UTC hours, which are exactly the local hours in Paris (whole-hour offsets),
so 23- and 25-hour DST days come out right by construction. Days older than the load-curve history only
have a daily value: it goes into the first hour (00:00 local) of that day, in the total only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from app import timeline
from app.domain import Direction, OffpeakRange, PricingOption, TempoColor
from app.pricing.costs import offpeak_hours
from app.pricing.source import CostSource
from app.store import Store

WM_PER_KWH = 60_000
TOTAL = ""  # the bucket key of the all-buckets total
CHUNK_DAYS = 31
TEMPO_HC_START, TEMPO_HC_END = 22, 6  # Tempo off-peak hours; a Tempo day runs 06:00 -> 06:00


@dataclass
class HourlyEnergy:
    """watt-minutes per bucket ("" = total) per UTC hour start; `cost` in EUR per bucket per hour."""

    energy: dict[str, dict[dt.datetime, int]] = field(default_factory=lambda: defaultdict(dict))
    cost: dict[str, dict[dt.datetime, Decimal]] = field(default_factory=lambda: defaultdict(dict))


def in_offpeak(moment: dt.time, ranges: tuple[OffpeakRange, ...]) -> bool:
    for r in ranges:
        if r.crosses_midnight:
            if moment >= r.start or moment < r.end:
                return True
        elif r.start <= moment < r.end:
            return True
    return False


class BucketClassifier:
    """Names the tariff bucket of a slot: "hp"/"hc", "tempo_<colour>_<hp|hc>", or None (total only)."""

    def __init__(
        self,
        option: PricingOption,
        offpeak: tuple[OffpeakRange, ...],
        tempo: dict[dt.date, TempoColor],
    ) -> None:
        self.option = option
        self.offpeak = offpeak
        self.tempo = tempo

    @property
    def buckets(self) -> list[str]:
        if self.option is PricingOption.TEMPO:
            return [f"tempo_{c.value.lower()}_{p}" for c in TempoColor for p in ("hp", "hc")]
        if self.option is PricingOption.HC_HP and self.offpeak:
            return ["hp", "hc"]
        return []

    def __call__(self, start: dt.datetime) -> str | None:
        if self.option is PricingOption.TEMPO:
            local = timeline.utc_to_paris_naive(start)
            offpeak = local.hour >= TEMPO_HC_START or local.hour < TEMPO_HC_END
            color = self.tempo.get((local - dt.timedelta(hours=TEMPO_HC_END)).date())
            if color is None:
                return None
            return f"tempo_{color.value.lower()}_{'hc' if offpeak else 'hp'}"
        if self.option is PricingOption.HC_HP and self.offpeak:
            local = timeline.utc_to_paris_naive(start)
            return "hc" if in_offpeak(local.time(), self.offpeak) else "hp"
        return None


async def classifier_for(
    store: Store, usage_point_id: str, first: dt.date, last: dt.date
) -> BucketClassifier:
    points = {p.usage_point_id: p for p in await store.usage_points()}
    point = points.get(usage_point_id)
    contract = await store.contract(usage_point_id)
    option = point.pricing_option if point else PricingOption.UNKNOWN
    offpeak = await offpeak_hours(store, usage_point_id, contract, point)
    tempo: dict[dt.date, TempoColor] = {}
    if option is PricingOption.TEMPO:
        tempo = {d.day: d.color for d in await store.tempo(first - dt.timedelta(days=1), last)}
    return BucketClassifier(option, offpeak, tempo)


async def hourly_energy(
    store: Store,
    usage_point_id: str,
    direction: Direction,
    first: dt.date,
    last: dt.date,
    *,
    classifier: BucketClassifier | None = None,
    costs: CostSource | None = None,
) -> HourlyEnergy:
    """Energy per hour and bucket over the Paris days [first, last] (plus cost when `costs` is given)."""
    out = HourlyEnergy()
    total = out.energy[TOTAL]
    curve_days: set[dt.date] = set()
    day = first
    while day <= last:
        chunk_last = min(last, day + dt.timedelta(days=CHUNK_DAYS - 1))
        start, end = timeline.day_start_utc(day), timeline.day_start_utc(chunk_last + dt.timedelta(days=1))
        readings = await store.completed_intervals(usage_point_id, direction, start, end)
        for reading in readings:
            if reading.average_w is None:
                continue
            hour = timeline.hour_start_utc(reading.start)
            wm = reading.average_w * reading.minutes
            total[hour] = total.get(hour, 0) + wm
            curve_days.add(timeline.paris_date(reading.start))
            bucket = classifier(reading.start) if classifier is not None else None
            if bucket is not None:
                series = out.energy[bucket]
                series[hour] = series.get(hour, 0) + wm
        if costs is not None:
            for item in await costs.hourly(usage_point_id, start, end):
                if timeline.paris_date(item.start) not in curve_days:
                    continue  # priced from the daily value below
                hour = timeline.hour_start_utc(item.start)
                for key in (TOTAL, item.bucket):
                    cost_series = out.cost[key]
                    cost_series[hour] = cost_series.get(hour, Decimal(0)) + item.euros
        day = chunk_last + dt.timedelta(days=1)
    daily_only = [
        d for d in await store.daily(usage_point_id, direction, first, last) if d.day not in curve_days
    ]
    for daily in daily_only:
        total[timeline.day_start_utc(daily.day)] = daily.wh * 60
    if costs is not None and daily_only:
        wanted = {d.day for d in daily_only}
        for item in await costs.daily(usage_point_id, daily_only[0].day, daily_only[-1].day):
            item_day = timeline.paris_date(item.start)
            if item_day not in wanted:
                continue
            hour = timeline.day_start_utc(item_day)
            cost_series = out.cost[TOTAL]
            cost_series[hour] = cost_series.get(hour, Decimal(0)) + item.euros
    return out
