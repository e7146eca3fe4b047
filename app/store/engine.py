"""Database URLs and the async engine (SQLite by default, PostgreSQL or MariaDB/MySQL on request)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

DEFAULT_SQLITE_NAME = "myelectricaldata.db"
SQLITE_BUSY_TIMEOUT_MS = 15_000
SQLITE_PAGE_CACHE_KIB = 512
# Execution option read by the "begin" listener: write transactions on SQLite start with BEGIN IMMEDIATE,
# so that a transaction that reads then writes never fails with SQLITE_BUSY half way through.
SQLITE_BEGIN_OPTION = "med_sqlite_begin"

_POSTGRES = {"postgresql", "postgres"}
_MYSQL = {"mysql", "mariadb"}


def normalise_database_url(url: str | None, data_dir: Path) -> str:
    """Turn what a user types (or nothing) into an async SQLAlchemy URL.

    - "" / None -> sqlite+aiosqlite:///<data_dir>/myelectricaldata.db
    - sqlite:///x -> sqlite+aiosqlite:///x
    - postgresql:// / postgres:// (any driver) -> postgresql+asyncpg://
    - mysql:// / mariadb:// (any driver) -> mysql+aiomysql://...?charset=utf8mb4
    Raises ValueError for anything else.
    """
    text = (url or "").strip()
    if not text:
        return f"sqlite+aiosqlite:///{Path(data_dir) / DEFAULT_SQLITE_NAME}"
    try:
        parsed = make_url(text)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError, ValueError
        raise ValueError(f"not a database URL: {_redact(text)}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend in _POSTGRES:
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif backend in _MYSQL:
        parsed = parsed.set(drivername="mysql+aiomysql")
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    else:
        raise ValueError(
            f"unsupported database {backend!r}: use sqlite://, postgresql:// or mysql:// (mariadb://)"
        )
    return parsed.render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path | None:
    """The file of a (normalised) SQLite URL; None for other databases or an in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def create_engine(url: str) -> AsyncEngine:
    """The async engine of a normalised URL, with the per-connection settings of each database."""
    parsed: URL = make_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {}
    if backend != "sqlite":
        kwargs.update(pool_pre_ping=True, pool_recycle=3600)
    engine = create_async_engine(parsed, **kwargs)
    if backend == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not open transactions by itself: the "begin" listener does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            # 512 KiB of page cache per connection instead of 2 MiB: the pool keeps several connections
            # (one thread each) and their caches stay full for good; the OS caches the file anyway, and
            # bench/web.py shows no slower page (bench/memory.py: ~4 MB less resident after a sync).
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_PAGE_CACHE_KIB}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "immediate" else "BEGIN")


def _redact(text: str) -> str:
    """A URL without its password, for error messages."""
    if "@" not in text or "://" not in text:
        return text
    scheme, rest = text.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
