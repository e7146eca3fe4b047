"""Offer simulation and bilan as plain dicts (pure; pages, JSON API and future charts reuse them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from app.domain import OffpeakRange, TempoColor
from app.pricing.catalogue import PricedOffer
from app.pricing.engine import (
    DayCost,
    DaySlots,
    bucket_energy,
    ejp_seasons_without_days,
    group_totals,
    price_daily_total,
    price_day,
    rules_key,
    totals,
)

CENT = Decimal("0.01")


def _eur(value: Decimal) -> str:
    return str(value.quantize(CENT))


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


def costs_summary(costs: Sequence[DayCost], period: str) -> dict[str, Any]:
    """Totals per day/month/year and per bucket, subscription apart (euros as strings, Wh as ints)."""
    rows = []
    for key, total in group_totals(costs, period).items():
        rows.append(
            {
                "period": key.isoformat(),
                "wh": total.wh,
                "energy_eur": _eur(total.energy_eur),
                "subscription_eur": _eur(total.subscription_eur),
                "total_eur": _eur(total.total_eur),
                "buckets": {
                    k: {"wh": wh, "eur": _eur(eur)} for k, (wh, eur) in sorted(total.buckets.items())
                },
                "estimated_days": total.estimated_days,
            }
        )
    whole = totals(costs)
    return {
        "rows": rows,
        "total": {
            "wh": whole.wh,
            "energy_eur": _eur(whole.energy_eur),
            "subscription_eur": _eur(whole.subscription_eur),
            "total_eur": _eur(whole.total_eur),
            "estimated_days": whole.estimated_days,
        },
        "sources": sorted({c.period_source for c in costs}),
    }


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
) -> dict[str, Any]:
    """Every offer at the user's power (and the next power up) priced on [first, last], ranked.
    EJP offers are priced with the user's EJP days (none known: every hour at the normal price)."""
    powers = sorted({o.power_kva for o in offers})
    next_up = next((p for p in powers if p > power_kva), None)
    expected_days = (last - first).days + 1
    curve_days = sum(1 for d in days if first <= d <= last)
    results: list[dict[str, Any]] = []
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
        if not costs:
            continue
        whole = totals(costs)
        results.append(
            {
                "offer_id": offer.id,
                "provider": offer.provider,
                "name": offer.name,
                "option": offer.option,
                "power_kva": offer.power_kva,
                "origin": offer.origin,
                "total": whole.total_eur,
                "estimated_days": whole.estimated_days,
                "priced_days": whole.days,
                "months": {
                    k.isoformat()[:7]: _eur(v.total_eur) for k, v in group_totals(costs, "month").items()
                },
            }
        )
    results.sort(key=lambda r: r["total"])
    current: Decimal | None = next((r["total"] for r in results if r["offer_id"] == current_offer_id), None)
    for rank, row in enumerate(results, 1):
        row["rank"] = rank
        row["saving_eur"] = _eur(current - row["total"]) if current is not None else None
        row["total_eur"] = _eur(row.pop("total"))
    return {
        "first": first.isoformat(),
        "last": last.isoformat(),
        "power_kva": power_kva,
        "next_power_kva": next_up,
        "current_offer_id": current_offer_id,
        "curve_days": curve_days,
        "expected_days": expected_days,
        "gaps": curve_days < expected_days,
        "ejp_seasons_without_days": ejp_seasons_without_days(first, last, ejp_days)
        if any(r["option"] == "EJP" for r in results)
        else [],
        "offers": [r for r in results if r["power_kva"] == power_kva],
        "next_power": [r for r in results if r["power_kva"] == next_up],
    }


def bilan(
    consumption: Mapping[dt.date, int],
    production: Mapping[dt.date, int],
    self_consumed: Mapping[dt.date, int],
    hp_hc: Mapping[dt.date, tuple[int, int]],
    period: str = "year",
) -> dict[str, Any]:
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
        row: dict[str, Any] = {
            "period": key.isoformat(),
            "year": key.year,
            "consumption_wh": cons,
            "production_wh": prod,
            "self_consumed_wh": own,
            "surplus_wh": max(split_prod - own, 0),
            "production_without_curve_wh": max(prod - split_prod, 0),
            "hp_wh": hp,
            "hc_wh": hc,
            "self_consumption_rate": round(min(own / split_prod, 1) * 100, 1) if split_prod else None,
            "hc_share": round(hc / (hp + hc) * 100, 1) if hp + hc else None,
            "change_vs_previous": round((now_wh - previous) / previous * 100, 1) if previous else None,
            "days_compared": days_compared,
        }
        if period == "month":
            row["month"] = key.month
        rows.append(row)
    return {
        "period": period,
        "years" if period == "year" else "months": rows,
        "has_production": any(r["production_wh"] for r in rows),
    }
