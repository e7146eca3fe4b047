"""The figures of the cost pages as typed results (Decimal euros) and their JSON shapes: the pages'
JSON API, templates and charts read the answers (euros as strings rounded to the cent, Wh as ints).
`app.costing` builds the figures from the store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.domain import OffpeakRange
from app.pricing.catalogue import PricedOffer
from app.pricing.costs import PricingWarning
from app.pricing.engine import Totals
from app.pricing.simulation import Bilan, BilanRow, CostSummary, OfferResult, Simulation, balance_sheet

CENT = Decimal("0.01")


def eur(value: Decimal) -> str:
    """Euros as the pages show them: rounded to the cent, as a string."""
    return str(value.quantize(CENT))


@dataclass(frozen=True, slots=True)
class ConsumptionEuro:
    """/consumption_euro: the history under the offer in force (today's chosen offer named)."""

    usage_point_id: str
    offer: PricedOffer | None
    summary: CostSummary
    warnings: tuple[PricingWarning, ...]


@dataclass(frozen=True, slots=True)
class BilanFigures:
    """/bilan: per year and per month."""

    usage_point_id: str
    years: Bilan
    months: Bilan


@dataclass(frozen=True, slots=True)
class OfferChoice:
    """/offers: the catalogue and the usage point's choices (no usage point: none)."""

    usage_point_id: str | None
    chosen: PricedOffer | None
    offpeak: tuple[OffpeakRange, ...]
    ejp_days: tuple[dt.date, ...]
    timeline_text: str
    offers: tuple[PricedOffer, ...]


def warnings_answer(warnings: tuple[PricingWarning, ...]) -> list[dict[str, Any]]:
    return [{"code": w.code, "seasons": w.seasons} for w in warnings]


def _totals_answer(totals: Totals) -> dict[str, Any]:
    return {
        "wh": totals.wh,
        "energy_eur": eur(totals.energy_eur),
        "subscription_eur": eur(totals.subscription_eur),
        "total_eur": eur(totals.total_eur),
    }


def summary_answer(summary: CostSummary) -> dict[str, Any]:
    """Totals per day/month/year and per bucket, subscription apart."""
    rows = [
        {
            "period": key.isoformat(),
            **_totals_answer(total),
            "buckets": {k: {"wh": wh, "eur": eur(e)} for k, (wh, e) in sorted(total.buckets.items())},
            "estimated_days": total.estimated_days,
        }
        for key, total in summary.rows.items()
    ]
    return {
        "rows": rows,
        "total": {**_totals_answer(summary.total), "estimated_days": summary.total.estimated_days},
        "sources": list(summary.sources),
    }


def consumption_euro_answer(figures: ConsumptionEuro) -> dict[str, Any]:
    offer = figures.offer
    return {
        "usage_point_id": figures.usage_point_id,
        "period": figures.summary.period,
        "offer": offer.id if offer else None,
        "offer_name": None
        if offer is None
        else {"provider": offer.provider, "name": offer.name, "power_kva": offer.power_kva},
        **summary_answer(figures.summary),
        "warnings": warnings_answer(figures.warnings),
    }


def _offer_answer(row: OfferResult) -> dict[str, Any]:
    return {
        "offer_id": row.offer_id,
        "provider": row.provider,
        "name": row.name,
        "option": row.option,
        "power_kva": row.power_kva,
        "origin": row.origin,
        "estimated_days": row.estimated_days,
        "priced_days": row.priced_days,
        "months": {month: eur(total) for month, total in row.months.items()},
        "rank": row.rank,
        "saving_eur": None if row.saving_eur is None else eur(row.saving_eur),
        "total_eur": eur(row.total_eur),
    }


def simulation_answer(result: Simulation) -> dict[str, Any]:
    seasons = list(result.ejp_seasons_without_days)
    return {
        "first": result.first.isoformat(),
        "last": result.last.isoformat(),
        "power_kva": result.power_kva,
        "next_power_kva": result.next_power_kva,
        "current_offer_id": result.current_offer_id,
        "curve_days": result.curve_days,
        "expected_days": result.expected_days,
        "gaps": result.gaps,
        "ejp_seasons_without_days": seasons,
        "offers": [_offer_answer(r) for r in result.offers],
        "next_power": [_offer_answer(r) for r in result.next_power],
        "warnings": [{"code": "ejp_days_unknown", "seasons": ", ".join(seasons)}] if seasons else [],
    }


def _bilan_row_answer(row: BilanRow, period: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "period": row.period.isoformat(),
        "year": row.period.year,
        "consumption_wh": row.consumption_wh,
        "production_wh": row.production_wh,
        "self_consumed_wh": row.self_consumed_wh,
        "surplus_wh": row.surplus_wh,
        "production_without_curve_wh": row.production_without_curve_wh,
        "hp_wh": row.hp_wh,
        "hc_wh": row.hc_wh,
        "self_consumption_rate": row.self_consumption_rate,
        "hc_share": row.hc_share,
        "change_vs_previous": row.change_vs_previous,
        "days_compared": row.days_compared,
    }
    if period == "month":
        out["month"] = row.period.month
    return out


def bilan_answer(result: Bilan) -> dict[str, Any]:
    return {
        "period": result.period,
        "years" if result.period == "year" else "months": [
            _bilan_row_answer(r, result.period) for r in result.rows
        ],
        "has_production": result.has_production,
    }


def bilan(
    consumption: Mapping[dt.date, int],
    production: Mapping[dt.date, int],
    self_consumed: Mapping[dt.date, int],
    hp_hc: Mapping[dt.date, tuple[int, int]],
    period: str = "year",
) -> dict[str, Any]:
    """`balance_sheet` as the JSON answer shows it."""
    return bilan_answer(balance_sheet(consumption, production, self_consumed, hp_hc, period))


def bilan_figures_answer(figures: BilanFigures) -> dict[str, Any]:
    return {
        "usage_point_id": figures.usage_point_id,
        **bilan_answer(figures.years),
        "months": bilan_answer(figures.months)["months"],
    }


def offer_choice_answer(choice: OfferChoice) -> dict[str, Any]:
    return {
        "usage_point_id": choice.usage_point_id,
        "chosen": choice.chosen.id if choice.chosen else None,
        "offpeak": ", ".join(str(r) for r in choice.offpeak),
        "ejp_days": ", ".join(d.isoformat() for d in choice.ejp_days),
        "timeline": choice.timeline_text,
        "offers": [
            {
                "id": o.id,
                "provider": o.provider,
                "name": o.name,
                "option": o.option,
                "power_kva": o.power_kva,
                "origin": o.origin,
                "periods": [
                    {
                        "valid_from": p.valid_from.isoformat(),
                        "valid_to": p.valid_to.isoformat() if p.valid_to else None,
                        "subscription_eur_month": str(p.subscription_eur_month),
                        "prices_eur_kwh": {k: str(v) for k, v in p.prices_eur_kwh.items()},
                        "source": p.source,
                        "low_confidence": p.low_confidence,
                    }
                    for p in o.periods
                ],
            }
            for o in choice.offers
        ],
    }
