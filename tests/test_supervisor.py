"""The supervisor client, the broker lookup states and the Core websocket, against the fake supervisor."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from app.addon import (
    CoreAuthError,
    Integrations,
    MqttState,
    SupervisorClient,
    SupervisorError,
    connect_core,
    core_api,
)
from app.connections import MqttBroker
from app.service import Service
from app.settings import Secret, Settings
from app.web.app import create_app
from tests.fake_supervisor import HA_VERSION, FakeSupervisorState, create_fake_supervisor
from tests.support import AiohttpServer

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]
CORE_TOKEN: web.AppKey[str] = web.AppKey("core_token", str)
BROKER = {
    "host": "core-mosquitto",
    "port": 1883,
    "ssl": False,
    "protocol": "3.1.1",
    "username": "addons",
    "password": "broker-password-from-supervisor",
    "addon": "core_mosquitto",
}


async def _supervisor(aiohttp_server: AiohttpServer, **state: Any) -> tuple[TestServer, FakeSupervisorState]:
    fake = FakeSupervisorState(**state)
    return await aiohttp_server(create_fake_supervisor(fake)), fake


def _addon_settings(server: TestServer, fake: FakeSupervisorState, tmp_path: Path, **more: Any) -> Settings:
    values: dict[str, Any] = {
        "addon": True,
        "supervisor_url": str(server.make_url("")).rstrip("/"),
        "supervisor_token": Secret(fake.token),
        "data_dir": tmp_path / "data",
    }
    return Settings(**(values | more))


async def test_supervisor_client_reads_services_info_and_writes_options(
    aiohttp_server: AiohttpServer,
) -> None:
    server, fake = await _supervisor(aiohttp_server, mqtt=BROKER)
    url = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as session:
        client = SupervisorClient(url, Secret(fake.token), session)
        assert await client.mqtt_service() == MqttBroker(
            "core-mosquitto", 1883, "addons", "broker-password-from-supervisor", False
        )
        info = await client.addon_info()
        assert info["slug"] == "myelectricaldata" and info["ingress_port"] == 8099
        options = dict(info["options"]) | {"client_id": "cli_new", "client_secret": "s", "colour": "red"}
        await client.set_options(options)
        assert fake.next_options is not None
        assert fake.next_options["client_id"] == "cli_new" and "colour" not in fake.next_options
        with pytest.raises(SupervisorError, match="Invalid value for option 'api_version'") as bad:
            await client.set_options(options | {"api_version": "v3"})
        assert bad.value.status == 400

        fake.mqtt = None
        assert await client.mqtt_service() is None  # 400: no broker installed

        wrong = SupervisorClient(url, Secret("not-the-token"), session)
        with pytest.raises(SupervisorError) as refused:
            await wrong.addon_info()
        assert refused.value.status == 401


async def test_no_broker_installed_is_a_state_shown_on_the_dashboard(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    server, fake = await _supervisor(aiohttp_server, mqtt=None)
    service = Service(_addon_settings(server, fake, tmp_path))
    await service.start(schedule=False)
    assert service.integrations is not None
    await service.integrations.wait_settled()
    fake.users["ha-user"] = "ha-password"  # a non-ingress port of the add-on asks for a Home Assistant login
    login = "Basic " + base64.b64encode(b"ha-user:ha-password").decode()
    client = await aiohttp_client(create_app(service), headers={"Authorization": login})
    status = await (await client.get("/api/status")).json()
    assert status["mqtt"]["state"] == "no_broker"
    assert "Mosquitto broker" in status["mqtt"]["fix"]
    page = await (await client.get("/")).text()
    assert "Aucun broker MQTT n&#39;est installé dans Home Assistant." in page
    assert service.mqtt_broker is None
    assert fake.requests.count("GET /services/mqtt") == 1  # asked once, no error loop
    assert fake.requests.count("GET /addons/self/info") == 1
    await service.stop()


async def test_a_supervisor_hiccup_is_retried_until_it_answers(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    server, fake = await _supervisor(aiohttp_server, mqtt=None, fail_next=3)
    integrations = Integrations(_addon_settings(server, fake, tmp_path), retry_first_delay=0.01)
    await integrations.start()
    assert integrations.addon_info is None  # the first call failed; the program goes on
    assert integrations.mqtt.state is MqttState.SUPERVISOR_ERROR
    assert "Supervisor is starting" in integrations.mqtt.detail
    settled = await integrations.wait_settled()
    assert settled.state is MqttState.NO_BROKER
    assert fake.requests.count("GET /services/mqtt") == 3
    await integrations.stop()


async def test_settings_broker_wins_over_the_supervisor_and_its_password_is_never_shown(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    server, fake = await _supervisor(aiohttp_server, mqtt=BROKER)
    settings = _addon_settings(
        server, fake, tmp_path, mqtt_host="127.0.0.1", mqtt_port=1, mqtt_password=Secret("override-pw")
    )
    service = Service(settings)
    await service.start(schedule=False)
    assert service.mqtt_broker == MqttBroker("127.0.0.1", 1, "", "override-pw", False)
    assert service.integrations is not None
    assert service.integrations.mqtt.source == "settings"
    assert "GET /services/mqtt" not in fake.requests
    client = await aiohttp_client(create_app(service))
    status_text = await (await client.get("/api/status")).text()
    page = await (await client.get("/")).text()
    for text in (status_text, page):
        assert "override-pw" not in text and fake.token not in text
    await service.stop()


async def _fake_core(request: web.Request) -> web.WebSocketResponse:
    """A Core websocket peer: auth handshake, then `get_config`."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_json({"type": "auth_required", "ha_version": HA_VERSION})
    auth = await ws.receive_json()
    if auth.get("access_token") != request.app[CORE_TOKEN]:
        await ws.send_json({"type": "auth_invalid", "message": "Invalid access token or password"})
        await ws.close()
        return ws
    await ws.send_json({"type": "auth_ok", "ha_version": HA_VERSION})
    async for message in ws:
        command = message.json()
        if command["type"] == "get_config":
            await ws.send_json(
                {"id": command["id"], "type": "result", "success": True, "result": {"version": HA_VERSION}}
            )
    return ws


