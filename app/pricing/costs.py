"""CostSource backed by the store: the chosen offer per PDL (store setting), stored readings, Tempo days.
Re-pricing only reads the store: never a gateway call."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from app import contracts
from app.domain import (
    Contract,
    Direction,
    OffpeakRange,
    TempoColor,
    UsagePoint,
    contract_offpeak,
    subscribed_power,
)
from app.pricing.catalogue import PricedOffer, from_gateway, load_shipped, merge, parse_offer
from app.pricing.engine import (
    PARIS,
    DayCost,
    DaySlots,
    ejp_seasons_without_days,
    group_by_local_day,
    group_epochs_by_local_day,
    price_daily_total,
    price_day,
    subscription_for,
)
from app.pricing.source import BucketCost
from app.store.repository import Store
from app.tariff_rules import ContractPeriod, parse_offpeak_text, period_in_force

CHOSEN_KEY = "pricing.offer.{pdl}"
OFFPEAK_KEY = "pricing.offpeak.{pdl}"
USER_OFFERS_KEY = "pricing.user_offers"
EJP_DAYS_KEY = "pricing.ejp_days.{pdl}"
DAY_COSTS_CHUNK_DAYS = 92
CONTRACT_OPTIONS = frozenset({"BASE", "HC_HP", "HC_WEEKEND", "TEMPO", "EJP"})
AUTO_OPTIONS = {"BASE": "BASE", "HC_HP": "HC_HP", "TEMPO": "TEMPO", "EJP": "EJP", "HC_WEEKEND": "HC_HP"}


async def catalogue(store: Store) -> list[PricedOffer]:
    """Shipped catalogue, merged with the gateway's offers and the user's offers/overrides."""
    user_raw: list[dict[str, Any]] = await store.get_setting(USER_OFFERS_KEY) or []
    user = [parse_offer(raw, where=f"user offer {i}", origin="user") for i, raw in enumerate(user_raw)]
    return merge(load_shipped(), from_gateway(await store.offers()), user)


def parse_ejp_days(text: str) -> list[dt.date]:
    """EJP peak days typed by the user: ISO dates separated by commas, semicolons, spaces or new lines.
    A bad date raises ValueError naming it."""
    out: set[dt.date] = set()
    for part in text.replace(",", " ").replace(";", " ").split():
        try:
            day = dt.date.fromisoformat(part)
        except ValueError as exc:
            raise ValueError(f"ejp_days: {part[:40]!r} is not a date (YYYY-MM-DD)") from exc
        if not dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31):
            raise ValueError(f"ejp_days: {part} is out of range (2000-01-01 to 2100-12-31)")
        out.add(day)
    if len(out) > MAX_EJP_DAYS:
        raise ValueError(f"ejp_days: at most {MAX_EJP_DAYS} days")
    return sorted(out)


async def offpeak_hours(
    store: Store, usage_point_id: str, contract: Contract | None, point: UsagePoint | None
) -> tuple[OffpeakRange, ...]:
    """The off-peak hours in force for a usage point, the one rule every page, chart, price and
    exporter follows: the user's override (offers page) if set, else the contract's, else /pdl's."""
    override = await store.get_setting(OFFPEAK_KEY.format(pdl=usage_point_id))
    if override:
        return _parse_offpeak(str(override))
    return contract_offpeak(contract, point)


def point_period(
    point: UsagePoint | None, contract: Contract | None, offpeak: tuple[OffpeakRange, ...]
) -> ContractPeriod:
    """The contract period of a usage point as the gateway describes it today (open at both ends)."""
    option = point.pricing_option.value if point is not None else "BASE"
    return ContractPeriod(
        option=option if option in CONTRACT_OPTIONS else "BASE",
        power_kva=subscribed_power(contract, point),
        offpeak_hours=offpeak,
        source="gateway",
    )


async def contract_timeline(store: Store, usage_point_id: str) -> tuple[ContractPeriod, ...]:
    """The dated contract periods of a usage point, oldest first (`app.contracts`); without a stored
    timeline, one open period: the contract the gateway describes now. The user's off-peak override
    replaces the hours of the periods the gateway described. `app.tariff_rules.period_in_force` picks
    the period of a day."""
    points = {p.usage_point_id: p for p in await store.usage_points()}
    point = points.get(usage_point_id)
    contract = await store.contract(usage_point_id)
    entries = await contracts.load_entries(store, usage_point_id)
    if not entries:
        return (point_period(point, contract, await offpeak_hours(store, usage_point_id, contract, point)),)
    override = await store.get_setting(OFFPEAK_KEY.format(pdl=usage_point_id))
    periods = contracts.to_periods(entries)
    if override:
        hours = _parse_offpeak(str(override))
        periods = tuple(replace(p, offpeak_hours=hours) if p.source == "gateway" else p for p in periods)
    return periods


