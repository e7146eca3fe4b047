"""Serve an aiohttp application on a free loopback port for a benchmark; a demo service for benchmarks."""

from __future__ import annotations

import datetime as dt
import socket
import time
from pathlib import Path

from aiohttp import web

from app.gateway.retry import RetryPolicy
from app.gateway.simulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimulatorConfig, create_simulator_app
from app.service import Service
from app.settings import Secret, Settings


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


async def demo_service(data_dir: Path, now: dt.datetime) -> tuple[web.AppRunner, Service]:
    """The simulator on a free port and a started, not yet synced, service reading from it at `now`."""
    simulator, gateway_url = await serve(create_simulator_app(SimulatorConfig(clock=lambda: now)))
    settings = Settings(
        client_id=Secret(DEMO_CLIENT_ID),
        client_secret=Secret(DEMO_CLIENT_SECRET),
        gateway_url=gateway_url,
        data_dir=data_dir,
    )
    service = Service(settings, retry=RetryPolicy(), clock=lambda: now)
    await service.start(schedule=False)
    return simulator, service


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_port(port: int, seconds: float = 60.0) -> None:
    """Block until something listens on 127.0.0.1:`port` (a program started in another process)."""
    for _ in range(int(seconds * 10)):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")
