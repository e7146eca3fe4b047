"""Jeedom exporter against a fake Jeedom that validates each request (section 4); exact calls asserted."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from app import timeline
from app.domain import Direction
from app.exporters.base import ExporterError
from app.exporters.manager import ExporterManager
from app.service import Service
from app.store import Store
from tests.exporter_support import mosquitto, synced_service
from tests.fake_jeedom import API_KEY, FakeJeedom
from tests.support import AiohttpServer

PDL = "09111111111111"
DAY1, DAY2 = dt.date(2026, 11, 26), dt.date(2026, 11, 27)


def manager_of(service: Service) -> ExporterManager:
    assert service.exporters is not None
    return service.exporters


async def expected_events(store: Store, ids: dict[str, int], days: list[dt.date]) -> list[tuple[str, Any]]:
    """The cmd::event calls a user expects for these days, computed from the store independently."""
    calls: list[tuple[str, Any]] = []

    def event(measure: str, value: float | int, stamp: str) -> None:
        calls.append(("cmd::event", {"id": ids[measure], "value": value, "datetime": stamp}))

    daily = await store.daily(PDL, Direction.CONSUMPTION, days[0], days[-1])
    for d in daily:
        event("daily_consumption", round(d.wh / 1000, 3), f"{d.day} 00:00:00")
    month = await store.daily(PDL, Direction.CONSUMPTION, dt.date(2026, 11, 1), DAY2)
    event("monthly_consumption", round(sum(d.wh for d in month) / 1000, 3), "2026-11-01 00:00:00")
    year = await store.daily(PDL, Direction.CONSUMPTION, dt.date(2026, 1, 1), DAY2)
    event("yearly_consumption", round(sum(d.wh for d in year) / 1000, 3), "2026-01-01 00:00:00")
    start, end = timeline.day_start_utc(days[0]), timeline.day_start_utc(days[-1] + dt.timedelta(days=1))
    for r in await store.intervals(PDL, Direction.CONSUMPTION, start, end):
        event(
            "consumption_load_curve",
            r.average_w or 0,
            timeline.to_paris(r.start).strftime("%Y-%m-%d %H:%M:%S"),
        )
    for mp in await store.max_power(PDL, days[0], days[-1]):
        assert mp.at is not None
        event(
            "daily_consumption_max_power", round(mp.va / 1000, 3), timeline.to_paris(mp.at).strftime("%F %T")
        )
    return calls


async def test_jsonrpc_backfill_exact_calls_then_correction_window(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    manager = manager_of(service)
    store = service.store
    assert store is not None
    fake = FakeJeedom()
    url = str((await aiohttp_server(fake.app())).make_url("")).rstrip("/")
    measures = [
        "daily_consumption",
        "monthly_consumption",
        "yearly_consumption",
        "consumption_load_curve",
        "daily_consumption_max_power",
    ]
    ids = {m: fake.add_command(m) for m in measures}
    mapping = "\n".join(f"{PDL}.{m}={ids[m]}" for m in measures)
    config = {"mode": "jsonrpc", "url": url, "apikey": API_KEY, "commands": mapping, "history_days": 2}

    with pytest.raises(ExporterError, match="pas autorisé"):
        await manager.test("jeedom", {**config, "apikey": "wrong"})
    assert await manager.test("jeedom", config) == f"Jeedom at {url} answers 'pong'"
    fake.calls.clear()

    await manager.save("jeedom", {**config, "enabled": True, "correction_days": 1})
    await manager.wait_idle()
    assert manager.status("jeedom").last_error is None
    assert fake.calls == await expected_events(store, ids, [DAY1, DAY2])
    assert fake.violations == []

    fake.calls.clear()
    result = await manager.run("jeedom")  # same day: the correction window (1 day) is sent again
    assert result is not None
    assert fake.calls == await expected_events(store, ids, [DAY2])
    assert fake.violations == []
    assert (await manager.stored_config("jeedom"))["apikey"] == API_KEY
    assert API_KEY not in json.dumps(manager.describe_all())
    await service.stop()


async def test_creates_virtual_equipment_and_reuses_it(aiohttp_server: AiohttpServer, tmp_path: Path) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    manager = manager_of(service)
    fake = FakeJeedom()
    url = str((await aiohttp_server(fake.app())).make_url("")).rstrip("/")
    config = {
        "enabled": True,
        "url": url,
        "apikey": API_KEY,
        "create_equipment": True,
        "history_days": 1,
        "load_curve": False,
    }
    await manager.save("jeedom", config)
    await manager.wait_idle()
    assert manager.status("jeedom").last_error is None, manager.status("jeedom")
    assert fake.violations == []
    saves = [(m, p) for m, p in fake.calls if m != "cmd::event"]
    assert saves[0] == (
        "eqLogic::save",
        {"eqType_name": "virtual", "name": f"Linky {PDL}", "logicalId": PDL, "isEnable": 1, "isVisible": 1},
    )
    first_cmds = [p["name"] for m, p in saves[1:6]]
    assert first_cmds == [
        "daily_consumption",
        "monthly_consumption",
        "yearly_consumption",
        "consumption_load_curve",
        "daily_consumption_max_power",
    ]
    assert all(p["type"] == "info" and p["subType"] == "numeric" for m, p in saves if m == "cmd::save")
    assert len([m for m, _ in saves if m == "eqLogic::save"]) == 3
    solar = [p["name"] for m, p in saves if m == "cmd::save" and "production" in p["name"]]
    assert solar == ["daily_production", "monthly_production", "yearly_production", "production_load_curve"]
    by_name = {p["name"]: cmd_id for cmd_id, p in fake.commands.items() if p.get("eqLogic_id") == int(
        next(str(i) for i, e in fake.equipments.items() if e["logicalId"] == PDL))}  # fmt: skip
    events = {(p["id"], p["datetime"]) for m, p in fake.calls if m == "cmd::event"}
    assert (by_name["daily_consumption"], f"{DAY2} 00:00:00") in events

    fake.calls.clear()
    await manager.run("jeedom")
    assert [m for m, _ in fake.calls if m != "cmd::event"] == []  # created once, reused after
    await service.stop()


async def test_event_url_sends_current_values(aiohttp_server: AiohttpServer, tmp_path: Path) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    manager = manager_of(service)
    store = service.store
    assert store is not None
    fake = FakeJeedom()
    url = str((await aiohttp_server(fake.app())).make_url("")).rstrip("/")
    daily_id, curve_id = fake.add_command("daily_consumption"), fake.add_command("consumption_load_curve")
    mapping = f"{PDL}.daily_consumption={daily_id}\n{PDL}.consumption_load_curve={curve_id}"
    await manager.save(
        "jeedom", {"enabled": True, "mode": "event_url", "url": url, "apikey": API_KEY, "commands": mapping}
    )
    await manager.wait_idle()
    assert manager.status("jeedom").last_error is None
    last_day = (await store.daily(PDL, Direction.CONSUMPTION, DAY2, DAY2))[0]
    start, end = timeline.day_bounds_utc(DAY2)
    last_slot = (await store.intervals(PDL, Direction.CONSUMPTION, start, end))[-1]
    assert fake.calls == [
        ("event_url", {"id": curve_id, "value": str(last_slot.average_w)}),
        ("event_url", {"id": daily_id, "value": str(round(last_day.wh / 1000, 3))}),
    ]
    assert fake.violations == []
    await service.stop()


async def test_mqtt_manager_mode(aiohttp_server: AiohttpServer, tmp_path: Path) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    manager = manager_of(service)
    store = service.store
    assert store is not None
    async with mosquitto(tmp_path / "mq") as broker:
        got: list[tuple[str, Any]] = []
        ready = asyncio.Event()

        async def listen() -> None:
            async with aiomqtt.Client("127.0.0.1", broker.port) as client:
                await client.subscribe("jeedom/cmd/set/#", qos=1)
                ready.set()
                async for message in client.messages:
                    got.append((str(message.topic), json.loads(bytes(message.payload).decode())))
                    if len(got) == 2:
                        return

        listener = asyncio.create_task(listen())
        await ready.wait()
        config = {
            "enabled": True,
            "mode": "mqtt",
            "mqtt_host": "127.0.0.1",
            "mqtt_port": broker.port,
            "commands": f"{PDL}.daily_consumption=501",
            "history_days": 2,
        }
        assert "MQTT Manager" in await manager.test("jeedom", config)
        await manager.save("jeedom", config)
        await manager.wait_idle()
        await asyncio.wait_for(listener, 10)
        daily = await store.daily(PDL, Direction.CONSUMPTION, DAY1, DAY2)
        assert got == [
            ("jeedom/cmd/set/501", {"value": round(d.wh / 1000, 3), "datetime": f"{d.day} 00:00:00"})
            for d in daily
        ]
    await service.stop()
