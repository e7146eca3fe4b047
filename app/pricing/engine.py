"""The cost engine (pure): tariff buckets of each slot, energy per bucket per Paris day, prices in force
on that day, subscription prorated per day. Energy in integer Wh, money in Decimal euros."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.domain import OffpeakRange, TempoColor
from app.pricing.catalogue import PricedOffer
from app.tariff_rules import ContractPeriod, ejp_season, split_day, whole_day_bucket

PARIS = ZoneInfo("Europe/Paris")
_KWH = Decimal(1000)
_MICRO_EURO = Decimal("0.000001")
_EPOCH_DAY = dt.date(1970, 1, 1)


@dataclass(slots=True)
class DaySlots:
    """Energy of one Paris day as (local minute of day, Wh) per slot; DST days have 46 or 50 slots."""

    day: dt.date
    slots: list[tuple[int, int]] = field(default_factory=list)


def group_by_local_day(readings: Iterable[tuple[dt.datetime, int, int | None]]) -> dict[dt.date, DaySlots]:
    """(UTC start, minutes, average W) -> slots per Paris day; missing slots (None) are skipped.
    Wh of a slot is rounded to the nearest integer."""
    out: dict[int, DaySlots] = {}
    offsets: dict[int, int] = {}  # UTC hour (epoch hours) -> Paris UTC offset in seconds
    for start, minutes, average_w in readings:
        if average_w is None:
            continue
        epoch = int(start.timestamp())
        hour = epoch // 3600
        offset = offsets.get(hour)
        if offset is None:  # astimezone is the slow part: once per UTC hour
            utcoffset = start.astimezone(PARIS).utcoffset()
            offset = offsets[hour] = int(utcoffset.total_seconds()) if utcoffset else 0
        local_days, local_seconds = divmod(epoch + offset, 86400)
        slots = out.get(local_days)
        if slots is None:
            slots = out[local_days] = DaySlots(_EPOCH_DAY + dt.timedelta(days=local_days))
        slots.slots.append((local_seconds // 60, (average_w * minutes + 30) // 60))
    return {slots.day: slots for slots in out.values()}


def ejp_seasons_without_days(first: dt.date, last: dt.date, ejp_days: frozenset[dt.date]) -> list[str]:
    """EJP winters overlapping [first, last] with no known EJP day: their peaks are priced as normal hours."""
    known = {ejp_season(d) for d in ejp_days}
    seasons: set[int] = set()
    day = first
    while day <= last:
        season = ejp_season(day)
        if season is not None and season not in known:
            seasons.add(season)
        day += dt.timedelta(days=1)
    return [f"{s}-{s + 1}" for s in sorted(seasons)]


def contract_rules(offer: PricedOffer, offpeak: tuple[OffpeakRange, ...] = ()) -> ContractPeriod:
    """The split rules of an offer on a usage point whose off-peak hours are `offpeak` (the offer's own
    hours, when it has some, win)."""
    return ContractPeriod(
        option=offer.option,
        power_kva=offer.power_kva,
        offpeak_hours=offpeak if offer.offpeak_hours is None else offer.offpeak_hours,
        weekend_offpeak=offer.weekend_offpeak,
        summer_offpeak_hours=offer.summer_offpeak_hours,
        winter_months=offer.winter_months,
        offer_id=offer.id,
    )


def rules_key(offer: PricedOffer) -> tuple[object, ...]:
    """Offers with equal keys split a day's energy into the same buckets (only prices differ)."""
    return (
        offer.option,
        offer.winter_months,
        offer.offpeak_hours,
        offer.summer_offpeak_hours,
        offer.weekend_offpeak,
    )


_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def _paris_offset(epoch: int) -> int:
    offset = dt.datetime.fromtimestamp(epoch, dt.UTC).astimezone(PARIS).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _offset_of(span: int, seconds: int, cache: dict[int, int | None]) -> int | None:
    """The Paris offset over the UTC span number `span` of `seconds` (None when it changes inside)."""
    offset = cache.get(span, -1)
    if offset == -1:
        first, last = _paris_offset(span * seconds), _paris_offset(span * seconds + seconds - 1)
        offset = cache[span] = first if first == last else None
    return offset


