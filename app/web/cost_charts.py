"""Charts of the cost pages (/consumption_euro, /simulation, /bilan) in the shape of `charts.py`.

They only reshape what `pricing_pages` gets from the pricing engine (`costs_summary`, `simulate`,
`bilan`): no price is computed here. Euros come as the engine's cent-rounded strings and stay exact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from app import timeline
from app.web.charts import Chart, View, bucket_label
from app.web.i18n import MONTHS, bucket_name
from app.web.i18n import cost_text as text
from app.web.labels import BUCKET_ORDER, offer_label

COST_PERIODS: tuple[View, ...] = ("day", "month", "year")
BILAN_VIEWS: tuple[View, ...] = ("month", "year")
YEAR_COLOURS = ("--c-year3", "--c-year2", "--c-prev", "--c-cons")  # oldest to latest


def _euros(value: str | None) -> float | None:
    return None if value is None else float(value)


def _kwh(wh: int | None) -> float | None:
    return None if wh is None else round(wh / 1000, 3)


def bucket_colour(bucket: str) -> str:
    return "--c-" + bucket.replace("_", "-")


def _category(view: View, periods: Sequence[str], lang: str) -> dict[str, Any]:
    keys = [dt.date.fromisoformat(p) for p in periods]
    return {
        "x": "category",
        "labels": [bucket_label(view, k, lang) for k in keys],
        "keys": [k.isoformat() for k in keys],
    }


def _series(label: str, colour: str, values: list[Any], kind: str = "bars", **extra: Any) -> dict[str, Any]:
    return {"label": label, "kind": kind, "color": colour, "values": values, **extra}


def _per_period(
    view: View, rows: Sequence[Mapping[str, Any]], lang: str, unit: str, series: list[dict[str, Any]]
) -> Chart:
    """A chart with one category per row of the engine's figures (nothing drawn without rows)."""
    return {
        **_category(view, [r["period"] for r in rows], lang),
        "unit": unit,
        "series": series if rows else [],
    }


def cost_chart(summary: Mapping[str, Any], period: View, lang: str) -> Chart:
    """Energy cost per period stacked per tariff bucket, the subscription as a bar beside it (€)."""
    rows: list[Mapping[str, Any]] = summary["rows"]
    present = {name for row in rows for name in row["buckets"]}
    buckets = [b for b in BUCKET_ORDER if b in present] + sorted(present - set(BUCKET_ORDER))
    series = [
        _series(
            bucket_name(lang, name),
            bucket_colour(name),
            [_euros(row["buckets"].get(name, {}).get("eur")) for row in rows],
            stack="energy",
        )
        for name in buckets
    ]
    subscription = [_euros(row["subscription_eur"]) for row in rows]
    series.append(_series(text(lang, "subscription"), "--c-sub", subscription))
    chart = _per_period(period, rows, lang, "€", series)
    chart["total"] = _euros(summary["total"]["total_eur"]) if rows else None
    return chart


def _offer_label(row: Mapping[str, Any], lang: str) -> str:
    return offer_label(row, lang)


def ranking_chart(simulation: Mapping[str, Any], lang: str) -> Chart:
    """Cost of every offer at the subscribed power over the last 12 months, cheapest first (€);
    the current offer in its own colour."""
    offers: list[Mapping[str, Any]] = simulation["offers"]
    current = simulation["current_offer_id"]
    values = [_euros(row["total_eur"]) for row in offers]
    pairs = list(zip(values, (row["offer_id"] == current for row in offers), strict=True))
    return {
        "x": "category",
        "labels": [_offer_label(row, lang) for row in offers],
        "horizontal": True,  # one row per offer: the names stay readable on a phone
        "keys": [row["offer_id"] for row in offers],
        "unit": "€",
        "series": [
            _series(
                text(lang, "other_offers"), "--c-prev", [None if own else v for v, own in pairs], align=0
            ),
            _series(
                text(lang, "current_offer"), "--c-cons", [v if own else None for v, own in pairs], align=0
            ),
        ]
        if offers
        else [],
        "total": None,
    }


