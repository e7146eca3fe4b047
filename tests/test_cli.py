"""The real program: `myelectricaldata --demo` serves the synced demo; `sync --once` exit codes."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.support import NOW

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _wait_for_status(
    session: aiohttp.ClientSession, url: str, process: asyncio.subprocess.Process
) -> dict[str, object]:
    """Polls /api/status until the first sync is done (the program is another process: no event to await)."""
    for _ in range(600):
        assert process.returncode is None, "the program exited"
        try:
            async with session.get(url + "/api/status") as response:
                status: dict[str, object] = await response.json()
                if status["state"] == "done":
                    return status
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("the demo did not finish its first sync in 60 s")


async def test_demo_mode_syncs_and_serves_the_dashboard(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("CLIENT_ID", "CLIENT_SECRET", "GATEWAY_URL")}
    env["MYELECTRICALDATA_NOW"] = NOW.isoformat()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "--demo",
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as session:
            status = await _wait_for_status(session, f"http://127.0.0.1:{port}", process)
            assert status["demo"] is True
            assert isinstance(status["usage_points"], list) and len(status["usage_points"]) == 3
            async with session.get(f"http://127.0.0.1:{port}/") as response:
                html = await response.text()
            assert "Mode démonstration" in html
            assert (tmp_path / "data" / "myelectricaldata.db").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()


async def test_sync_once_exit_codes(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("CLIENT_ID", "CLIENT_SECRET", "GATEWAY_URL")}
    env |= {"MYELECTRICALDATA_NOW": NOW.isoformat(), "DATA_DIR": str(tmp_path / "d"), "PYTHONPATH": str(ROOT)}
    done = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "sync",
        "--once",
        "--demo",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await done.communicate()
    assert done.returncode == 0, stderr.decode()
    unconfigured = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "sync",
        "--once",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await unconfigured.communicate()
    assert unconfigured.returncode == 1
    assert b"CLIENT_ID and CLIENT_SECRET" in stderr
