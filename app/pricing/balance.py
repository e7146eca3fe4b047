"""Consumption against production: the energy consumed while the installation was producing.

Self-consumption is read from the two load curves: in each slot, the part of the consumption covered by
the production is min(consumption, production). It is exact where the production curve measures what
the panels make (a production usage point of its own, "vente totale"); where the Linky only counts the
surplus sent to the grid, it is an estimate (DOCS.md says so). The bilan page and the Home Assistant
sensors share this one definition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from app.domain import OffpeakRange, UsagePoint
from app.pricing.engine import DaySlots, group_epochs_by_local_day
from app.tariff_rules import offpeak_mask


def production_point_of(point: UsagePoint | None, usage_point_id: str) -> str:
    """The usage point whose production goes with `usage_point_id` (a linked one, else itself)."""
    return (point.linked_production_pdl_id if point else None) or usage_point_id


def self_consumed_per_day(
    consumption: Iterable[tuple[int, int, int | None]], production: Iterable[tuple[int, int, int | None]]
) -> dict[dt.date, int]:
    """Wh consumed while produced per Paris day, from (epoch, minutes, average W) rows of both curves
    (`Store.interval_values`); slots missing from either curve count for nothing."""
    produced = {epoch: watts for epoch, _, watts in production if watts is not None}
    if not produced:
        return {}
    own = (
        (epoch, minutes, min(watts, made))
        for epoch, minutes, watts in consumption
        if watts is not None and (made := produced.get(epoch)) is not None
    )
    return {day: sum(wh for _, wh in s.slots) for day, s in group_epochs_by_local_day(own).items()}


def self_consumption_rate(self_consumed_wh: int, produced_wh: int | None) -> float | None:
    """Share of the production consumed on site, in percent (None without production)."""
    if not produced_wh:
        return None
    return round(min(self_consumed_wh / produced_wh, 1.0) * 100, 1)


def peak_offpeak_per_day(
    days: Mapping[dt.date, DaySlots], offpeak: tuple[OffpeakRange, ...]
) -> dict[dt.date, tuple[int, int]]:
    """(HP Wh, HC Wh) of each Paris day of curve under the off-peak hours `offpeak` (none: no split)."""
    if not offpeak:
        return {}
    mask = offpeak_mask(offpeak)
    out: dict[dt.date, tuple[int, int]] = {}
    for day, slots in days.items():
        hc = sum(wh for minute, wh in slots.slots if mask[minute])
        out[day] = (sum(wh for _, wh in slots.slots) - hc, hc)
    return out
