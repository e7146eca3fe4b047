"""Live prices per usage point, read from the store for every exporter that shows them (Home Assistant
discovery, MQTT, Prometheus): the offer chosen on the offers page (else the regulated one of the
contract), the off-peak hours in force and the stored Tempo colours."""

from __future__ import annotations

import datetime as dt

from app import timeline
from app.domain import TempoColor
from app.pricing.costs import StoreCostSource
from app.pricing.live import LivePrice, live_price
from app.store import Store


async def tempo_colours(store: Store, now: dt.datetime) -> dict[dt.date, TempoColor]:
    today = timeline.paris_today(now)
    return {
        d.day: d.color for d in await store.tempo(today - dt.timedelta(days=2), today + dt.timedelta(days=2))
    }


async def live_prices(store: Store, now: dt.datetime) -> dict[str, LivePrice]:
    """usage point id -> its live price; points without a known offer are left out."""
    costs = StoreCostSource(store)
    tempo = await tempo_colours(store, now)
    out: dict[str, LivePrice] = {}
    for point in await store.usage_points():
        if not point.has_consumption:
            continue
        pdl = point.usage_point_id
        offer = await costs.chosen_offer(pdl)
        if offer is None:
            continue
        out[pdl] = live_price(
            offer, now, offpeak=await costs.offpeak(pdl), tempo=tempo, ejp_days=await costs.ejp_days(pdl)
        )
    return out
