"""MQTT discovery on a real (private) Mosquitto: payloads, retained flags, LWT, birth, removal, restart."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

import app
from app import timeline
from app.connections import MqttBroker
from app.domain import Direction
from app.exporters.base import ExportContext
from app.exporters.homeassistant import HomeAssistantDiscoveryExporter
from app.pricing.source import BucketCost
from app.project import PROJECT_NAME, REPOSITORY_URL
from app.store import Store
from tests.ha_support import REPO, Mosquitto
from tests.support import NOW, Clock

BASE, HPHC, TEMPO = "09111111111111", "09222222222222", "09333333333333"
WAIT = 30.0


class Watcher:
    """Subscribes to everything and keeps the last message per topic, with its retain flag."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: dict[str, tuple[bytes, bool]] = {}
        self.log: list[tuple[str, bytes, bool]] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def __aenter__(self) -> Watcher:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._ready.wait(), WAIT)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        async with aiomqtt.Client("127.0.0.1", self.port) as client:
            await client.subscribe("#", qos=1)
            self._ready.set()
            async for message in client.messages:
                payload = (
                    message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
                )
                async with self._changed:
                    self.messages[str(message.topic)] = (payload, bool(message.retain))
                    self.log.append((str(message.topic), payload, bool(message.retain)))
                    self._changed.notify_all()

    async def wait(self, topic: str, predicate: Any = bool) -> bytes:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: topic in self.messages and predicate(self.messages[topic][0])),
                WAIT,
            )
            return self.messages[topic][0]

    async def wait_count(self, topic: str, count: int) -> None:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: sum(1 for t, _, _ in self.log if t == topic) >= count), WAIT
            )


def make(store: Store, broker: Mosquitto, **config: Any) -> HomeAssistantDiscoveryExporter:
    context = ExportContext(
        store=store, clock=Clock(NOW), version="1.2.3", mqtt_broker=MqttBroker("127.0.0.1", broker.port)
    )
    return HomeAssistantDiscoveryExporter({"enabled": True, "republish_delay": 0, **config}, context)


async def connected(exporter: HomeAssistantDiscoveryExporter) -> HomeAssistantDiscoveryExporter:
    await exporter.connect()
    await asyncio.wait_for(exporter.connected_event.wait(), WAIT)
    return exporter


async def test_device_discovery_payloads_are_retained_and_match_the_store(
    broker: Mosquitto, demo_store: Store
) -> None:
    panel = "homeassistant://hassio/ingress/myelectricaldata"
    exporter = await connected(make(demo_store, broker, ingress_url=panel))
    try:
        result = await exporter.export()
    finally:
        await exporter.disconnect()
    assert result.items > 20
    async with Watcher(broker.port) as watcher:  # a late subscriber sees only retained messages
        config = json.loads(await watcher.wait(f"homeassistant/device/myelectricaldata_{HPHC}/config"))
        assert watcher.messages[f"homeassistant/device/myelectricaldata_{HPHC}/config"][1] is True
        assert config["device"]["name"] == "Linky Maison chauffage électrique"
        assert config["device"]["manufacturer"] == "Enedis"
        assert config["device"]["model"] == "Linky"
        assert config["device"]["sw_version"] == "1.2.3"
        assert config["device"]["configuration_url"] == panel
        # The origin is this program (name, its own version, its own repository), whatever the device says.
        assert config["origin"] == {
            "name": PROJECT_NAME,
            "sw_version": app.__version__,
            "support_url": REPOSITORY_URL,
        }
        assert "myelectricaldata_import" not in json.dumps(config["origin"])
        yesterday = config["components"]["consumption_yesterday"]
        assert yesterday["platform"] == "sensor"
        assert yesterday["unique_id"] == f"myelectricaldata_{HPHC}_consumption_yesterday"
        assert yesterday["default_entity_id"] == f"sensor.myelectricaldata_{HPHC}_consumption_yesterday"
        assert "object_id" not in yesterday
        assert (yesterday["device_class"], yesterday["state_class"], yesterday["unit_of_measurement"]) == (
            "energy",
            "total",
            "kWh",
        )
        assert {"consumption_yesterday_hp", "consumption_yesterday_hc"} <= set(config["components"])
        peak = config["components"]["max_power_yesterday"]
        assert (peak["device_class"], peak["unit_of_measurement"], peak["state_class"]) == (
            "apparent_power",
            "kVA",
            "measurement",
        )
        tempo = json.loads(await watcher.wait(f"homeassistant/device/myelectricaldata_{TEMPO}/config"))
        assert {
            f"consumption_yesterday_tempo_{c}_{p}" for c in ("blue", "white", "red") for p in ("hp", "hc")
        } <= set(tempo["components"])
        assert "production_yesterday" in tempo["components"]
        assert await watcher.wait("homeassistant/device/myelectricaldata_tempo/config")
        assert await watcher.wait("homeassistant/device/myelectricaldata_ecowatt/config")

        state = json.loads(await watcher.wait(f"myelectricaldata/{HPHC}/consumption_yesterday"))
        day = dt.date(2026, 11, 27)
        stored = await demo_store.daily(HPHC, Direction.CONSUMPTION, day, day)
        assert state["value"] == pytest.approx(stored[0].wh / 1000, abs=1e-3)
        assert state["last_reset"] == "2026-11-26T23:00:00+00:00"  # 27 Nov 00:00 Paris
        card = json.loads(await watcher.wait(f"myelectricaldata/{HPHC}/linky/attributes"))
        assert card["yesterday"] == state["value"]
        assert card["yesterdayDate"] == "2026-11-27"
        assert len(card["dailyweek"].split(",")) == 7
        assert card["yesterday_HP"] + card["yesterday_HC"] == pytest.approx(state["value"], abs=0.02)
        # Clean disconnect: the availability topic says offline (retained), like the LWT would.
        assert await watcher.wait("myelectricaldata/status") == b"offline"


