"""Killing the real process (SIGKILL) at random moments of a sync and restarting it loses and
duplicates nothing: the store ends equal to the store of an uninterrupted sync."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from pathlib import Path

import pytest
from aiohttp import web

from app.gateway.simulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from app.store import Store
from tests.support import NOW, AiohttpServer, Clock, make_service, start_simulator

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def _env(gateway_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLIENT_", "DATABASE_URL", "GATEWAY_"))}
    env.update(
        CLIENT_ID=DEMO_CLIENT_ID,
        CLIENT_SECRET=DEMO_CLIENT_SECRET,
        GATEWAY_URL=gateway_url,
        DATA_DIR=str(data_dir),
        MYELECTRICALDATA_NOW=NOW.isoformat(),
        LOG_LEVEL="warning",
    )
    return env


async def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    clock = Clock()
    # Kill when the simulator has answered a random number of requests, plus a random delay, so the
    # kill lands anywhere: while waiting for the gateway, parsing, or inside a store transaction.
    answered = asyncio.Event()
    target = {"count": 0}

    async def on_response(request: web.Request, response: web.StreamResponse) -> None:
        if len(state.requests) >= target["count"]:
            answered.set()

    server, state = await start_simulator(
        aiohttp_server, clock, on_response=on_response, quota_cached=100_000
    )
    url = str(server.make_url("/")).rstrip("/")

    reference = make_service(tmp_path, url, clock, name="reference")
    await reference.start(schedule=False)
    assert reference.store is not None
    assert (await reference.sync()).ok
    expected = await reference.store.snapshot()
    await reference.stop()

    target["count"] = 1 << 30
    data_dir = tmp_path / "killed"
    rng = random.Random(20261128)
    kills = 0
    for _ in range(10):
        answered.clear()
        target["count"] = len(state.requests) + rng.randint(1, 8)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app",
            "sync",
            "--once",
            cwd=ROOT,
            env=_env(url, data_dir),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        waiter = asyncio.create_task(answered.wait())
        exited = asyncio.create_task(process.wait())
        await asyncio.wait({waiter, exited}, return_when=asyncio.FIRST_COMPLETED, timeout=120)
        if not exited.done():
            await asyncio.sleep(rng.uniform(0.0, 0.2))  # the random moment itself, not a synchronisation
            if process.returncode is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
        await exited
        waiter.cancel()
        assert process.stderr is not None
        await process.stderr.read()
    assert kills >= 8, "the kills must land during syncs"

    final = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "sync",
        "--once",
        cwd=ROOT,
        env=_env(url, data_dir),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await final.communicate()
    assert final.returncode == 0, stderr.decode()

    store = await Store.open("", data_dir=data_dir)
    try:
        assert await store.snapshot() == expected
        counts = await store.row_counts()
        assert counts["interval_reading"] == len(expected["interval_reading"]) > 100_000
    finally:
        await store.close()
