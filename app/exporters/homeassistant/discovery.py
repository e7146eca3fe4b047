"""MQTT discovery: Home Assistant devices and sensors for each usage point, Tempo and EcoWatt (aiomqtt).

Topics (HA MQTT discovery docs): device-based `<prefix>/device/<object_id>/config` (one retained JSON
with `dev`, `o`, `cmps`; HA >= 2024.12) by default, or single-component `<prefix>/sensor/<node>/<object>/
config` for brokers also read by Jeedom or openHAB. States are retained JSON on `<base>/<device>/<key>`,
attributes on `.../attributes`, availability on `<base>/status` (LWT `offline`, `online` after connect).
On `<prefix>/status` = `online` (HA restarted) everything is republished after a short random delay;
entities that disappear get an empty retained config so they do not come back as ghosts; the broker
connection is retried with exponential backoff and everything is republished after reconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import random
import ssl
import uuid
from typing import Any, ClassVar

import aiomqtt
import voluptuous as vol

from app import timeline
from app.exporters._live import live_prices, run_price_clock
from app.exporters.base import BaseExporter, ExportContext, ExporterError, ExportResult, MqttBroker
from app.exporters.homeassistant import triggers
from app.exporters.homeassistant.forecast import forecast_entities, with_season_stock
from app.exporters.homeassistant.prices import BINARY_SENSOR_KEYS, PRICE_GROUP, price_entities
from app.exporters.homeassistant.sensors import GROUPS, Device, Entity, compute_sensors
from app.pricing.live import LivePrice
from app.project import PROJECT_NAME, PROJECT_VERSION, REPOSITORY_URL
from app.tempo_forecast import stored_forecast

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0
CONNECT_WAIT = 5.0


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


class HomeAssistantDiscoveryExporter(BaseExporter):
    name: ClassVar[str] = "homeassistant_discovery"
    title: ClassVar[str] = "Home Assistant – MQTT discovery"
    description: ClassVar[str] = "Sensors created by themselves in Home Assistant through MQTT discovery."
    config_schema: ClassVar[vol.Schema] = vol.Schema(
        {
            vol.Optional("enabled", default=False): bool,
            vol.Optional("mode", default="device"): vol.In(("device", "single")),
            # Empty: the add-on option / DISCOVERY_PREFIX (default "homeassistant").
            vol.Optional("discovery_prefix", default=""): vol.All(
                str, vol.Strip, vol.Match(r"^[A-Za-z0-9_\-/]*$", msg="letters, digits, _ - / only")
            ),
            vol.Optional("base_topic", default="myelectricaldata"): vol.All(
                str, vol.Strip, vol.Match(r"^[A-Za-z0-9_\-/]+$", msg="letters, digits, _ - / only")
            ),
            **{vol.Optional(f"group_{group}", default=True): bool for group in GROUPS},
            # Empty host: the broker the supervisor (or the MQTT_* settings) gives.
            vol.Optional("host", default=""): vol.All(str, vol.Strip),
            vol.Optional("port", default=1883): vol.All(vol.Coerce(int), vol.Range(min=1, max=65535)),
            vol.Optional("username", default=""): str,
            vol.Optional("password", default=""): str,
            vol.Optional("ssl", default=False): bool,
            vol.Optional("republish_delay", default=5.0): vol.All(
                vol.Coerce(float), vol.Range(min=0, max=120)
            ),
            vol.Optional("ingress_url", default=""): str,
        }
    )
    secret_fields: ClassVar[frozenset[str]] = frozenset({"password"})

    def __init__(self, config: Any, context: Any) -> None:
        super().__init__(config, context)
        self._task: asyncio.Task[None] | None = None
        self._client: aiomqtt.Client | None = None
        self._latest: tuple[list[Device], list[Entity]] | None = None
        self._publish_lock = asyncio.Lock()
        self._republish: asyncio.Task[None] | None = None
        self.connected_event = asyncio.Event()
        self.published_count = 0
        self._stopping = False  # full publications done (export, birth, reconnect)
        self._prices_task: asyncio.Task[None] | None = None
        self.price_publications = 0  # price-only publications (at each price change)

    # ------------------------------------------------------------------ settings

    @classmethod
    def enabled_by_default(cls, context: ExportContext) -> bool:
        """On where Home Assistant's broker is known: the supervisor's MQTT service or MQTT_HOST."""
        return context.mqtt_broker is not None

    @property
    def prefix(self) -> str:
        own = str(self.config["discovery_prefix"]).strip("/")
        return own or self.context.discovery_prefix.strip("/") or "homeassistant"

    @property
    def base(self) -> str:
        return str(self.config["base_topic"]).strip("/")

    def broker(self) -> MqttBroker:
        if self.config["host"]:
            return MqttBroker(
                self.config["host"],
                self.config["port"],
                self.config["username"],
                self.config["password"],
                self.config["ssl"],
            )
        if self.context.mqtt_broker is not None:
            return self.context.mqtt_broker
        raise ExporterError("no MQTT broker: install the Mosquitto add-on or set the broker host")

    def _client_for(self, broker: MqttBroker) -> aiomqtt.Client:
        return aiomqtt.Client(
            broker.host,
            broker.port,
            username=broker.username or None,
            password=broker.password or None,
            identifier=f"myelectricaldata-{uuid.uuid4().hex[:8]}",
            will=aiomqtt.Will(f"{self.base}/status", "offline", qos=1, retain=True),
            tls_context=ssl.create_default_context() if broker.ssl else None,
            timeout=10,
        )

    # ------------------------------------------------------------------ lifecycle

    async def connect(self) -> None:
        self.broker()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="homeassistant-discovery-mqtt")
        # Give a reachable broker the time to accept us, so that the first export (at start, with
        # nobody watching) publishes instead of failing and waiting for the retry delay.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected_event.wait(), CONNECT_WAIT)

    async def disconnect(self) -> None:
        client = self._client
        if client is not None:  # a clean disconnect sends no will: say offline ourselves
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                offline = client.publish(f"{self.base}/status", "offline", qos=1, retain=True)
                await asyncio.wait_for(offline, 5)
        self._stopping = True
        for task in (self._republish, self._prices_task, self._task):
            if task is not None:
                task.cancel()
                # aiomqtt may turn the cancellation into an MqttError: _run then sees _stopping and ends.
                with contextlib.suppress(asyncio.CancelledError, TimeoutError, aiomqtt.MqttError):
                    await asyncio.wait_for(task, 15)
        self._stopping = False
        self._task = self._republish = self._prices_task = None
        self._client = None
        self.status.connected = False
        self.connected_event.clear()

    async def test_connection(self) -> str:
        broker = self.broker()
        try:
            async with self._client_for(broker):
                pass
        except aiomqtt.MqttError as exc:
            raise ExporterError(
                f"cannot connect to the MQTT broker {broker.host}:{broker.port}: {exc}"
            ) from exc
        return f"MQTT broker {broker.host}:{broker.port}"

    async def _run(self) -> None:
        backoff = 1.0
        while True:
            broker = self.broker()
            try:
                async with self._client_for(broker) as client:
                    self._client = client
                    await client.publish(f"{self.base}/status", "online", qos=1, retain=True)
                    await client.subscribe(f"{self.prefix}/status", qos=1)
                    self.status.connected = True
                    self.status.last_error = None
                    self.connected_event.set()
                    backoff = 1.0
                    log.info("MQTT discovery: connected to %s:%s", broker.host, broker.port)
                    if self._latest is not None:
                        await self._publish(client, *self._latest)
                    async for message in client.messages:
                        if message.payload in (b"online", "online"):
                            self._schedule_republish()
            except aiomqtt.MqttError as exc:
                self.status.last_error = f"MQTT broker {broker.host}:{broker.port}: {exc}"
                log.warning("MQTT discovery: %s; retrying in %.0f s", self.status.last_error, backoff)
            finally:
                self._client = None
                self.status.connected = False
                self.connected_event.clear()
            if self._stopping:
                return
            await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _schedule_republish(self) -> None:
        if self._republish is not None and not self._republish.done():
            return

        async def later() -> None:
            await asyncio.sleep(random.uniform(0, float(self.config["republish_delay"])))
            await self._refresh_prices()
            client = self._client
            if client is not None and self._latest is not None:
                with contextlib.suppress(aiomqtt.MqttError):
                    await self._publish(client, *self._latest)

        self._republish = asyncio.create_task(later())

    # ------------------------------------------------------------------ export

    async def export(self) -> ExportResult:
        now = self.context.clock()
        self.status.last_run = now
        devices, entities = await compute_sensors(self.context.store, now, self.context.costs)
        forecast = await stored_forecast(self.context.store)
        entities = with_season_stock(entities, forecast)
        entities += forecast_entities(forecast, timeline.paris_today(now))
        entities += price_entities(await live_prices(self.context.store, now))
        entities = [e for e in entities if self.config.get(f"group_{e.group}", True)]
        self._latest = (devices, entities)
        self._restart_price_clock()
        client = self._client
        if client is None:
            message = self.status.last_error or "not connected to the MQTT broker yet"
            self.status.last_error = message
            raise ExporterError(f"{message} (the sensors are sent as soon as it is back)")
        try:
            await self._publish(client, devices, entities)
            await self._fire_triggers(client, entities, timeline.paris_today(now))
        except aiomqtt.MqttError as exc:
            self.status.last_error = f"MQTT publish failed: {exc}"
            raise ExporterError(self.status.last_error) from exc
        self.status.last_success = now
        self.status.last_error = None
        self.status.last_exported = f"{len(entities)} sensors at {now:%Y-%m-%d %H:%M} UTC"
        return ExportResult(len(entities), self.status.last_exported)

    # ------------------------------------------------------------------ live prices and triggers

    def _restart_price_clock(self) -> None:
        if not self.config.get(f"group_{PRICE_GROUP}", True):
            return
        if self._prices_task is not None:
            self._prices_task.cancel()
        self._prices_task = asyncio.create_task(self._price_clock(), name="homeassistant-price-clock")

    async def _refresh_prices(self, prices: dict[str, LivePrice] | None = None) -> list[Entity]:
        """Recompute the price entities at the clock's now and put them in the latest publication."""
        if self._latest is None or not self.config.get(f"group_{PRICE_GROUP}", True):
            return []
        if prices is None:
            prices = await live_prices(self.context.store, self.context.clock())
        fresh = price_entities(prices)
        devices, entities = self._latest
        self._latest = (devices, [e for e in entities if e.group != PRICE_GROUP] + fresh)
        return fresh

    async def _price_clock(self) -> None:
        """Publish the price entities again exactly at each price change (keyed on the next change)."""
        await run_price_clock(
            self.context.store, self.context.clock, self.context.wait_until, self._publish_prices
        )

    async def _publish_prices(self, prices: dict[str, LivePrice]) -> None:
        fresh = await self._refresh_prices(prices)
        client = self._client
        if client is None:
            return
        for entity in fresh:
            topic = f"{self.base}/{entity.device}/{entity.key}"
            await client.publish(topic, _json(self._state(entity)), qos=1, retain=True)
            if entity.attributes is not None:
                await client.publish(f"{topic}/attributes", _json(entity.attributes), qos=1, retain=True)
        self.price_publications += 1

    async def _fire_triggers(self, client: aiomqtt.Client, entities: list[Entity], today: dt.date) -> None:
        store = self.context.store
        fired = await store.settings.triggers_fired()
        current = triggers.occurrences(entities, today)
        for device, kind in triggers.due(current, fired):
            await client.publish(f"{self.base}/{device}/trigger", kind, qos=1, retain=False)
            fired[f"{device}/{kind}"] = current[(device, kind)]
            log.info("MQTT discovery: trigger %s of %s sent", kind, device)
        await store.settings.set_triggers_fired(fired)

    def _trigger_configs(self, devices: list[Device]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for device in devices:
            for trigger in triggers.triggers_of(device):
                if not self.config.get(f"group_{trigger.group}", True):
                    continue
                node = f"myelectricaldata_{device.key}"
                out[f"{self.prefix}/device_automation/{node}/{trigger.type}/config"] = (
                    triggers.trigger_config(trigger, self.base, self._device_payload(device), self._origin())
                )
        return out

    def _device_payload(self, device: Device) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "identifiers": [f"myelectricaldata_{device.key}"],
            "name": device.name,
            "manufacturer": "Enedis" if device.model == "Linky" else "RTE",
            "model": device.model,
            "sw_version": self.context.version,
        }
        # e.g. "homeassistant://hassio/ingress/<addon slug>", from the supervisor's add-on info.
        url = self.config["ingress_url"] or self.context.configuration_url
        if url:
            payload["configuration_url"] = url
        return payload

    @staticmethod
    def _origin() -> dict[str, Any]:
        """Who publishes these entities (shown by HA in the MQTT info of each one): this program."""
        return {"name": PROJECT_NAME, "sw_version": PROJECT_VERSION, "support_url": REPOSITORY_URL}

    def _component(self, entity: Entity) -> dict[str, Any]:
        topic = f"{self.base}/{entity.device}/{entity.key}"
        config: dict[str, Any] = {
            "platform": entity.platform,
            "name": entity.name,
            "unique_id": entity.object_id,
            "default_entity_id": f"{entity.platform}.{entity.object_id}",
            "state_topic": topic,
            "value_template": "{{ value_json.value }}",
            "availability_topic": f"{self.base}/status",
        }
        optional = {
            "unit_of_measurement": entity.unit,
            "device_class": entity.device_class,
            "state_class": entity.state_class,
            "entity_category": entity.entity_category,
            "icon": entity.icon,
        }
        config.update({k: v for k, v in optional.items() if v is not None})
        if entity.options is not None:
            config["options"] = list(entity.options)
        if entity.last_reset is not None:
            config["last_reset_value_template"] = "{{ value_json.last_reset }}"
        if entity.attributes is not None:
            config["json_attributes_topic"] = f"{topic}/attributes"
        return config

    def _configs(self, devices: list[Device], entities: list[Entity]) -> dict[str, dict[str, Any]]:
        """Config topic -> payload, in the selected mode."""
        out: dict[str, dict[str, Any]] = {}
        by_device: dict[str, list[Entity]] = {}
        for entity in entities:
            by_device.setdefault(entity.device, []).append(entity)
        for device in devices:
            members = by_device.get(device.key, [])
            if not members:
                continue
            node = f"myelectricaldata_{device.key}"
            if self.config["mode"] == "device":
                out[f"{self.prefix}/device/{node}/config"] = {
                    "device": self._device_payload(device),
                    "origin": self._origin(),
                    "components": {e.key: self._component(e) for e in members},
                }
            else:
                for entity in members:
                    config = self._component(entity)
                    config.pop("platform")
                    config["device"] = self._device_payload(device)
                    config["origin"] = self._origin()
                    out[f"{self.prefix}/{entity.platform}/{node}/{entity.key}/config"] = config
        return out

    async def _publish(self, client: aiomqtt.Client, devices: list[Device], entities: list[Entity]) -> None:
        async with self._publish_lock:
            store = self.context.store
            configs = self._configs(devices, entities)
            configs.update(self._trigger_configs(devices))
            previous = await store.settings.discovery_published()
            old_configs: dict[str, list[str]] = (
                dict(previous.get("configs", {})) if isinstance(previous, dict) else {}
            )
            old_states: set[str] = set(previous.get("states", [])) if isinstance(previous, dict) else set()
            for topic, payload in configs.items():
                removed = set(old_configs.get(topic, [])) - set(payload.get("components", {}))
                if removed and "components" in payload:
                    # HA removes a component of a device config sent with only its platform.
                    payload = {
                        **payload,
                        "components": {
                            **payload["components"],
                            **{
                                k: {"platform": "binary_sensor" if k in BINARY_SENSOR_KEYS else "sensor"}
                                for k in removed
                            },
                        },
                    }
                await client.publish(topic, _json(payload), qos=1, retain=True)
            for topic in set(old_configs) - set(configs):
                await client.publish(topic, b"", qos=1, retain=True)
            states: set[str] = set()
            for entity in entities:
                topic = f"{self.base}/{entity.device}/{entity.key}"
                await client.publish(topic, _json(self._state(entity)), qos=1, retain=True)
                states.add(topic)
                if entity.attributes is not None:
                    await client.publish(f"{topic}/attributes", _json(entity.attributes), qos=1, retain=True)
                    states.add(f"{topic}/attributes")
            for topic in old_states - states:
                await client.publish(topic, b"", qos=1, retain=True)
            await store.settings.set_discovery_published(
                {
                    "configs": {t: sorted(p.get("components", {})) for t, p in configs.items()},
                    "states": sorted(states),
                },
            )
            self.published_count += 1

    @staticmethod
    def _state(entity: Entity) -> dict[str, Any]:
        state: dict[str, Any] = {"value": entity.value}
        if entity.last_reset is not None:
            state["last_reset"] = entity.last_reset.isoformat()
        return state