async def test_the_last_will_marks_the_sensors_unavailable_when_the_program_dies(
    broker: Mosquitto, tmp_path: Path
) -> None:
    script = tmp_path / "child.py"
    script.write_text(
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from app.connections import MqttBroker\n"
        "from app.exporters.base import ExportContext\n"
        "from app.exporters.homeassistant import HomeAssistantDiscoveryExporter\n"
        "from app.store import Store\n"
        "from app.timeline import now_utc\n"
        "async def main() -> None:\n"
        f"    store = await Store.open('', data_dir=Path({str(tmp_path / 'child-data')!r}))\n"
        f"    broker = MqttBroker('127.0.0.1', {broker.port})\n"
        "    context = ExportContext(store, now_utc, 'x', mqtt_broker=broker)\n"
        "    exporter = HomeAssistantDiscoveryExporter({'enabled': True}, context)\n"
        "    await exporter.connect()\n"
        "    await exporter.connected_event.wait()\n"
        "    print('ready', flush=True)\n"
        "    await asyncio.Event().wait()\n"
        "asyncio.run(main())\n"
    )
    async with Watcher(broker.port) as watcher:
        child = await asyncio.create_subprocess_exec(
            sys.executable, str(script), cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}
        )
        try:
            assert await watcher.wait("myelectricaldata/status", lambda p: p == b"online")
            child.kill()  # no MQTT DISCONNECT: the broker publishes the will
            await child.wait()
            assert await watcher.wait("myelectricaldata/status", lambda p: p == b"offline")
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()


async def test_birth_message_republishes_and_vanished_entities_are_removed(
    broker: Mosquitto, demo_store: Store
) -> None:
    exporter = await connected(make(demo_store, broker))
    try:
        async with Watcher(broker.port) as watcher:
            await exporter.export()
            topic = f"homeassistant/device/myelectricaldata_{BASE}/config"
            await watcher.wait_count(topic, 1)
            # Home Assistant restarts: its birth message makes us publish everything again.
            async with aiomqtt.Client("127.0.0.1", broker.port) as ha:
                await ha.publish("homeassistant/status", "online")
            await watcher.wait_count(topic, 2)
            await watcher.wait_count(f"myelectricaldata/{BASE}/consumption_yesterday", 2)
    finally:
        await exporter.disconnect()

    # The user switches off the Tempo and diagnostics groups: the Tempo device goes, with an empty retained
    # config, and the diagnostics components of each Linky are removed from its device config.
    exporter = await connected(make(demo_store, broker, group_tempo=False, group_diagnostics=False))
    try:
        async with Watcher(broker.port) as watcher:
            await exporter.export()
            assert (
                await watcher.wait("homeassistant/device/myelectricaldata_tempo/config", lambda p: p == b"")
                == b""
            )
            config = json.loads(await watcher.wait(f"homeassistant/device/myelectricaldata_{BASE}/config"))
            assert config["components"]["last_error"] == {"platform": "sensor"}
            assert await watcher.wait("myelectricaldata/tempo/today", lambda p: p == b"") == b""
    finally:
        await exporter.disconnect()
    async with Watcher(broker.port) as late:
        await late.wait(f"homeassistant/device/myelectricaldata_{BASE}/config")
        assert "homeassistant/device/myelectricaldata_tempo/config" not in late.messages

    # Switching to single-component discovery (for Jeedom/openHAB) replaces the device configs.
    exporter = await connected(make(demo_store, broker, mode="single", discovery_prefix="homeassistant"))
    try:
        async with Watcher(broker.port) as watcher:
            await exporter.export()
            single = json.loads(
                await watcher.wait(
                    f"homeassistant/sensor/myelectricaldata_{BASE}/consumption_yesterday/config"
                )
            )
            assert single["unique_id"] == f"myelectricaldata_{BASE}_consumption_yesterday"
            assert single["device"]["identifiers"] == [f"myelectricaldata_{BASE}"]
            assert (
                await watcher.wait(f"homeassistant/device/myelectricaldata_{BASE}/config", lambda p: p == b"")
                == b""
            )
    finally:
        await exporter.disconnect()


