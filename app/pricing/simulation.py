"""Offer simulation, cost summaries and bilan (pure) as typed results with Decimal euros; their JSON
shapes (pages, JSON API, charts) are `app.pricing.answers`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from app.domain import OffpeakRange, TempoColor
from app.pricing.catalogue import PricedOffer
from app.pricing.engine import (
    DayCost,
    DaySlots,
    Totals,
    bucket_energy,
    ejp_seasons_without_days,
    group_totals,
    price_daily_total,
    price_day,
    rules_key,
    totals,
)


def price_period(
    offer: PricedOffer,
    days: Mapping[dt.date, DaySlots],
    daily_totals: Mapping[dt.date, int],
    *,
    offpeak: tuple[OffpeakRange, ...],
    tempo: Mapping[dt.date, TempoColor],
    ejp_days: frozenset[dt.date] = frozenset(),
    split_cache: dict[tuple[object, ...], dict[str, int]] | None = None,
) -> list[DayCost]:
    """Cost per day under one offer. `split_cache` (shared between offers) keeps each day's energy split
    per `rules_key`, so that offers differing only by their prices split a day once."""
    out = []
    key = rules_key(offer)
    for day in sorted(set(days) | set(daily_totals)):
        if day in days:
            energy = None
            if split_cache is not None and offer.period_on(day) is not None:
                energy = split_cache.get((key, day))
                if energy is None:
                    energy = split_cache[(key, day)] = bucket_energy(
                        offer, days[day], offpeak=offpeak, tempo=tempo, ejp_days=ejp_days
                    )
            cost = price_day(offer, days[day], offpeak=offpeak, tempo=tempo, ejp_days=ejp_days, energy=energy)
        else:
            cost = price_daily_total(offer, day, daily_totals[day], ejp_days=ejp_days)
        if cost is not None:
            out.append(cost)
    return out


@dataclass(frozen=True, slots=True)
class CostSummary:
    """Day costs totalled per day, month or year (`rows`, keyed by the first day) and over the whole span;
    `sources` are the price periods' sources."""

    period: str
    rows: Mapping[dt.date, Totals]
    total: Totals
    sources: tuple[str, ...]


def summarize_costs(costs: Sequence[DayCost], period: str) -> CostSummary:
    """Totals per day/month/year and per bucket, subscription apart."""
    return CostSummary(
        period, group_totals(costs, period), totals(costs), tuple(sorted({c.period_source for c in costs}))
    )


@dataclass(frozen=True, slots=True)
class OfferResult:
    """One offer priced over a simulation's span: its total (energy and subscription), its rank (1: the
    cheapest), the saving against the current offer and the total per month ("YYYY-MM")."""

    offer_id: str
    provider: str
    name: str
    option: str
    power_kva: int
    origin: str
    total_eur: Decimal
    estimated_days: int
    priced_days: int
    months: Mapping[str, Decimal]
    rank: int
    saving_eur: Decimal | None


@dataclass(frozen=True, slots=True)
class Simulation:
    first: dt.date
    last: dt.date
    power_kva: int
    next_power_kva: int | None
    current_offer_id: str | None
    curve_days: int
    expected_days: int
    ejp_seasons_without_days: tuple[str, ...]
    offers: tuple[OfferResult, ...]  # at the user's power, cheapest first
    next_power: tuple[OfferResult, ...]  # at the next power up

    @property
    def gaps(self) -> bool:
        return self.curve_days < self.expected_days


def simulate(
    offers: Sequence[PricedOffer],
    days: Mapping[dt.date, DaySlots],
    daily_totals: Mapping[dt.date, int],
    *,
    power_kva: int,
    current_offer_id: str | None,
    offpeak: tuple[OffpeakRange, ...],
    tempo: Mapping[dt.date, TempoColor],
    first: dt.date,
    last: dt.date,
    ejp_days: frozenset[dt.date] = frozenset(),
) -> Simulation:
    """Every offer at the user's power (and the next power up) priced on [first, last], ranked.
    EJP offers are priced with the user's EJP days (none known: every hour at the normal price)."""
    powers = sorted({o.power_kva for o in offers})
    next_up = next((p for p in powers if p > power_kva), None)
    expected_days = (last - first).days + 1
    curve_days = sum(1 for d in days if first <= d <= last)
    priced: list[tuple[PricedOffer, Totals, dict[dt.date, Totals]]] = []
    split_cache: dict[tuple[object, ...], dict[str, int]] = {}
    in_days = {d: s for d, s in days.items() if first <= d <= last}
    in_totals = {d: wh for d, wh in daily_totals.items() if first <= d <= last}
    for offer in offers:
        if offer.power_kva not in (power_kva, next_up):
            continue
        costs = [
            c
            for c in price_period(
                offer,
                in_days,
                in_totals,
                offpeak=offpeak,
                tempo=tempo,
                ejp_days=ejp_days,
                split_cache=split_cache,
            )
            if first <= c.day <= last
        ]
        if costs:
            priced.append((offer, totals(costs), group_totals(costs, "month")))
    priced.sort(key=lambda item: item[1].total_eur)
    current = next((whole.total_eur for o, whole, _ in priced if o.id == current_offer_id), None)
    results = [
        OfferResult(
            offer_id=offer.id,
            provider=offer.provider,
            name=offer.name,
            option=offer.option,
            power_kva=offer.power_kva,
            origin=offer.origin,
            total_eur=whole.total_eur,
            estimated_days=whole.estimated_days,
            priced_days=whole.days,
            months={k.isoformat()[:7]: v.total_eur for k, v in months.items()},
            rank=rank,
            saving_eur=None if current is None else current - whole.total_eur,
        )
        for rank, (offer, whole, months) in enumerate(priced, 1)
    ]
    return Simulation(
        first=first,
        last=last,
        power_kva=power_kva,
        next_power_kva=next_up,
        current_offer_id=current_offer_id,
        curve_days=curve_days,
        expected_days=expected_days,
        ejp_seasons_without_days=tuple(ejp_seasons_without_days(first, last, ejp_days))
        if any(r.option == "EJP" for r in results)
        else (),
        offers=tuple(r for r in results if r.power_kva == power_kva),
        next_power=tuple(r for r in results if r.power_kva == next_up),
    )


