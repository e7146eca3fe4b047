"""Live prices of an offer (pure): the schedule of today and tomorrow and what is in force now.

`bucket_of` is the one adapter between the schedule and the tariff rules: the offer's rules as a
contract period (`engine.contract_rules`), classified by `app.tariff_rules.bucket_of`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from app import tariff_rules
from app.domain import OffpeakRange, TempoColor
from app.pricing.catalogue import PricedOffer
from app.pricing.engine import contract_rules
from app.pricing.schedule import (
    PARIS,
    PriceSlot,
    change_minutes,
    day_slots,
    next_slot,
    price_schedule,
    slot_at,
)


def bucket_of(
    instant: dt.datetime,
    offer: PricedOffer,
    *,
    offpeak: tuple[OffpeakRange, ...],
    tempo: Mapping[dt.date, TempoColor],
    ejp_days: frozenset[dt.date] = frozenset(),
) -> str | None:
    """The tariff bucket of a UTC instant under the offer; None when the Tempo colour is not known yet."""
    color: TempoColor | None = None
    if offer.option == "TEMPO":
        color = tempo.get(tariff_rules.tempo_day_of(instant))
        if color is None:
            return None
    return tariff_rules.bucket_of(instant, contract_rules(offer, offpeak), color, ejp_days)


def offer_schedule(
    offer: PricedOffer,
    start: dt.datetime,
    end: dt.datetime,
    *,
    offpeak: tuple[OffpeakRange, ...],
    tempo: Mapping[dt.date, TempoColor],
    ejp_days: frozenset[dt.date] = frozenset(),
) -> list[PriceSlot]:
    def prices_on(day: dt.date) -> Mapping[str, Decimal] | None:
        period = offer.period_on(day)
        return None if period is None else period.prices_eur_kwh

    return price_schedule(
        start,
        end,
        bucket_of=lambda instant: bucket_of(instant, offer, offpeak=offpeak, tempo=tempo, ejp_days=ejp_days),
        prices_on=prices_on,
        minutes=change_minutes(offer.offpeak_hours or offpeak),
    )


@dataclass(frozen=True, slots=True)
class LivePrice:
    """What the price entities show at `now`; `current` is None when no price is known now."""

    now: dt.datetime
    offer: PricedOffer
    current: PriceSlot | None
    next: PriceSlot | None
    next_change: dt.datetime | None
    today: list[PriceSlot] = field(default_factory=list)
    tomorrow: list[PriceSlot] = field(default_factory=list)

    @property
    def offpeak(self) -> bool | None:
        return None if self.current is None else self.current.offpeak


def live_price(
    offer: PricedOffer,
    now: dt.datetime,
    *,
    offpeak: tuple[OffpeakRange, ...],
    tempo: Mapping[dt.date, TempoColor],
    ejp_days: frozenset[dt.date] = frozenset(),
) -> LivePrice:
    """Price now, the next change and the schedules of today and tomorrow (Paris days)."""
    today = now.astimezone(PARIS).date()
    start = dt.datetime.combine(today, dt.time(), PARIS).astimezone(dt.UTC)
    horizon = dt.datetime.combine(today + dt.timedelta(days=3), dt.time(), PARIS).astimezone(dt.UTC)
    schedule = offer_schedule(offer, start, horizon, offpeak=offpeak, tempo=tempo, ejp_days=ejp_days)
    current = slot_at(schedule, now)
    following = next_slot(schedule, now)
    change = current.end if current is not None and current.end < horizon else None
    return LivePrice(
        now,
        offer,
        current,
        following,
        change,
        day_slots(schedule, today),
        day_slots(schedule, today + dt.timedelta(days=1)),
    )