async def test_broker_restart_is_followed_by_reconnection_and_republication(
    broker: Mosquitto, demo_store: Store
) -> None:
    exporter = await connected(make(demo_store, broker))
    try:
        await exporter.export()
        await asyncio.to_thread(broker.stop)  # retained messages are lost (no persistence)
        await asyncio.to_thread(broker.start)
        async with Watcher(broker.port) as watcher:
            config = await watcher.wait(f"homeassistant/device/myelectricaldata_{BASE}/config")
            assert json.loads(config)["device"]["model"] == "Linky"
            assert await watcher.wait("myelectricaldata/status", lambda p: p == b"online")
        assert exporter.status.connected
    finally:
        await exporter.disconnect()


async def test_export_without_broker_says_so_and_keeps_the_sensors_for_later(demo_store: Store) -> None:
    context = ExportContext(store=demo_store, clock=Clock(NOW), version="1")
    exporter = HomeAssistantDiscoveryExporter({"enabled": True}, context)
    with pytest.raises(Exception, match="no MQTT broker"):
        await exporter.connect()


class HalfEuroPerKwh:
    """A tiny CostSource: 0.50 EUR per stored daily kWh, 1 EUR of subscription per day."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def hourly(self, usage_point_id: str, start: dt.datetime, end: dt.datetime) -> list[BucketCost]:
        return []

    async def daily(self, usage_point_id: str, first: dt.date, last: dt.date) -> list[BucketCost]:
        rows = await self.store.daily(usage_point_id, Direction.CONSUMPTION, first, last)
        return [
            BucketCost(
                usage_point_id,
                timeline.day_start_utc(r.day),
                1440,
                "base",
                r.wh,
                Decimal(r.wh) / 2000,
                "flat",
            )
            for r in rows
        ]

    async def subscription(self, usage_point_id: str, first: dt.date, last: dt.date) -> Decimal:
        return Decimal((last - first).days + 1)


async def test_cost_sensors_appear_once_costs_are_known(broker: Mosquitto, demo_store: Store) -> None:
    without = await connected(make(demo_store, broker))
    try:
        async with Watcher(broker.port) as watcher:
            await without.export()
            config = json.loads(await watcher.wait(f"homeassistant/device/myelectricaldata_{BASE}/config"))
            assert "cost_yesterday" not in config["components"]
    finally:
        await without.disconnect()
    context = ExportContext(
        store=demo_store,
        clock=Clock(NOW),
        version="1",
        costs=HalfEuroPerKwh(demo_store),
        mqtt_broker=MqttBroker("127.0.0.1", broker.port),
    )
    exporter = await connected(HomeAssistantDiscoveryExporter({"enabled": True}, context))
    try:
        async with Watcher(broker.port) as watcher:
            await exporter.export()
            config = json.loads(
                await watcher.wait(
                    f"homeassistant/device/myelectricaldata_{BASE}/config",
                    lambda p: b"cost_yesterday" in p,
                )
            )
            cost = config["components"]["cost_yesterday"]
            assert (cost["device_class"], cost["state_class"], cost["unit_of_measurement"]) == (
                "monetary",
                "total",
                "EUR",
            )
            state = json.loads(await watcher.wait(f"myelectricaldata/{BASE}/cost_yesterday"))
            day = dt.date(2026, 11, 27)
            stored = await demo_store.daily(BASE, Direction.CONSUMPTION, day, day)
            assert state["value"] == pytest.approx(float(Decimal(stored[0].wh) / 2000 + 1), abs=0.01)
    finally:
        await exporter.disconnect()


async def test_self_consumption_rate_is_the_production_consumed_while_produced(
    broker: Mosquitto, demo_store: Store
) -> None:
    exporter = await connected(make(demo_store, broker))
    try:
        await exporter.export()
    finally:
        await exporter.disconnect()
    first, last = dt.date(2026, 1, 1), dt.date(2026, 11, 27)
    start, end = timeline.day_start_utc(first), timeline.day_start_utc(last + dt.timedelta(days=1))
    produced_w = {
        r.start: r.average_w for r in await demo_store.intervals(TEMPO, Direction.PRODUCTION, start, end)
    }
    own_wh = 0.0
    days: set[dt.date] = set()
    for r in await demo_store.intervals(TEMPO, Direction.CONSUMPTION, start, end):
        made = produced_w.get(r.start)
        if r.average_w is not None and made is not None:
            own_wh += min(r.average_w, made) * r.minutes / 60
            days.add(timeline.paris_date(r.start))
    produced_wh = sum(
        d.wh for d in await demo_store.daily(TEMPO, Direction.PRODUCTION, first, last) if d.day in days
    )
    assert 0 < own_wh < produced_wh
    async with Watcher(broker.port) as watcher:
        config = json.loads(await watcher.wait(f"homeassistant/device/myelectricaldata_{TEMPO}/config"))
        component = config["components"]["self_consumption_rate_this_year"]
        assert (component["unit_of_measurement"], component["state_class"]) == ("%", "measurement")
        state = json.loads(await watcher.wait(f"myelectricaldata/{TEMPO}/self_consumption_rate_this_year"))
        assert state["value"] == pytest.approx(own_wh / produced_wh * 100, abs=0.1)
        hphc = json.loads(await watcher.wait(f"homeassistant/device/myelectricaldata_{HPHC}/config"))
        assert "self_consumption_rate_this_year" not in hphc["components"]  # no production there
