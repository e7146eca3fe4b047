"""End to end against a real Home Assistant core: our statistics land on the right hours, once.

The demo store keeps its full daily history but only the load curve from CURVE_FROM on, so the export
covers both kinds of day: curve days (hourly rows, with the 25-hour day of 2026-10-25) and older days
that only have a daily value (one row at 00:00 local).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import shutil
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

from app import timeline
from app.connections import MqttBroker
from app.domain import Direction, IntervalReading
from app.exporters.base import ExportContext, ExporterError
from app.exporters.homeassistant import HomeAssistantDiscoveryExporter, HomeAssistantStatisticsExporter
from app.exporters.homeassistant.websocket import HomeAssistantWebSocket
from app.pricing.source import BucketCost
from app.project import PROJECT_NAME, PROJECT_VERSION, REPOSITORY_URL
from app.store import Store
from app.store.tables import interval_reading
from tests.ha_support import HomeAssistant
from tests.support import NOW, Clock
from tests.test_homeassistant_statistics_contract import check_import_2026_11

pytestmark = pytest.mark.e2e

CURVE_FROM = dt.date(2026, 10, 1)
DST_WEEK = (dt.date(2026, 10, 21), dt.date(2026, 10, 27))  # holds the fall-back day 2026-10-25
BASE, HPHC, TEMPO = "09111111111111", "09222222222222", "09333333333333"


@pytest.fixture
async def demo_store(ha_demo_data: Path, tmp_path: Path) -> AsyncIterator[Store]:
    data_dir = tmp_path / "data"
    shutil.copytree(ha_demo_data, data_dir)
    store = await Store.open("", data_dir=data_dir)
    async with store.engine.begin() as conn:
        await conn.execute(
            delete(interval_reading).where(
                interval_reading.c.start_ts < int(timeline.day_start_utc(CURVE_FROM).timestamp())
            )
        )
    try:
        yield store
    finally:
        await store.close()


def exporter(ha: HomeAssistant, store: Store, **extra: Any) -> HomeAssistantStatisticsExporter:
    context = ExportContext(store=store, clock=Clock(NOW), version="test", costs=extra.pop("costs", None))
    return HomeAssistantStatisticsExporter(
        {"enabled": True, "url": ha.url, "token": ha.token, **extra}, context
    )


async def hourly(
    ha: HomeAssistant,
    ids: list[str],
    first: dt.date,
    last: dt.date,
    types: tuple[str, ...] = ("state", "sum"),
) -> dict[str, list[dict[str, Any]]]:
    async with HomeAssistantWebSocket(ha.url.replace("http", "ws") + "/api/websocket", ha.token) as ws:
        result: dict[str, list[dict[str, Any]]] = await ws.command(
            "recorder/statistics_during_period",
            start_time=timeline.day_start_utc(first).isoformat(),
            end_time=timeline.day_start_utc(last + dt.timedelta(days=1)).isoformat(),
            statistic_ids=ids,
            period="hour",
            types=list(types),
        )
    return result


def start_of(row: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromtimestamp(row["start"] / 1000, dt.UTC)


async def test_statistics_are_listed_and_match_the_stored_hourly_energy(
    home_assistant: HomeAssistant, demo_store: Store
) -> None:
    result = await exporter(home_assistant, demo_store).export()
    assert result.items > 0

    async with HomeAssistantWebSocket(home_assistant.url + "/api/websocket", home_assistant.token) as ws:
        listed = {
            s["statistic_id"]: s
            for s in await ws.command("recorder/list_statistic_ids", statistic_type="sum")
        }
    expected = {
        f"myelectricaldata:consumption_{BASE}",
        f"myelectricaldata:consumption_{HPHC}",
        f"myelectricaldata:consumption_{HPHC}_hp",
        f"myelectricaldata:consumption_{HPHC}_hc",
        f"myelectricaldata:consumption_{TEMPO}",
        *(
            f"myelectricaldata:consumption_{TEMPO}_tempo_{c}_{p}"
            for c in ("blue", "white", "red")
            for p in ("hp", "hc")
        ),
        f"myelectricaldata:production_{TEMPO}",
    }
    assert expected <= set(listed)
    assert listed[f"myelectricaldata:consumption_{HPHC}"]["statistics_unit_of_measurement"] == "kWh"
    assert listed[f"myelectricaldata:consumption_{HPHC}"]["source"] == "myelectricaldata"
    assert not any(sid.endswith("_cost") for sid in listed)  # no CostSource, no cost statistics

    # The DST week: one row per local hour (25 on 2026-10-25), equal to the stored curve per hour.
    first, last = DST_WEEK
    for pdl, direction in (
        (BASE, Direction.CONSUMPTION),
        (HPHC, Direction.CONSUMPTION),
        (TEMPO, Direction.PRODUCTION),
    ):
        sid = f"myelectricaldata:{direction.value}_{pdl}"
        rows = (await hourly(home_assistant, [sid], first, last))[sid]
        stored = await demo_store.curve_energy(pdl, direction, "hour", first, last)
        assert [start_of(r) for r in rows] == [hour for hour, _ in stored]
        for row, (_, wh) in zip(rows, stored, strict=True):
            assert row["state"] == pytest.approx(wh / 1000, abs=1e-6)
        for previous, row in itertools.pairwise(rows):
            assert row["sum"] - previous["sum"] == pytest.approx(row["state"], abs=1e-6)
        fall_back = [r for r in rows if timeline.paris_date(start_of(r)) == dt.date(2026, 10, 25)]
        assert len(fall_back) == 25

    # HP + HC = total, hour by hour.
    ids = [f"myelectricaldata:consumption_{HPHC}{s}" for s in ("", "_hp", "_hc")]
    by_id = await hourly(home_assistant, ids, first, last)
    parts: dict[dt.datetime, float] = {}
    for sid in ids[1:]:
        for row in by_id[sid]:
            parts[start_of(row)] = parts.get(start_of(row), 0.0) + row["state"]
    assert {start_of(r): pytest.approx(r["state"], abs=1e-6) for r in by_id[ids[0]]} == parts

    # A day older than the curve history: its daily value in the day's first hour, nothing else.
    old_day = dt.date(2026, 3, 29)  # a 23-hour day, long before CURVE_FROM
    sid = f"myelectricaldata:consumption_{BASE}"
    rows = (await hourly(home_assistant, [sid], old_day, old_day))[sid]
    daily = await demo_store.daily(BASE, Direction.CONSUMPTION, old_day, old_day)
    assert [start_of(r) for r in rows] == [timeline.day_start_utc(old_day)]
    assert rows[0]["state"] == pytest.approx(daily[0].wh / 1000, abs=1e-6)


async def test_the_import_has_the_shape_this_core_accepts(
    home_assistant: HomeAssistant, demo_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2025.11 on: mean_type + unit_class (the 2026.11 contract), and the core logs no deprecation;
    before: has_mean. What the recorder stored says the same."""
    sent: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    real_command = HomeAssistantWebSocket.command

    async def recording(self: HomeAssistantWebSocket, kind: str, **fields: Any) -> Any:
        if kind == "recorder/import_statistics":
            sent.append((fields["metadata"], fields["stats"]))
        return await real_command(self, kind, **fields)

    monkeypatch.setattr(HomeAssistantWebSocket, "command", recording)
    await exporter(home_assistant, demo_store, costs=FlatPrice(demo_store)).export()
    assert sent
    energy_id, cost_id = f"myelectricaldata:consumption_{HPHC}", f"myelectricaldata:consumption_{HPHC}_cost"
    async with HomeAssistantWebSocket(home_assistant.url + "/api/websocket", home_assistant.token) as ws:
        stored = {
            m["statistic_id"]: m
            for m in await ws.command("recorder/get_statistics_metadata", statistic_ids=[energy_id, cost_id])
        }
    if home_assistant.core.imports_mean_type:
        for meta, rows in sent:
            check_import_2026_11(meta, rows)
        assert (stored[energy_id]["mean_type"], stored[energy_id]["unit_class"]) == (0, "energy")
        assert (stored[cost_id]["mean_type"], stored[cost_id]["unit_class"]) == (0, None)
        log = (home_assistant.config_dir / "stdout.log").read_text(errors="replace")
        assert "import_statistics called without" not in log  # HA's deprecation warning, any test
    else:
        for meta, _ in sent:
            assert meta["has_mean"] is False
            assert "mean_type" not in meta and "unit_class" not in meta
        assert stored[energy_id]["has_mean"] is False
    assert stored[energy_id]["statistics_unit_of_measurement"] == "kWh"
    assert stored[cost_id]["statistics_unit_of_measurement"] == "EUR"


