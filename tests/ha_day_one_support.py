"""Helpers for the "day one in Home Assistant" tests and bench: the real program started the way a new
user starts it (add-on with a fake supervisor in front of the real Home Assistant, or plain Docker with
environment variables), and read-backs of what Home Assistant then holds.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from app.exporters.homeassistant.websocket import HomeAssistantWebSocket
from tests.fake_supervisor import FakeSupervisorState, create_fake_supervisor
from tests.ha_support import HomeAssistant, free_port
from tests.support import NOW
from tests.test_addon_e2e import Process

ROOT = Path(__file__).resolve().parents[1]
OURS = "myelectricaldata"
T = TypeVar("T")


def ws_url(ha: HomeAssistant) -> str:
    return ha.url.replace("http://", "ws://") + "/api/websocket"


def ha_socket(ha: HomeAssistant, token: str | None = None) -> HomeAssistantWebSocket:
    return HomeAssistantWebSocket(ws_url(ha), token or ha.token)


async def wait_until(check: Callable[[], Awaitable[T | None]], within: float, what: str) -> T:
    """Polls `check` (HA applies discovery and imports in the background) until it returns a value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    delay = 0.05
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within {within:.0f} s")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)


async def our_entities(ha: HomeAssistant) -> dict[str, dict[str, Any]]:
    async with ha_socket(ha) as ws:
        entries = await ws.command("config/entity_registry/list")
    return {e["unique_id"]: e for e in entries if str(e.get("unique_id", "")).startswith(OURS + "_")}


async def our_devices(ha: HomeAssistant) -> list[dict[str, Any]]:
    async with ha_socket(ha) as ws:
        devices = await ws.command("config/device_registry/list")
    return [d for d in devices if any(str(i[-1]).startswith(OURS + "_") for i in d.get("identifiers", []))]


async def our_statistics(ha: HomeAssistant) -> set[str]:
    async with ha_socket(ha) as ws:
        listed = await ws.command("recorder/list_statistic_ids", statistic_type="sum")
    return {s["statistic_id"] for s in listed if s.get("source") == OURS}


async def _our_sensor_statistics(ha: HomeAssistant) -> set[str]:
    """What HA's recorder compiled itself from our MQTT sensors (state_class total)."""
    async with ha_socket(ha) as ws:
        listed = await ws.command("recorder/list_statistic_ids")
    return {s["statistic_id"] for s in listed if s["statistic_id"].startswith(f"sensor.{OURS}_")}


async def forget_ours(ha: HomeAssistant) -> None:
    """Removes what earlier tests left in the shared Home Assistant: our devices (MQTT clears their
    retained discovery topics) and statistics, so that what appears next comes from the test."""
    async with ha_socket(ha) as ws:
        for device in await our_devices(ha):
            for entry_id in device.get("config_entries", []):
                await ws.command(
                    "config/device_registry/remove_config_entry",
                    device_id=device["id"],
                    config_entry_id=entry_id,
                )
        ids = sorted(await our_statistics(ha) | await _our_sensor_statistics(ha))
        if ids:
            await ws.command("recorder/clear_statistics", statistic_ids=ids)

    async def gone() -> bool:
        leftovers = await our_statistics(ha) | await _our_sensor_statistics(ha)
        return not leftovers and not (await our_entities(ha)) and not (await our_devices(ha))

    await wait_until(gone, 60, "our devices and statistics removed from Home Assistant")


async def start_fake_supervisor(ha: HomeAssistant) -> tuple[web.AppRunner, str, FakeSupervisorState]:
    """The fake supervisor on a free port: the HA test broker as its MQTT service, and its Core
    websocket relayed to the real Home Assistant."""
    state = FakeSupervisorState(
        mqtt={
            "host": "127.0.0.1",
            "port": ha.mqtt.port,
            "ssl": False,
            "protocol": "3.1.1",
            "username": "",
            "password": "",
            "addon": "core_mosquitto",
        },
        core_url=ws_url(ha),
        core_token=ha.token,
    )
    runner = web.AppRunner(create_fake_supervisor(state), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}", state


_PROGRAM_VARIABLES = (
    "PORT",
    "HOST",
    "DATA_DIR",
    "DATABASE_URL",
    "OPTIONS_FILE",
    "LOG_LEVEL",
    "DISCOVERY_PREFIX",
)


def _clean_env() -> dict[str, str]:
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLIENT_", "GATEWAY_", "MQTT_", "SUPERVISOR_", "HA_", "WEB_", "INGRESS_"))
        and key
        not in ("PORT", "HOST", "DATA_DIR", "DATABASE_URL", "OPTIONS_FILE", "LOG_LEVEL", "DISCOVERY_PREFIX")
    }


def addon_env(
    workdir: Path, supervisor_url: str, supervisor: FakeSupervisorState, credentials: tuple[str, str]
) -> dict[str, str]:
    """An add-on start: options.json with only the two credentials, SUPERVISOR_TOKEN and the supervisor."""
    workdir.mkdir(parents=True, exist_ok=True)
    options = workdir / "options.json"
    options.write_text(json.dumps({"client_id": credentials[0], "client_secret": credentials[1]}))
    return _clean_env() | {
        "PYTHONPATH": str(ROOT),
        "MYELECTRICALDATA_NOW": NOW.isoformat(),
        "DATA_DIR": str(workdir / "data"),
        "OPTIONS_FILE": str(options),
        "SUPERVISOR_TOKEN": supervisor.token,
        "SUPERVISOR_URL": supervisor_url,
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "INGRESS_PORT": str(free_port()),
        "INGRESS_PROXY": "127.0.0.2",
    }


def docker_env(workdir: Path, ha: HomeAssistant, credentials: tuple[str, str]) -> dict[str, str]:
    """A plain Docker start: MQTT_HOST, HA_URL and HA_TOKEN (plus the credentials), nothing else."""
    workdir.mkdir(parents=True, exist_ok=True)
    return _clean_env() | {
        "PYTHONPATH": str(ROOT),
        "MYELECTRICALDATA_NOW": NOW.isoformat(),
        "DATA_DIR": str(workdir / "data"),
        "OPTIONS_FILE": str(workdir / "no-options.json"),
        "CLIENT_ID": credentials[0],
        "CLIENT_SECRET": credentials[1],
        "MQTT_HOST": "127.0.0.1",
        "MQTT_PORT": str(ha.mqtt.port),
        "HA_URL": ha.url,
        "HA_TOKEN": ha.token,
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
    }


async def start_program(env: dict[str, str], cwd: Path, *args: str) -> Process:
    return await Process.start(sys.executable, "-m", "app", *args, env=env, cwd=cwd)