def months_chart(simulation: Mapping[str, Any], lang: str) -> Chart:
    """Month by month cost (€) of the current offer against the cheapest one."""
    offers: list[Mapping[str, Any]] = simulation["offers"]
    current = next((r for r in offers if r["offer_id"] == simulation["current_offer_id"]), None)
    best = offers[0] if offers else None
    first = timeline.month_start(dt.date.fromisoformat(simulation["first"]))
    last = dt.date.fromisoformat(simulation["last"])
    months: list[dt.date] = []
    while first <= last:
        months.append(first)
        first = timeline.add_months(first, 1)
    shown: list[tuple[str, str, Mapping[str, Any]]] = []
    colon = "\u00a0: " if lang == "fr" else ": "
    if current is not None:
        own = "current_is_best" if best is current else "current_offer"
        shown.append((f"{text(lang, own)}{colon}{_offer_label(current, lang)}", "--c-cons", current))
    if best is not None and best is not current:
        shown.append((f"{text(lang, 'best_offer')}{colon}{_offer_label(best, lang)}", "--c-best", best))
    return {
        **_category("month", [m.isoformat() for m in months], lang),
        "unit": "€",
        "series": [
            _series(label, colour, [_euros(row["months"].get(m.isoformat()[:7])) for m in months])
            for label, colour, row in shown
        ],
        "total": _euros(current["total_eur"]) if current is not None else None,
    }


def bilan_energy_chart(data: Mapping[str, Any], view: View, lang: str) -> Chart:
    """Consumption against production per month or year (kWh); production split into what was used
    on the spot (self-consumed), what went to the grid (surplus) and, on days with only daily values,
    production whose use is unknown."""
    rows: list[Mapping[str, Any]] = data["years" if view == "year" else "months"]
    series = [_series(text(lang, "consumption"), "--c-cons", [_kwh(r["consumption_wh"]) for r in rows])]
    if data["has_production"]:
        own = [_kwh(r["self_consumed_wh"]) for r in rows]
        surplus = [_kwh(r["surplus_wh"]) for r in rows]
        series += [
            _series(text(lang, "self_consumed"), "--c-self", own, stack="production"),
            _series(text(lang, "surplus"), "--c-prod", surplus, stack="production"),
        ]
        unsplit = [_kwh(r["production_without_curve_wh"]) for r in rows]
        if any(unsplit):  # days older than the load curve: production known, its use not
            series.append(_series(text(lang, "without_curve"), "--c-unsplit", unsplit, stack="production"))
    chart = _per_period(view, rows, lang, "kWh", series)
    chart["total"] = _kwh(sum(r["consumption_wh"] for r in rows)) if rows else None
    return chart


def bilan_shares_chart(data: Mapping[str, Any], view: View, lang: str) -> Chart:
    """Off-peak share of consumption and self-consumption rate of production per month or year (%)."""
    rows: list[Mapping[str, Any]] = data["years" if view == "year" else "months"]
    series: list[dict[str, Any]] = []
    if any(r["hc_share"] is not None for r in rows):
        series.append(_series(text(lang, "hc_share"), "--c-hc", [r["hc_share"] for r in rows], "line"))
    if data["has_production"]:
        rates = [r["self_consumption_rate"] for r in rows]
        series.append(_series(text(lang, "self_rate"), "--c-self", rates, "line"))
    return {**_per_period(view, rows, lang, "%", series), "y_min": 0, "y_max": 100}


def bilan_years_chart(data: Mapping[str, Any], lang: str) -> Chart:
    """Consumption month by month, one series per year (up to four): year over year (kWh)."""
    by_year: dict[int, dict[int, int]] = {}
    for row in data["months"]:
        by_year.setdefault(row["year"], {})[row["month"]] = row["consumption_wh"]
    years = sorted(by_year)[-len(YEAR_COLOURS) :]
    colours = YEAR_COLOURS[len(YEAR_COLOURS) - len(years) :]
    return {
        "x": "category",
        "labels": list(MONTHS[lang]),
        "keys": [f"{m:02d}" for m in range(1, 13)],
        "unit": "kWh",
        "series": [
            _series(str(year), colour, [_kwh(by_year[year].get(m)) for m in range(1, 13)], "line")
            for year, colour in zip(years, colours, strict=True)
        ],
        "total": _kwh(sum(by_year[years[-1]].values())) if years else None,
    }