async def test_a_second_export_adds_nothing_twice(home_assistant: HomeAssistant, demo_store: Store) -> None:
    await exporter(home_assistant, demo_store).export()
    sid = f"myelectricaldata:consumption_{TEMPO}"
    before = (await hourly(home_assistant, [sid], dt.date(2026, 10, 1), dt.date(2026, 11, 28)))[sid]

    again = await exporter(home_assistant, demo_store).export()

    after = (await hourly(home_assistant, [sid], dt.date(2026, 10, 1), dt.date(2026, 11, 28)))[sid]
    assert len(after) == len(before)
    assert [r["sum"] for r in after] == pytest.approx([r["sum"] for r in before], abs=1e-6)
    # Only the correction window (7 days + today) was sent again, not the history.
    assert again.items <= 8 * 24 * 13


async def test_a_corrected_day_is_reimported_with_sums_from_the_right_base(
    home_assistant: HomeAssistant, demo_store: Store
) -> None:
    await exporter(home_assistant, demo_store).export()
    sid = f"myelectricaldata:consumption_{BASE}"
    day = NOW.date() - dt.timedelta(days=3)
    old = (await hourly(home_assistant, [sid], day, NOW.date()))[sid]
    # The gateway corrected that day: every slot now reads 1000 W more (+ 0.5 kWh per half hour).
    readings = await demo_store.intervals(BASE, Direction.CONSUMPTION, *timeline.day_bounds_utc(day))
    await demo_store.save_curve(
        BASE,
        Direction.CONSUMPTION,
        [
            IntervalReading(BASE, Direction.CONSUMPTION, r.start, r.minutes, (r.average_w or 0) + 1000)
            for r in readings
        ],
        [],
    )

    await exporter(home_assistant, demo_store).export()

    new = (await hourly(home_assistant, [sid], day, NOW.date()))[sid]
    assert [start_of(r) for r in new] == [start_of(r) for r in old]
    assert new[0]["sum"] - old[0]["sum"] == pytest.approx(1.0, abs=1e-6)  # first hour: 2 slots x 0.5 kWh
    assert new[-1]["sum"] - old[-1]["sum"] == pytest.approx(24.0, abs=1e-6)  # the whole day, carried on


