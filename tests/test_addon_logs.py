"""The add-on's log reads like every other add-on's (bashio): `[HH:MM:SS] LEVEL: message`, one line per
event, no traceback for expected conditions (refused credentials, an unreachable supervisor)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from app.logformat import BashioFormatter, formatter_for
from tests.support import NOW, AiohttpServer, Clock, start_simulator

ROOT = Path(__file__).resolve().parents[1]
BASHIO_LINE = re.compile(r"^\[\d\d:\d\d:\d\d\] (TRACE|DEBUG|INFO|NOTICE|WARNING|ERROR|FATAL): \S")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _record(message: str, level: int = logging.ERROR, *, error: Exception | None = None) -> logging.LogRecord:
    exc_info = (type(error), error, error.__traceback__) if error is not None else None
    return logging.LogRecord("app.x", level, __file__, 1, message, None, exc_info)


def test_formatter_writes_one_bashio_line_per_event() -> None:
    try:
        raise ConnectionRefusedError("Connect call failed ('127.0.0.1', 1)\nsecond line")
    except ConnectionRefusedError as exc:
        error = exc
    line = BashioFormatter().format(_record("gateway unreachable\nretrying", error=error))
    assert "\n" not in line
    assert BASHIO_LINE.match(line)
    assert line.endswith(
        "ERROR: gateway unreachable retrying: ConnectionRefusedError: Connect call failed ('127.0.0.1', 1)"
    )
    assert BashioFormatter().format(_record("x", logging.CRITICAL)).split("] ")[1] == "FATAL: x"
    # At the debug level the developer gets the traceback after the line.
    verbose = formatter_for(addon=True, log_level="debug").format(_record("boom", error=error))
    assert verbose.splitlines()[0].endswith("ERROR: boom") and "Traceback" in verbose
    plain = formatter_for(addon=False, log_level="info").format(_record("boom"))
    assert " ERROR app.x: boom" in plain


@pytest.mark.slow
async def test_addon_log_lines_have_the_bashio_shape(aiohttp_server: AiohttpServer, tmp_path: Path) -> None:
    server, _ = await start_simulator(aiohttp_server, Clock(NOW))
    ingress_port = _free_port()
    options = tmp_path / "options.json"
    # A refused secret and an unreachable supervisor: conditions a user meets, not bugs.
    options.write_text(
        json.dumps(
            {
                "client_id": "cli_wrong",
                "client_secret": "not-the-secret",
                "gateway_url": str(server.make_url("")).rstrip("/"),
                "log_level": "info",
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if k not in ("SUPERVISOR_TOKEN", "DATABASE_URL")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "OPTIONS_FILE": str(options),
        "DATA_DIR": str(tmp_path / "data"),
        "HOST": "127.0.0.1",
        "INGRESS_PORT": str(ingress_port),
        "SUPERVISOR_URL": f"http://127.0.0.1:{_free_port()}",
        "MYELECTRICALDATA_NOW": NOW.isoformat(),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(60):
            while not all(any(w in line for line in lines) for w in ("sync failed", "direct access")):
                raw = await process.stderr.readline()
                assert raw, "the program exited:\n" + "\n".join(lines)
                lines.append(raw.decode().rstrip("\n"))
            # A request answered after that line: the event loop went past the SIGTERM handler setup.
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{ingress_port}/health") as response,
            ):
                assert response.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        rest, _ = await process.communicate()
    lines += rest.decode().splitlines() if rest else []
    assert process.returncode == 0, "\n".join(lines)
    for line in lines:
        assert BASHIO_LINE.match(line), line
    assert not any("Traceback" in line for line in lines)
    assert "not-the-secret" not in "\n".join(lines)
