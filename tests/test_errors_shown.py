"""Bad credentials, an unreachable gateway, an unknown usage point, a malformed payload: each is shown
with what to do on /api/status and on the dashboard; the server stays up and stored data is untouched."""

from __future__ import annotations

import html
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from app.domain import SyncPhase
from app.service import Service
from app.web.app import create_app
from tests.support import AiohttpServer, Clock, make_service, start_simulator

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]


async def _status(aiohttp_client: AiohttpClient, service: Service) -> tuple[dict[str, Any], str, str]:
    client = await aiohttp_client(create_app(service))
    api = await client.get("/api/status")
    assert api.status == 200
    status = await api.json()
    page = await client.get("/")
    assert page.status == 200
    page_en = await client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    return status, html.unescape(await page.text()), html.unescape(await page_en.text())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_invalid_credentials_are_shown_not_retried_and_touch_nothing(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    clock = Clock()
    server, state = await start_simulator(aiohttp_server, clock)
    good = make_service(tmp_path, str(server.make_url("/")), clock)
    await good.start(schedule=False)
    assert good.store is not None
    await good.sync()
    before = await good.store.snapshot()
    await good.stop()
    state.requests.clear()

    service = make_service(tmp_path, str(server.make_url("/")), clock, client_secret="W" * 86)
    await service.start(schedule=False)
    assert service.store is not None
    outcome = await service.sync()
    assert outcome.phase is SyncPhase.ERROR and outcome.error is not None
    assert outcome.error.code == "invalid_credentials"
    assert [r.route for r in state.requests] == ["token"]  # asked once, never retried
    status, page, page_en = await _status(aiohttp_client, service)
    assert status["state"] == "error"
    assert status["account"]["last_error"]["code"] == "invalid_credentials"
    assert "client_secret" in status["account"]["last_error"]["fix"]
    assert "Vérifiez client_id et client_secret" in page
    assert "Check client_id and client_secret" in page_en
    assert "W" * 86 not in page and "W" * 86 not in str(status)
    assert await service.store.snapshot() == before
    await service.stop()


async def test_unreachable_gateway_is_shown(aiohttp_client: AiohttpClient, tmp_path: Path) -> None:
    service = make_service(tmp_path, f"http://127.0.0.1:{_free_port()}", Clock())
    await service.start(schedule=False)
    outcome = await service.sync()
    assert outcome.phase is SyncPhase.ERROR and outcome.error is not None
    assert outcome.error.code == "gateway_unreachable"
    status, page, _ = await _status(aiohttp_client, service)
    assert status["account"]["last_error"]["code"] == "gateway_unreachable"
    assert "La passerelle MyElectricalData ne répond pas" in page
    await service.stop()


async def test_unknown_usage_point_is_shown_and_the_others_sync(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    clock = Clock()
    server, _ = await start_simulator(aiohttp_server, clock)
    known = "09111111111111"
    service = make_service(tmp_path, str(server.make_url("/")), clock, usage_points=("12345678901234", known))
    await service.start(schedule=False)
    outcome = await service.sync()
    assert set(outcome.usage_point_errors) == {"12345678901234"}
    assert outcome.usage_point_errors["12345678901234"].code == "access_denied"
    status, page, _ = await _status(aiohttp_client, service)
    assert "n'est pas accessible avec ce compte" in page
    synced = {p["usage_point_id"]: p for p in status["usage_points"]}
    assert synced[known]["progress"]["phase"] == "done"
    assert synced[known]["coverage"]["daily_consumption"] is not None
    await service.stop()


async def test_malformed_payload_is_shown_and_loses_nothing(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    clock = Clock()
    server, _ = await start_simulator(aiohttp_server, clock)
    service = make_service(tmp_path, str(server.make_url("/")), clock)
    await service.start(schedule=False)
    assert service.store is not None
    await service.sync()
    before = await service.store.snapshot()
    await service.stop()

    broken_server, _ = await start_simulator(
        aiohttp_server, clock, fault_rate=1.0, faults=frozenset({"malformed_json"})
    )
    service = make_service(tmp_path, str(broken_server.make_url("/")), clock)
    await service.start(schedule=False)
    assert service.store is not None
    outcome = await service.sync()
    assert {e.code for e in outcome.usage_point_errors.values()} == {"malformed_response"}
    status, page, _ = await _status(aiohttp_client, service)
    errors = [p["progress"]["last_error"]["code"] for p in status["usage_points"]]
    assert errors == ["malformed_response"] * 3
    assert "réponse illisible" in page
    assert await service.store.snapshot() == before
    health = await (await aiohttp_client(create_app(service))).get("/health")
    assert health.status == 200
    await service.stop()


async def test_missing_credentials_say_what_to_set(aiohttp_client: AiohttpClient, tmp_path: Path) -> None:
    from app.settings import load_settings

    settings, errors = load_settings({"DATA_DIR": str(tmp_path), "PORT": "99999", "LOG_LEVEL": "loud"})
    assert errors == [
        "LOG_LEVEL: expected one of "
        + ", ".join(("trace", "debug", "info", "notice", "warning", "error", "fatal")),
        "PORT: expected a port 1-65535",
    ]
    service = Service(settings, config_errors=errors)
    await service.start()
    status, page, _ = await _status(aiohttp_client, service)
    assert status["state"] == "config_error"
    codes = [p["code"] for p in status["problems"]]
    assert codes == ["config_error", "config_error", "not_configured"]
    assert "PORT: expected a port 1-65535" in page
    assert "Renseignez client_id et client_secret" in page
    await service.stop()
