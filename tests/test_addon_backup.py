"""Hot backups restore: the supervisor's backup_pre / backup_post commands around a copy of /data taken
while a sync writes give a database that opens, is intact, holds every answer committed before the
copy, and that the next sync completes."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from app.backup import BackupControl, ask, socket_path
from app.domain import SyncPhase
from app.gateway.simulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from app.store import Store
from app.store.engine import DEFAULT_SQLITE_NAME
from tests.support import NOW, AiohttpServer, Clock, make_service, start_simulator

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
ANSWERS_BEFORE_BACKUP = 8


class Gate:
    """Holds the simulator's answers after the first `open_for` ones until `release()`."""

    def __init__(self, open_for: int) -> None:
        self.open_for = open_for
        self.served = 0
        self.reached = asyncio.Event()  # `open_for` answers sent
        self.one_more = asyncio.Event()  # an answer sent after the release
        self._released = asyncio.Event()

    async def __call__(self, _request: web.Request, _response: web.StreamResponse) -> None:
        if self.served >= self.open_for:
            self.reached.set()
            await self._released.wait()
        self.served += 1
        if self._released.is_set():
            self.one_more.set()

    def release(self) -> None:
        self._released.set()


async def _command(data_dir: Path, *args: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


def _tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, read with the sqlite3 module (another reader, as a restore would open it)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {name: sorted(db.execute(f'SELECT * FROM "{name}"'), key=repr) for name in names}


async def test_backup_hooks_give_a_copy_that_restores_while_a_sync_writes(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    clock = Clock(NOW)
    gate = Gate(ANSWERS_BEFORE_BACKUP)
    server, _ = await start_simulator(aiohttp_server, clock, on_response=gate)
    live = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("SUPERVISOR_TOKEN", "DATABASE_URL")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "DATA_DIR": str(live),
        "OPTIONS_FILE": str(tmp_path / "no-options.json"),
        "CLIENT_ID": DEMO_CLIENT_ID,
        "CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "GATEWAY_URL": str(server.make_url("")).rstrip("/"),
        "MYELECTRICALDATA_NOW": NOW.isoformat(),
    }
    sync = asyncio.create_task(_command(live, "sync", "--once", env=env))
    await gate.reached.wait()  # the sync wrote the first answers and waits for the next one

    code, output = await _command(live, "backup-pre", env=env)
    assert code == 0, output
    assert "writes held" in output
    committed = _tables(live / DEFAULT_SQLITE_NAME)
    gate.release()
    await gate.one_more.wait()  # the sync has a new answer to write while the copy is made
    copy = tmp_path / "restored"
    shutil.copytree(live, copy, ignore=shutil.ignore_patterns("*.sock"))  # config.yaml backup_exclude
    assert _tables(live / DEFAULT_SQLITE_NAME) == committed, "a write went through during the backup"
    code, output = await _command(live, "backup-post", env=env)
    assert code == 0, output

    sync_code, sync_output = await sync
    assert sync_code == 0, sync_output

    restored = copy / DEFAULT_SQLITE_NAME
    with sqlite3.connect(restored) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert _tables(restored) == committed  # every committed answer, nothing half written
    data_rows = sum(len(committed[name]) for name in ("usage_point", "daily_energy", "interval_reading"))
    assert data_rows > 0

    service = make_service(tmp_path, str(server.make_url("")), clock, name="restored")
    await service.start(schedule=False)
    try:
        outcome = await service.sync()
        assert outcome.phase is SyncPhase.DONE
        assert service.store is not None
        completed = await service.store.snapshot()
    finally:
        await service.stop()
    reference = await Store.open(None, data_dir=live)
    try:
        assert completed == await reference.snapshot()
    finally:
        await reference.close()


async def test_backup_commands_succeed_when_the_program_is_not_running(tmp_path: Path) -> None:
    env = dict(os.environ) | {"PYTHONPATH": str(ROOT), "DATA_DIR": str(tmp_path)}
    for command in ("backup-pre", "backup-post"):
        code, output = await _command(tmp_path, command, env=env)
        assert code == 0, output
        assert "not running" in output


async def test_a_hold_without_backup_post_is_released_and_writes_go_on(tmp_path: Path) -> None:
    store = await Store.open(None, data_dir=tmp_path)
    control = BackupControl(store, tmp_path, hold_limit=0.2)
    await control.start()
    try:
        ok, message = await ask(tmp_path, "pre")
        assert ok and "writes held" in message
        write = asyncio.create_task(store.set_setting("during_backup", 1))
        await asyncio.sleep(0)  # the write starts and waits for the hold
        assert not write.done()
        await asyncio.wait_for(write, 10)  # released by the hold limit, not by backup_post
        assert await store.get_setting("during_backup") == 1
        assert not control.holding
        ok, message = await ask(tmp_path, "reboot")
        assert not ok and "unknown command" in message
    finally:
        await control.stop()
        await store.close()
    assert not socket_path(tmp_path).exists()


async def test_a_backup_command_that_gives_up_leaves_no_hold(tmp_path: Path) -> None:
    store = await Store.open(None, data_dir=tmp_path)
    control = BackupControl(store, tmp_path)
    await control.start()
    try:
        async with store._write_lock:  # a long write in progress
            reader, writer = await asyncio.open_unix_connection(str(socket_path(tmp_path)))
            writer.write(b"pre\n")
            writer.write_eof()  # the command's timeout: it leaves before the answer
            await writer.drain()
        answer = await reader.read()  # until the program closes the connection: its handler is done
        writer.close()
        assert answer == b"ok: writes released\n"
        assert not control.holding
        await asyncio.wait_for(store.set_setting("after", 1), 10)
    finally:
        await control.stop()
        await store.close()
