"""Jeedom: values (with history) into virtual info commands.

Modes:
- `jsonrpc`: JSON-RPC 2.0 `cmd::event` with `datetime` ("YYYY-MM-DD HH:MM:SS", Paris time) to
  backfill history; optionally creates the virtual equipment (`eqLogic::save`, `cmd::save`).
- `event_url`: the virtual plugin's event URL, current values only (no history).
- `mqtt`: the MQTT Manager plugin, `jeedom/cmd/set/<id>` with `{"value", "datetime"}`.

Commands are mapped per usage point and measure; measures carry the names of the official Jeedom
Enedis plugin (daily_consumption, monthly_consumption, yearly_consumption, consumption_load_curve,
daily_consumption_max_power and the production twins) so that users' scenarios stay familiar.
Known limit: Jeedom stamps are local wall-clock times, so the two half-hours of the repeated hour
of the October DST change share one stamp (the later one wins).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import aiohttp
import aiomqtt
import voluptuous as vol

from app import timeline
from app.domain import Direction, UsagePoint
from app.exporters.base import BaseExporter, ExporterError, ExportResult

log = logging.getLogger(__name__)

API_PATH = "/core/api/jeeApi.php"
MEASURES: dict[str, tuple[str, str]] = {  # measure -> (unit, help)
    "daily_consumption": ("kWh", "consumption of the day"),
    "monthly_consumption": ("kWh", "consumption of the month"),
    "yearly_consumption": ("kWh", "consumption of the year"),
    "consumption_load_curve": ("W", "average power of each load-curve slot"),
    "daily_consumption_max_power": ("kVA", "maximum power of the day"),
    "daily_production": ("kWh", "production of the day"),
    "monthly_production": ("kWh", "production of the month"),
    "yearly_production": ("kWh", "production of the year"),
    "production_load_curve": ("W", "average production power of each slot"),
}
_LINE = re.compile(r"^\s*(\d{14})\.([a-z_]+)\s*=\s*(\d+)\s*$")


def parse_mapping(value: Any) -> str:
    text = str(value or "")
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _LINE.match(line)
        if not match:
            raise vol.Invalid(f"command mapping {line.strip()!r}: write <usage point>.<measure>=<command id>")
        if match.group(2) not in MEASURES:
            raise vol.Invalid(f"unknown measure {match.group(2)!r}; known: {', '.join(MEASURES)}")
    return text


def mapping_of(text: str) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            out[(match.group(1), match.group(2))] = int(match.group(3))
    return out


def _url(value: Any) -> str:
    text = str(value).strip().rstrip("/")
    if text and not re.match(r"^https?://[^/\s]+", text):
        raise vol.Invalid("the Jeedom URL must look like http://jeedom.local")
    return text


SCHEMA = vol.Schema(
    {
        vol.Optional("enabled", default=False): bool,
        vol.Optional("mode", default="jsonrpc"): vol.In(["jsonrpc", "event_url", "mqtt"]),
        vol.Optional("url", default="", description="Jeedom address, e.g. http://jeedom.local"): _url,
        vol.Optional("apikey", default="", description="Jeedom API key (or the virtual plugin's key)"): str,
        vol.Optional(
            "commands",
            default="",
            description="One per line: <usage point>.<measure>=<command id>, "
            "e.g. 09111111111111.daily_consumption=42",
        ): parse_mapping,
        vol.Optional(
            "create_equipment", default=False, description="Create missing virtual equipment and commands"
        ): bool,
        vol.Optional("history_days", default=30, description="History sent on the first run"): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=1200)
        ),
        vol.Optional("correction_days", default=7): vol.All(vol.Coerce(int), vol.Range(min=1, max=60)),
        vol.Optional("load_curve", default=True, description="Also send the load curve"): bool,
        vol.Optional(
            "mqtt_host", default="", description="MQTT Manager mode: broker (empty: HA broker)"
        ): str,
        vol.Optional("mqtt_port", default=1883): vol.All(vol.Coerce(int), vol.Range(min=1, max=65535)),
        vol.Optional("mqtt_username", default=""): str,
        vol.Optional("mqtt_password", default=""): str,
        vol.Optional("mqtt_root", default="jeedom"): vol.All(str, vol.Match(r"^[^#+\s]+$")),
    }
)


@dataclass(frozen=True, slots=True)
class Value:
    usage_point_id: str
    measure: str
    value: float | int
    at: dt.datetime  # aware UTC

    @property
    def stamp(self) -> str:
        return timeline.to_paris(self.at).strftime("%Y-%m-%d %H:%M:%S")


class JeedomExporter(BaseExporter):
    name: ClassVar[str] = "jeedom"
    title: ClassVar[str] = "Jeedom"
    description: ClassVar[str] = "Fills virtual commands (with history) through Jeedom's API or MQTT Manager."
    config_schema: ClassVar[vol.Schema] = SCHEMA
    secret_fields: ClassVar[frozenset[str]] = frozenset({"apikey", "mqtt_password"})
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"commands"})
    texts: ClassVar[dict[str, dict[str, str]]] = {
        "fr": {
            "description": (
                "Remplit des commandes virtuelles (avec historique) par l'API de Jeedom ou MQTT Manager."
            ),
            "mode": "Mode",
            "url": "Adresse de Jeedom",
            "url.help": "Par exemple http://jeedom.local",
            "apikey": "Clé API",
            "apikey.help": "Clé API de Jeedom (ou celle du plugin Virtuel)",
            "commands": "Commandes",
            "commands.help": (
                "Une par ligne : <point de livraison>.<mesure>=<id de commande>, "
                "par exemple 09111111111111.daily_consumption=42"
            ),
            "create_equipment": "Créer l'équipement virtuel",
            "create_equipment.help": "Crée l'équipement et les commandes manquants",
            "history_days": "Jours d'historique",
            "history_days.help": "Historique envoyé au premier export",
            "correction_days": "Jours revérifiés (corrections)",
            "load_curve": "Courbe de charge",
            "load_curve.help": "Envoie aussi la courbe de charge",
            "mqtt_host": "Serveur MQTT (mode MQTT Manager)",
            "mqtt_host.help": "Vide : le broker de Home Assistant",
            "mqtt_port": "Port MQTT",
            "mqtt_username": "Utilisateur MQTT",
            "mqtt_password": "Mot de passe MQTT",
            "mqtt_root": "Racine des topics MQTT Manager",
        }
    }

    def __init__(self, config: Any, context: Any) -> None:
        super().__init__(config, context)
        self._session: aiohttp.ClientSession | None = None
        self._next_id = 0

    # ------------------------------------------------------------------ transport

    async def connect(self) -> None:
        if self.config["mode"] != "mqtt" and not self.config["url"]:
            raise ExporterError("set the Jeedom URL")
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def disconnect(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def rpc(self, method: str, **params: Any) -> Any:
        await self.connect()
        assert self._session is not None
        self._next_id += 1
        body = {
            "jsonrpc": "2.0",
            "id": self._next_id,
            "method": method,
            "params": {"apikey": self.config["apikey"], **params},
        }
        url = self.config["url"] + API_PATH
        try:
            async with self._session.post(url, json=body) as response:
                text = await response.text()
                if response.status >= 400:
                    raise ExporterError(f"Jeedom {method}: HTTP {response.status} {text.strip()[:200]}")
        except aiohttp.ClientError as exc:
            raise ExporterError(f"Jeedom at {self.config['url']}: {exc or type(exc).__name__}") from None
        try:
            answer = json.loads(text)
        except ValueError:
            raise ExporterError(f"Jeedom {method}: not a JSON-RPC answer: {text.strip()[:200]}") from None
        if not isinstance(answer, dict):
            raise ExporterError(f"Jeedom {method}: unexpected answer {text.strip()[:200]}")
        if answer.get("error"):
            error = answer["error"]
            message = error.get("message") if isinstance(error, dict) else error
            raise ExporterError(f"Jeedom {method}: {message}")
        return answer.get("result")

    async def event_url(self, command_id: int, value: float | int) -> None:
        await self.connect()
        assert self._session is not None
        params = {
            "plugin": "virtual",
            "type": "event",
            "apikey": self.config["apikey"],
            "id": str(command_id),
            "value": str(value),
        }
        try:
            async with self._session.get(self.config["url"] + API_PATH, params=params) as response:
                text = await response.text()
                if response.status >= 400:
                    raise ExporterError(f"Jeedom event URL: HTTP {response.status} {text.strip()[:200]}")
        except aiohttp.ClientError as exc:
            raise ExporterError(f"Jeedom at {self.config['url']}: {exc or type(exc).__name__}") from None

    def _mqtt_client(self) -> aiomqtt.Client:
        cfg = self.config
        broker = self.context.mqtt_broker
        if cfg["mqtt_host"]:
            host, port, user, password = (
                cfg["mqtt_host"],
                cfg["mqtt_port"],
                cfg["mqtt_username"],
                cfg["mqtt_password"],
            )
        elif broker is not None:
            host, port, user, password = broker.host, broker.port, broker.username, broker.password
        else:
            raise ExporterError("MQTT Manager mode: set the MQTT broker host")
        return aiomqtt.Client(
            host,
            port,
            username=user or None,
            password=password or None,
            identifier=f"myelectricaldata-jeedom-{uuid.uuid4().hex[:8]}",
            timeout=10,
        )

    async def test_connection(self) -> str:
        if self.config["mode"] == "mqtt":
            try:
                async with self._mqtt_client():
                    pass
            except aiomqtt.MqttError as exc:
                raise ExporterError(f"MQTT broker: {exc}") from None
            return "connected to the MQTT broker (MQTT Manager mode)"
        await self.connect()
        result = await self.rpc("ping")
        return f"Jeedom at {self.config['url']} answers {result!r}"

    # ------------------------------------------------------------------ values

    async def values(self, point: UsagePoint, first: dt.date, last: dt.date) -> list[Value]:
        store = self.context.store
        pdl = point.usage_point_id
        out: list[Value] = []
        for direction, on in ((Direction.CONSUMPTION, point.has_consumption),
                              (Direction.PRODUCTION, point.has_production)):  # fmt: skip
            if not on:
                continue
            kind = direction.value
            days = await store.daily(pdl, direction, first, last)
            for day in days:
                out.append(
                    Value(pdl, f"daily_{kind}", round(day.wh / 1000, 3), timeline.day_start_utc(day.day))
                )
            for key, wh in await store.daily_energy(pdl, direction, "month", first.replace(day=1), last):
                out.append(Value(pdl, f"monthly_{kind}", round(wh / 1000, 3), timeline.day_start_utc(key)))
            for key, wh in await store.daily_energy(
                pdl, direction, "year", first.replace(month=1, day=1), last
            ):
                out.append(Value(pdl, f"yearly_{kind}", round(wh / 1000, 3), timeline.day_start_utc(key)))
            if self.config["load_curve"]:
                start, _ = timeline.day_bounds_utc(first)
                _, end = timeline.day_bounds_utc(last)
                for reading in await store.completed_intervals(pdl, direction, start, end):
                    if reading.average_w is not None:
                        out.append(Value(pdl, f"{kind}_load_curve", reading.average_w, reading.start))
            if direction is Direction.CONSUMPTION:
                for mp in await store.max_power(pdl, first, last):
                    at = mp.at or timeline.day_start_utc(mp.day)
                    out.append(Value(pdl, "daily_consumption_max_power", round(mp.va / 1000, 3), at))
        return out

    async def _create_equipment(self, point: UsagePoint, mapping: dict[tuple[str, str], int]) -> None:
        pdl = point.usage_point_id
        wanted = [m for m in MEASURES if (("production" in m) and point.has_production)
                  or (("consumption" in m) and point.has_consumption)]  # fmt: skip
        if all((pdl, m) in mapping for m in wanted):
            return
        equipment = await self.rpc(
            "eqLogic::save",
            eqType_name="virtual",
            name=f"Linky {pdl}",
            logicalId=pdl,
            isEnable=1,
            isVisible=1,
        )
        eq_id = _id_of(equipment, "eqLogic::save")
        for measure in wanted:
            if (pdl, measure) in mapping:
                continue
            unit, _ = MEASURES[measure]
            command = await self.rpc(
                "cmd::save",
                eqLogic_id=eq_id,
                name=measure,
                logicalId=measure,
                type="info",
                subType="numeric",
                unite=unit,
                isHistorized=1,
            )
            mapping[(pdl, measure)] = _id_of(command, "cmd::save")
            log.info("Jeedom: created command %s for %s (id %s)", measure, pdl, mapping[(pdl, measure)])

    async def export(self) -> ExportResult:
        cfg = self.config
        store = self.context.store
        state = await store.settings.exporter_state("jeedom")
        target = json.dumps([cfg["mode"], cfg["url"], cfg["mqtt_host"]])
        if not isinstance(state, dict) or state.get("target") != target:
            state = {"target": target, "last_day": {}, "created": {}}
        mapping = mapping_of(cfg["commands"])
        for key, cmd_id in state.get("created", {}).items():
            pdl, _, measure = key.partition(".")
            mapping.setdefault((pdl, measure), int(cmd_id))
        today = timeline.paris_today(self.context.clock())
        last = today - dt.timedelta(days=1)
        points = await store.usage_points()
        if cfg["mode"] == "jsonrpc" and cfg["create_equipment"]:
            for point in points:
                before = set(mapping)
                await self._create_equipment(point, mapping)
                for pdl, measure in set(mapping) - before:
                    state["created"][f"{pdl}.{measure}"] = mapping[(pdl, measure)]
                await store.settings.set_exporter_state("jeedom", state)
        if not any(key[0] == p.usage_point_id for p in points for key in mapping):
            raise ExporterError(
                "no Jeedom command is mapped: fill in the command ids (or create the equipment)"
            )
        sent = 0
        newest: Value | None = None
        for point in points:
            pdl = point.usage_point_id
            cursor = state["last_day"].get(pdl)
            if cursor is None:
                first = last - dt.timedelta(days=int(cfg["history_days"]) - 1)
            else:
                first = dt.date.fromisoformat(cursor) - dt.timedelta(days=int(cfg["correction_days"]) - 1)
            values = [v for v in await self.values(point, first, last) if (pdl, v.measure) in mapping]
            if cfg["mode"] == "event_url":
                values = list(_latest(values))
            sent += await self._send(values, mapping)
            if values:
                top = max(values, key=lambda v: v.at)
                newest = top if newest is None or top.at > newest.at else newest
            state["last_day"][pdl] = last.isoformat()
            await store.settings.set_exporter_state("jeedom", state)
        detail = f"{sent} values" + (f", newest {newest.measure} at {newest.stamp}" if newest else "")
        return ExportResult(sent, detail)

    async def _send(self, values: list[Value], mapping: dict[tuple[str, str], int]) -> int:
        mode = self.config["mode"]
        if mode == "mqtt":
            root = self.config["mqtt_root"]
            try:
                async with self._mqtt_client() as client:
                    for v in values:
                        payload = json.dumps({"value": v.value, "datetime": v.stamp})
                        await client.publish(
                            f"{root}/cmd/set/{mapping[(v.usage_point_id, v.measure)]}", payload, 1
                        )
            except aiomqtt.MqttError as exc:
                raise ExporterError(f"MQTT broker: {exc}") from None
            return len(values)
        for v in values:
            cmd_id = mapping[(v.usage_point_id, v.measure)]
            if mode == "event_url":
                await self.event_url(cmd_id, v.value)
            else:
                await self.rpc("cmd::event", id=cmd_id, value=v.value, datetime=v.stamp)
        return len(values)


def _latest(values: list[Value]) -> Iterator[Value]:
    newest: dict[str, Value] = {}
    for v in values:
        if v.measure not in newest or v.at >= newest[v.measure].at:
            newest[v.measure] = v
    return iter(sorted(newest.values(), key=lambda v: v.measure))


def _id_of(result: Any, method: str) -> int:
    if isinstance(result, dict) and str(result.get("id", "")).isdigit():
        return int(result["id"])
    raise ExporterError(f"Jeedom {method} returned no id: {str(result)[:200]}")
