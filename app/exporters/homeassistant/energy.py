"""The one-click "Add to the Energy dashboard": our statistics as grid sources of HA's Energy prefs.

Never destructive: the prefs are read with `energy/get_prefs`, our entries are merged into the user's
own grid source (HA allows one) without touching anything else, and the whole list is written back
with `energy/save_prefs` (HA replaces it). What we added is recorded in the store, so that "remove"
takes out exactly those entries (and the grid source itself only when we created it). A refused
save changes nothing in HA and nothing in our record. Runs only when the user clicks.

Which statistics: those HA lists (`recorder/list_statistic_ids`) under our source. Per usage point,
the tariff buckets (`..._hp`, `..._tempo_blue_hc`, ...) when it has any, else the total, each with its
`..._cost` twin as `stat_cost` when HA holds one; production goes to the grid (`flow_to`).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from app.exporters.homeassistant.statistics import SOURCE
from app.exporters.homeassistant.websocket import HomeAssistantError, HomeAssistantWebSocket
from app.store import Store

_OUR_ID = re.compile(rf"^{SOURCE}:(consumption|production)_(\d{{14}})((?:_[a-z]+)*)$")


@dataclass(frozen=True, slots=True)
class OurStatistic:
    statistic_id: str
    name: str
    direction: str  # "consumption" | "production"
    usage_point_id: str
    bucket: str  # "" = total
    cost: bool


@dataclass
class EnergyChange:
    """What an action did: lines a person reads, and whether the prefs were written."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    saved: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "removed": self.removed, "saved": self.saved}


def parse_statistics(listed: list[dict[str, Any]]) -> list[OurStatistic]:
    """Our statistics among those HA lists (anything else is the user's and ignored)."""
    out = []
    for item in listed:
        sid = str(item.get("statistic_id", ""))
        match = _OUR_ID.match(sid)
        if match is None:
            continue
        direction, pdl, rest = match.groups()
        cost = rest.endswith("_cost")
        bucket = rest.removesuffix("_cost").lstrip("_")
        out.append(OurStatistic(sid, str(item.get("name") or sid), direction, pdl, bucket, cost))
    return sorted(out, key=lambda s: s.statistic_id)


