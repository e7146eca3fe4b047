"""The contract timeline of each usage point in the store: the setting `contract.timeline.<pdl>` (entries
as `app.contract_timeline` describes them), built from what the gateway says at each sync and editable by
the user. `contract.resplit_from.<pdl>` holds the first day whose split changed since the exporters last
re-sent history (a timeline change re-splits and re-exports from there).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.contract_timeline import first_difference, gateway_entry, new_period_start
from app.store import Store


async def load_entries(store: Store, usage_point_id: str) -> list[dict[str, Any]]:
    return await store.settings.contract_timeline(usage_point_id)


async def mark_resplit(store: Store, usage_point_id: str, first: dt.date | None) -> None:
    """Ask every exporter to re-send history from `first` (None: from the start of the data). The
    request is a token {"from", "n"}: each exporter remembers the last token it handled; an unhandled
    older request is kept by sending from the earlier of the two days."""
    current = await store.settings.resplit_request(usage_point_id) or {}
    day = (first or dt.date(1970, 1, 1)).isoformat()
    if current.get("from") and current["from"] < day:
        day = current["from"]
    await store.settings.set_resplit_request(usage_point_id, {"from": day, "n": int(current.get("n", 0)) + 1})


async def pending_resplit(store: Store, exporter: str, usage_point_id: str) -> tuple[dt.date, Any] | None:
    """The day an exporter must re-send history from (and the token to hand back when done), or None."""
    token = await store.settings.resplit_request(usage_point_id)
    if not token:
        return None
    handled = await store.settings.resplit_handled(usage_point_id, exporter)
    if handled == token:
        return None
    return dt.date.fromisoformat(token["from"]), token


async def resplit_done(store: Store, exporter: str, usage_point_id: str, token: Any) -> None:
    await store.settings.set_resplit_handled(usage_point_id, exporter, token)


async def record_seen(store: Store, usage_point_id: str, today: dt.date) -> dt.date | None:
    """After a sync: the contract the gateway describes now, compared with the latest period. A change
    seen is a new period from the contract's last_distribution_tariff_change_date when that is newer than
    the latest period's start, else from `today`. Returns the first re-split day (None: no change)."""
    points = {p.usage_point_id: p for p in await store.usage_points()}
    point = points.get(usage_point_id)
    contract = await store.contract(usage_point_id)
    if point is None and contract is None:
        return None
    seen = gateway_entry(point, contract)
    entries = await load_entries(store, usage_point_id)
    if not entries:
        await store.settings.set_contract_timeline(usage_point_id, [{"valid_from": None, **seen}])
        return None
    changed = contract.last_distribution_tariff_change_date if contract else None
    start = new_period_start(entries, seen, changed, today)
    if start is None:
        return None
    entries.append({"valid_from": start.isoformat(), **seen})
    await store.settings.set_contract_timeline(usage_point_id, entries)
    await mark_resplit(store, usage_point_id, start)
    return start


async def save_user_timeline(
    store: Store, usage_point_id: str, entries: list[dict[str, Any]]
) -> tuple[bool, dt.date | None]:
    """Replace the timeline with the user's; the exporters re-send history from the first changed day."""
    old = await load_entries(store, usage_point_id)
    changed, first = first_difference(old, entries) if old else (True, None)
    if changed:  # an unchanged form leaves the periods (and their origin) as they are
        await store.settings.set_contract_timeline(usage_point_id, entries)
        await mark_resplit(store, usage_point_id, first)
    return changed, first
