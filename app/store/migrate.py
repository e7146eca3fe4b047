"""Alembic, configured in code: upgrade to head, and back up an SQLite file before changing its schema.

Alembic (with Mako) weighs about 11 MB of resident memory once imported, and almost every start finds
the schema at head already: the head and current revisions are read without it (the revision files'
own ``revision`` / ``down_revision`` lines, the ``alembic_version`` table), and Alembic is imported
only when an upgrade is due. The program itself (``python -m app``, see :func:`upgrade_apart`) runs an
upgrade in a child process (``python -m app.store.migrate``, the URL on its stdin): the child exits, and
the memory Alembic took goes with it, where the first start would otherwise keep it for good.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import re
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
KEEP_BACKUPS = 3
_BACKUP = re.compile(r"\.bak-(?P<revision>.+)-(?P<stamp>\d{14})$")
_apart = False


def upgrade_apart(enabled: bool = True) -> None:
    """Run later upgrades in a child process (set by the program's entry; tests keep them in-process)."""
    global _apart
    _apart = enabled


def alembic_config() -> Config:
    from alembic.config import Config  # heavy: only when migrating

    config = Config()
    # ConfigParser interpolation: a literal "%" must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=]+)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)


def head_revision() -> str | None:
    """The one revision no other revision builds on (read from the files; Alembic when ambiguous)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for name, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (revisions if name == "revision" else parents).add(value)
    heads = revisions - parents
    if len(heads) == 1:
        return heads.pop()
    from alembic.script import ScriptDirectory  # heavy: only when unsure

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def _upgrade(connection: Connection) -> None:
    from alembic import command  # heavy: only when migrating

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database to the head revision (a no-op when it is there already)."""
    head = head_revision()
    async with engine.connect() as connection:
        current = await connection.run_sync(current_revision)
    if current == head:
        return
    log.info("database schema: upgrading from %s to %s", current or "nothing", head)
    if _apart and not _in_memory(engine):
        await engine.dispose()  # no connection of ours open while the child changes the schema
        await _upgrade_in_child(engine.url.render_as_string(hide_password=False))
        return
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


def _in_memory(engine: AsyncEngine) -> bool:
    """An SQLite database that lives in this process only (a child would migrate its own)."""
    url = engine.url
    database = url.database or ""
    return url.get_backend_name() == "sqlite" and (database in ("", ":memory:") or "memory" in database)


async def _upgrade_in_child(url: str) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.store.migrate",
        stdin=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, sys.path))},
    )
    _, errors = await child.communicate(url.encode())  # stdin: the URL may carry a password
    if child.returncode != 0:
        tail = errors.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        raise RuntimeError(f"database schema upgrade failed: {tail[0]}")


async def _upgrade_url(url: str) -> None:
    from app.store.engine import create_engine

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade)
    finally:
        await engine.dispose()


def sqlite_file_revision(path: Path) -> str | None:
    """The Alembic revision recorded in an SQLite file (None: no alembic_version table or no row).

    Opened read-write (only SELECTs are sent): after a crash, SQLite may have to recover the WAL, which
    a read-only connection cannot do."""
    connection = sqlite3.connect(path)
    try:
        found = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        if found is None:
            return None
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if row is None else str(row[0])
    finally:
        connection.close()


def backup_sqlite(path: Path, revision: str | None, now: dt.datetime | None = None) -> Path:
    """Copy a live SQLite file with the online backup API, then keep only the newest backups."""
    stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")
    target = path.with_name(f"{path.name}.bak-{revision or 'none'}-{stamp}")
    source = sqlite3.connect(path)
    try:
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()
    prune_backups(path)
    return target


def backups_of(path: Path) -> list[Path]:
    """Backups of `path`, oldest first."""
    found: list[tuple[str, str, Path]] = []
    for candidate in path.parent.glob(f"{glob_escape(path.name)}.bak-*"):
        match = _BACKUP.search(candidate.name[len(path.name) :])
        if match is not None and candidate.is_file():
            found.append((match["stamp"], candidate.name, candidate))
    return [item[2] for item in sorted(found)]


def prune_backups(path: Path, keep: int = KEEP_BACKUPS) -> None:
    backups = backups_of(path)
    for old in backups[: max(0, len(backups) - keep)]:
        old.unlink(missing_ok=True)


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def backup_if_outdated(path: Path) -> Path | None:
    """Before a migration: back up an existing, non-empty SQLite file whose revision is not head."""
    if not path.is_file() or path.stat().st_size == 0:
        return None
    revision = sqlite_file_revision(path)
    if revision == head_revision():
        return None
    target = backup_sqlite(path, revision)
    log.info("database schema: backed up %s (revision %s) to %s", path, revision or "none", target)
    return target


async def prepare_sqlite_file(path: Path) -> Path | None:
    """Create the directory of the file and back the file up if it is about to be migrated."""
    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    return await asyncio.to_thread(backup_if_outdated, path)


if __name__ == "__main__":
    asyncio.run(_upgrade_url(sys.stdin.read().strip()))
