"""Typed settings: the one module that knows the keys of the `setting` table.

Each value is JSON under a text key. Callers read and write through `StoredSettings` (reached as
`store.settings`), never with key strings of their own: a key spelled in two places drifts, and a
renamed key silently forgets what users chose. `tests/test_settings_keys.py` checks that nothing
else in `app/` spells a key.

Readers answer None (or an empty value) for a missing key and for a value of the wrong shape written
by another version: callers never see a half-valid setting.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from app.domain import DataKind
from app.store.database import Database
from app.store.tables import setting

# ---------------------------------------------------------------------- the keys (spelled only here)

INSTALL_MINUTE_KEY = "install_minute"
HISTORY_BOUNDS_KEY = "sync.history_bounds"  # {"<usage point>/<kind>": "YYYY-MM-DD"}
TEMPO_FORECAST_KEY = "tempo.forecast"  # {"fetched_at": ISO instant, "data": the gateway's JSON}
EXPORTER_CONFIG_KEY = "exporter.{name}"
EXPORTER_STATE_KEY = "exporter_state.{name}"  # a history exporter's cursor
DISCOVERY_PUBLISHED_KEY = "homeassistant_discovery_published"
TRIGGERS_FIRED_KEY = "homeassistant_triggers_fired"
ENERGY_ADDED_KEY = "homeassistant_energy_added"
DEFAULTS_ANNOUNCED_KEY = "homeassistant_defaults_announced"
NOTIFICATIONS_SHOWN_KEY = "homeassistant_notifications_shown"

# Pricing and contract keys. app/pricing/costs.py and app/contracts.py still spell these under the same
# names while they are being moved (issue 16); they are to import them from here, or use the accessors.
CHOSEN_KEY = "pricing.offer.{pdl}"
OFFPEAK_KEY = "pricing.offpeak.{pdl}"
USER_OFFERS_KEY = "pricing.user_offers"
EJP_DAYS_KEY = "pricing.ejp_days.{pdl}"
TIMELINE_KEY = "contract.timeline.{pdl}"
RESPLIT_KEY = "contract.resplit_from.{pdl}"
RESPLIT_DONE_KEY = RESPLIT_KEY + ".done.{exporter}"


class StoredSettings:
    """Reads and writes each setting under its own name and type."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # ------------------------------------------------------------------ raw JSON values

    async def value(self, key: str) -> Any | None:
        async with self._db.read() as conn:
            result = await conn.execute(select(setting.c.value).where(setting.c.key == key))
            text = result.scalar_one_or_none()
        return None if text is None else json.loads(text)

    async def set_value(self, key: str, value: Any) -> None:
        row = {"key": key, "value": json.dumps(value, sort_keys=True, separators=(",", ":"))}
        async with self._db.write() as conn:
            await self._db.upsert_rows(conn, setting, [row], ("value",))

    # ------------------------------------------------------------------ scheduling and sync

    async def install_minute(self) -> int | None:
        """The minute past the hour this install syncs at (drawn once, at first start)."""
        value = await self.value(INSTALL_MINUTE_KEY)
        return value if isinstance(value, int) else None

    async def set_install_minute(self, minute: int) -> None:
        await self.set_value(INSTALL_MINUTE_KEY, minute)

    async def history_bounds(self) -> dict[tuple[str, DataKind], dt.date]:
        """The oldest day the gateway serves, per (usage point, kind), as it named them."""
        bounds: dict[tuple[str, DataKind], dt.date] = {}
        raw = await self.value(HISTORY_BOUNDS_KEY)
        if not isinstance(raw, dict):
            return bounds
        for key, value in raw.items():
            pdl, _, kind_text = str(key).partition("/")
            try:
                bounds[(pdl, DataKind(kind_text))] = dt.date.fromisoformat(str(value))
            except ValueError:
                continue  # a kind or date this version does not know: ignore it
        return bounds

    async def set_history_bounds(self, bounds: Mapping[tuple[str, DataKind], dt.date]) -> None:
        await self.set_value(
            HISTORY_BOUNDS_KEY, {f"{pdl}/{k.value}": d.isoformat() for (pdl, k), d in sorted(bounds.items())}
        )

    async def tempo_forecast(self) -> Mapping[str, Any] | None:
        """The last Tempo forecast kept: {"fetched_at": ISO instant, "data": the gateway's JSON}."""
        saved = await self.value(TEMPO_FORECAST_KEY)
        return saved if isinstance(saved, Mapping) else None

    async def set_tempo_forecast(self, data: Any, fetched_at: dt.datetime) -> None:
        await self.set_value(TEMPO_FORECAST_KEY, {"fetched_at": fetched_at.isoformat(), "data": data})

    # ------------------------------------------------------------------ exporters

    async def exporter_config(self, name: str) -> dict[str, Any]:
        """The configuration saved from the exporter's form (empty when never saved)."""
        stored = await self.value(EXPORTER_CONFIG_KEY.format(name=name))
        return dict(stored) if isinstance(stored, Mapping) else {}

    async def set_exporter_config(self, name: str, config: Mapping[str, Any]) -> None:
        await self.set_value(EXPORTER_CONFIG_KEY.format(name=name), config)

    async def exporter_state(self, name: str) -> dict[str, Any] | None:
        """What a history exporter has already sent (its cursor), None before its first export."""
        state = await self.value(EXPORTER_STATE_KEY.format(name=name))
        return state if isinstance(state, dict) else None

    async def set_exporter_state(self, name: str, state: Mapping[str, Any]) -> None:
        await self.set_value(EXPORTER_STATE_KEY.format(name=name), state)

    async def discovery_published(self) -> dict[str, Any] | None:
        """The MQTT discovery topics last published: {"configs": {topic: [components]}, "states": [...]}."""
        published = await self.value(DISCOVERY_PUBLISHED_KEY)
        return published if isinstance(published, dict) else None

    async def set_discovery_published(self, published: Mapping[str, Any]) -> None:
        await self.set_value(DISCOVERY_PUBLISHED_KEY, published)

    async def triggers_fired(self) -> dict[str, Any]:
        """The device triggers already sent: {"<device>/<kind>": occurrence}."""
        return dict(await self.value(TRIGGERS_FIRED_KEY) or {})

    async def set_triggers_fired(self, fired: Mapping[str, Any]) -> None:
        await self.set_value(TRIGGERS_FIRED_KEY, fired)

    async def energy_added(self) -> dict[str, Any] | None:
        """What this add-on added to Home Assistant's Energy dashboard, None when nothing is recorded."""
        record = await self.value(ENERGY_ADDED_KEY)
        return record if isinstance(record, dict) else None

    async def set_energy_added(self, record: Mapping[str, Any]) -> None:
        await self.set_value(ENERGY_ADDED_KEY, record)

    async def defaults_announced(self) -> Any | None:
        """The exporters this version turned on by default, as noted once at first start (any value
        stored, even of an older shape, means the note was taken)."""
        return await self.value(DEFAULTS_ANNOUNCED_KEY)

    async def set_defaults_announced(self, names: list[str], at: dt.datetime) -> None:
        await self.set_value(DEFAULTS_ANNOUNCED_KEY, {"names": names, "at": at.isoformat()})

    async def notifications_shown(self) -> set[str]:
        """The keys of the Home Assistant notifications currently shown."""
        stored = await self.value(NOTIFICATIONS_SHOWN_KEY)
        return {str(k) for k in stored} if isinstance(stored, list) else set()

    async def set_notifications_shown(self, keys: Iterable[str]) -> None:
        await self.set_value(NOTIFICATIONS_SHOWN_KEY, sorted(keys))

    # ------------------------------------------------------------------ pricing choices (offers page)

    async def user_offers(self) -> list[dict[str, Any]]:
        """The offers the user typed in (raw JSON objects, checked when read by the catalogue)."""
        return list(await self.value(USER_OFFERS_KEY) or [])

    async def set_user_offers(self, offers: list[dict[str, Any]]) -> None:
        await self.set_value(USER_OFFERS_KEY, offers)

    async def chosen_offer(self, usage_point_id: str) -> str | None:
        """The id of the offer the user chose for a usage point."""
        chosen = await self.value(CHOSEN_KEY.format(pdl=usage_point_id))
        return str(chosen) if chosen else None

    async def set_chosen_offer(self, usage_point_id: str, offer_id: str) -> None:
        await self.set_value(CHOSEN_KEY.format(pdl=usage_point_id), offer_id)

    async def offpeak_override(self, usage_point_id: str) -> str | None:
        """The off-peak hours the user typed for a usage point (text as typed), None when not set."""
        override = await self.value(OFFPEAK_KEY.format(pdl=usage_point_id))
        return str(override) if override else None

    async def set_offpeak_override(self, usage_point_id: str, text: str | None) -> None:
        await self.set_value(OFFPEAK_KEY.format(pdl=usage_point_id), text or None)

    async def ejp_days(self, usage_point_id: str) -> frozenset[dt.date]:
        """The EJP peak days the user typed for a usage point."""
        stored = await self.value(EJP_DAYS_KEY.format(pdl=usage_point_id)) or []
        return frozenset(dt.date.fromisoformat(d) for d in stored)

    async def set_ejp_days(self, usage_point_id: str, days: Iterable[dt.date]) -> None:
        await self.set_value(EJP_DAYS_KEY.format(pdl=usage_point_id), [d.isoformat() for d in days] or None)

    # ------------------------------------------------------------------ contract history (app/contracts.py)

    async def contract_timeline(self, usage_point_id: str) -> list[dict[str, Any]]:
        """The dated contract entries of a usage point (their shape belongs to app/contracts.py)."""
        return list(await self.value(TIMELINE_KEY.format(pdl=usage_point_id)) or [])

    async def set_contract_timeline(self, usage_point_id: str, entries: list[dict[str, Any]]) -> None:
        await self.set_value(TIMELINE_KEY.format(pdl=usage_point_id), entries)

    async def resplit_request(self, usage_point_id: str) -> Any | None:
        """The pending request to re-send history, a token {"from": ISO day, "n": count}."""
        return await self.value(RESPLIT_KEY.format(pdl=usage_point_id))

    async def set_resplit_request(self, usage_point_id: str, token: Mapping[str, Any]) -> None:
        await self.set_value(RESPLIT_KEY.format(pdl=usage_point_id), token)

    async def resplit_handled(self, usage_point_id: str, exporter: str) -> Any | None:
        """The last re-send token an exporter handled for a usage point."""
        return await self.value(RESPLIT_DONE_KEY.format(pdl=usage_point_id, exporter=exporter))

    async def set_resplit_handled(self, usage_point_id: str, exporter: str, token: Any) -> None:
        await self.set_value(RESPLIT_DONE_KEY.format(pdl=usage_point_id, exporter=exporter), token)
