"""The direct port: Home Assistant users through the supervisor's auth API (no second password), a
too-short web_password keeps the port closed with a message, wrong passwords get a growing delay
that never blocks other requests."""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path

import aiohttp

from app.settings import Secret, Settings, load_settings
from app.web.ingress import DIRECT, listeners
from tests.fake_supervisor import FakeSupervisorState, create_fake_supervisor
from tests.support import AiohttpServer
from tests.test_ingress import PROXY, _free_port, _serve


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def test_home_assistant_users_open_the_direct_port(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    fake = FakeSupervisorState(users={"alice": "correct-horse-battery"})
    supervisor = await aiohttp_server(create_fake_supervisor(fake))
    settings = Settings(
        addon=True,
        host="127.0.0.1",
        ingress_port=_free_port(),
        port=_free_port(),
        ingress_proxy=PROXY,
        supervisor_url=str(supervisor.make_url("")).rstrip("/"),
        supervisor_token=Secret(fake.token),
        data_dir=tmp_path / "data",
    )
    assert any(listener.door == DIRECT for listener in listeners(settings))  # no web_password needed
    url = f"http://127.0.0.1:{settings.port}/api/status"
    async for _ in _serve(settings):
        async with aiohttp.ClientSession() as browser:
            assert (await browser.get(url)).status == 401
            assert (await browser.get(url, headers=_basic("alice", "correct-horse-battery"))).status == 200
            assert fake.requests.count("POST /auth") == 1
            assert (await browser.get(url, headers=_basic("alice", "correct-horse-battery"))).status == 200
            assert fake.requests.count("POST /auth") == 1  # a login the supervisor accepted is remembered
            assert (await browser.get(url, headers=_basic("alice", "wrong-password"))).status == 401
            assert (await browser.get(url, headers=_basic("mallory", "correct-horse-battery"))).status == 401


async def test_wrong_passwords_are_slowed_without_blocking_the_server(tmp_path: Path) -> None:
    settings = Settings(
        host="127.0.0.1", port=_free_port(), web_password=Secret("right-password"), data_dir=tmp_path / "data"
    )
    url = f"http://127.0.0.1:{settings.port}"
    async for _ in _serve(settings):
        async with aiohttp.ClientSession() as browser:
            delays = []
            for _attempt in range(4):
                started = time.monotonic()
                assert (await browser.get(url + "/", headers=_basic("x", "guess"))).status == 401
                delays.append(time.monotonic() - started)
            assert delays[0] >= 0.4 and delays[3] >= 3.5 and delays[3] > delays[1] > delays[0]
            # while a wrong password waits, the server answers others at once
            slow = asyncio.ensure_future(browser.get(url + "/", headers=_basic("x", "guess")))
            started = time.monotonic()
            assert (await browser.get(url + "/health")).status == 200
            right = await browser.get(url + "/api/status", headers=_basic("x", "right-password"))
            assert right.status == 200 and time.monotonic() - started < 2.0
            assert (await slow).status == 401


async def test_a_short_web_password_keeps_the_direct_port_closed(tmp_path: Path) -> None:
    addon = Settings(addon=True, web_password=Secret("short"))
    assert all(listener.door != DIRECT for listener in listeners(addon))
    settings = Settings(
        host="127.0.0.1", port=_free_port(), web_password=Secret("short"), data_dir=tmp_path / "d"
    )
    async for _ in _serve(settings):
        async with aiohttp.ClientSession() as browser:
            answer = await browser.get(f"http://127.0.0.1:{settings.port}/", headers=_basic("x", "short"))
            assert answer.status == 503 and "web_password is shorter than 8" in await answer.text()


def test_web_password_is_stripped(tmp_path: Path) -> None:
    settings, errors = load_settings(env={"WEB_PASSWORD": "  padded-password \n", "DATA_DIR": str(tmp_path)})
    assert not errors and settings.web_password == Secret("padded-password")