async def _core_peer(aiohttp_server: AiohttpServer, token: str) -> TestServer:
    app = web.Application()
    app[CORE_TOKEN] = token
    app.router.add_get("/api/websocket", _fake_core)
    return await aiohttp_server(app)


async def test_core_websocket_through_the_supervisor_relay(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    server, fake = await _supervisor(aiohttp_server)
    core = await _core_peer(aiohttp_server, fake.core_token)
    fake.core_url = str(core.make_url("/api/websocket"))
    settings = _addon_settings(server, fake, tmp_path)
    api = core_api(settings)
    assert api is not None and api.via_supervisor
    assert api.websocket_url == str(server.make_url("/core/websocket")).replace("http://", "ws://")
    async with aiohttp.ClientSession() as session:
        ws, version = await connect_core(api, session)
        assert version == HA_VERSION
        await ws.send_json({"id": 1, "type": "get_config"})
        answer = await ws.receive_json()
        assert answer == {"id": 1, "type": "result", "success": True, "result": {"version": HA_VERSION}}
        await ws.close()
        assert fake.relayed == [{"id": 1, "type": "get_config"}]

        wrong = core_api(_addon_settings(server, fake, tmp_path, supervisor_token=Secret("wrong")))
        assert wrong is not None
        with pytest.raises(CoreAuthError, match="Invalid access token"):
            await connect_core(wrong, session)


async def test_core_websocket_standalone_with_a_long_lived_token(aiohttp_server: AiohttpServer) -> None:
    core = await _core_peer(aiohttp_server, "long-lived-token")
    settings = Settings(ha_url=str(core.make_url("")).rstrip("/"), ha_token=Secret("long-lived-token"))
    api = core_api(settings)
    assert api is not None and not api.via_supervisor
    async with aiohttp.ClientSession() as session:
        ws, version = await connect_core(api, session)
        assert version == HA_VERSION
        await ws.close()
    assert core_api(Settings()) is None
    addon = core_api(Settings(addon=True, supervisor_token=Secret("t")))
    assert addon is not None and addon.websocket_url == "ws://supervisor/core/websocket"
    assert addon.token == "t"
