"""Costs of a usage point's history (pure): the offer pricing each contract period, the cost per Paris
day and per hour under the period in force that day, the prorated subscription. `app.costing` reads the
store (chosen offer, off-peak override, readings, Tempo and EJP days) and calls these."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from app.domain import Contract, OffpeakRange, TempoColor, UsagePoint, subscribed_power
from app.pricing.catalogue import PricedOffer
from app.pricing.engine import (
    PARIS,
    DayCost,
    DaySlots,
    ejp_seasons_without_days,
    group_by_local_day,
    price_daily_total,
    price_day,
    subscription_for,
)
from app.pricing.source import BucketCost
from app.tariff_rules import ContractPeriod, parse_offpeak_text, period_in_force

CONTRACT_OPTIONS = frozenset({"BASE", "HC_HP", "HC_WEEKEND", "TEMPO", "EJP"})
AUTO_OPTIONS = {"BASE": "BASE", "HC_HP": "HC_HP", "TEMPO": "TEMPO", "EJP": "EJP", "HC_WEEKEND": "HC_HP"}
MAX_OFFPEAK_RANGES = 10
MIN_OFFPEAK_MINUTES = 30
MAX_EJP_DAYS = 200

OfferPlan = Sequence[tuple[ContractPeriod, PricedOffer | None]]


@dataclass(frozen=True, slots=True)
class PricingWarning:
    """What the user must know to trust the euros (`code`), e.g. EJP winters priced without their peak
    days (`seasons`: "2024-2025, ...")."""

    code: str
    seasons: str


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


def check_offpeak(text: str) -> tuple[OffpeakRange, ...]:
    """Off-peak hours typed by the user ("22:00-06:00, 12:00-14:00"): at most 10 ranges of 30 minutes
    or more. Raises ValueError with a message that names the field."""
    try:
        ranges = parse_offpeak_text(text)
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


def with_offpeak_override(
    periods: tuple[ContractPeriod, ...], hours: tuple[OffpeakRange, ...]
) -> tuple[ContractPeriod, ...]:
    """The user's off-peak override replaces the hours of the periods the gateway described."""
    return tuple(replace(p, offpeak_hours=hours) if p.source == "gateway" else p for p in periods)


def regulated_offer(offers: Iterable[PricedOffer], option: str, power: int | None) -> PricedOffer | None:
    """EDF's regulated offer of an option and power (the gateway's figures before the catalogue's)."""
    if power is None:
        return None
    wanted = AUTO_OPTIONS.get(option, "BASE")
    edf = [o for o in offers if o.provider.casefold() == "edf" and o.power_kva == power]
    regulated = [o for o in edf if o.option == wanted]
    if not regulated and wanted == "EJP":  # no EJP price known: the regulated Base grid
        regulated = [o for o in edf if o.option == "BASE"]
    return min(regulated, key=lambda o: o.origin != "gateway", default=None)


def offer_plan(
    periods: Sequence[ContractPeriod], offers: Iterable[PricedOffer], chosen_id: str | None
) -> list[tuple[ContractPeriod, PricedOffer | None]]:
    """Each contract period with the offer that prices it: the user's chosen offer for the latest
    period, the regulated offer of the period's option and power for the older ones."""
    by_id = {o.id: o for o in offers}
    out: list[tuple[ContractPeriod, PricedOffer | None]] = []
    for index, period in enumerate(periods):
        offer = by_id.get(chosen_id) if chosen_id and index == len(periods) - 1 else None
        if offer is None:
            offer = regulated_offer(by_id.values(), period.option, period.power_kva)
        if offer is not None and period.option == "HC_WEEKEND":
            offer = offer.with_weekend_offpeak()
        out.append((period, offer))
    return out


def priced_on(
    plan: OfferPlan, day: dt.date, offer: PricedOffer | None = None
) -> tuple[ContractPeriod, PricedOffer] | None:
    """The contract period of the day and the offer pricing it (`offer` when given)."""
    period = period_in_force([p for p, _ in plan], day)
    if period is None:
        return None
    chosen = offer or next(o for p, o in plan if p is period)
    return None if chosen is None else (period, chosen)


