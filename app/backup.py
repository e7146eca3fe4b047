"""Consistent hot backups: the supervisor runs `backup_pre` before copying /data and `backup_post` after.

`python3 -m app backup-pre` asks the running program, over a Unix socket in the data folder, to hold
every database write (a sync in progress waits, nothing fails) and to move SQLite's journal into the
database file; `python3 -m app backup-post` lets the writes go on. A hold left by a backup that never
ends is released after HOLD_LIMIT, so the program cannot stay frozen. When the program is not running
there is nothing to hold and both commands succeed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from app.store import Store

log = logging.getLogger(__name__)

SOCKET_NAME = ".backup-control.sock"
HOLD_LIMIT = 3600.0  # seconds: longer than any backup of the data folder
PRE, POST = "pre", "post"
ANSWER_TIMEOUT = 120.0  # seconds the commands wait: the write in progress finishes first


def socket_path(data_dir: Path) -> Path:
    return data_dir / SOCKET_NAME


class BackupControl:
    """The program's side: a Unix socket answering `pre` (hold writes) and `post` (release)."""

    def __init__(self, store: Store, data_dir: Path, *, hold_limit: float = HOLD_LIMIT) -> None:
        self.store = store
        self.path = socket_path(data_dir)
        self.hold_limit = hold_limit
        self._server: asyncio.Server | None = None
        self._expiry: asyncio.TimerHandle | None = None

    @property
    def holding(self) -> bool:
        return self._expiry is not None

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # left by a program that was killed
        self._server = await asyncio.start_unix_server(self._handle, path=str(self.path))
        self.path.chmod(0o600)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self.release("the program stops")

    async def hold(self) -> str:
        if self.holding:
            return "ok: writes already held"
        checkpoint = await self.store.hold_writes()
        loop = asyncio.get_running_loop()
        self._expiry = loop.call_later(self.hold_limit, self.release, "no backup_post came in time")
        if checkpoint is None:
            log.info("backup: writes held")
            return "ok: writes held"
        busy, pages, moved = checkpoint
        if busy:
            log.warning("backup: writes held; a reader kept part of the journal (%d/%d pages)", moved, pages)
        else:
            log.info("backup: writes held, journal checkpointed (%d pages)", moved)
        return f"ok: writes held, journal checkpointed ({moved} of {pages} pages)"

    def release(self, why: str = "backup done") -> str:
        if self._expiry is None:
            return "ok: writes were not held"
        self._expiry.cancel()
        self._expiry = None
        self.store.release_writes()
        log.info("backup: writes released (%s)", why)
        return "ok: writes released"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            command = (await asyncio.wait_for(reader.readline(), 10)).decode("ascii", "replace").strip()
            if command == PRE:
                answer = await self.hold()
                if reader.at_eof():  # the command gave up waiting: do not hold writes for nobody
                    answer = self.release("the backup command gave up")
            elif command == POST:
                answer = self.release()
            else:
                answer = "error: unknown command (expected pre or post)"
            writer.write(answer.encode() + b"\n")
            await writer.drain()
        except (OSError, TimeoutError) as exc:
            log.warning("backup control: %s", exc)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def ask(data_dir: Path, command: str) -> tuple[bool, str]:
    """The command's side: (success, message for the log)."""
    path = socket_path(data_dir)
    if not path.exists():
        return True, "the program is not running: nothing to hold"
    try:
        async with asyncio.timeout(ANSWER_TIMEOUT):
            reader, writer = await asyncio.open_unix_connection(str(path))
            writer.write(command.encode() + b"\n")
            await writer.drain()
            answer = (await reader.readline()).decode("utf-8", "replace").strip()
            writer.close()
    except ConnectionRefusedError:
        return True, "the program is not running: nothing to hold"
    except (OSError, TimeoutError) as exc:
        return False, f"no answer from the program: {exc or type(exc).__name__}"
    return answer.startswith("ok"), answer or "no answer from the program"


def run_command(data_dir: Path, command: str, out: Callable[[str], None] = print) -> int:
    ok, message = asyncio.run(ask(data_dir, command))
    out(f"backup-{command}: {message}")
    return 0 if ok else 1
