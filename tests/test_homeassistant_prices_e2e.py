"""End to end against a real Home Assistant core: price entities, their change at the minute the program's
clock crosses a boundary, device triggers in HA's device automation API, and the shipped blueprints
(accepted by HA; the "red day tomorrow" one fires when the program publishes tomorrow = RED)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import shutil
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from app.connections import MqttBroker
from app.domain import DateRange, TempoColor, TempoDay
from app.exporters.base import ExportContext
from app.exporters.homeassistant import HomeAssistantDiscoveryExporter
from app.exporters.homeassistant.websocket import HomeAssistantWebSocket
from app.store import Store
from tests.clock_support import SteppedClock
from tests.ha_support import REPO, HomeAssistant

pytestmark = pytest.mark.e2e

HPHC, TEMPO = "09222222222222", "09333333333333"
BLUEPRINTS = REPO / "blueprints" / "automation" / "myelectricaldata"
WAIT = 60.0
PUBLICATION_DELAYS: list[float] = []  # seconds from the clock move to HA's new state, for the notes


class StateChanges:
    """HA's `state_changed` events of some entities, each stamped with the monotonic time it arrived."""

    def __init__(self, ha: HomeAssistant) -> None:
        self.ha = ha
        self.events: list[tuple[float, str, dict[str, Any] | None]] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def __aenter__(self) -> StateChanges:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._ready.wait(), WAIT)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(self.ha.url + "/api/websocket") as ws,
        ):
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": self.ha.token})
            assert (await ws.receive_json())["type"] == "auth_ok"
            await ws.send_json({"id": 1, "type": "subscribe_events", "event_type": "state_changed"})
            assert (await ws.receive_json())["success"]
            self._ready.set()
            async for message in ws:
                data = json.loads(message.data)
                if data.get("type") != "event":
                    continue
                event = data["event"]["data"]
                async with self._changed:
                    self.events.append((time.monotonic(), event["entity_id"], event["new_state"]))
                    self._changed.notify_all()

    async def wait(self, entity_id: str, predicate: Any) -> float:
        """The arrival time of the first change of `entity_id` whose new state matches."""

        def found() -> float | None:
            for stamp, entity, new in self.events:
                if entity == entity_id and new is not None and predicate(new):
                    return stamp
            return None

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: found() is not None), WAIT)
        stamp = found()
        assert stamp is not None
        return stamp


def price_is(value: float) -> Any:
    def check(state: dict[str, Any]) -> bool:
        try:
            return abs(float(state["state"]) - value) < 1e-9
        except ValueError:
            return False

    return check


async def registry(ha: HomeAssistant, wanted: set[str]) -> dict[str, dict[str, Any]]:
    async with HomeAssistantWebSocket(ha.url + "/api/websocket", ha.token) as ws:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while True:  # HA handles discovery messages in the background: poll its registry
            found = {e["unique_id"]: e for e in await ws.command("config/entity_registry/list")}
            if wanted <= set(found) or loop.time() > deadline:
                assert wanted <= set(found), wanted - set(found)
                return found
            await asyncio.sleep(0.2)


async def current_state(ha: HomeAssistant, entity_id: str, predicate: Any = None) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while True:
        state = await asyncio.to_thread(ha.state, entity_id)
        ok = state is not None and state["state"] not in ("unknown", "unavailable")
        if ok and (predicate is None or predicate(state)):
            assert state is not None
            return state
        assert loop.time() < deadline, state
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def discovery(
    ha: HomeAssistant, store: Store, clock: SteppedClock
) -> AsyncIterator[HomeAssistantDiscoveryExporter]:
    context = ExportContext(
        store=store,
        clock=clock,
        version="1.2.3",
        mqtt_broker=MqttBroker("127.0.0.1", ha.mqtt.port),
        wait_until=clock.wait_until,
    )
    exporter = HomeAssistantDiscoveryExporter({"enabled": True, "republish_delay": 0}, context)
    await exporter.connect()
    try:
        await asyncio.wait_for(exporter.connected_event.wait(), WAIT)
        yield exporter
    finally:
        await exporter.disconnect()