def ejp_warnings(
    offer: PricedOffer | None, first: dt.date, last: dt.date, ejp_days: frozenset[dt.date]
) -> list[PricingWarning]:
    """EJP winters of [first, last] priced without their peak days (an EJP offer only)."""
    if offer is None or offer.option != "EJP":
        return []
    seasons = ejp_seasons_without_days(first, last, ejp_days)
    return [PricingWarning("ejp_days_unknown", ", ".join(seasons))] if seasons else []


def plan_day_costs(
    plan: OfferPlan,
    curve: Mapping[dt.date, DaySlots],
    daily_totals: Mapping[dt.date, int],
    *,
    tempo: Mapping[dt.date, TempoColor],
    ejp_days: frozenset[dt.date],
    offer: PricedOffer | None = None,
) -> list[DayCost]:
    """Cost per Paris day under the contract period in force that day (its offer, or `offer` for a
    simulation, split by that period's hours): from the curve where there is one, else from the daily
    total (flagged)."""
    out: list[DayCost] = []
    for day in sorted(set(curve) | set(daily_totals)):
        priced = priced_on(plan, day, offer)
        if priced is None:
            continue
        period, day_offer = priced
        cost = (
            price_day(day_offer, curve[day], offpeak=period.offpeak_hours, tempo=tempo, ejp_days=ejp_days)
            if day in curve
            else price_daily_total(day_offer, day, daily_totals[day], ejp_days=ejp_days)
        )
        if cost is not None:
            out.append(cost)
    return out


def hourly_costs(
    usage_point_id: str,
    plan: OfferPlan,
    readings: Iterable[tuple[dt.datetime, int, int | None]],
    *,
    tempo: Mapping[dt.date, TempoColor],
    ejp_days: frozenset[dt.date],
) -> list[BucketCost]:
    """Energy cost per UTC hour, bucket and offer of (UTC start, minutes, average W) readings."""
    acc: dict[tuple[dt.datetime, str, str], tuple[int, Decimal]] = defaultdict(lambda: (0, Decimal(0)))
    for start, minutes, average_w in readings:
        hour = start.replace(minute=0, second=0, microsecond=0)
        for day in group_by_local_day([(start, minutes, average_w)]).values():
            priced = priced_on(plan, day.day)
            if priced is None:
                continue
            period, offer = priced
            cost = price_day(offer, day, offpeak=period.offpeak_hours, tempo=tempo, ejp_days=ejp_days)
            if cost is None:
                continue
            for bucket, (wh, eur) in cost.buckets.items():
                old_wh, old_eur = acc[(hour, bucket, offer.id)]
                acc[(hour, bucket, offer.id)] = (old_wh + wh, old_eur + eur)
    return [
        BucketCost(usage_point_id, hour, 60, bucket, wh, eur, offer_id)
        for (hour, bucket, offer_id), (wh, eur) in sorted(acc.items())
    ]


def daily_bucket_costs(usage_point_id: str, costs: Iterable[DayCost]) -> list[BucketCost]:
    """Day costs as one BucketCost per Paris day and bucket (the day's UTC start and length)."""
    out = []
    for cost in costs:
        start = dt.datetime.combine(cost.day, dt.time(), PARIS).astimezone(dt.UTC)
        end = dt.datetime.combine(cost.day + dt.timedelta(days=1), dt.time(), PARIS).astimezone(dt.UTC)
        minutes = int((end - start).total_seconds() // 60)
        for bucket, (wh, eur) in sorted(cost.buckets.items()):
            out.append(BucketCost(usage_point_id, start, minutes, bucket, wh, eur, cost.offer_id))
    return out


def plan_subscription(plan: OfferPlan, first: dt.date, last: dt.date) -> Decimal:
    """The subscription prorated per day over [first, last] under the offer in force each day."""
    total = Decimal(0)
    day = first
    while day <= last:
        priced = priced_on(plan, day)
        if priced is not None:
            total += subscription_for(priced[1], day)
        day += dt.timedelta(days=1)
    return total
