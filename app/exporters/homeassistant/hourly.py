"""Hourly energy (and cost) per tariff bucket, built from the store for the long-term statistics.

Energy is kept in watt-minutes (integers: average W x slot minutes) so that sums never drift; one kWh is
60,000 watt-minutes. Hours are UTC hours, which are exactly the local hours in Paris (whole-hour offsets),
so 23- and 25-hour DST days come out right by construction. Days older than the load-curve history only
have a daily value: it goes into the first hour (00:00 local) of that day, in the total only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from app import tariff_rules, timeline
from app.costing import contract_timeline
from app.domain import Direction, TempoColor
from app.pricing.source import CostSource
from app.store import Store
from app.tariff_rules import ContractPeriod

WM_PER_KWH = 60_000
TOTAL = ""  # the bucket key of the all-buckets total
CHUNK_DAYS = 31


@dataclass
class HourlyEnergy:
    """watt-minutes per bucket ("" = total) per UTC hour start; `cost` in EUR per bucket per hour."""

    energy: dict[str, dict[dt.datetime, int]] = field(default_factory=lambda: defaultdict(dict))
    cost: dict[str, dict[dt.datetime, Decimal]] = field(default_factory=lambda: defaultdict(dict))


class BucketClassifier:
    """Names the tariff bucket of a slot under the contract period in force that day: "hp"/"hc",
    "tempo_<colour>_<hp|hc>", or None (total only: Base, no off-peak hours, unknown Tempo colour)."""

    def __init__(self, periods: Sequence[ContractPeriod], tempo: dict[dt.date, TempoColor]) -> None:
        self.periods = tuple(periods)
        self.tempo = tempo

    @staticmethod
    def _split(period: ContractPeriod) -> bool:
        return period.option == "TEMPO" or (
            period.splits_hp_hc and bool(period.offpeak_hours or period.weekend_rule)
        )

    @property
    def buckets(self) -> list[str]:
        out: dict[str, None] = {}
        for period in self.periods:
            if self._split(period):
                out.update(dict.fromkeys(tariff_rules.buckets_of(period)))
        return list(out)

    def __call__(self, start: dt.datetime) -> str | None:
        period = tariff_rules.period_at(self.periods, start)
        if period is None or not self._split(period):
            return None
        color = self.tempo.get(tariff_rules.tempo_day_of(start)) if period.option == "TEMPO" else None
        return tariff_rules.bucket_of(start, period, color)


async def classifier_for(
    store: Store, usage_point_id: str, first: dt.date, last: dt.date
) -> BucketClassifier:
    periods = await contract_timeline(store, usage_point_id)
    tempo: dict[dt.date, TempoColor] = {}
    if any(p.option == "TEMPO" for p in periods):
        tempo = {d.day: d.color for d in await store.tempo(first - dt.timedelta(days=1), last)}
    return BucketClassifier(periods, tempo)


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
