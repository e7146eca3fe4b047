"""Shared helpers for tests that run the whole pipeline against the gateway simulator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from app.gateway.retry import RetryPolicy
from app.gateway.simulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    SIMULATOR_STATE,
    SimulatorConfig,
    SimulatorState,
    create_simulator_app,
)
from app.service import Service
from app.settings import Secret, Settings

# 11:00 Paris: after the 08:00 publication of yesterday and after Tempo's 10:40 announcement.
NOW = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.01, jitter=0.0)

AiohttpServer = Callable[..., Awaitable[TestServer]]


class Clock:
    """A settable clock shared by the simulator and the client."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


ResponseHook = Callable[[web.Request, web.StreamResponse], Awaitable[None]]


async def start_simulator(
    aiohttp_server: AiohttpServer, clock: Clock, *, on_response: ResponseHook | None = None, **config: Any
) -> tuple[TestServer, SimulatorState]:
    app: web.Application = create_simulator_app(SimulatorConfig(clock=clock, **config))
    if on_response is not None:
        app.on_response_prepare.append(on_response)
    server = await aiohttp_server(app)
    return server, app[SIMULATOR_STATE]


def make_service(
    tmp_path: Path,
    gateway_url: str,
    clock: Clock,
    *,
    database_url: str = "",
    client_secret: str = DEMO_CLIENT_SECRET,
    usage_points: tuple[str, ...] = (),
    timeout: float = 10.0,
    name: str = "data",
) -> Service:
    settings = Settings(
        client_id=Secret(DEMO_CLIENT_ID),
        client_secret=Secret(client_secret),
        gateway_url=gateway_url.rstrip("/"),
        data_dir=tmp_path / name,
        database_url=database_url,
        usage_points=usage_points,
    )
    return Service(settings, retry=FAST_RETRY, gateway_timeout=timeout, clock=clock)


def data_requests(state: SimulatorState, usage_point_id: str | None = None) -> list[Any]:
    """Requests that reached the simulator's quota-counted data routes."""
    return [
        r
        for r in state.requests
        if r.counted and (usage_point_id is None or r.usage_point_id == usage_point_id)
    ]


async def synced_service(
    aiohttp_server: AiohttpServer, tmp_path: Path, clock: Clock | None = None
) -> Service:
    """A started service (no schedule) that has synced the three demo usage points."""
    clock = clock or Clock()
    server, _ = await start_simulator(aiohttp_server, clock)
    service = make_service(tmp_path, str(server.make_url("/")), clock)
    await service.start(schedule=False)
    await service.sync()
    assert service.exporters is not None
    await service.exporters.wait_idle()
    return service


def same_origin(client: TestClient[Any, Any]) -> None:
    """Send the server's own Origin with every request, as a browser posting the page's forms does."""
    client.session.headers["Origin"] = str(client.make_url("/")).rstrip("/")