def group_epochs_by_local_day(readings: Iterable[tuple[int, int, int | None]]) -> dict[dt.date, DaySlots]:
    """`group_by_local_day` for (UTC epoch seconds, minutes, average W) rows as the store's fast read
    returns them: the Paris offset is looked up once per UTC day (per hour, then per row, around a
    change of offset), the rest is integer arithmetic."""
    out: dict[int, DaySlots] = {}
    days: dict[int, int | None] = {}
    hours: dict[int, int | None] = {}
    utc_day, day_offset = None, None
    for epoch, minutes, average_w in readings:
        if average_w is None:
            continue
        if epoch // 86400 != utc_day:  # rows usually come sorted: one look-up per UTC day
            utc_day = epoch // 86400
            day_offset = _offset_of(utc_day, 86400, days)
        offset = day_offset
        if offset is None:
            offset = _offset_of(epoch // 3600, 3600, hours)
            if offset is None:
                offset = _paris_offset(epoch)
        local = epoch + offset
        day_number = local // 86400
        slots = out.get(day_number)
        if slots is None:
            slots = out[day_number] = DaySlots(dt.date.fromordinal(_EPOCH_ORDINAL + day_number))
        slots.slots.append((local % 86400 // 60, (average_w * minutes + 30) // 60))
    return {slots.day: slots for slots in out.values()}


def bucket_energy(
    offer: PricedOffer,
    day: DaySlots,
    *,
    offpeak: tuple[OffpeakRange, ...],
    tempo: Mapping[dt.date, TempoColor],
    ejp_days: frozenset[dt.date] = frozenset(),
    rules: ContractPeriod | None = None,
) -> dict[str, int]:
    """Wh per bucket of one Paris day under the offer's rules (or `rules`, the contract period in force
    that day, when given); an unknown Tempo colour counts as blue."""
    return split_day(
        rules or contract_rules(offer, offpeak),
        day.day,
        day.slots,
        lambda d: tempo.get(d, TempoColor.BLUE),
        ejp_days,
    )


@dataclass(frozen=True, slots=True)
class DayCost:
    day: dt.date
    offer_id: str
    buckets: dict[str, tuple[int, Decimal]]  # bucket -> (Wh, euros)
    subscription: Decimal
    period_source: str
    estimated: bool = False  # daily total only, offer with several prices: split unknown

    @property
    def wh(self) -> int:
        return sum(wh for wh, _ in self.buckets.values())

    @property
    def energy_eur(self) -> Decimal:
        return sum((eur for _, eur in self.buckets.values()), Decimal(0))


def subscription_for(offer: PricedOffer, day: dt.date) -> Decimal:
    """Monthly subscription in force on that day divided by the days of its month (to the micro-euro)."""
    period = offer.period_on(day)
    if period is None:
        return Decimal(0)
    next_month = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    daily = period.subscription_eur_month / (next_month - day.replace(day=1)).days
    return daily.quantize(_MICRO_EURO)  # fixed precision so that day, month and year totals add up exactly


def price_day(
    offer: PricedOffer,
    day: DaySlots,
    *,
    offpeak: tuple[OffpeakRange, ...] = (),
    tempo: Mapping[dt.date, TempoColor] | None = None,
    ejp_days: frozenset[dt.date] = frozenset(),
    energy: Mapping[str, int] | None = None,
) -> DayCost | None:
    """Cost of one day of curve; None when the offer has no price in force that day. `energy` is the
    day's Wh per bucket when already split for an offer of the same `rules_key`."""
    period = offer.period_on(day.day)
    if period is None:
        return None
    if energy is None:
        energy = bucket_energy(offer, day, offpeak=offpeak, tempo=tempo or {}, ejp_days=ejp_days)
    prices = period.prices_eur_kwh
    buckets = {name: (wh, wh * prices[name] / _KWH) for name, wh in energy.items()}
    return DayCost(day.day, offer.id, buckets, subscription_for(offer, day.day), period.source)


def price_daily_total(
    offer: PricedOffer, day: dt.date, wh: int, *, ejp_days: frozenset[dt.date] = frozenset()
) -> DayCost | None:
    """A day known only by its daily total: exact when the rules put the whole day in one bucket;
    otherwise priced at the mean of the offer's energy prices and flagged `estimated`."""
    period = offer.period_on(day)
    if period is None:
        return None
    whole = whole_day_bucket(contract_rules(offer), day, ejp_days)
    if whole is not None:
        return DayCost(
            day,
            offer.id,
            {whole: (wh, wh * period.prices_eur_kwh[whole] / _KWH)},
            subscription_for(offer, day),
            period.source,
        )
    mean = sum(period.prices_eur_kwh.values(), Decimal(0)) / len(period.prices_eur_kwh)
    return DayCost(
        day,
        offer.id,
        {"unsplit": (wh, wh * mean / _KWH)},
        subscription_for(offer, day),
        period.source,
        estimated=True,
    )


@dataclass(frozen=True, slots=True)
class Totals:
    wh: int
    energy_eur: Decimal
    subscription_eur: Decimal
    buckets: dict[str, tuple[int, Decimal]]
    estimated_days: int
    days: int

    @property
    def total_eur(self) -> Decimal:
        return self.energy_eur + self.subscription_eur


def totals(costs: Sequence[DayCost]) -> Totals:
    buckets: dict[str, list[object]] = {}
    wh = 0
    energy = Decimal(0)
    subscription = Decimal(0)
    for cost in costs:
        subscription += cost.subscription
        for name, (b_wh, b_eur) in cost.buckets.items():
            entry = buckets.setdefault(name, [0, Decimal(0)])
            entry[0] = int(entry[0]) + b_wh  # type: ignore[call-overload]
            entry[1] = entry[1] + b_eur  # type: ignore[operator]
            wh += b_wh
            energy += b_eur
    return Totals(
        wh,
        energy,
        subscription,
        {k: (int(v[0]), v[1]) for k, v in buckets.items()},  # type: ignore[call-overload,misc]
        sum(1 for c in costs if c.estimated),
        len(costs),
    )


def group_totals(costs: Sequence[DayCost], period: str) -> dict[dt.date, Totals]:
    """Totals per 'day', 'month' (key: first day) or 'year' (key: 1 January)."""
    groups: dict[dt.date, list[DayCost]] = defaultdict(list)
    for cost in costs:
        if period == "day":
            key = cost.day
        elif period == "month":
            key = cost.day.replace(day=1)
        elif period == "year":
            key = cost.day.replace(month=1, day=1)
        else:
            raise ValueError(f"unknown period {period!r}")
        groups[key].append(cost)
    return {key: totals(items) for key, items in sorted(groups.items())}
