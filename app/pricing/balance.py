"""Consumption against production: the energy consumed while the installation was producing.

Self-consumption is read from the two load curves: in each slot, the part of the consumption covered by
the production is min(consumption, production). It is exact where the production curve measures what
the panels make (a production usage point of its own, "vente totale"); where the Linky only counts the
surplus sent to the grid, it is an estimate (DOCS.md says so). The bilan page and the Home Assistant
sensors share this one definition.
"""

from __future__ import annotations

import datetime as dt

from app import timeline
from app.domain import Direction, UsagePoint
from app.store import Store


def production_point_of(point: UsagePoint | None, usage_point_id: str) -> str:
    """The usage point whose production goes with `usage_point_id` (a linked one, else itself)."""
    return (point.linked_production_pdl_id if point else None) or usage_point_id


async def self_consumed_by_day(
    store: Store, usage_point_id: str, production_point_id: str, first: dt.date, last: dt.date
) -> dict[dt.date, int]:
    """Wh consumed while produced, per Paris day in [first, last] (days without both curves are absent)."""
    start = timeline.day_start_utc(first)
    end = timeline.day_start_utc(last + dt.timedelta(days=1))
    produced = {
        r.start: r.average_w
        for r in await store.intervals(production_point_id, Direction.PRODUCTION, start, end)
        if r.average_w is not None
    }
    if not produced:
        return {}
    out: dict[dt.date, int] = {}
    for reading in await store.intervals(usage_point_id, Direction.CONSUMPTION, start, end):
        made = produced.get(reading.start)
        if reading.average_w is None or made is None:
            continue
        day = timeline.paris_date(reading.start)
        out[day] = out.get(day, 0) + (min(reading.average_w, made) * reading.minutes + 30) // 60
    return out


def self_consumption_rate(self_consumed_wh: int, produced_wh: int | None) -> float | None:
    """Share of the production consumed on site, in percent (None without production)."""
    if not produced_wh:
        return None
    return round(min(self_consumed_wh / produced_wh, 1.0) * 100, 1)
