"""InfluxDB 2 (line protocol over `/api/v2/write`): the load curve and daily energy with timestamps.

The whole exporter is this one file: the manager finds it by itself. InfluxDB overwrites a point
with the same measurement, tags and timestamp, so re-sending the correction window replaces
corrected values.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar

import aiohttp
import voluptuous as vol

from app import timeline
from app.domain import Direction
from app.exporters.base import BaseExporter, ExporterError, ExportResult


def _url(value: Any) -> str:
    text = str(value).strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", text):
        raise vol.Invalid("the URL must look like http://host:8086")
    return text


SCHEMA = vol.Schema(
    {
        vol.Optional("enabled", default=False): bool,
        vol.Optional("url", default="http://127.0.0.1:8086"): _url,
        vol.Optional("org", default=""): str,
        vol.Optional("bucket", default="myelectricaldata"): vol.All(str, vol.Length(min=1)),
        vol.Optional("token", default=""): str,
        vol.Optional("history_days", default=730): vol.All(vol.Coerce(int), vol.Range(min=1, max=3650)),
        vol.Optional("correction_days", default=7): vol.All(vol.Coerce(int), vol.Range(min=1, max=60)),
    }
)


def _tag(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


class InfluxDbExporter(BaseExporter):
    name: ClassVar[str] = "influxdb"
    title: ClassVar[str] = "InfluxDB 2"
    description: ClassVar[str] = (
        "Writes the load curve and daily energy to an InfluxDB 2 bucket (line protocol)."
    )
    config_schema: ClassVar[vol.Schema] = SCHEMA
    secret_fields: ClassVar[frozenset[str]] = frozenset({"token"})
    texts: ClassVar[dict[str, dict[str, str]]] = {
        "fr": {
            "description": "Écrit la courbe de charge et l'énergie journalière dans un bucket InfluxDB 2.",
            "url": "Adresse d'InfluxDB",
            "org": "Organisation",
            "bucket": "Bucket",
            "token": "Jeton",
            "history_days": "Jours d'historique",
            "correction_days": "Jours revérifiés (corrections)",
        }
    }

    def __init__(self, config: Any, context: Any) -> None:
        super().__init__(config, context)
        self._session: aiohttp.ClientSession | None = None

    async def connect(self) -> None:
        if self._session is None:
            headers = {"Authorization": f"Token {self.config['token']}"} if self.config["token"] else {}
            self._session = aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=60))

    async def disconnect(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def write(self, lines: list[str]) -> None:
        await self.connect()
        assert self._session is not None
        params = {"org": self.config["org"], "bucket": self.config["bucket"], "precision": "s"}
        for i in range(0, len(lines), 20_000):
            body = "\n".join(lines[i : i + 20_000]).encode()
            try:
                async with self._session.post(
                    self.config["url"] + "/api/v2/write", params=params, data=body
                ) as r:
                    if r.status >= 400:
                        raise ExporterError(
                            f"InfluxDB write: HTTP {r.status} {(await r.text()).strip()[:200]}"
                        )
            except aiohttp.ClientError as exc:
                raise ExporterError(
                    f"InfluxDB at {self.config['url']}: {exc or type(exc).__name__}"
                ) from None

    async def test_connection(self) -> str:
        await self.connect()
        assert self._session is not None
        try:
            async with self._session.get(self.config["url"] + "/health") as response:
                if response.status >= 400:
                    raise ExporterError(f"InfluxDB health: HTTP {response.status}")
        except aiohttp.ClientError as exc:
            raise ExporterError(f"InfluxDB at {self.config['url']}: {exc or type(exc).__name__}") from None
        return f"InfluxDB at {self.config['url']} answers"

    async def export(self) -> ExportResult:
        store = self.context.store
        state = await store.settings.exporter_state("influxdb")
        if not isinstance(state, dict) or state.get("target") != [self.config["url"], self.config["bucket"]]:
            state = {"target": [self.config["url"], self.config["bucket"]], "last_day": {}}
        last = timeline.paris_today(self.context.clock()) - dt.timedelta(days=1)
        sent = 0
        for point in await store.usage_points():
            pdl = point.usage_point_id
            cursor = state["last_day"].get(pdl)
            first = (
                last - dt.timedelta(days=int(self.config["history_days"]) - 1)
                if cursor is None
                else dt.date.fromisoformat(cursor)
                - dt.timedelta(days=int(self.config["correction_days"]) - 1)
            )
            lines: list[str] = []
            start, _ = timeline.day_bounds_utc(first)
            _, end = timeline.day_bounds_utc(last)
            tags = f"usage_point_id={_tag(pdl)}"
            for direction in Direction:
                for r in await store.completed_intervals(pdl, direction, start, end):
                    if r.average_w is not None:
                        energy = r.average_w * r.minutes / 60
                        ts = int(r.start.timestamp())
                        lines.append(
                            f"{direction.value},{tags} power_w={r.average_w}i,energy_wh={energy} {ts}"
                        )
                for d in await store.daily(pdl, direction, first, last):
                    ts = int(timeline.day_start_utc(d.day).timestamp())
                    lines.append(f"{direction.value}_daily,{tags} energy_wh={d.wh}i {ts}")
            await self.write(lines)
            sent += len(lines)
            state["last_day"][pdl] = last.isoformat()
            await store.settings.set_exporter_state("influxdb", state)
        return ExportResult(sent, f"{sent} points up to {last.isoformat()}")