class FlatPrice:
    """A tiny CostSource: 0.20 EUR per kWh of the stored curve, one bucket."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def hourly(self, usage_point_id: str, start: dt.datetime, end: dt.datetime) -> list[BucketCost]:
        first, last = timeline.paris_date(start), timeline.paris_date(end - dt.timedelta(seconds=1))
        rows = await self.store.curve_energy(usage_point_id, Direction.CONSUMPTION, "hour", first, last)
        return [
            BucketCost(
                usage_point_id, hour, 60, "base", round(wh), Decimal(round(wh)) * Decimal("0.0002"), "flat"
            )
            for hour, wh in rows
            if isinstance(hour, dt.datetime)
        ]

    async def daily(self, usage_point_id: str, first: dt.date, last: dt.date) -> list[BucketCost]:
        rows = await self.store.daily(usage_point_id, Direction.CONSUMPTION, first, last)
        return [
            BucketCost(
                usage_point_id,
                timeline.day_start_utc(d.day),
                1440,
                "base",
                d.wh,
                d.wh * Decimal("0.0002"),
                "flat",
            )
            for d in rows
        ]

    async def subscription(self, usage_point_id: str, first: dt.date, last: dt.date) -> Decimal:
        return Decimal(0)


async def test_cost_statistics_follow_the_cost_source(
    home_assistant: HomeAssistant, demo_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    imported: list[str] = []
    real_command = HomeAssistantWebSocket.command

    async def recording(self: HomeAssistantWebSocket, kind: str, **fields: Any) -> Any:
        if kind == "recorder/import_statistics":
            imported.append(fields["metadata"]["statistic_id"])
        return await real_command(self, kind, **fields)

    monkeypatch.setattr(HomeAssistantWebSocket, "command", recording)
    await exporter(home_assistant, demo_store, costs=FlatPrice(demo_store)).export()
    # Every kWh statistic goes before any EUR twin: the recorder stores them first.
    kinds = [sid.endswith("_cost") for sid in imported]
    assert True in kinds and False in kinds
    assert kinds == sorted(kinds)
    energy_id, cost_id = f"myelectricaldata:consumption_{BASE}", f"myelectricaldata:consumption_{BASE}_cost"
    async with HomeAssistantWebSocket(home_assistant.url + "/api/websocket", home_assistant.token) as ws:
        meta = {
            m["statistic_id"]: m
            for m in await ws.command("recorder/get_statistics_metadata", statistic_ids=[cost_id])
        }
    assert meta[cost_id]["statistics_unit_of_measurement"] == "EUR"
    rows = await hourly(home_assistant, [energy_id, cost_id], *DST_WEEK)
    assert [start_of(r) for r in rows[cost_id]] == [start_of(r) for r in rows[energy_id]]
    for energy, cost in zip(rows[energy_id], rows[cost_id], strict=True):
        assert cost["state"] == pytest.approx(energy["state"] * 0.2, abs=1e-3)


async def test_discovered_devices_and_entities_appear_in_home_assistant(
    home_assistant: HomeAssistant, demo_store: Store
) -> None:
    context = ExportContext(
        store=demo_store,
        clock=Clock(NOW),
        version="1.2.3",
        mqtt_broker=MqttBroker("127.0.0.1", home_assistant.mqtt.port),
    )
    discovery = HomeAssistantDiscoveryExporter({"enabled": True, "republish_delay": 0}, context)
    await discovery.connect()
    try:
        await asyncio.wait_for(discovery.connected_event.wait(), 30)
        await discovery.export()
        wanted = {
            f"myelectricaldata_{BASE}_consumption_yesterday",
            f"myelectricaldata_{BASE}_max_power_yesterday",
            f"myelectricaldata_{HPHC}_consumption_yesterday_hc",
            f"myelectricaldata_{TEMPO}_production_yesterday",
            f"myelectricaldata_{BASE}_linky",
            "myelectricaldata_tempo_today",
            "myelectricaldata_ecowatt_current_hour",
        }
        async with HomeAssistantWebSocket(home_assistant.url + "/api/websocket", home_assistant.token) as ws:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            while True:  # HA handles discovery messages in the background: poll its registry
                registry = {e["unique_id"]: e for e in await ws.command("config/entity_registry/list")}
                if wanted <= set(registry) or loop.time() > deadline:
                    break
                await asyncio.sleep(0.2)
            assert wanted <= set(registry)
            devices = {d["id"]: d for d in await ws.command("config/device_registry/list")}
            entry = registry[f"myelectricaldata_{BASE}_consumption_yesterday"]
            debug = await ws.command("mqtt/device/debug_info", device_id=entry["device_id"])
        # HA's MQTT info for the entity names this program as the origin, not another project.
        discovered = next(e for e in debug["entities"] if e["entity_id"] == entry["entity_id"])
        assert discovered["discovery_data"]["payload"]["origin"] == {
            "name": PROJECT_NAME,
            "sw_version": PROJECT_VERSION,
            "support_url": REPOSITORY_URL,
        }
        device = devices[registry[f"myelectricaldata_{BASE}_consumption_yesterday"]["device_id"]]
        assert (device["name"], device["manufacturer"], device["model"], device["sw_version"]) == (
            "Linky Maison Base",
            "Enedis",
            "Linky",
            "1.2.3",
        )
        assert registry[f"myelectricaldata_{BASE}_consumption_yesterday"]["platform"] == "mqtt"
        # Entity ids: 2025.10 on, the `default_entity_id` we send; before, HA's slug of the device and
        # entity names (and `default_entity_id` ignored).
        for unique_id in wanted:
            entity_id = registry[unique_id]["entity_id"]
            if home_assistant.core.entity_ids_from_default_entity_id:
                assert entity_id == f"sensor.{unique_id}"
            else:
                assert entity_id != f"sensor.{unique_id}"
        if not home_assistant.core.entity_ids_from_default_entity_id:
            assert registry[f"myelectricaldata_{BASE}_consumption_yesterday"]["entity_id"] == (
                "sensor.linky_maison_base_consumption_yesterday"
            )

        async def state(unique_id: str) -> dict[str, Any]:
            entity_id = registry[unique_id]["entity_id"]
            deadline = loop.time() + 30
            while True:
                found = await asyncio.to_thread(home_assistant.state, entity_id)
                if (found and found["state"] not in ("unknown", "unavailable")) or loop.time() > deadline:
                    assert found is not None
                    return found
                await asyncio.sleep(0.2)

        day = dt.date(2026, 11, 27)
        energy = await state(f"myelectricaldata_{BASE}_consumption_yesterday")
        stored = await demo_store.daily(BASE, Direction.CONSUMPTION, day, day)
        assert float(energy["state"]) == pytest.approx(stored[0].wh / 1000, abs=1e-3)
        attributes = energy["attributes"]
        assert (attributes["device_class"], attributes["state_class"], attributes["unit_of_measurement"]) == (
            "energy",
            "total",
            "kWh",
        )
        assert attributes["last_reset"].startswith("2026-11-26T23:00:00")
        peak = await state(f"myelectricaldata_{BASE}_max_power_yesterday")
        assert (peak["attributes"]["device_class"], peak["attributes"]["unit_of_measurement"]) == (
            "apparent_power",
            "kVA",
        )
        peaks = await demo_store.max_power(BASE, day, day)
        assert float(peak["state"]) == pytest.approx(peaks[0].va / 1000, abs=1e-3)
        tempo = await state("myelectricaldata_tempo_today")
        assert tempo["attributes"]["device_class"] == "enum"
        colors = await demo_store.tempo(NOW.date(), NOW.date())
        assert tempo["state"] == colors[0].color.value.lower()
        card = await state(f"myelectricaldata_{BASE}_linky")
        assert card["attributes"]["yesterdayDate"] == "2026-11-27"
        assert card["attributes"]["serviceEnedis"] == "myElectricalData"
    finally:
        await discovery.disconnect()


async def test_a_wrong_token_gives_an_actionable_error_and_no_secret(
    home_assistant: HomeAssistant, demo_store: Store
) -> None:
    bad = exporter(home_assistant, demo_store, token="not-a-valid-token-123")
    with pytest.raises(ExporterError, match="refused the access token") as raised:
        await bad.export()
    assert "not-a-valid-token-123" not in str(raised.value)
    assert bad.status.last_error is not None
    assert "not-a-valid-token-123" not in bad.status.last_error
    good = exporter(home_assistant, demo_store)
    assert (await good.test_connection()).startswith(f"Home Assistant {home_assistant.core.version} ")
