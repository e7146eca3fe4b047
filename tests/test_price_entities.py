"""Price entities and device triggers on a real (private) Mosquitto, with the program's clock moved by
hand: states are published again exactly at each price change, and after HA's birth message."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import aiomqtt

from app.connections import MqttBroker
from app.domain import DateRange, EcoWattDay, TempoColor, TempoDay
from app.exporters.base import ExportContext
from app.exporters.homeassistant import HomeAssistantDiscoveryExporter
from app.store import Store
from app.tempo_forecast import save_forecast
from tests.clock_support import SteppedClock
from tests.ha_support import Mosquitto
from tests.test_homeassistant_discovery import WAIT, Watcher

HPHC, TEMPO = "09222222222222", "09333333333333"
BEFORE_OFFPEAK = dt.datetime(2026, 11, 28, 20, 59, 30, tzinfo=dt.UTC)  # 21:59:30 in Paris
OFFPEAK = dt.datetime(2026, 11, 28, 21, 0, tzinfo=dt.UTC)  # 22:00 in Paris


@contextlib.asynccontextmanager
async def running(exporter: HomeAssistantDiscoveryExporter) -> AsyncIterator[None]:
    """The exporter connected to its broker for the block, disconnected after it whatever happens."""
    await exporter.connect()
    try:
        await asyncio.wait_for(exporter.connected_event.wait(), WAIT)
        yield
    finally:
        await exporter.disconnect()


def make(
    store: Store, broker: Mosquitto, clock: SteppedClock, **config: Any
) -> HomeAssistantDiscoveryExporter:
    context = ExportContext(
        store=store,
        clock=clock,
        version="1.2.3",
        mqtt_broker=MqttBroker("127.0.0.1", broker.port),
        wait_until=clock.wait_until,
    )
    return HomeAssistantDiscoveryExporter({"enabled": True, "republish_delay": 0, **config}, context)


def state(payload: bytes) -> Any:
    return json.loads(payload)["value"]


async def test_price_entities_change_exactly_at_the_off_peak_boundary(
    broker: Mosquitto, demo_store: Store
) -> None:
    clock = SteppedClock(BEFORE_OFFPEAK)
    exporter = make(demo_store, broker, clock)
    async with Watcher(broker.port) as watcher, running(exporter):
        await exporter.export()
        config = json.loads(await watcher.wait(f"homeassistant/device/myelectricaldata_{HPHC}/config"))
        price = config["components"]["price_current"]
        assert price["unit_of_measurement"] == "EUR/kWh"
        assert "device_class" not in price
        assert config["components"]["offpeak_now"]["platform"] == "binary_sensor"
        assert config["components"]["price_next_change"]["device_class"] == "timestamp"
        base = f"myelectricaldata/{HPHC}"
        assert state(await watcher.wait(f"{base}/price_current")) == 0.2065
        assert state(await watcher.wait(f"{base}/offpeak_now")) == "OFF"
        assert state(await watcher.wait(f"{base}/price_next_change")) == OFFPEAK.isoformat()
        assert state(await watcher.wait(f"{base}/price_next")) == 0.1579
        attributes = json.loads(await watcher.wait(f"{base}/price_current/attributes"))
        assert attributes["bucket"] == "hp"
        assert attributes["valid_until"] == OFFPEAK.isoformat()
        assert attributes["today"] == [
            {"start": "2026-11-28T00:00:00+01:00", "end": "2026-11-28T06:00:00+01:00", "value": 0.1579},
            {"start": "2026-11-28T06:00:00+01:00", "end": "2026-11-28T22:00:00+01:00", "value": 0.2065},
            {"start": "2026-11-28T22:00:00+01:00", "end": "2026-11-29T00:00:00+01:00", "value": 0.1579},
        ]
        assert len(attributes["tomorrow"]) == 3

        await clock.waiter_for(OFFPEAK)  # the scheduler sleeps until the change, not a poll
        await clock.move_to(OFFPEAK)
        assert state(await watcher.wait(f"{base}/offpeak_now", lambda p: state(p) == "ON")) == "ON"
        assert state(await watcher.wait(f"{base}/price_current", lambda p: state(p) == 0.1579)) == 0.1579
        next_change = dt.datetime(2026, 11, 29, 5, 0, tzinfo=dt.UTC).isoformat()
        await watcher.wait(f"{base}/price_next_change", lambda p: state(p) == next_change)
        assert exporter.published_count == 1  # a price-only publication, not a full one


async def test_tempo_price_follows_tomorrows_colour_at_06_00(broker: Mosquitto, demo_store: Store) -> None:
    red_day = dt.date(2026, 11, 29)
    await demo_store.save_tempo([TempoDay(red_day, TempoColor.RED)], [DateRange(red_day, red_day)])
    before = dt.datetime(2026, 11, 29, 4, 59, tzinfo=dt.UTC)  # 05:59 in Paris
    six = dt.datetime(2026, 11, 29, 5, 0, tzinfo=dt.UTC)
    clock = SteppedClock(before)
    exporter = make(demo_store, broker, clock)
    async with Watcher(broker.port) as watcher, running(exporter):
        await exporter.export()
        base = f"myelectricaldata/{TEMPO}"
        assert state(await watcher.wait(f"{base}/price_current")) == 0.1325  # blue night
        assert state(await watcher.wait(f"{base}/price_next")) == 0.706  # red peak hours
        await clock.waiter_for(six)
        await clock.move_to(six)
        await watcher.wait(f"{base}/price_current", lambda p: state(p) == 0.706)
        await watcher.wait(f"{base}/offpeak_now", lambda p: state(p) == "OFF")
        await watcher.wait(f"{base}/price_current/attributes", lambda p: b"tempo_red_hp" in p)
        attributes = json.loads(await watcher.wait(f"{base}/price_current/attributes"))
        assert attributes["bucket"] == "tempo_red_hp"


async def test_birth_message_republishes_the_price_in_force_now(broker: Mosquitto, demo_store: Store) -> None:
    clock = SteppedClock(BEFORE_OFFPEAK)
    exporter = make(demo_store, broker, clock, group_consumption=False)
    async with Watcher(broker.port) as watcher, running(exporter):
        await exporter.export()
        base = f"myelectricaldata/{HPHC}"
        await watcher.wait(f"{base}/price_current")
        clock.now = OFFPEAK + dt.timedelta(minutes=5)  # moved without waking the price clock
        async with aiomqtt.Client("127.0.0.1", broker.port) as ha:
            await ha.publish("homeassistant/status", "online", qos=1)
        await watcher.wait(f"{base}/price_current", lambda p: state(p) == 0.1579)


async def test_device_triggers_are_discovered_and_fire_once(broker: Mosquitto, demo_store: Store) -> None:
    tomorrow = dt.date(2026, 11, 29)
    await demo_store.save_tempo([TempoDay(tomorrow, TempoColor.RED)], [DateRange(tomorrow, tomorrow)])
    await demo_store.save_ecowatt([EcoWattDay(tomorrow, 3, "coupures possibles", (3,) * 24)])
    clock = SteppedClock(dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC))
    exporter = make(demo_store, broker, clock)
    async with Watcher(broker.port) as watcher, running(exporter):
        await exporter.export()
        config = json.loads(
            await watcher.wait("homeassistant/device_automation/myelectricaldata_tempo/tomorrow_red/config")
        )
        assert (config["automation_type"], config["type"], config["topic"]) == (
            "trigger",
            "tomorrow_red",
            "myelectricaldata/tempo/trigger",
        )
        assert config["device"]["identifiers"] == ["myelectricaldata_tempo"]
        for topic in (
            "homeassistant/device_automation/myelectricaldata_tempo/tomorrow_white/config",
            "homeassistant/device_automation/myelectricaldata_ecowatt/tomorrow_orange/config",
            f"homeassistant/device_automation/myelectricaldata_{HPHC}/data_late/config",
            f"homeassistant/device_automation/myelectricaldata_{HPHC}/peak_90_percent/config",
        ):
            await watcher.wait(topic)
        assert await watcher.wait("myelectricaldata/tempo/trigger") == b"tomorrow_red"
        assert await watcher.wait("myelectricaldata/ecowatt/trigger") == b"tomorrow_red"
        assert watcher.messages["myelectricaldata/tempo/trigger"][1] is False  # never retained
        await exporter.export()  # the same occurrence does not fire twice
        await watcher.wait_count(f"myelectricaldata/{HPHC}/price_current", 2)
        sent = [t for t, _, _ in watcher.log if t == "myelectricaldata/tempo/trigger"]
        assert len(sent) == 1


async def test_data_late_fires_when_nothing_new_for_two_days(broker: Mosquitto, demo_store: Store) -> None:
    # The demo store holds data up to 2026-11-27: three days later nothing new came for 2 days.
    clock = SteppedClock(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC))
    exporter = make(demo_store, broker, clock)
    async with Watcher(broker.port) as watcher, running(exporter):
        await exporter.export()
        assert await watcher.wait(f"myelectricaldata/{HPHC}/trigger") == b"data_late"


async def test_tempo_forecast_entities_on_the_tempo_device(broker: Mosquitto, demo_store: Store) -> None:
    now = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
    await save_forecast(
        demo_store,
        {
            "season": "2026-2027",
            "season_stats": {"red_remaining": 19, "white_remaining": 40, "red_used": 3, "white_used": 3},
            "forecasts": [
                {
                    "date": "2026-11-29",
                    "probability_blue": 0.2,
                    "probability_white": 0.1,
                    "probability_red": 0.7,
                    "most_likely": "RED",
                    "confidence": 0.7,
                },
                {
                    "date": "2026-11-30",
                    "probability_blue": 0.5,
                    "probability_white": 0.45,
                    "probability_red": 0.05,
                },
            ],
        },
        now,
    )
    exporter = make(demo_store, broker, SteppedClock(now))
    async with Watcher(broker.port) as watcher, running(exporter):
        await exporter.export()
        config = json.loads(await watcher.wait("homeassistant/device/myelectricaldata_tempo/config"))
        assert config["components"]["forecast_day_1"]["options"] == ["blue", "white", "red", "unknown"]
        assert config["components"]["forecast_day_1_probability"]["unit_of_measurement"] == "%"
        assert state(await watcher.wait("myelectricaldata/tempo/forecast_day_1")) == "red"
        assert state(await watcher.wait("myelectricaldata/tempo/forecast_day_1_probability")) == 70.0
        attributes = json.loads(await watcher.wait("myelectricaldata/tempo/forecast_day_1/attributes"))
        assert attributes["date"] == "2026-11-29"
        assert attributes["probability_red"] == 70.0
        assert state(await watcher.wait("myelectricaldata/tempo/forecast_day_2")) == "blue"
        assert state(await watcher.wait("myelectricaldata/tempo/forecast_day_3")) == "unknown"
        assert state(await watcher.wait("myelectricaldata/tempo/remaining_red")) == 19
        assert state(await watcher.wait("myelectricaldata/tempo/remaining_white")) == 40


async def test_switching_groups_off_removes_price_entities_and_their_triggers(
    broker: Mosquitto, demo_store: Store
) -> None:
    clock = SteppedClock(BEFORE_OFFPEAK)
    async with Watcher(broker.port) as watcher:
        first = make(demo_store, broker, clock)
        await first.connect()
        await asyncio.wait_for(first.connected_event.wait(), WAIT)
        try:
            await first.export()
            trigger_topic = "homeassistant/device_automation/myelectricaldata_tempo/tomorrow_red/config"
            await watcher.wait(trigger_topic)
        finally:
            await first.disconnect()
        second = make(demo_store, broker, clock, group_price=False, group_tempo=False)
        await second.connect()
        await asyncio.wait_for(second.connected_event.wait(), WAIT)
        try:
            await second.export()
            config = json.loads(
                await watcher.wait(
                    f"homeassistant/device/myelectricaldata_{HPHC}/config",
                    lambda p: json.loads(p)["components"].get("offpeak_now", {}).get("state_topic") is None,
                )
            )
            assert config["components"]["offpeak_now"] == {"platform": "binary_sensor"}
            assert config["components"]["price_current"] == {"platform": "sensor"}
            assert await watcher.wait(trigger_topic, lambda p: p == b"") == b""
            assert second._prices_task is None  # no price clock for switched-off prices
        finally:
            await second.disconnect()
