"""A stored exporter secret only goes to the target it was saved with: Test or Save with another
url/host/port and no secret reaches a local catcher without the secret (InfluxDB, VictoriaMetrics,
Jeedom over HTTP; MQTT and Jeedom's MQTT mode with a real password-protected Mosquitto first)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from app.service import Service
from app.web.app import create_app
from tests.exporter_support import mosquitto
from tests.support import AiohttpServer, synced_service

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]
SECRET = "s3cret-Token-4242"
JSON = {"Content-Type": "application/json"}


@dataclass
class HttpCatcher:
    """Every request a fake target received, flattened to text (line, headers, body)."""

    seen: list[str] = field(default_factory=list)
    url: str = ""

    def text(self) -> str:
        return "\n".join(self.seen)


def _decoded(value: str) -> str:
    """A Basic credentials header shown in clear (user:password), any other value as it is."""
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() == "basic":
        return f"{value} ({base64.b64decode(encoded).decode(errors='replace')})"
    return value


async def http_catcher(aiohttp_server: AiohttpServer) -> HttpCatcher:
    catcher = HttpCatcher()

    async def record(request: web.Request) -> web.Response:
        body = await request.read()
        headers = "\n".join(f"{k}: {_decoded(v)}" for k, v in request.headers.items())
        catcher.seen.append(f"{request.method} {request.path_qs}\n{headers}\n{body.decode(errors='replace')}")
        return web.json_response({"jsonrpc": "2.0", "id": 1, "result": "pong"})

    app = web.Application(client_max_size=256 * 1024 * 1024)  # exporters send years of points at once
    app.router.add_route("*", "/{tail:.*}", record)
    server = await aiohttp_server(app)
    catcher.url = str(server.make_url("")).rstrip("/")
    return catcher


@dataclass
class MqttCatcher:
    """A TCP server that reads MQTT CONNECT packets and refuses them (CONNACK 5: not authorized)."""

    port: int = 0
    packets: list[bytes] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)


@contextlib.asynccontextmanager
async def mqtt_catcher() -> AsyncIterator[MqttCatcher]:
    catcher = MqttCatcher()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            catcher.packets.append(await reader.read(4096))
            catcher.connected.set()
            writer.write(b"\x20\x02\x00\x05")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    catcher.port = server.sockets[0].getsockname()[1]
    try:
        yield catcher
    finally:
        server.close()
        await server.wait_closed()


async def _client(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> tuple[Service, TestClient[Any, Any]]:
    service = await synced_service(aiohttp_server, tmp_path)
    return service, await aiohttp_client(create_app(service))


async def _post(client: TestClient[Any, Any], path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=JSON)
    answer: dict[str, Any] = await response.json()
    return answer


HTTP_CASES = [
    ("influxdb", {"org": "home", "bucket": "linky"}, {"token": SECRET}),
    ("victoriametrics", {"username": "vm"}, {"password": SECRET}),
    ("victoriametrics", {}, {"bearer_token": SECRET}),
    ("jeedom", {"mode": "jsonrpc"}, {"apikey": SECRET}),
]


@pytest.mark.parametrize(("name", "plain", "secret"), HTTP_CASES)
async def test_http_secret_is_not_sent_to_a_new_url(
    aiohttp_server: AiohttpServer,
    aiohttp_client: AiohttpClient,
    tmp_path: Path,
    name: str,
    plain: dict[str, Any],
    secret: dict[str, Any],
) -> None:
    service, client = await _client(aiohttp_server, aiohttp_client, tmp_path)
    assert service.exporters is not None
    chosen, foreign = await http_catcher(aiohttp_server), await http_catcher(aiohttp_server)

    saved = await _post(client, f"/api/exporters/{name}", {"url": chosen.url, **plain, **secret})
    assert saved["saved"] is True and saved["dropped_secrets"] == []
    await _post(client, f"/api/exporters/{name}/test", {"url": chosen.url, **plain})
    assert SECRET in chosen.text()  # same target, secret not retyped: it is still used there

    tested = await _post(client, f"/api/exporters/{name}/test", {"url": foreign.url, **plain})
    assert tested["dropped_secrets"] == sorted(secret)
    saved = await _post(client, f"/api/exporters/{name}", {"url": foreign.url, **plain, "enabled": True})
    assert saved["saved"] is True and saved["dropped_secrets"] == sorted(secret)
    await service.exporters.wait_idle()
    assert foreign.seen, "the catcher must have been reached"
    assert SECRET not in foreign.text()
    stored = await service.exporters.stored_config(name)
    assert all(not stored[key] for key in secret)
    await service.stop()


@pytest.mark.parametrize(
    ("name", "host_key", "port_key", "user_key", "password_key", "extra"),
    [
        ("mqtt", "host", "port", "username", "password", {}),
        ("jeedom", "mqtt_host", "mqtt_port", "mqtt_username", "mqtt_password", {"mode": "mqtt"}),
    ],
)
async def test_mqtt_password_is_not_sent_to_a_new_broker(
    aiohttp_server: AiohttpServer,
    aiohttp_client: AiohttpClient,
    tmp_path: Path,
    name: str,
    host_key: str,
    port_key: str,
    user_key: str,
    password_key: str,
    extra: dict[str, Any],
) -> None:
    service, client = await _client(aiohttp_server, aiohttp_client, tmp_path)
    assert service.exporters is not None
    async with (
        mosquitto(tmp_path / "mq", username="linky", password=SECRET) as broker,
        mqtt_catcher() as catcher,
    ):
        real = {host_key: "127.0.0.1", port_key: broker.port, user_key: "linky", **extra}
        saved = await _post(client, f"/api/exporters/{name}", {**real, password_key: SECRET})
        assert saved["saved"] is True
        tested = await _post(client, f"/api/exporters/{name}/test", real)
        assert tested["ok"] is True, tested  # the stored password opens the real broker

        moved = {**real, port_key: catcher.port}
        tested = await _post(client, f"/api/exporters/{name}/test", moved)
        assert tested["ok"] is False and tested["dropped_secrets"] == [password_key]
        saved = await _post(client, f"/api/exporters/{name}", moved)
        assert saved["dropped_secrets"] == [password_key]
        assert catcher.packets and all(packet[:1] == b"\x10" for packet in catcher.packets)  # CONNECT
        assert not any(SECRET.encode() in packet for packet in catcher.packets)
        assert b"linky" in catcher.packets[0]
    stored = await service.exporters.stored_config(name)
    assert stored[password_key] == ""
    await service.stop()


async def test_the_form_says_a_secret_was_dropped(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    service, client = await _client(aiohttp_server, aiohttp_client, tmp_path)
    chosen, foreign = await http_catcher(aiohttp_server), await http_catcher(aiohttp_server)
    await _post(client, "/api/exporters/influxdb", {"url": chosen.url, "token": SECRET})
    page = await (await client.get("/exporters?tab=influxdb&lang=en")).text()
    assert "only sent to the saved address" in page
    token = client.session.cookie_jar.filter_cookies(client.make_url("/")).get("med_csrf")
    form = {"exporter": "influxdb", "action": "test", "url": foreign.url, "bucket": "b"}
    if token is not None:
        form["csrf_token"] = token.value
    response = await client.post("/exporters?lang=en", data=form, headers={"Origin": _origin(client)})
    assert response.status == 200
    assert "Address changed: the saved secret (token) was not reused" in await response.text()
    assert SECRET not in foreign.text()
    await service.stop()


def _origin(client: TestClient[Any, Any]) -> str:
    return str(client.make_url("/")).rstrip("/")