async def test_price_entities_exist_and_change_at_the_minute_the_clock_crosses_a_boundary(
    home_assistant: HomeAssistant, demo_store: Store
) -> None:
    red_day = dt.date(2026, 11, 29)
    await demo_store.save_tempo([TempoDay(red_day, TempoColor.RED)], [DateRange(red_day, red_day)])
    offpeak_start = dt.datetime(2026, 11, 28, 21, 0, tzinfo=dt.UTC)  # 22:00 in Paris
    six = dt.datetime(2026, 11, 29, 5, 0, tzinfo=dt.UTC)  # 06:00 in Paris, a red Tempo day starts
    clock = SteppedClock(offpeak_start - dt.timedelta(minutes=1))
    async with (
        StateChanges(home_assistant) as changes,
        discovery(home_assistant, demo_store, clock) as exporter,
    ):
        await exporter.export()
        ids = {
            f"myelectricaldata_{pdl}_{key}"
            for pdl in (HPHC, TEMPO)
            for key in ("price_current", "offpeak_now", "price_next_change", "price_next")
        }
        found = await registry(home_assistant, ids)
        entity = {unique_id: found[unique_id]["entity_id"] for unique_id in ids}
        price_id = entity[f"myelectricaldata_{HPHC}_price_current"]
        offpeak_id = entity[f"myelectricaldata_{HPHC}_offpeak_now"]
        assert offpeak_id.startswith("binary_sensor.")

        price = await current_state(home_assistant, price_id)
        assert float(price["state"]) == pytest.approx(0.2065)
        assert price["attributes"]["unit_of_measurement"] == "EUR/kWh"
        assert "device_class" not in price["attributes"]
        assert price["attributes"]["bucket"] == "hp"
        assert [s["value"] for s in price["attributes"]["today"]] == [0.1579, 0.2065, 0.1579]
        assert (await current_state(home_assistant, offpeak_id))["state"] == "off"
        next_change = await current_state(
            home_assistant, entity[f"myelectricaldata_{HPHC}_price_next_change"]
        )
        assert next_change["attributes"]["device_class"] == "timestamp"
        assert dt.datetime.fromisoformat(next_change["state"]) == offpeak_start
        next_price = await current_state(home_assistant, entity[f"myelectricaldata_{HPHC}_price_next"])
        assert float(next_price["state"]) == pytest.approx(0.1579)

        # Across the off-peak boundary at 22:00: HA's state changes as soon as the clock gets there.
        await clock.waiter_for(offpeak_start)
        moved = time.monotonic()
        await clock.move_to(offpeak_start)
        arrived = await changes.wait(offpeak_id, lambda s: s["state"] == "on")
        await changes.wait(price_id, price_is(0.1579))
        PUBLICATION_DELAYS.append(arrived - moved)

        # Across 06:00 on a red Tempo day: from the blue night to the red peak price.
        tempo_price = entity[f"myelectricaldata_{TEMPO}_price_current"]
        tempo_offpeak = entity[f"myelectricaldata_{TEMPO}_offpeak_now"]
        midnight = dt.datetime(2026, 11, 28, 23, 0, tzinfo=dt.UTC)  # a new day: the schedules move on
        await clock.waiter_for(midnight)
        await clock.move_to(midnight)
        await clock.waiter_for(six)
        assert float((await current_state(home_assistant, tempo_price))["state"]) == pytest.approx(0.1325)
        moved = time.monotonic()
        await clock.move_to(six)
        arrived = await changes.wait(tempo_price, price_is(0.706))
        PUBLICATION_DELAYS.append(arrived - moved)
        await changes.wait(tempo_offpeak, lambda s: s["state"] == "off")
        state = await current_state(
            home_assistant, tempo_price, lambda s: s["attributes"]["bucket"] == "tempo_red_hp"
        )
        assert state["attributes"]["offer"] == "Tarif Bleu - Tempo 9 kVA"
    print(f"publication delays (s): {[round(d, 3) for d in PUBLICATION_DELAYS]}")
    assert all(delay < 5 for delay in PUBLICATION_DELAYS)


