"""No state change from another site: a foreign Origin/Referer gets 403, a non-JSON body on the JSON
API gets 415, a form without Origin needs the session token; every answer carries the CSP headers."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from app.service import Service
from app.web.app import create_app
from tests.support import AiohttpServer, synced_service

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]
HPHC = "09222222222222"
EVIL = "https://evil.example"


async def _setup(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> tuple[Service, TestClient[Any, Any], str]:
    service = await synced_service(aiohttp_server, tmp_path)
    client = await aiohttp_client(create_app(service))
    return service, client, str(client.make_url("/")).rstrip("/")


async def _state(service: Service) -> tuple[Any, ...]:
    assert service.store is not None and service.exporters is not None
    return (
        await service.exporters.stored_config("influxdb"),
        await service.store.get_setting(f"pricing.offpeak.{HPHC}"),
        await service.store.get_setting(f"pricing.chosen.{HPHC}"),
    )


async def test_foreign_origin_and_wrong_content_type_change_nothing(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    service, client, own = await _setup(aiohttp_server, aiohttp_client, tmp_path)
    before = await _state(service)
    exporter = {"enabled": True, "url": "http://127.0.0.1:9/", "token": "planted-token"}
    attempts: list[tuple[str, dict[str, Any], int]] = [
        ("/api/exporters/influxdb", {"json": exporter, "headers": {"Origin": EVIL}}, 403),
        ("/api/exporters/influxdb", {"json": exporter, "headers": {"Origin": "null"}}, 403),
        ("/api/exporters/influxdb", {"json": exporter, "headers": {"Referer": EVIL + "/page"}}, 403),
        (
            "/api/pricing/offers",
            {"json": {"pdl": HPHC, "offpeak": "00:00-23:30"}, "headers": {"Origin": EVIL}},
            403,
        ),
        ("/offers", {"data": {"pdl": HPHC, "offpeak": "00:00-23:30"}, "headers": {"Origin": EVIL}}, 403),
        (
            "/exporters",
            {
                "data": {"exporter": "influxdb", "action": "save", "enabled": "on"},
                "headers": {"Origin": EVIL},
            },
            403,
        ),
        ("/sync", {"headers": {"Origin": EVIL}}, 403),
        ("/api/sync", {"headers": {"Origin": EVIL}}, 403),
        # a text/plain body is what a foreign page can send without a preflight: refused even without Origin
        (
            "/api/exporters/influxdb",
            {"data": '{"enabled": true, "token": "x"}', "headers": {"Content-Type": "text/plain"}},
            415,
        ),
        (
            "/api/pricing/offers",
            {"data": '{"pdl": "x"}', "headers": {"Content-Type": "text/plain", "Origin": own}},
            415,
        ),
        ("/offers", {"data": "pdl=1", "headers": {"Content-Type": "text/plain"}}, 415),
        # a form without Origin nor Referer needs the session token
        ("/offers", {"data": {"pdl": HPHC, "offpeak": "00:00-23:30"}}, 403),
        ("/offers", {"data": {"pdl": HPHC, "offpeak": "00:00-23:30", "csrf_token": "guessed" * 6}}, 403),
    ]
    for path, kwargs, status in attempts:
        response = await client.post(path, allow_redirects=False, **kwargs)
        assert response.status == status, (path, kwargs, await response.text())
    assert await _state(service) == before

    # The page's own form (token from the page, cookie from the same answer) and a same-origin post work.
    page = await (await client.get(f"/offers?pdl={HPHC}")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    saved = await client.post(
        "/offers", data={"pdl": HPHC, "offpeak": "01:00-07:00", "csrf_token": token[1]}, allow_redirects=False
    )
    assert saved.status == 303
    same = await client.post(
        "/api/pricing/offers", json={"pdl": HPHC, "offpeak": "02:00-08:00"}, headers={"Origin": own}
    )
    assert same.status == 200
    assert service.store is not None
    assert await service.store.get_setting(f"pricing.offpeak.{HPHC}") == "02:00-08:00"
    await service.stop()


async def test_every_answer_has_a_policy_without_inline_script(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    service, client, _ = await _setup(aiohttp_server, aiohttp_client, tmp_path)
    for path in (
        "/",
        "/offers",
        "/exporters",
        "/consumption_kwh",
        "/production",
        "/tempo",
        "/simulation",
        "/api/status",
        "/static/style.css",
        "/missing",
    ):
        response = await client.get(path)
        policy = response.headers.get("Content-Security-Policy", "")
        script = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script and "frame-ancestors 'self'" in policy, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        if response.content_type == "text/html":
            html = await response.text()
            assert not re.search(r"<script(?![^>]*\bsrc=)", html), path  # no inline script block
            assert not re.search(r"\son[a-z]+=", html), path  # no inline event handler
    await service.stop()
