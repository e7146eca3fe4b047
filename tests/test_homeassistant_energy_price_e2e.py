"""End to end: Home Assistant's Energy dashboard accepts the current price entity ("entity with current
price"). It runs on a private core: saving Energy prefs makes HA create cost sensors, which must not leak
into the statistics the shared core's other tests count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from app.exporters.homeassistant.websocket import HomeAssistantWebSocket
from app.store import Store
from tests import ha_support
from tests.clock_support import SteppedClock
from tests.ha_support import HomeAssistant, Mosquitto, start_home_assistant
from tests.test_homeassistant_prices_e2e import HPHC, current_state, discovery, registry

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def energy_home_assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HomeAssistant]:
    mqtt = Mosquitto(tmp_path_factory.mktemp("energy-mosquitto"))
    mqtt.start()
    shared = ha_support.CONFIGURATION
    ha_support.CONFIGURATION = shared.replace("history:\n", "history:\nenergy:\n")
    try:
        ha = start_home_assistant(tmp_path_factory.mktemp("energy-home-assistant"), mqtt)
    finally:
        ha_support.CONFIGURATION = shared
    try:
        yield ha
    finally:
        ha.stop()
        mqtt.stop()


async def test_the_energy_dashboard_accepts_the_current_price_entity(
    energy_home_assistant: HomeAssistant, demo_store: Store
) -> None:
    clock = SteppedClock(dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC))
    async with discovery(energy_home_assistant, demo_store, clock) as exporter:
        await exporter.export()
        price_key = f"myelectricaldata_{HPHC}_price_current"
        energy_key = f"myelectricaldata_{HPHC}_consumption_yesterday"
        found = await registry(energy_home_assistant, {price_key, energy_key})
        price_id, energy_id = found[price_key]["entity_id"], found[energy_key]["entity_id"]
        await current_state(energy_home_assistant, price_id)
        await current_state(energy_home_assistant, energy_id)
        async with HomeAssistantWebSocket(
            energy_home_assistant.url + "/api/websocket", energy_home_assistant.token
        ) as ws:
            await ws.command(
                "energy/save_prefs",
                energy_sources=[
                    {
                        "type": "grid",
                        "flow_from": [
                            {
                                "stat_energy_from": energy_id,
                                "stat_cost": None,
                                "entity_energy_price": price_id,
                                "number_energy_price": None,
                            }
                        ],
                        "flow_to": [],
                        "cost_adjustment_day": 0,
                    }
                ],
            )
            try:
                validation = await ws.command("energy/validate")
            finally:
                await ws.command("energy/save_prefs", energy_sources=[])
    issues = [issue for source in validation["energy_sources"] for issue in source]
    flagged = {entity for issue in issues for entity, _ in issue.get("affected_entities", [])}
    assert price_id not in flagged, issues  # right unit (EUR/kWh for a EUR home), numeric state