async def test_device_triggers_are_listed_by_home_assistant(
    home_assistant: HomeAssistant, demo_store: Store
) -> None:
    clock = SteppedClock(dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC))
    async with discovery(home_assistant, demo_store, clock) as exporter:
        await exporter.export()
        found = await registry(
            home_assistant, {"myelectricaldata_tempo_tomorrow", f"myelectricaldata_{HPHC}_price_current"}
        )
        devices = {
            "tempo": found["myelectricaldata_tempo_tomorrow"]["device_id"],
            HPHC: found[f"myelectricaldata_{HPHC}_price_current"]["device_id"],
        }
        wanted = {"tempo": {"tomorrow_red", "tomorrow_white"}, HPHC: {"data_late", "peak_90_percent"}}
        async with HomeAssistantWebSocket(home_assistant.url + "/api/websocket", home_assistant.token) as ws:
            loop = asyncio.get_running_loop()
            for key, device_id in devices.items():
                deadline = loop.time() + WAIT
                while True:
                    listed = await ws.command("device_automation/trigger/list", device_id=device_id)
                    types = {t["type"] for t in listed if t.get("domain") == "mqtt"}
                    if wanted[key] <= types or loop.time() > deadline:
                        break
                    await asyncio.sleep(0.2)
                assert wanted[key] <= types, listed
                assert all(t["device_id"] == device_id for t in listed)


async def test_shipped_blueprints_are_accepted_and_the_red_day_one_fires(
    home_assistant: HomeAssistant, demo_store: Store
) -> None:
    target = home_assistant.config_dir / "blueprints" / "automation" / "myelectricaldata"
    shutil.copytree(BLUEPRINTS, target, dirs_exist_ok=True)
    shipped = sorted(p.name for p in BLUEPRINTS.glob("*.yaml"))
    assert len(shipped) == 3
    async with HomeAssistantWebSocket(home_assistant.url + "/api/websocket", home_assistant.token) as ws:
        listed = await ws.command("blueprint/list", domain="automation")
    for name in shipped:
        entry = listed[f"myelectricaldata/{name}"]
        assert "error" not in entry, entry
        assert entry["metadata"]["domain"] == "automation"

    clock = SteppedClock(dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC))
    async with (
        StateChanges(home_assistant) as changes,
        discovery(home_assistant, demo_store, clock) as exporter,
    ):
        await exporter.export()
        found = await registry(home_assistant, {"myelectricaldata_tempo_tomorrow"})
        tomorrow_id = found["myelectricaldata_tempo_tomorrow"]["entity_id"]
        assert (await current_state(home_assistant, tomorrow_id))["state"] == "blue"
        answer = await asyncio.to_thread(
            home_assistant.request,
            "POST",
            "/api/config/automation/config/red_day_tomorrow",
            {
                "alias": "Red day tomorrow",
                "use_blueprint": {
                    "path": "myelectricaldata/tempo_day_ahead_notify.yaml",
                    "input": {"tempo_tomorrow": tomorrow_id, "colours": ["red"], "notify_at": "00:00:00"},
                },
            },
        )
        assert answer == {"result": "ok"}
        automation = await current_state(home_assistant, "automation.red_day_tomorrow")
        assert automation["state"] == "on"
        assert automation["attributes"]["last_triggered"] is None

        red_day = dt.date(2026, 11, 29)
        await demo_store.save_tempo([TempoDay(red_day, TempoColor.RED)], [DateRange(red_day, red_day)])
        await exporter.export()
        await changes.wait(tomorrow_id, lambda s: s["state"] == "red")
        await changes.wait(
            "automation.red_day_tomorrow", lambda s: s["attributes"].get("last_triggered") is not None
        )
        # Its default action: a persistent notification naming the colour.
        async with HomeAssistantWebSocket(home_assistant.url + "/api/websocket", home_assistant.token) as ws:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT
            while True:
                notes = await ws.command("persistent_notification/get")
                if any("red Tempo day" in n["message"] for n in notes) or loop.time() > deadline:
                    break
                await asyncio.sleep(0.1)
        assert any(n["message"] == "Tomorrow is a red Tempo day." for n in notes), notes