def wanted_flows(stats: list[OurStatistic]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The `flow_from` and `flow_to` entries our statistics make, in HA's full-key form."""
    ids = {s.statistic_id for s in stats}
    energy = [s for s in stats if not s.cost]
    flow_from: list[dict[str, Any]] = []
    flow_to: list[dict[str, Any]] = []
    for pdl in sorted({s.usage_point_id for s in energy}):
        consumption = [s for s in energy if s.usage_point_id == pdl and s.direction == "consumption"]
        buckets = [s for s in consumption if s.bucket]
        for stat in buckets or [s for s in consumption if not s.bucket]:
            cost_id = stat.statistic_id + "_cost"
            flow_from.append(
                {
                    "stat_energy_from": stat.statistic_id,
                    "stat_cost": cost_id if cost_id in ids else None,
                    "entity_energy_price": None,
                    "number_energy_price": None,
                }
            )
        for stat in energy:
            if stat.usage_point_id == pdl and stat.direction == "production" and not stat.bucket:
                flow_to.append(
                    {
                        "stat_energy_to": stat.statistic_id,
                        "stat_compensation": None,
                        "entity_energy_price": None,
                        "number_energy_price": None,
                    }
                )
    return flow_from, flow_to


def _empty_record() -> dict[str, Any]:
    return {"flow_from": [], "flow_to": [], "created_grid": False}


def grid_format(prefs: dict[str, Any]) -> bool | None:
    """True: HA's unified grid sources (one per import/export pair, several allowed, newer cores);
    False: the legacy single grid source with `flow_from`/`flow_to` lists; None: no grid source yet."""
    grids = [s for s in prefs.get("energy_sources", []) if s.get("type") == "grid"]
    if not grids:
        return None
    return not any("flow_from" in g for g in grids)


def _unified(entry: dict[str, Any]) -> dict[str, Any]:
    """One of our legacy flow entries as a unified grid source."""
    source: dict[str, Any] = {
        "type": "grid",
        "stat_energy_from": entry.get("stat_energy_from"),
        "stat_cost": entry.get("stat_cost"),
        "entity_energy_price": None,
        "number_energy_price": None,
        "stat_energy_to": entry.get("stat_energy_to"),
        "stat_compensation": entry.get("stat_compensation"),
        "entity_energy_price_export": None,
        "number_energy_price_export": None,
        "cost_adjustment_day": 0.0,
    }
    return source


def add_flows(
    prefs: dict[str, Any],
    flow_from: list[dict[str, Any]],
    flow_to: list[dict[str, Any]],
    record: dict[str, Any],
    *,
    unified: bool = False,
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Prefs with our flows merged in (none twice), the updated record of what we added, the ids added."""
    new = copy.deepcopy(prefs)
    new.setdefault("energy_sources", [])
    new.setdefault("device_consumption", [])
    record = copy.deepcopy(record)
    if unified:
        grids = [s for s in new["energy_sources"] if s.get("type") == "grid"]
        present = {g.get("stat_energy_from") for g in grids} | {g.get("stat_energy_to") for g in grids}
        added: list[str] = []
        for entry, key, kind in [(e, "stat_energy_from", "flow_from") for e in flow_from] + [
            (e, "stat_energy_to", "flow_to") for e in flow_to
        ]:
            if entry[key] not in present:
                new["energy_sources"].append(_unified(entry))
                record[kind].append(entry[key])
                added.append(entry[key])
        return new, record, added
    grid = next((s for s in new["energy_sources"] if s.get("type") == "grid"), None)
    if grid is None:
        grid = {"type": "grid", "flow_from": [], "flow_to": [], "cost_adjustment_day": 0.0}
        record["created_grid"] = True
        new["energy_sources"].append(grid)
    grid.setdefault("flow_from", [])
    grid.setdefault("flow_to", [])
    present_from = {f.get("stat_energy_from") for f in grid["flow_from"]}
    present_to = {f.get("stat_energy_to") for f in grid["flow_to"]}
    added = []
    for entry in flow_from:
        if entry["stat_energy_from"] not in present_from:
            grid["flow_from"].append(entry)
            record["flow_from"].append(entry["stat_energy_from"])
            added.append(entry["stat_energy_from"])
    for entry in flow_to:
        if entry["stat_energy_to"] not in present_to:
            grid["flow_to"].append(entry)
            record["flow_to"].append(entry["stat_energy_to"])
            added.append(entry["stat_energy_to"])
    if not added and record["created_grid"] and not (grid["flow_from"] or grid["flow_to"]):
        new["energy_sources"].remove(grid)  # nothing to add: do not leave an empty grid behind
        record["created_grid"] = False
    return new, record, added


def remove_flows(prefs: dict[str, Any], record: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Prefs without exactly the entries we added (and the grid source if we created it and it is now
    empty); the ids removed."""
    new = copy.deepcopy(prefs)
    ours_from = set(record.get("flow_from", []))
    ours_to = set(record.get("flow_to", []))
    removed: list[str] = []
    for source in list(new.get("energy_sources", [])):
        if source.get("type") != "grid":
            continue
        if "flow_from" not in source:  # unified: a grid source of its own, holding only ours
            sides = [(source.get("stat_energy_from"), ours_from), (source.get("stat_energy_to"), ours_to)]
            mine = [sid for sid, ours in sides if sid is not None and sid in ours]
            if mine and all(sid is None or sid in ours for sid, ours in sides):
                new["energy_sources"].remove(source)
                removed += mine
            continue
        kept_from = [f for f in source.get("flow_from", []) if f.get("stat_energy_from") not in ours_from]
        kept_to = [f for f in source.get("flow_to", []) if f.get("stat_energy_to") not in ours_to]
        removed += [f["stat_energy_from"] for f in source.get("flow_from", []) if f not in kept_from]
        removed += [f["stat_energy_to"] for f in source.get("flow_to", []) if f not in kept_to]
        source["flow_from"], source["flow_to"] = kept_from, kept_to
        if record.get("created_grid") and not kept_from and not kept_to:
            new["energy_sources"].remove(source)
    return new, removed


def uses_ours(prefs: dict[str, Any]) -> bool:
    """Whether the Energy dashboard uses any of our statistics."""
    for source in prefs.get("energy_sources", []):
        for flow in [source, *source.get("flow_from", []), *source.get("flow_to", [])]:
            sid = str(flow.get("stat_energy_from") or flow.get("stat_energy_to") or "")
            if sid.startswith(SOURCE + ":"):
                return True
    return False


async def read_prefs(ws: HomeAssistantWebSocket) -> dict[str, Any]:
    """The Energy prefs; HA's defaults before the user ever opened the Energy settings."""
    try:
        prefs = await ws.command("energy/get_prefs")
    except HomeAssistantError as exc:
        if "(not_found)" in str(exc):
            return {"energy_sources": [], "device_consumption": []}
        raise
    return dict(prefs) if isinstance(prefs, dict) else {"energy_sources": [], "device_consumption": []}


async def _save(ws: HomeAssistantWebSocket, prefs: dict[str, Any]) -> None:
    fields = {k: prefs[k] for k in ("energy_sources", "device_consumption") if k in prefs}
    await ws.command("energy/save_prefs", **fields)


class EnergyDashboard:
    """The add / remove actions over one open websocket (an admin token: the supervisor's, or the user's)."""

    def __init__(self, store: Store, ws: HomeAssistantWebSocket) -> None:
        self.store = store
        self.ws = ws

    async def record(self) -> dict[str, Any]:
        stored = await self.store.settings.energy_added()
        return {**_empty_record(), **stored} if isinstance(stored, dict) else _empty_record()

    async def add(self) -> EnergyChange:
        listed = await self.ws.command("recorder/list_statistic_ids", statistic_type="sum")
        stats = parse_statistics(list(listed or []))
        names = {s.statistic_id: s.name for s in stats}
        flow_from, flow_to = wanted_flows(stats)
        prefs = await read_prefs(self.ws)
        unified = grid_format(prefs)
        new, record, added = add_flows(prefs, flow_from, flow_to, await self.record(), unified=bool(unified))
        change = EnergyChange(added=[f"{names.get(sid, sid)} ({sid})" for sid in added])
        if not added:
            return change
        try:  # a refusal raises HomeAssistantError: nothing recorded, HA's prefs unchanged
            await _save(self.ws, new)
        except HomeAssistantError as exc:
            if unified is not None or "flow_from" not in str(exc):
                raise
            # No grid source yet to tell the format: this core wants the unified one.
            new, record, added = add_flows(prefs, flow_from, flow_to, await self.record(), unified=True)
            await _save(self.ws, new)
        await self.store.settings.set_energy_added(record)
        change.saved = True
        return change

    async def remove(self) -> EnergyChange:
        record = await self.record()
        prefs = await read_prefs(self.ws)
        new, removed = remove_flows(prefs, record)
        change = EnergyChange(removed=removed)
        if new != prefs:
            await _save(self.ws, new)
            change.saved = True
        await self.store.settings.set_energy_added(_empty_record())
        return change
