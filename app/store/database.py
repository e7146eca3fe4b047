"""The connection helpers every room of the store shares: one engine, serialised writes, reads, and
idempotent bulk upserts for the current dialect (SQLite, PostgreSQL or MariaDB/MySQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Executable, Table, and_, delete, insert, or_, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.dml import Insert

from app.domain import DataKind, DateRange, merge_date_ranges
from app.store.engine import SQLITE_BEGIN_OPTION
from app.store.tables import sync_coverage

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql

BATCH = 5_000  # rows per executemany call


class Database:
    """One database: the engine, the in-process write lock and the statements the rooms share."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        # Writes are serialised in-process (the add-on is one process, one loop): coverage merges are
        # read-modify-write and must not interleave (PostgreSQL/MariaDB run READ COMMITTED/REPEATABLE
        # READ, not SERIALIZABLE), and concurrent bulk upserts could otherwise deadlock on InnoDB.
        self._write_lock = asyncio.Lock()
        if self._dialect == "sqlite":
            # SQLite writers start with BEGIN IMMEDIATE: a read-then-write transaction never fails with
            # SQLITE_BUSY half way through, and readers (WAL) are never blocked.
            self._writer = engine.execution_options(**{SQLITE_BEGIN_OPTION: "immediate"})
        else:
            self._writer = engine
        self._upserts: dict[tuple[str, tuple[str, ...]], Insert] = {}
        self._sqlite_statements: dict[tuple[str, tuple[str, ...], tuple[str, ...]], str] = {}

    @property
    def dialect(self) -> str:
        """The SQLAlchemy dialect name: sqlite, postgresql or mysql (MariaDB included)."""
        return self._dialect

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def hold_writes(self) -> tuple[int, int, int] | None:
        """Backup start: wait for the write in progress, keep every later write waiting (not failing)
        until `release_writes`, and on SQLite move the whole journal (WAL) into the database file, so a
        copy of the data folder is complete and consistent. Returns SQLite's checkpoint answer (busy,
        journal pages, pages moved), None for other databases."""
        await self._write_lock.acquire()
        if self._dialect != "sqlite":
            return None
        try:
            async with self._engine.connect() as conn:
                result: tuple[int, int, int] = await conn.run_sync(_checkpoint_truncate)
        except BaseException:
            self._write_lock.release()
            raise
        return result

    def release_writes(self) -> bool:
        """Backup end: let the waiting writes go on. False when writes were not held."""
        if not self._write_lock.locked():
            return False
        self._write_lock.release()
        return True

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        async with self._write_lock, self._writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self._engine.connect() as conn:
            yield conn

    # ------------------------------------------------------------------ upsert machinery

    def _upsert(self, table: Table, update: Sequence[str]) -> Insert:
        """INSERT ... ON CONFLICT (primary key) DO UPDATE the `update` columns, for the current dialect.

        On SQLite and PostgreSQL the update only happens when a value differs, so re-saving the same
        answer writes no page (an SD card thanks us); InnoDB skips unchanged rows by itself.
        """
        cache_key = (table.name, tuple(update))
        cached = self._upserts.get(cache_key)
        if cached is not None:
            return cached
        keys = [column for column in table.primary_key.columns]
        statement: Insert
        if self._dialect in ("sqlite", "postgresql"):
            ins: sqlite.Insert | postgresql.Insert
            if self._dialect == "sqlite":
                ins = sqlite.insert(table)
            else:
                from sqlalchemy.dialects import postgresql as postgres  # ~2 MB, never needed on SQLite

                ins = postgres.insert(table)
            if update:
                excluded = ins.excluded
                statement = ins.on_conflict_do_update(
                    index_elements=keys,
                    set_={name: excluded[name] for name in update},
                    where=or_(*(table.c[name].is_distinct_from(excluded[name]) for name in update)),
                )
            else:
                statement = ins.on_conflict_do_nothing(index_elements=keys)
        elif self._dialect == "mysql":
            from sqlalchemy.dialects import mysql

            my = mysql.insert(table)
            names = list(update) or [keys[0].name]
            statement = my.on_duplicate_key_update({name: my.inserted[name] for name in names})
        else:  # pragma: no cover - normalise_database_url only lets the three through
            raise RuntimeError(f"unsupported dialect {self._dialect}")
        self._upserts[cache_key] = statement
        return statement

    @staticmethod
    async def execute_many(conn: AsyncConnection, statement: Executable, rows: Sequence[Any]) -> None:
        for index in range(0, len(rows), BATCH):
            await conn.execute(statement, list(rows[index : index + BATCH]))

    async def upsert_rows(
        self, conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]], update: Sequence[str]
    ) -> None:
        if rows:
            await self.execute_many(conn, self._upsert(table, update), rows)

    async def upsert_tuples(
        self,
        conn: AsyncConnection,
        table: Table,
        columns: tuple[str, ...],
        update: tuple[str, ...],
        rows: Sequence[tuple[Any, ...]],
    ) -> None:
        """Bulk upsert of positional rows (the load curve: up to ~100k rows per call).

        On SQLite the compiled statement goes straight to the driver's executemany, skipping SQLAlchemy's
        per-row parameter processing (which took over half of a 100k-row save); values must then be in
        SQLite storage form (dates as ISO text). Elsewhere the rows become parameter dicts for the usual
        executemany.
        """
        if not rows:
            return
        if self._dialect == "sqlite":
            sql = self._sqlite_sql(table, columns, update)
            for index in range(0, len(rows), BATCH):
                await conn.exec_driver_sql(sql, list(rows[index : index + BATCH]))
        else:
            dicts = [dict(zip(columns, row, strict=True)) for row in rows]
            await self.upsert_rows(conn, table, dicts, update)

    def _sqlite_sql(self, table: Table, columns: tuple[str, ...], update: tuple[str, ...]) -> str:
        key = (table.name, columns, update)
        sql = self._sqlite_statements.get(key)
        if sql is None:
            statement = self._upsert(table, update)
            compiled = statement.compile(dialect=self._engine.dialect, column_keys=list(columns))
            if tuple(compiled.positiontup or ()) != columns:
                raise RuntimeError(f"unexpected parameter order {compiled.positiontup} for {columns}")
            sql = self._sqlite_statements[key] = str(compiled)
        return sql

    # ------------------------------------------------------------------ coverage

    async def _merge_coverage(
        self, conn: AsyncConnection, usage_point_id: str, kind: DataKind, covered: Sequence[DateRange]
    ) -> None:
        """Add `covered` to the days stored for (usage point, kind), inside the caller's transaction.
        The rooms saving readings, Tempo and max power call it; its private name is the one the store
        tests replace to make a save fail half way."""
        if not covered:
            return
        where = and_(sync_coverage.c.usage_point_id == usage_point_id, sync_coverage.c.kind == kind.value)
        result = await conn.execute(
            select(sync_coverage.c.first_day, sync_coverage.c.last_day)
            .where(where)
            .order_by(sync_coverage.c.first_day)
        )
        stored = [DateRange(first, last) for first, last in result]
        merged = merge_date_ranges([*stored, *covered])
        if merged == stored:
            return
        await conn.execute(delete(sync_coverage).where(where))
        rows = [
            {"usage_point_id": usage_point_id, "kind": kind.value, "first_day": r.first, "last_day": r.last}
            for r in merged
        ]
        await conn.execute(insert(sync_coverage), rows)


def _checkpoint_truncate(connection: Connection) -> tuple[int, int, int]:
    # On the driver's connection (autocommit): inside a transaction the checkpoint could not finish.
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        row = cursor.fetchone()
    finally:
        cursor.close()
    busy, pages, moved = row if row else (0, 0, 0)
    return int(busy), int(pages), int(moved)
