"""Current price, off-peak now and Tempo tomorrow on the MQTT (real private Mosquitto) and Prometheus
exporters; both follow the program's clock across a price change."""

from __future__ import annotations

import datetime as dt
import json

from prometheus_client.parser import text_string_to_metric_families

from app.connections import MqttBroker
from app.exporters.base import ExportContext
from app.exporters.mqtt import MqttExporter
from app.exporters.prometheus import PrometheusExporter
from app.store import Store
from tests.clock_support import SteppedClock
from tests.ha_support import Mosquitto
from tests.test_homeassistant_discovery import Watcher

HPHC, TEMPO = "09222222222222", "09333333333333"
BEFORE_OFFPEAK = dt.datetime(2026, 11, 28, 20, 59, 30, tzinfo=dt.UTC)  # 21:59:30 in Paris
OFFPEAK = dt.datetime(2026, 11, 28, 21, 0, tzinfo=dt.UTC)


def context(store: Store, clock: SteppedClock, port: int = 0) -> ExportContext:
    return ExportContext(
        store=store,
        clock=clock,
        version="t",
        mqtt_broker=MqttBroker("127.0.0.1", port) if port else None,
        wait_until=clock.wait_until,
    )


async def test_mqtt_publishes_the_price_now_and_again_at_the_change(
    broker: Mosquitto, demo_store: Store
) -> None:
    clock = SteppedClock(BEFORE_OFFPEAK)
    exporter = MqttExporter({"enabled": True}, context(demo_store, clock, broker.port))
    async with Watcher(broker.port) as watcher:
        await exporter.connect()
        try:
            await exporter.export()
            current = json.loads(await watcher.wait(f"myelectricaldata/{HPHC}/price/current"))
            assert (current["value"], current["unit"], current["bucket"]) == (0.2065, "EUR/kWh", "hp")
            assert current["valid_until"] == OFFPEAK.isoformat()
            assert json.loads(await watcher.wait(f"myelectricaldata/{HPHC}/price/offpeak")) == {
                "value": False
            }
            tomorrow = json.loads(await watcher.wait("myelectricaldata/tempo/tomorrow"))
            assert tomorrow == {"value": "BLUE", "date": "2026-11-29"}
            await clock.waiter_for(OFFPEAK)
            await clock.move_to(OFFPEAK)
            await watcher.wait(
                f"myelectricaldata/{HPHC}/price/offpeak", lambda p: json.loads(p)["value"] is True
            )
            current = json.loads(
                await watcher.wait(
                    f"myelectricaldata/{HPHC}/price/current", lambda p: json.loads(p)["value"] == 0.1579
                )
            )
            assert current["bucket"] == "hc"
        finally:
            await exporter.disconnect()


async def test_prometheus_shows_the_price_in_force_at_each_scrape(demo_store: Store) -> None:
    clock = SteppedClock(BEFORE_OFFPEAK)
    exporter = PrometheusExporter({"enabled": True}, context(demo_store, clock))

    async def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        text = (await exporter.render()).decode()
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    before = await scrape()
    assert (
        before[("myelectricaldata_price_eur_per_kwh", (("bucket", "hp"), ("usage_point_id", HPHC)))] == 0.2065
    )
    assert before[("myelectricaldata_offpeak", (("usage_point_id", HPHC),))] == 0
    assert before[("myelectricaldata_tempo_color", (("day", "tomorrow"),))] == 1
    clock.now = OFFPEAK  # the cached snapshot is still fresh: the price comes from its schedule
    after = await scrape()
    assert (
        after[("myelectricaldata_price_eur_per_kwh", (("bucket", "hc"), ("usage_point_id", HPHC)))] == 0.1579
    )
    assert after[("myelectricaldata_offpeak", (("usage_point_id", HPHC),))] == 1
    assert (
        after[
            ("myelectricaldata_price_eur_per_kwh", (("bucket", "tempo_blue_hc"), ("usage_point_id", TEMPO)))
        ]
        == 0.1325
    )