@dataclass(frozen=True, slots=True)
class BilanRow:
    """One year or month of the bilan (`period`: its first day); shares and changes in percent."""

    period: dt.date
    consumption_wh: int
    production_wh: int
    self_consumed_wh: int
    surplus_wh: int
    production_without_curve_wh: int
    hp_wh: int
    hc_wh: int
    self_consumption_rate: float | None
    hc_share: float | None
    change_vs_previous: float | None
    days_compared: int


@dataclass(frozen=True, slots=True)
class Bilan:
    period: str  # "year" or "month"
    rows: tuple[BilanRow, ...]

    @property
    def has_production(self) -> bool:
        return any(r.production_wh for r in self.rows)


def balance_sheet(
    consumption: Mapping[dt.date, int],
    production: Mapping[dt.date, int],
    self_consumed: Mapping[dt.date, int],
    hp_hc: Mapping[dt.date, tuple[int, int]],
    period: str = "year",
) -> Bilan:
    """Per year (or per month): consumption, production, self-consumption (from the curves: min(cons,
    prod) per slot), surplus and self-consumption rate over the days both curves cover (the production
    of the other days, daily values only, is `production_without_curve_wh`), HP/HC share and the change
    of consumption against the same calendar days a year before (`days_compared` of them). Keys of the
    inputs are Paris days."""
    if period not in ("year", "month"):
        raise ValueError(f"unknown period {period!r}")

    def key_of(day: dt.date) -> dt.date:
        return dt.date(day.year, 1, 1) if period == "year" else day.replace(day=1)

    sums: dict[dt.date, dict[str, int]] = {}
    for source, name in (
        (consumption, "consumption_wh"),
        (production, "production_wh"),
        (self_consumed, "self_wh"),
    ):
        for day, wh in source.items():
            data = sums.setdefault(key_of(day), {})
            data[name] = data.get(name, 0) + wh
    for day in self_consumed:  # production on the days both curves tell what was used on the spot
        data = sums.setdefault(key_of(day), {})
        data["production_split_wh"] = data.get("production_split_wh", 0) + production.get(day, 0)
    for day, (hp_wh, hc_wh) in hp_hc.items():
        split = sums.setdefault(key_of(day), {})
        split["hp_wh"] = split.get("hp_wh", 0) + hp_wh
        split["hc_wh"] = split.get("hc_wh", 0) + hc_wh
    # Year over year on the same calendar days only: a partial year (the first one of the history, the
    # current one) is compared with the matching days a year before, never with a whole year.
    compared: dict[dt.date, list[int]] = {}  # key -> [this year's Wh, last year's Wh, days]
    for day, wh in consumption.items():
        if day.month == 2 and day.day == 29:
            continue
        before = consumption.get(day.replace(year=day.year - 1))
        if before is None:
            continue
        pair = compared.setdefault(key_of(day), [0, 0, 0])
        pair[0] += wh
        pair[1] += before
        pair[2] += 1
    rows = []
    for key in sorted(sums):
        data = sums[key]
        cons, prod, own = data.get("consumption_wh", 0), data.get("production_wh", 0), data.get("self_wh", 0)
        hp, hc = data.get("hp_wh", 0), data.get("hc_wh", 0)
        split_prod = data.get("production_split_wh", 0)
        now_wh, previous, days_compared = compared.get(key, [0, 0, 0])
        rows.append(
            BilanRow(
                period=key,
                consumption_wh=cons,
                production_wh=prod,
                self_consumed_wh=own,
                surplus_wh=max(split_prod - own, 0),
                production_without_curve_wh=max(prod - split_prod, 0),
                hp_wh=hp,
                hc_wh=hc,
                self_consumption_rate=round(min(own / split_prod, 1) * 100, 1) if split_prod else None,
                hc_share=round(hc / (hp + hc) * 100, 1) if hp + hc else None,
                change_vs_previous=round((now_wh - previous) / previous * 100, 1) if previous else None,
                days_compared=days_compared,
            )
        )
    return Bilan(period, tuple(rows))
