"""Day one in Home Assistant, against the real Home Assistant core: type two secrets, start, and Home
Assistant fills itself, with no request to our web API.

- add-on mode: a fake supervisor answers /services/mqtt with HA's broker and relays /core/websocket
  to the real HA; options.json holds only client_id and client_secret;
- plain Docker: MQTT_HOST, HA_URL and HA_TOKEN only;
- the Energy dashboard action keeps the user's own sources, adds ours once, removes exactly them;
- a user's "off" survives restarts and upgrades; refused credentials raise a notification in HA that
  goes away once they are fixed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import shutil
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app import timeline
from app.domain import Direction
from app.exporters.base import ExportContext
from app.exporters.homeassistant import HomeAssistantStatisticsExporter
from app.exporters.homeassistant.defaults import defaults_notice
from app.exporters.homeassistant.energy import EnergyDashboard
from app.exporters.homeassistant.sensors import compute_sensors
from app.exporters.homeassistant.websocket import HomeAssistantError
from app.gateway.simulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, default_usage_points
from app.pricing.costs import StoreCostSource
from app.service import Service
from app.settings import Secret, Settings
from app.store import Store
from app.store.settings import DEFAULTS_ANNOUNCED_KEY as ANNOUNCED_KEY
from tests.ha_day_one_support import (
    addon_env,
    docker_env,
    forget_ours,
    ha_socket,
    our_devices,
    our_entities,
    our_statistics,
    start_fake_supervisor,
    start_program,
    wait_until,
)
from tests.ha_support import HomeAssistant, _post
from tests.support import FAST_RETRY, NOW, AiohttpServer, Clock, make_service, start_simulator

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CREDENTIALS = (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
EXPORTED = r"exporter {name}: [1-9]\d* items exported"
# The demo points activated 45 days ago: the same three meters with a short history, so that the first
# import of every statistic stays within the test's time on a busy machine (bench/day_one.py times the
# full history).
RECENT_POINTS = [
    dataclasses.replace(p, activation_date=NOW.date() - dt.timedelta(days=45)) for p in default_usage_points()
]
BASE, HPHC, TEMPO = "09111111111111", "09222222222222", "09333333333333"


@pytest.fixture(autouse=True)
async def _leave_home_assistant_as_found(home_assistant: HomeAssistant) -> AsyncIterator[None]:
    """The HA core is shared by the session: take our devices, statistics and Energy prefs out again."""
    yield
    await forget_ours(home_assistant)
    async with ha_socket(home_assistant) as ws:
        await ws.command("energy/save_prefs", energy_sources=[], device_consumption=[])


async def _check_home_assistant_holds_our_data(ha: HomeAssistant, data_dir: Path) -> dict[str, Any]:
    """Devices and entities in HA's registry for every sensor the store makes, our statistics listed,
    hourly rows equal to the stored curve. Returns the entity registry entries."""
    store = await Store.open("", data_dir=data_dir)
    try:
        _, entities = await compute_sensors(store, NOW, StoreCostSource(store))
        wanted = {e.object_id for e in entities}
        assert wanted
        registry = await wait_until(
            lambda: _having(our_entities(ha), wanted), 120, "every sensor in HA's entity registry"
        )
        assert {e["platform"] for e in registry.values()} == {"mqtt"}
        statistics = await our_statistics(ha)
        expected = {
            f"myelectricaldata:consumption_{BASE}",
            f"myelectricaldata:consumption_{HPHC}_hp",
            f"myelectricaldata:consumption_{HPHC}_hc",
            f"myelectricaldata:consumption_{TEMPO}_tempo_blue_hp",
            f"myelectricaldata:production_{TEMPO}",
        }
        assert expected <= statistics
        first, last = NOW.date() - dt.timedelta(days=8), NOW.date() - dt.timedelta(days=2)
        async with ha_socket(ha) as ws:
            for pdl, direction in ((BASE, Direction.CONSUMPTION), (TEMPO, Direction.PRODUCTION)):
                sid = f"myelectricaldata:{direction.value}_{pdl}"
                rows = (
                    await ws.command(
                        "recorder/statistics_during_period",
                        start_time=timeline.day_start_utc(first).isoformat(),
                        end_time=timeline.day_start_utc(last + dt.timedelta(days=1)).isoformat(),
                        statistic_ids=[sid],
                        period="hour",
                        types=["state", "sum"],
                    )
                )[sid]
                stored = await store.curve_energy(pdl, direction, "hour", first, last)
                starts = [dt.datetime.fromtimestamp(r["start"] / 1000, dt.UTC) for r in rows]
                assert starts == [hour for hour, _ in stored]
                for row, (_, wh) in zip(rows, stored, strict=True):
                    assert row["state"] == pytest.approx(wh / 1000, abs=1e-6)
                for previous, row in itertools.pairwise(rows):
                    assert row["sum"] - previous["sum"] == pytest.approx(row["state"], abs=1e-6)
        return registry
    finally:
        await store.close()


async def _having(entries: Any, wanted: set[str]) -> dict[str, Any] | None:
    found: dict[str, Any] = await entries
    return found if wanted <= set(found) else None


async def test_the_add_on_fills_home_assistant_with_only_the_two_credentials(
    home_assistant: HomeAssistant, aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    await forget_ours(home_assistant)
    gateway, _ = await start_simulator(aiohttp_server, Clock(), usage_points=RECENT_POINTS)
    runner, supervisor_url, supervisor = await start_fake_supervisor(home_assistant)
    env = addon_env(tmp_path, supervisor_url, supervisor, CREDENTIALS)
    env["GATEWAY_URL"] = str(gateway.make_url("")).rstrip("/")
    program = await start_program(env, tmp_path)
    try:
        await program.wait_for(EXPORTED.format(name="homeassistant_discovery"), 300)
        await program.wait_for(EXPORTED.format(name="homeassistant_statistics"), 600)
        registry = await _check_home_assistant_holds_our_data(home_assistant, tmp_path / "data")
    finally:
        code = await program.stop()
        await runner.cleanup()
    assert code == 0, program.output
    # The statistics went through the supervisor's Core proxy, with the supervisor's token.
    assert any(m.get("type") == "recorder/import_statistics" for m in supervisor.relayed)
    assert "GET /services/mqtt" in supervisor.requests
    # The device page links to the add-on's panel (its slug from the supervisor's add-on info).
    devices = {d["id"]: d for d in await our_devices(home_assistant)}
    device = devices[registry[f"myelectricaldata_{BASE}_consumption_yesterday"]["device_id"]]
    assert device["configuration_url"] == "homeassistant://hassio/ingress/myelectricaldata"
    for secret in (DEMO_CLIENT_SECRET, supervisor.token, home_assistant.token):
        assert secret not in program.output


async def test_plain_docker_fills_home_assistant_with_mqtt_host_ha_url_and_ha_token(
    home_assistant: HomeAssistant, aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    await forget_ours(home_assistant)
    gateway, _ = await start_simulator(aiohttp_server, Clock(), usage_points=RECENT_POINTS)
    env = docker_env(tmp_path, home_assistant, CREDENTIALS)
    env["GATEWAY_URL"] = str(gateway.make_url("")).rstrip("/")
    program = await start_program(env, tmp_path)
    try:
        await program.wait_for(EXPORTED.format(name="homeassistant_discovery"), 300)
        await program.wait_for(EXPORTED.format(name="homeassistant_statistics"), 600)
        await _check_home_assistant_holds_our_data(home_assistant, tmp_path / "data")
    finally:
        code = await program.stop()
    assert code == 0, program.output
    assert home_assistant.token not in program.output


# ------------------------------------------------------------------ Energy dashboard action


USER_PREFS: dict[str, Any] = {
    "energy_sources": [
        {
            "type": "grid",
            "flow_from": [
                {
                    "stat_energy_from": "sensor.my_own_meter",
                    "stat_cost": None,
                    "entity_energy_price": None,
                    # No price: HA would make a cost sensor of its own, whose statistics outlive the test.
                    "number_energy_price": None,
                }
            ],
            "flow_to": [],
            "cost_adjustment_day": 0.0,
        },
        {"type": "solar", "stat_energy_from": "sensor.my_panels", "config_entry_solar_forecast": None},
    ],
    "device_consumption": [],
}


@pytest.fixture
async def exported_store(
    home_assistant: HomeAssistant, aiohttp_server: AiohttpServer, tmp_path: Path
) -> AsyncIterator[Store]:
    """The three demo points synced (short history), their statistics (with costs) imported into HA."""
    gateway, _ = await start_simulator(aiohttp_server, Clock(), usage_points=RECENT_POINTS)
    service = make_service(tmp_path, str(gateway.make_url("")), Clock())
    await service.start(schedule=False)
    try:
        assert (await service.sync()).phase.value == "done"
    finally:
        await service.stop()
    store = await Store.open("", data_dir=tmp_path / "data")
    context = ExportContext(store=store, clock=Clock(NOW), version="test", costs=StoreCostSource(store))
    exporter = HomeAssistantStatisticsExporter(
        {"enabled": True, "url": home_assistant.url, "token": home_assistant.token}, context
    )
    await exporter.export()
    try:
        yield store
    finally:
        await store.close()


async def test_the_energy_action_keeps_the_users_sources_adds_ours_once_and_removes_exactly_them(
    home_assistant: HomeAssistant, exported_store: Store
) -> None:
    async with ha_socket(home_assistant) as ws:
        await ws.command("energy/save_prefs", **USER_PREFS)
        before = await ws.command("energy/get_prefs")
        listed = await our_statistics(home_assistant)
        dashboard = EnergyDashboard(exported_store, ws)

        change = await dashboard.add()

        assert change.saved and change.added
        after = await ws.command("energy/get_prefs")
        grid = next(s for s in after["energy_sources"] if s["type"] == "grid")
        # The user's own meter and solar panels are still there, unchanged.
        assert grid["flow_from"][0] == before["energy_sources"][0]["flow_from"][0]
        assert [s for s in after["energy_sources"] if s["type"] == "solar"] == [before["energy_sources"][1]]
        assert len([s for s in after["energy_sources"] if s["type"] == "grid"]) == 1
        ours = {f["stat_energy_from"]: f for f in grid["flow_from"][1:]}
        # Buckets when the contract has them (HP/HC, Tempo), never their total beside them.
        assert f"myelectricaldata:consumption_{HPHC}_hp" in ours
        assert f"myelectricaldata:consumption_{HPHC}" not in ours
        assert f"myelectricaldata:consumption_{BASE}" in ours
        tempo = {s for s in listed if s.startswith(f"myelectricaldata:consumption_{TEMPO}_tempo_")}
        assert tempo and {s for s in tempo if not s.endswith("_cost")} <= set(ours)
        assert f"myelectricaldata:consumption_{TEMPO}" not in ours
        for sid, flow in ours.items():
            assert flow["stat_cost"] == (sid + "_cost" if sid + "_cost" in listed else None)
        assert any(flow["stat_cost"] for flow in ours.values())
        assert [f["stat_energy_to"] for f in grid["flow_to"]] == [f"myelectricaldata:production_{TEMPO}"]

        again = await dashboard.add()

        assert again.added == [] and not again.saved
        assert await ws.command("energy/get_prefs") == after

        removal = await dashboard.remove()

        assert removal.saved and sorted(removal.removed) == sorted(
            [*ours, grid["flow_to"][0]["stat_energy_to"]]
        )
        assert await ws.command("energy/get_prefs") == before


async def _non_admin_token(ha: HomeAssistant) -> str:
    """A real HA user without admin rights (HA refuses them energy/save_prefs)."""
    async with ha_socket(ha) as ws:
        user = await ws.command("config/auth/create", name="Viewer", group_ids=["system-users"])
        await ws.command(
            "config/auth_provider/homeassistant/create",
            user_id=user["user"]["id"],
            username="viewer-" + user["user"]["id"][:8],
            password="viewer-pass-1234",
        )
        username = "viewer-" + user["user"]["id"][:8]
    client_id = ha.url + "/"
    flow = _post(
        ha.url + "/auth/login_flow",
        {"client_id": client_id, "handler": ["homeassistant", None], "redirect_uri": client_id},
    )
    done = _post(
        ha.url + f"/auth/login_flow/{urllib.parse.quote(flow['flow_id'])}",
        {"client_id": client_id, "username": username, "password": "viewer-pass-1234"},
    )
    tokens = _post(
        ha.url + "/auth/token",
        {"grant_type": "authorization_code", "code": done["result"], "client_id": client_id},
        form=True,
    )
    return str(tokens["access_token"])


async def test_a_refused_save_leaves_the_prefs_untouched_and_says_why(
    home_assistant: HomeAssistant, exported_store: Store
) -> None:
    async with ha_socket(home_assistant) as ws:
        await ws.command("energy/save_prefs", **USER_PREFS)
        before = await ws.command("energy/get_prefs")
    token = await _non_admin_token(home_assistant)
    async with ha_socket(home_assistant, token) as viewer:
        with pytest.raises(HomeAssistantError, match="refused energy/save_prefs") as refused:
            await EnergyDashboard(exported_store, viewer).add()
    assert "unauthorized" in str(refused.value).lower()
    async with ha_socket(home_assistant) as ws:
        assert await ws.command("energy/get_prefs") == before
    # Nothing recorded as ours: a later "remove" has nothing to take out.
    assert (await EnergyDashboard(exported_store, ws).record())["flow_from"] == []


# ------------------------------------------------------------------ the user's choice is kept


async def test_discovery_switched_off_stays_off_after_restart_and_upgrade(
    home_assistant: HomeAssistant, tmp_path: Path
) -> None:
    settings = Settings(mqtt_host="127.0.0.1", mqtt_port=home_assistant.mqtt.port, data_dir=tmp_path / "data")

    async def started() -> Service:
        service = Service(settings, clock=Clock(NOW))
        await service.start(schedule=False)
        return service

    service = await started()
    assert service.exporters is not None
    # A broker is there: discovery is on by default; no Core API: statistics stay off.
    assert service.exporters.status("homeassistant_discovery").enabled
    assert not service.exporters.status("homeassistant_statistics").enabled
    await service.exporters.save("homeassistant_discovery", {"enabled": False})
    await service.stop()

    service = await started()  # restart
    assert service.exporters is not None
    assert not service.exporters.status("homeassistant_discovery").enabled
    await service.stop()

    # An install from before this version whose user saved the form switched off: kept off.
    upgraded = Settings(mqtt_host="127.0.0.1", mqtt_port=home_assistant.mqtt.port, data_dir=tmp_path / "old")
    store = await Store.open("", data_dir=upgraded.data_dir)
    old_config = {"enabled": False, "mode": "device", "discovery_prefix": "homeassistant", "host": ""}
    await store.set_setting("exporter.homeassistant_discovery", old_config)
    await store.close()
    service = Service(upgraded, clock=Clock(NOW))
    await service.start(schedule=False)
    try:
        assert service.exporters is not None
        assert not service.exporters.status("homeassistant_discovery").enabled
    finally:
        await service.stop()


async def test_an_existing_install_that_never_chose_gets_the_default_once_with_a_dashboard_line(
    home_assistant: HomeAssistant, ha_demo_data: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(ha_demo_data, data_dir)  # synced by an earlier version, exporters never touched
    store = await Store.open("", data_dir=data_dir)
    await store.set_setting(ANNOUNCED_KEY, None)  # earlier versions wrote no such key
    await store.close()
    settings = Settings(mqtt_host="127.0.0.1", mqtt_port=home_assistant.mqtt.port, data_dir=data_dir)
    service = Service(settings, clock=Clock(NOW))
    await service.start(schedule=False)
    try:
        assert service.exporters is not None and service.store is not None
        assert service.exporters.status("homeassistant_discovery").enabled
        notice = await defaults_notice(service.exporters, service.store)
        assert notice is not None and notice["names"] == ["homeassistant_discovery"]
        announced = await service.store.get_setting(ANNOUNCED_KEY)
        await service.exporters.save("homeassistant_discovery", {"enabled": False})
        assert await defaults_notice(service.exporters, service.store) is None
    finally:
        await service.stop()
    service = Service(settings, clock=Clock(NOW))
    await service.start(schedule=False)
    try:
        assert service.store is not None
        assert await service.store.get_setting(ANNOUNCED_KEY) == announced  # once, never recomputed
    finally:
        await service.stop()


# ------------------------------------------------------------------ notifications


async def _notifications(ha: HomeAssistant) -> dict[str, dict[str, Any]]:
    async with ha_socket(ha) as ws:
        found = await ws.command("persistent_notification/get")
    return {n["notification_id"]: n for n in found}


async def test_refused_credentials_raise_a_notification_in_home_assistant_dismissed_once_fixed(
    home_assistant: HomeAssistant, aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    gateway, _ = await start_simulator(aiohttp_server, Clock())

    def service(secret: str) -> Service:
        settings = Settings(
            client_id=Secret(DEMO_CLIENT_ID),
            client_secret=Secret(secret),
            gateway_url=str(gateway.make_url("")).rstrip("/"),
            data_dir=tmp_path / "data",
            ha_url=home_assistant.url,
            ha_token=Secret(home_assistant.token),
        )
        return Service(settings, retry=FAST_RETRY, clock=Clock(NOW))

    wrong = service("not-the-secret")
    await wrong.start(schedule=False)
    assert wrong.exporters is not None
    try:
        outcome = await wrong.sync()
        assert outcome.error is not None and outcome.error.code == "invalid_credentials"
    finally:
        await wrong.stop()
    shown = await _notifications(home_assistant)
    assert "myelectricaldata_credentials" in shown
    assert "client_secret" in shown["myelectricaldata_credentials"]["message"]

    fixed = service(DEMO_CLIENT_SECRET)
    await fixed.start(schedule=False)
    try:
        outcome = await fixed.sync()
        assert outcome.phase.value == "done"
    finally:
        await fixed.stop()
    assert "myelectricaldata_credentials" not in await _notifications(home_assistant)


# ------------------------------------------------------------------ the card's button, in a browser


async def test_the_cards_button_adds_to_the_energy_dashboard_and_removes_in_chromium(
    home_assistant: HomeAssistant, aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright

    gateway, _ = await start_simulator(aiohttp_server, Clock(), usage_points=RECENT_POINTS)
    env = docker_env(tmp_path, home_assistant, CREDENTIALS)
    env["GATEWAY_URL"] = str(gateway.make_url("")).rstrip("/")
    async with ha_socket(home_assistant) as ws:
        await ws.command("energy/save_prefs", **USER_PREFS)
        before = await ws.command("energy/get_prefs")
    program = await start_program(env, tmp_path)
    try:
        await program.wait_for(EXPORTED.format(name="homeassistant_statistics"), 600)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium"
            )
            try:
                page = await browser.new_page()
                await page.goto(f"http://127.0.0.1:{env['PORT']}/?lang=en")
                await page.get_by_role("button", name="Add to the Energy dashboard").click()
                result = page.locator(".ha-energy-result")
                await result.locator("li").first.wait_for()
                assert "Added to the Energy dashboard" in await result.inner_text()
                assert f"myelectricaldata:consumption_{BASE}" in await result.inner_text()
                async with ha_socket(home_assistant) as ws:
                    added = await ws.command("energy/get_prefs")
                grid = next(s for s in added["energy_sources"] if s["type"] == "grid")
                assert grid["flow_from"][0]["stat_energy_from"] == "sensor.my_own_meter"
                assert len(grid["flow_from"]) > 1

                await page.reload()
                await page.get_by_role("button", name="Remove what we added").click()
                await result.locator("li").first.wait_for()
                assert "Removed from the Energy dashboard" in await result.inner_text()
            finally:
                await browser.close()
        async with ha_socket(home_assistant) as ws:
            assert await ws.command("energy/get_prefs") == before
    finally:
        code = await program.stop()
    assert code == 0, program.output
