"""Who may open the UI: the ingress port answers only the supervisor's proxy address; the direct port
asks for the password the user set; standalone without a password is open."""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from app.service import Service
from app.settings import Secret, Settings
from app.web.app import create_app
from app.web.ingress import DIRECT, INGRESS, Listener, ingress_url, listeners

PROXY = "127.0.0.2"  # stands for 172.30.32.2: a second loopback address the test can bind to
PASSWORD = "direct-port-password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _serve(settings: Settings) -> AsyncIterator[Service]:
    service = Service(settings)
    await service.start(schedule=False)
    app = create_app(service)

    async def where(request: web.Request) -> web.Response:
        return web.Response(text=ingress_url(request, "static/style.css"))

    app.router.add_get("/where", where)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    for listener in listeners(settings):
        await web.TCPSite(runner, listener.host, listener.port).start()
    try:
        yield service
    finally:
        await runner.cleanup()
        await service.stop()


@pytest.fixture
async def addon(tmp_path: Path) -> AsyncIterator[Settings]:
    settings = Settings(
        addon=True,
        host="127.0.0.1",
        ingress_port=_free_port(),
        port=_free_port(),
        ingress_proxy=PROXY,
        web_password=Secret(PASSWORD),
        data_dir=tmp_path / "data",
    )
    async for _ in _serve(settings):
        yield settings


async def test_the_ingress_port_answers_only_the_supervisor_proxy(addon: Settings) -> None:
    url = f"http://127.0.0.1:{addon.ingress_port}"
    async with aiohttp.ClientSession() as stranger:
        refused = await stranger.get(url + "/")
        assert refused.status == 403
        assert "Home Assistant ingress" in await refused.text()
        assert (await stranger.get(url + "/api/status")).status == 403
        assert (await stranger.get(url + "/health")).status == 200  # the container's own HEALTHCHECK
    proxy = aiohttp.TCPConnector(local_addr=(PROXY, 0))
    async with aiohttp.ClientSession(connector=proxy) as supervisor:
        page = await supervisor.get(url + "/")
        assert page.status == 200
        assert "MyElectricalData" in await page.text()
        prefix = "/api/hassio_ingress/AbC-123_x"
        where = await supervisor.get(url + "/where", headers={"X-Ingress-Path": prefix})
        assert await where.text() == prefix + "/static/style.css"
        odd = await supervisor.get(url + "/where", headers={"X-Ingress-Path": "https://evil.example/x"})
        assert await odd.text() == "/static/style.css"


async def test_the_direct_port_needs_the_password(addon: Settings) -> None:
    url = f"http://127.0.0.1:{addon.port}"
    async with aiohttp.ClientSession() as browser:
        asked = await browser.get(url + "/")
        assert asked.status == 401
        assert asked.headers["WWW-Authenticate"].startswith("Basic ")
        wrong = base64.b64encode(b"admin:nope").decode()
        assert (await browser.get(url + "/", headers={"Authorization": f"Basic {wrong}"})).status == 401
        assert (await browser.get(url + "/", headers={"Authorization": "Basic !!!"})).status == 401
        basic = base64.b64encode(f"anyone:{PASSWORD}".encode()).decode()
        page = await browser.get(url + "/", headers={"Authorization": f"Basic {basic}"})
        assert page.status == 200 and PASSWORD not in await page.text()
        bearer = await browser.get(url + "/api/status", headers={"Authorization": f"Bearer {PASSWORD}"})
        assert bearer.status == 200
        assert (await browser.get(url + "/health")).status == 200


def test_which_ports_open() -> None:
    standalone = Settings(port=8080)
    assert listeners(standalone) == [Listener("0.0.0.0", 8080, DIRECT)]
    addon = Settings(addon=True)
    assert listeners(addon) == [Listener("0.0.0.0", 8099, INGRESS)]  # direct port off by default
    protected = Settings(addon=True, web_password=Secret("long-enough"))
    assert listeners(protected) == [Listener("0.0.0.0", 8099, INGRESS), Listener("0.0.0.0", 8080, DIRECT)]


async def test_standalone_without_password_is_open(tmp_path: Path) -> None:
    settings = Settings(host="127.0.0.1", port=_free_port(), data_dir=tmp_path / "data")
    async for _ in _serve(settings):
        async with aiohttp.ClientSession() as browser:
            assert (await browser.get(f"http://127.0.0.1:{settings.port}/")).status == 200


async def test_the_docker_healthcheck_reaches_health_on_the_ingress_port(
    addon: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from app import healthcheck

    monkeypatch.setenv("SUPERVISOR_TOKEN", "t")
    monkeypatch.setenv("OPTIONS_FILE", str(tmp_path / "absent.json"))
    monkeypatch.setenv("INGRESS_PORT", str(addon.ingress_port))
    assert await asyncio.to_thread(healthcheck.main) == 0
    monkeypatch.setenv("INGRESS_PORT", str(_free_port()))  # nothing listens there
    assert await asyncio.to_thread(healthcheck.main) == 1