def _parse_offpeak(text: str) -> tuple[OffpeakRange, ...]:
    """The user's off-peak override (the offers page): ValueError names the bad part."""
    return parse_offpeak_text(text)


def _regulated(offers: Iterable[PricedOffer], option: str, power: int | None) -> PricedOffer | None:
    """EDF's regulated offer of an option and power (the gateway's figures before the catalogue's)."""
    if power is None:
        return None
    wanted = AUTO_OPTIONS.get(option, "BASE")
    edf = [o for o in offers if o.provider.casefold() == "edf" and o.power_kva == power]
    regulated = [o for o in edf if o.option == wanted]
    if not regulated and wanted == "EJP":  # no EJP price known: the regulated Base grid
        regulated = [o for o in edf if o.option == "BASE"]
    return min(regulated, key=lambda o: o.origin != "gateway", default=None)


MAX_OFFPEAK_RANGES = 10
MIN_OFFPEAK_MINUTES = 30
MAX_EJP_DAYS = 200


def check_offpeak(text: str) -> tuple[OffpeakRange, ...]:
    """Off-peak hours typed by the user ("22:00-06:00, 12:00-14:00"): at most 10 ranges of 30 minutes
    or more. Raises ValueError with a message that names the field."""
    try:
        ranges = _parse_offpeak(text)
    except ValueError:
        raise ValueError(f"offpeak: {text[:60]!r} is not HH:MM-HH:MM ranges separated by commas") from None
    if len(ranges) > MAX_OFFPEAK_RANGES:
        raise ValueError(f"offpeak: at most {MAX_OFFPEAK_RANGES} ranges")
    for r in ranges:
        start = r.start.hour * 60 + r.start.minute
        minutes = (r.end.hour * 60 + r.end.minute - start) % (24 * 60) or 24 * 60
        if minutes < MIN_OFFPEAK_MINUTES:
            raise ValueError(f"offpeak: {r} lasts less than {MIN_OFFPEAK_MINUTES} minutes")
    return ranges


