"""The web skeleton: relative URLs only, French by default, English selectable, sync now, health."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from app.gateway.simulator import DEMO_CLIENT_SECRET
from app.web.app import create_app
from tests.support import AiohttpServer, Clock, make_service, start_simulator

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]
URL_ATTRIBUTE = re.compile(r'(href|src|action)="([^"]*)"')


async def test_dashboard_lists_usage_points_with_relative_urls_only(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    clock = Clock()
    server, _ = await start_simulator(aiohttp_server, clock)
    service = make_service(tmp_path, str(server.make_url("/")), clock)
    await service.start(schedule=False)
    await service.sync()
    client = await aiohttp_client(create_app(service))

    page = await client.get("/")
    html = await page.text()
    assert page.status == 200
    assert '<html lang="fr">' in html and "Points de livraison" in html
    for pdl in ("09111111111111",):
        assert pdl in html
    urls = URL_ATTRIBUTE.findall(html)
    assert urls, "the page has links"
    for attribute, url in urls:
        assert not url.startswith(("/", "http:", "https:", "//")), url
        if attribute != "action" and not url.startswith("?"):
            target = await client.get("/" + url.split("?")[0].removeprefix("./"))
            assert target.status == 200, url

    english = await client.get("/", headers={"Accept-Language": "en-US,en;q=0.8,fr;q=0.5"})
    assert '<html lang="en">' in await english.text()
    forced = await client.get("/?lang=fr", headers={"Accept-Language": "en"})
    assert '<html lang="fr">' in await forced.text()

    status = await (await client.get("/api/status")).json()
    assert status["state"] == "done"
    assert len(status["usage_points"]) == 3
    assert DEMO_CLIENT_SECRET not in str(status) and DEMO_CLIENT_SECRET not in html
    await service.stop()


async def test_sync_now_starts_one_sync_and_redirects_relatively(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    clock = Clock()
    server, state = await start_simulator(aiohttp_server, clock)
    service = make_service(tmp_path, str(server.make_url("/")), clock)
    await service.start(schedule=False)
    scheduler = service.scheduler
    assert scheduler is not None
    first_run = scheduler.next_run_finished()
    scheduler.start()  # the scheduler's first run happens at start
    assert (await first_run).ok
    client = await aiohttp_client(create_app(service))
    assert (await (await client.get("/api/status")).json())["state"] == "done"
    assert scheduler.state.next_run_at is not None and scheduler.state.next_run_at > clock()
    state.requests.clear()

    form_run = scheduler.next_run_finished()
    response = await client.post("/sync", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("./")
    assert (await form_run).ok
    assert [r.route for r in state.requests].count("pdl") == 1

    api_run = scheduler.next_run_finished()
    accepted = await client.post("/api/sync")
    assert accepted.status == 202
    assert (await api_run).ok
    assert [r.route for r in state.requests].count("pdl") == 2
    assert (await client.get("/health")).status == 200
    await service.stop()
