"""MQTT: current values per usage point as JSON (or bare values), and a `command/sync` topic.

Topics (prefix `myelectricaldata` by default):
`{prefix}/{pdl}/consumption/daily|month|year`, `{prefix}/{pdl}/production/daily|month|year`,
`{prefix}/{pdl}/max_power`, `{prefix}/{pdl}/subscribed_power`, `{prefix}/tempo/today|tomorrow`,
`{prefix}/ecowatt/today|tomorrow`, `{prefix}/{pdl}/price/current|offpeak` (published again at each
price change), `{prefix}/status` (also the last will). Publishing anything on `{prefix}/command/sync`
starts a sync.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from typing import Any, ClassVar

import aiomqtt
import voluptuous as vol

from app.connections import MqttBroker
from app.costing import live_prices
from app.exporters._data import DirectionSummary, Summary, kwh, summarize
from app.exporters._live import run_price_clock
from app.exporters.base import BaseExporter, ExporterError, ExportResult
from app.pricing.live import LivePrice

log = logging.getLogger(__name__)

PORT = vol.All(vol.Coerce(int), vol.Range(min=1, max=65535))


def _topic_prefix(value: Any) -> str:
    text = str(value).strip().strip("/")
    if not text or any(c in text for c in "#+\x00"):
        raise vol.Invalid("a topic prefix must be non-empty, without '#', '+' or a leading '/'")
    return text


SCHEMA = vol.Schema(
    {
        vol.Optional("enabled", default=False): bool,
        vol.Optional(
            "host", default="", description="Broker host; empty = the Home Assistant MQTT broker"
        ): str,
        vol.Optional("port", default=1883): PORT,
        vol.Optional("username", default=""): str,
        vol.Optional("password", default=""): str,
        vol.Optional("tls", default=False): bool,
        vol.Optional(
            "ca_certificate", default="", description="CA certificate (PEM text or file path) for TLS"
        ): str,
        vol.Optional("tls_insecure", default=False, description="Do not verify the broker certificate"): bool,
        vol.Optional("prefix", default="myelectricaldata"): _topic_prefix,
        vol.Optional("qos", default=0): vol.All(vol.Coerce(int), vol.In([0, 1, 2])),
        vol.Optional("retain", default=True): bool,
        vol.Optional("payload_format", default="json"): vol.In(["json", "plain"]),
    }
)


class MqttExporter(BaseExporter):
    name: ClassVar[str] = "mqtt"
    title: ClassVar[str] = "MQTT"
    description: ClassVar[str] = "Publishes current values per usage point to an MQTT broker."
    config_schema: ClassVar[vol.Schema] = SCHEMA
    secret_fields: ClassVar[frozenset[str]] = frozenset({"password"})
    texts: ClassVar[dict[str, dict[str, str]]] = {
        "fr": {
            "description": "Publie les valeurs actuelles de chaque point de livraison sur un broker MQTT.",
            "host": "Serveur MQTT",
            "host.help": "Vide : le broker MQTT de Home Assistant",
            "port": "Port",
            "username": "Utilisateur",
            "password": "Mot de passe",
            "tls": "TLS",
            "ca_certificate": "Certificat de l'autorité (CA)",
            "ca_certificate.help": "Texte PEM ou chemin du fichier, pour TLS",
            "tls_insecure": "Ne pas vérifier le certificat du broker",
            "tls_insecure.help": "",
            "prefix": "Préfixe des topics",
            "qos": "QoS",
            "retain": "Messages retenus (retain)",
            "payload_format": "Format des valeurs",
        }
    }

    def __init__(self, config: Any, context: Any) -> None:
        super().__init__(config, context)
        self._client: aiomqtt.Client | None = None
        self._listener: asyncio.Task[None] | None = None
        self._price_clock: asyncio.Task[None] | None = None

    @property
    def prefix(self) -> str:
        return str(self.config["prefix"])

    def broker(self) -> MqttBroker:
        cfg = self.config
        if cfg["host"]:
            return MqttBroker(cfg["host"], cfg["port"], cfg["username"], cfg["password"], cfg["tls"])
        found = self.context.mqtt_broker
        if found is None:
            raise ExporterError("no MQTT broker: set a host (no Home Assistant broker was found)")
        return found

    def secrets(self) -> list[str]:
        found = self.context.mqtt_broker
        return super().secrets() + ([found.password.reveal()] if found and found.password else [])

    def _tls_context(self, broker: MqttBroker) -> ssl.SSLContext | None:
        if not broker.tls:
            return None
        context = ssl.create_default_context()
        ca = str(self.config["ca_certificate"]).strip()
        try:
            if ca.startswith("-----BEGIN"):
                context.load_verify_locations(cadata=ca)
            elif ca:
                context.load_verify_locations(cafile=ca)
        except (OSError, ssl.SSLError) as exc:
            raise ExporterError(f"the CA certificate cannot be read: {exc}") from None
        if self.config["tls_insecure"]:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _make_client(self, *, with_will: bool) -> tuple[aiomqtt.Client, MqttBroker]:
        broker = self.broker()
        will = (
            aiomqtt.Will(f"{self.prefix}/status", self._payload({"state": "offline"}, "offline"), 1, True)
            if with_will
            else None
        )
        client = broker.client("mqtt", tls_context=self._tls_context(broker), will=will)
        return client, broker

    async def test_connection(self) -> str:
        client, broker = self._make_client(with_will=False)
        try:
            async with client:
                pass
        except aiomqtt.MqttError as exc:
            raise ExporterError(f"{broker.host}:{broker.port}: {exc}") from None
        security = "TLS" if broker.tls else "no TLS"
        user = f"user {broker.username}" if broker.username else "anonymous"
        return f"connected to {broker.host}:{broker.port} ({security}, {user})"

    async def connect(self) -> None:
        await self.disconnect()
        client, broker = self._make_client(with_will=True)
        try:
            await client.__aenter__()
        except aiomqtt.MqttError as exc:
            raise ExporterError(f"{broker.host}:{broker.port}: {exc}") from None
        self._client = client
        await client.subscribe(f"{self.prefix}/command/#", qos=1)
        self._listener = asyncio.get_running_loop().create_task(self._listen(client))
        self._price_clock = asyncio.get_running_loop().create_task(
            run_price_clock(
                self.context.store,
                self.context.clock,
                self.context.wait_until,
                self._send_prices,
            )
        )

    async def _listen(self, client: aiomqtt.Client) -> None:
        try:
            async for message in client.messages:
                if message.topic.matches(f"{self.prefix}/command/sync"):
                    request = self.context.request_sync
                    started = request() if request is not None else False
                    log.info("MQTT command: sync %s", "started" if started else "not started (busy)")
        except aiomqtt.MqttError as exc:
            log.warning("MQTT connection lost: %s", exc)
            self.status.connected = False
            self.status.last_error = f"connection lost: {exc} (reconnects at the next export)"

    async def disconnect(self) -> None:
        for task in (self._price_clock, self._listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        self._listener = self._price_clock = None
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.publish(
                    f"{self.prefix}/status",
                    self._payload({"state": "offline"}, "offline"),
                    qos=1,
                    retain=True,
                )
            with contextlib.suppress(Exception):
                await client.__aexit__(None, None, None)

    def _payload(self, document: dict[str, Any], plain: Any) -> str:
        if self.config["payload_format"] == "plain":
            return "" if plain is None else str(plain)
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False)

    def messages(self, summary: Summary) -> list[tuple[str, str]]:
        """Every (topic, payload) one export publishes."""
        out: list[tuple[str, str]] = []
        prefix = self.prefix
        for entry in summary.points:
            base = f"{prefix}/{entry.point.usage_point_id}"
            for kind, part in (("consumption", entry.consumption), ("production", entry.production)):
                if part is not None:
                    out += self._energy_messages(f"{base}/{kind}", part)
            if entry.max_power is not None:
                mp = entry.max_power
                doc = {
                    "value": round(mp.va / 1000, 3),
                    "unit": "kVA",
                    "va": mp.va,
                    "date": mp.day.isoformat(),
                    "at": mp.at.isoformat() if mp.at else None,
                }
                out.append((f"{base}/max_power", self._payload(doc, doc["value"])))
            if entry.subscribed_kva is not None:
                doc = {"value": entry.subscribed_kva, "unit": "kVA"}
                out.append((f"{base}/subscribed_power", self._payload(doc, entry.subscribed_kva)))
        for when, day in summary.tempo.items():
            doc = {"value": day.color.value, "date": day.day.isoformat()}
            out.append((f"{prefix}/tempo/{when}", self._payload(doc, day.color.value)))
        for when, eco in summary.ecowatt.items():
            doc = {"value": eco.level, "date": eco.day.isoformat(), "message": eco.message}
            out.append((f"{prefix}/ecowatt/{when}", self._payload(doc, eco.level)))
        status = {"state": "online", "version": self.context.version, "at": self.context.clock().isoformat()}
        out.append((f"{prefix}/status", self._payload(status, "online")))
        return out

    def price_messages(self, prices: dict[str, LivePrice]) -> list[tuple[str, str]]:
        """The price in force and off-peak state of each usage point (the live prices' current slot)."""
        out: list[tuple[str, str]] = []
        for pdl, live in sorted(prices.items()):
            slot = live.current
            base = f"{self.prefix}/{pdl}/price"
            doc: dict[str, Any] = {
                "value": None if slot is None else float(slot.price),
                "unit": "EUR/kWh",
                "bucket": None if slot is None else slot.bucket,
                "offer": live.offer.name,
                "valid_until": None if live.next_change is None else live.next_change.isoformat(),
                "next_value": None if live.next is None else float(live.next.price),
            }
            out.append((f"{base}/current", self._payload(doc, doc["value"])))
            offpeak = live.offpeak
            out.append(
                (
                    f"{base}/offpeak",
                    self._payload({"value": offpeak}, "" if offpeak is None else str(offpeak).lower()),
                )
            )
        return out

    async def _send_prices(self, prices: dict[str, LivePrice]) -> None:
        client = self._client
        if client is None:
            return
        qos, retain = int(self.config["qos"]), bool(self.config["retain"])
        for topic, payload in self.price_messages(prices):
            await client.publish(topic, payload, qos=qos, retain=retain)

    def _energy_messages(self, base: str, part: DirectionSummary) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if part.day is not None:
            doc: dict[str, Any] = {
                "value": kwh(part.day_wh),
                "unit": "kWh",
                "date": part.day.isoformat(),
                "wh": part.day_wh,
            }
            if part.hp_wh is not None:
                doc["hp"] = kwh(part.hp_wh)
                doc["hc"] = kwh(part.hc_wh)
            if part.day_cost is not None:
                doc["cost"] = float(round(part.day_cost, 2))
                doc["currency"] = "EUR"
            out.append((f"{base}/daily", self._payload(doc, doc["value"])))
        if part.month is not None and part.month_wh is not None:
            doc = {"value": kwh(part.month_wh), "unit": "kWh", "month": part.month.strftime("%Y-%m")}
            out.append((f"{base}/month", self._payload(doc, doc["value"])))
        if part.year is not None and part.year_wh is not None:
            doc = {"value": kwh(part.year_wh), "unit": "kWh", "year": part.year.year}
            out.append((f"{base}/year", self._payload(doc, doc["value"])))
        return out

    async def export(self) -> ExportResult:
        client = self._client
        if client is None:
            raise ExporterError("not connected to the broker")
        summary = await summarize(self.context)
        messages = self.messages(summary)
        messages += self.price_messages(await live_prices(self.context.store, self.context.clock()))
        qos, retain = int(self.config["qos"]), bool(self.config["retain"])
        try:
            for topic, payload in messages:
                await client.publish(topic, payload, qos=qos, retain=retain)
        except aiomqtt.MqttError as exc:
            raise ExporterError(f"publishing failed: {exc}") from None
        newest = max(
            (p.consumption.day for p in summary.points if p.consumption and p.consumption.day), default=None
        )
        detail = f"{len(messages)} messages" + (f", newest day {newest.isoformat()}" if newest else "")
        return ExportResult(len(messages), detail)
