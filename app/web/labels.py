"""What a person reads instead of an internal key: offer names, pricing options, usage points, and
numbers and euros written the way the page's language writes them (French: decimal comma, narrow
no-break space between thousands).

Used by the templates as Jinja filters (`setup_filters`) and by the chart builders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from app.web.charts import VIEWS
from app.web.charts import bucket_label as period_name
from app.web.i18n import bucket_name, text

THOUSANDS = {"fr": "\u202f", "en": ","}
DECIMAL_MARK = {"fr": ",", "en": "."}
NBSP = "\u00a0"
# Drawing order of the tariff buckets in a stack (cheapest hours at the bottom) and in tables.
BUCKET_ORDER = (
    "base",
    "hc",
    "hp",
    "winter",
    "summer",
    *(f"tempo_{colour}_{hours}" for colour in ("blue", "white", "red") for hours in ("hc", "hp")),
    "unsplit",
)


def decimal(value: Any, lang: str, digits: int = 2) -> str:
    """`value` (a number or the engine's decimal string) with exactly `digits` decimals, grouped by
    thousands; an empty or unreadable value is a dash."""
    if value is None or value == "":
        return "—"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return "—"
    if not number.is_finite():
        return "—"
    quantum = Decimal(1).scaleb(-digits)
    rounded = number.quantize(quantum, rounding=ROUND_HALF_EVEN)
    sign = "-" if rounded < 0 else ""
    whole, _, fraction = f"{abs(rounded):.{digits}f}".partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    out = sign + THOUSANDS.get(lang, ",").join(groups)
    return out + (DECIMAL_MARK.get(lang, ".") + fraction if digits > 0 else "")


def money(value: Any, lang: str) -> str:
    """Euros with two decimals: "1 234,50 €" in French, "€1,234.50" in English."""
    amount = decimal(value, lang, 2)
    if amount == "—":
        return amount
    if lang == "fr":
        return f"{amount}{NBSP}€"
    return f"-€{amount[1:]}" if amount.startswith("-") else f"€{amount}"


def kwh(wh: Any, lang: str, digits: int = 1) -> str:
    """Watt-hours (the store's integers) as a kWh number."""
    if wh is None:
        return "—"
    return decimal(Decimal(str(wh)) / 1000, lang, digits)


def option_label(option: str | None, lang: str) -> str:
    """A pricing option (BASE, HC_HP, TEMPO...) as its name; an unknown code is shown as it is."""
    if not option:
        return "—"
    key = f"option_{option}"
    label = text(lang, key)
    return option if label == key else label


def offer_label(offer: Mapping[str, Any] | None, lang: str) -> str:
    """Provider, offer name and power ("EDF — Tarif Bleu Base · 6 kVA"), never the offer's id."""
    if not offer:
        return "—"
    name = str(offer.get("name") or "")
    provider = str(offer.get("provider") or "")
    named_by_provider = name.casefold().startswith(provider.casefold())
    label = f"{provider} — {name}" if provider and not named_by_provider else name
    power = offer.get("power_kva")
    if power and "kva" not in name.casefold():
        label += f" · {power}{NBSP}kVA"
    return label or "—"


def point_label(name: str | None, usage_point_id: str) -> str:
    """A usage point as its name, the PDL after it (the PDL alone when it has no name)."""
    return f"{name} · {usage_point_id}" if name else usage_point_id


def bucket_label(bucket: str, lang: str) -> str:
    """A tariff bucket (hc, tempo_blue_hp...) as its name; an unknown bucket is shown as it is."""
    label = bucket_name(lang, bucket)
    return bucket if label == f"bucket_{bucket}" else label


def ordered_buckets(buckets: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """A row's tariff buckets in the charts' order (blue, white, red; off-peak before peak)."""
    rank = {name: i for i, name in enumerate(BUCKET_ORDER)}
    return sorted(buckets.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0]))


def percent(value: Any, lang: str, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{decimal(value, lang, digits)}{NBSP if lang == 'fr' else ''}%"


def period_label(key: str, view: str, lang: str) -> str:
    """A period's first day (YYYY-MM-DD) as the period's name: "28/11", "nov. 2026", "2026"."""
    try:
        day = dt.date.fromisoformat(key)
    except (TypeError, ValueError):
        return str(key)
    return period_name(view if view in VIEWS else "day", day, lang)


def month_label(key: str, lang: str) -> str:
    """A month key (YYYY-MM) as "nov. 2026"."""
    return period_label(f"{key}-01", "month", lang)


def day_label(value: Any, lang: str) -> str:
    """A YYYY-MM-DD date as a person writes it (28/11/2026); anything else as it is."""
    try:
        return dt.date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)


def setup_filters(app: web.Application) -> None:
    env = aiohttp_jinja2.get_env(app)
    env.filters.update(
        decimal=decimal,
        money=money,
        kwh=kwh,
        option_label=option_label,
        offer_label=offer_label,
        point_label=point_label,
        bucket_label=bucket_label,
        percent=percent,
        ordered_buckets=ordered_buckets,
        period_label=period_label,
        month_label=month_label,
        day_label=day_label,
    )
