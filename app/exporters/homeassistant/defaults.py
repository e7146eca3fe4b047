"""The Home Assistant exporters' on-by-default, and the one-time line about it for existing installs.

The default is never stored (a broker installed later still turns discovery on); the user's own
choice is, when they save the exporter's form, and from then on it is kept across restarts and
upgrades. An install that already held data when this version first started and never chose gets the
new default once, with a dashboard line saying so (recorded under ANNOUNCED_KEY, never recomputed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.exporters.manager import ExporterManager
from app.store import Store

HA_EXPORTERS = ("homeassistant_discovery", "homeassistant_statistics")


async def on_by_default(manager: ExporterManager) -> list[str]:
    """The Home Assistant exporters running on the default because the user never chose."""
    names = []
    for name in HA_EXPORTERS:
        exporter = manager.exporters.get(name)
        if exporter is None or not exporter.status.enabled:
            continue
        if manager.by_default(name, await manager.stored_config(name)):
            names.append(name)
    return names


async def announce_defaults(manager: ExporterManager, store: Store, now: dt.datetime) -> None:
    """At start: the first time this version runs, note which exporters an existing install got on."""
    if await store.settings.defaults_announced() is not None:
        return
    existing = bool(await store.usage_points())
    names = await on_by_default(manager) if existing else []
    await store.settings.set_defaults_announced(names, now)


async def defaults_notice(manager: ExporterManager, store: Store) -> dict[str, Any] | None:
    """The dashboard line: which exporters this version turned on, while the user has not chosen."""
    announced = await store.settings.defaults_announced()
    if not isinstance(announced, dict) or not announced.get("names"):
        return None
    still = [name for name in await on_by_default(manager) if name in announced["names"]]
    return {"names": still, "at": announced.get("at")} if still else None