class StoreCostSource:
    """Implements app.pricing.source.CostSource."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def offers(self) -> list[PricedOffer]:
        return await catalogue(self.store)

    async def chosen_offer(self, usage_point_id: str) -> PricedOffer | None:
        """The offer of the contract period in force today: the user's choice, else the regulated one."""
        plan = await self.offer_plan(usage_point_id)
        return plan[-1][1] if plan else None

    async def offer_plan(
        self, usage_point_id: str, offers: list[PricedOffer] | None = None
    ) -> list[tuple[ContractPeriod, PricedOffer | None]]:
        """Each contract period with the offer that prices it: the user's chosen offer for the latest
        period, the regulated offer of the period's option and power for the older ones."""
        by_id = {o.id: o for o in (offers if offers is not None else await self.offers())}
        periods = await contract_timeline(self.store, usage_point_id)
        chosen = await self.store.get_setting(CHOSEN_KEY.format(pdl=usage_point_id))
        out: list[tuple[ContractPeriod, PricedOffer | None]] = []
        for index, period in enumerate(periods):
            offer = by_id.get(chosen) if chosen and index == len(periods) - 1 else None
            if offer is None:
                offer = _regulated(by_id.values(), period.option, period.power_kva)
            if offer is not None and period.option == "HC_WEEKEND":
                offer = offer.with_weekend_offpeak()
            out.append((period, offer))
        return out

    async def offpeak(self, usage_point_id: str) -> tuple[OffpeakRange, ...]:
        points = {p.usage_point_id: p for p in await self.store.usage_points()}
        return await offpeak_hours(
            self.store, usage_point_id, await self.store.contract(usage_point_id), points.get(usage_point_id)
        )

    async def ejp_days(self, usage_point_id: str) -> frozenset[dt.date]:
        stored = await self.store.get_setting(EJP_DAYS_KEY.format(pdl=usage_point_id)) or []
        return frozenset(dt.date.fromisoformat(d) for d in stored)

    async def warnings(
        self, usage_point_id: str, offer: PricedOffer | None, first: dt.date, last: dt.date
    ) -> list[dict[str, Any]]:
        """What the user must know to trust the euros: EJP winters priced without their peak days."""
        if offer is None or offer.option != "EJP":
            return []
        seasons = ejp_seasons_without_days(first, last, await self.ejp_days(usage_point_id))
        return [{"code": "ejp_days_unknown", "seasons": ", ".join(seasons)}] if seasons else []

    async def tempo_map(self, first: dt.date, last: dt.date) -> dict[dt.date, TempoColor]:
        return {d.day: d.color for d in await self.store.tempo(first - dt.timedelta(days=1), last)}

    async def curve_days(self, usage_point_id: str, first: dt.date, last: dt.date) -> dict[dt.date, DaySlots]:
        start = dt.datetime.combine(first, dt.time(), PARIS).astimezone(dt.UTC)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), PARIS).astimezone(dt.UTC)
        rows, _ = await self.store.completed_interval_values(
            usage_point_id, Direction.CONSUMPTION, start, end
        )
        return group_epochs_by_local_day(rows)

    async def day_costs(
        self, usage_point_id: str, first: dt.date, last: dt.date, offer: PricedOffer | None = None
    ) -> list[DayCost]:
        """Cost per Paris day under the contract period in force that day (its offer, or `offer` for a
        simulation, split by that period's hours): from the curve where there is one, else from the daily
        total (flagged)."""
        plan = await self.offer_plan(usage_point_id)
        if not plan:
            return []
        tempo = await self.tempo_map(first, last)
        ejp = await self.ejp_days(usage_point_id)
        out: list[DayCost] = []
        daily = await self.store.daily(usage_point_id, Direction.CONSUMPTION, first, last)
        daily_by_day = {d.day: d.wh for d in daily}
        chunk_first = first
        while chunk_first <= last:  # a quarter of curve at a time: a lower memory peak, same figures
            chunk_last = min(last, chunk_first + dt.timedelta(days=DAY_COSTS_CHUNK_DAYS - 1))
            days = await self.curve_days(usage_point_id, chunk_first, chunk_last)
            wanted = {d for d in daily_by_day if chunk_first <= d <= chunk_last}
            for day in sorted(set(days) | wanted):
                priced = _priced_on(plan, day, offer)
                if priced is None:
                    continue
                period, day_offer = priced
                cost = (
                    price_day(day_offer, days[day], offpeak=period.offpeak_hours, tempo=tempo, ejp_days=ejp)
                    if day in days
                    else price_daily_total(day_offer, day, daily_by_day[day], ejp_days=ejp)
                )
                if cost is not None:
                    out.append(cost)
            del days
            chunk_first = chunk_last + dt.timedelta(days=1)
        return out

    async def hourly(self, usage_point_id: str, start: dt.datetime, end: dt.datetime) -> list[BucketCost]:
        plan = await self.offer_plan(usage_point_id)
        if not plan:
            return []
        readings = await self.store.completed_intervals(usage_point_id, Direction.CONSUMPTION, start, end)
        first = start.astimezone(PARIS).date()
        last = end.astimezone(PARIS).date()
        tempo = await self.tempo_map(first, last)
        ejp = await self.ejp_days(usage_point_id)
        acc: dict[tuple[dt.datetime, str, str], list[Any]] = defaultdict(lambda: [0, Decimal(0)])
        for reading in readings:
            hour = reading.start.replace(minute=0, second=0, microsecond=0)
            days = group_by_local_day([(reading.start, reading.minutes, reading.average_w)])
            for day in days.values():
                priced = _priced_on(plan, day.day, None)
                if priced is None:
                    continue
                period, offer = priced
                cost = price_day(offer, day, offpeak=period.offpeak_hours, tempo=tempo, ejp_days=ejp)
                if cost is None:
                    continue
                for bucket, (wh, eur) in cost.buckets.items():
                    entry = acc[(hour, bucket, offer.id)]
                    entry[0] += wh
                    entry[1] += eur
        return [
            BucketCost(usage_point_id, hour, 60, bucket, int(v[0]), v[1], offer_id)
            for (hour, bucket, offer_id), v in sorted(acc.items())
        ]

    async def daily(self, usage_point_id: str, first: dt.date, last: dt.date) -> list[BucketCost]:
        out = []
        for cost in await self.day_costs(usage_point_id, first, last):
            start = dt.datetime.combine(cost.day, dt.time(), PARIS).astimezone(dt.UTC)
            minutes = int(
                (
                    dt.datetime.combine(cost.day + dt.timedelta(days=1), dt.time(), PARIS).astimezone(dt.UTC)
                    - start
                ).total_seconds()
                // 60
            )
            for bucket, (wh, eur) in sorted(cost.buckets.items()):
                out.append(BucketCost(usage_point_id, start, minutes, bucket, wh, eur, cost.offer_id))
        return out

    async def subscription(self, usage_point_id: str, first: dt.date, last: dt.date) -> Decimal:
        plan = await self.offer_plan(usage_point_id)
        total = Decimal(0)
        day = first
        while day <= last:
            priced = _priced_on(plan, day, None)
            if priced is not None:
                total += subscription_for(priced[1], day)
            day += dt.timedelta(days=1)
        return total


def _priced_on(
    plan: list[tuple[ContractPeriod, PricedOffer | None]], day: dt.date, offer: PricedOffer | None
) -> tuple[ContractPeriod, PricedOffer] | None:
    """The contract period of the day and the offer pricing it (`offer` when given)."""
    period = period_in_force([p for p, _ in plan], day)
    if period is None:
        return None
    chosen = offer or next(o for p, o in plan if p is period)
    return None if chosen is None else (period, chosen)
