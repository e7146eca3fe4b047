"""Concurrent requests to the cost pages right after a sync: one computation per cache key, the others
wait for it, and every answer is the one computed alone."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from app.web.app import create_app
from app.web.cache import CACHE
from tests.support import AiohttpServer, synced_service

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]
PDL = "09222222222222"
TOKEN = re.compile(r'name="csrf_token" value="[^"]*"')
PATHS = [f"/simulation?pdl={PDL}", f"/api/simulation/ranking?pdl={PDL}", f"/bilan?pdl={PDL}"]


async def test_one_computation_per_key_under_a_burst(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    app = create_app(service)
    client = await aiohttp_client(app)

    async def get(path: str) -> tuple[int, str]:
        answer = await client.get(path)
        return answer.status, TOKEN.sub("", await answer.text())

    alone = {}
    for path in PATHS:
        app[CACHE].clear()
        alone[path] = await get(path)
    app[CACHE].clear()
    app[CACHE].figures.flights.started.clear()
    burst = [PATHS[i % len(PATHS)] for i in range(60)]
    answers = await asyncio.gather(*(get(path) for path in burst))
    assert all(answer == alone[path] for path, answer in zip(burst, answers, strict=True))
    started = app[CACHE].figures.flights.started
    assert started and max(started.values()) == 1, started
    await service.stop()
