"""The local store: idempotent upserts, range queries and aggregates computed in SQL.

Every `save_*` is one transaction, so a process killed in the middle leaves either the whole answer or
nothing, and saving the same answer twice changes nothing. Instants are stored as UTC epoch seconds and
come back as aware UTC datetimes (whole seconds); days are Paris-local dates.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import gc
import json
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Executable,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    extract,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.dml import Insert

from app.domain import (
    Address,
    CallRecord,
    Contract,
    DailyEnergy,
    DailySource,
    DataKind,
    DateRange,
    Direction,
    EcoWattDay,
    IntervalReading,
    MaxPower,
    Offer,
    OffpeakRange,
    PricingOption,
    SyncPhase,
    SyncProgress,
    TempoColor,
    TempoDay,
    UsagePoint,
    merge_date_ranges,
)
from app.hourly_energy import complete_readings, complete_rows
from app.store import migrate
from app.store.engine import SQLITE_BEGIN_OPTION, create_engine, normalise_database_url, sqlite_path
from app.store.tables import (
    DATA_TABLES,
    address,
    contract,
    daily_energy,
    ecowatt_day,
    fetch_state,
    gateway_call,
    interval_reading,
    max_power,
    metadata,
    offer,
    setting,
    sync_coverage,
    sync_progress,
    tempo_day,
    usage_point,
)
from app.tariff_rules import parse_offpeak_text
from app.timeline import PARIS, day_length_minutes, day_start_utc

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql

UTC = dt.UTC
BATCH = 5_000  # rows per executemany call
SHARED = ""  # usage_point_id of shared kinds (Tempo) in sync_coverage / fetch_state
_ONE_DAY = dt.timedelta(days=1)
_METER = DailySource.METER.value
_CURVE = DailySource.CURVE.value

CURVE_COLUMNS = ("usage_point_id", "direction", "start_ts", "minutes", "average_w", "local_day")
CURVE_UPDATE = ("minutes", "average_w", "local_day")

Bucket = Literal["hour", "day", "month", "year"]
DayBucket = Literal["day", "month", "year"]


class Store:
    """Async repository over one database (SQLite, PostgreSQL or MariaDB/MySQL)."""

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

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    async def open(cls, database_url: str | None, *, data_dir: Path) -> Store:
        """Open (and create or migrate to head) the database at `database_url` (default: SQLite in
        `data_dir`). An existing SQLite file is backed up before its schema changes."""
        url = normalise_database_url(database_url, data_dir)
        path = sqlite_path(url)
        if path is not None:
            await migrate.prepare_sqlite_file(path)
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine)

    async def close(self) -> None:
        await self._engine.dispose()

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
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        async with self._write_lock, self._writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
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
    async def _execute_many(conn: AsyncConnection, statement: Executable, rows: Sequence[Any]) -> None:
        for index in range(0, len(rows), BATCH):
            await conn.execute(statement, list(rows[index : index + BATCH]))

    async def _upsert_rows(
        self, conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]], update: Sequence[str]
    ) -> None:
        if rows:
            await self._execute_many(conn, self._upsert(table, update), rows)

    async def _upsert_tuples(
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
            await self._upsert_rows(conn, table, dicts, update)

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

    # ------------------------------------------------------------------ usage points, contract, address

    async def save_usage_points(self, points: Sequence[UsagePoint]) -> None:
        rows = {
            p.usage_point_id: _fit(
                usage_point,
                {
                    "usage_point_id": p.usage_point_id,
                    "name": p.name,
                    "subscribed_power_kva": p.subscribed_power_kva,
                    "pricing_option": PricingOption(p.pricing_option).value,
                    "offpeak_hours": _offpeak_text(p.offpeak_hours),
                    "has_consumption": p.has_consumption,
                    "has_production": p.has_production,
                    "is_active": p.is_active,
                    "activation_date": p.activation_date,
                    "oldest_available_data_date": p.oldest_available_data_date,
                    "linked_production_pdl_id": p.linked_production_pdl_id,
                },
            )
            for p in points
        }
        async with self._write() as conn:
            await self._upsert_rows(conn, usage_point, list(rows.values()), _non_key(usage_point))

    async def usage_points(self) -> list[UsagePoint]:
        async with self._read() as conn:
            result = await conn.execute(select(usage_point).order_by(usage_point.c.usage_point_id))
            return [
                UsagePoint(
                    usage_point_id=row.usage_point_id,
                    name=row.name,
                    subscribed_power_kva=row.subscribed_power_kva,
                    pricing_option=_pricing_option(row.pricing_option),
                    offpeak_hours=_parse_offpeak(row.offpeak_hours),
                    has_consumption=bool(row.has_consumption),
                    has_production=bool(row.has_production),
                    is_active=bool(row.is_active),
                    activation_date=row.activation_date,
                    oldest_available_data_date=row.oldest_available_data_date,
                    linked_production_pdl_id=row.linked_production_pdl_id,
                )
                for row in result
            ]

    async def save_contract(self, contract: Contract) -> None:
        row = {
            "usage_point_id": contract.usage_point_id,
            "segment": contract.segment,
            "subscribed_power_kva": contract.subscribed_power_kva,
            "distribution_tariff": contract.distribution_tariff,
            "offpeak_hours": _offpeak_text(contract.offpeak_hours),
            "last_activation_date": contract.last_activation_date,
            "last_distribution_tariff_change_date": contract.last_distribution_tariff_change_date,
            "contract_status": contract.contract_status,
            "meter_type": contract.meter_type,
            "usage_point_status": contract.usage_point_status,
        }
        async with self._write() as conn:
            await self._upsert_rows(
                conn, _contract_table, [_fit(_contract_table, row)], _non_key(_contract_table)
            )

    async def contract(self, usage_point_id: str) -> Contract | None:
        found = await self._contracts(_contract_table.c.usage_point_id == usage_point_id)
        return found.get(usage_point_id)

    async def contracts(self) -> dict[str, Contract]:
        return await self._contracts(None)

    async def _contracts(self, where: ColumnElement[bool] | None) -> dict[str, Contract]:
        query = select(_contract_table).order_by(_contract_table.c.usage_point_id)
        if where is not None:
            query = query.where(where)
        async with self._read() as conn:
            result = await conn.execute(query)
            return {
                row.usage_point_id: Contract(
                    usage_point_id=row.usage_point_id,
                    segment=row.segment,
                    subscribed_power_kva=row.subscribed_power_kva,
                    distribution_tariff=row.distribution_tariff,
                    offpeak_hours=_parse_offpeak(row.offpeak_hours),
                    last_activation_date=row.last_activation_date,
                    last_distribution_tariff_change_date=row.last_distribution_tariff_change_date,
                    contract_status=row.contract_status,
                    meter_type=row.meter_type,
                    usage_point_status=row.usage_point_status,
                )
                for row in result
            }

    async def save_address(self, address: Address) -> None:
        row = {
            "usage_point_id": address.usage_point_id,
            "street": address.street,
            "locality": address.locality,
            "postal_code": address.postal_code,
            "insee_code": address.insee_code,
            "city": address.city,
            "country": address.country,
        }
        async with self._write() as conn:
            await self._upsert_rows(
                conn, _address_table, [_fit(_address_table, row)], _non_key(_address_table)
            )

    async def address(self, usage_point_id: str) -> Address | None:
        async with self._read() as conn:
            result = await conn.execute(
                select(_address_table).where(_address_table.c.usage_point_id == usage_point_id)
            )
            row = result.first()
        if row is None:
            return None
        return Address(
            usage_point_id=row.usage_point_id,
            street=row.street,
            locality=row.locality,
            postal_code=row.postal_code,
            insee_code=row.insee_code,
            city=row.city,
            country=row.country,
        )

    # ------------------------------------------------------------------ ranged data (rows + coverage)

    async def save_daily(
        self,
        usage_point_id: str,
        direction: Direction,
        rows: Sequence[DailyEnergy],
        covered: Sequence[DateRange],
    ) -> None:
        """Upsert daily totals. METER rows always overwrite; CURVE rows never overwrite a METER row."""
        by_day: dict[dt.date, dict[str, Any]] = {}
        for row in rows:
            _check_owner(row.usage_point_id, row.direction, usage_point_id, direction)
            by_day[row.day] = {
                "usage_point_id": usage_point_id,
                "direction": direction.value,
                "day": row.day,
                "wh": int(row.wh),
                "source": DailySource(row.source).value,
                "complete": bool(row.complete),
            }
        async with self._write() as conn:
            curve_days = [day for day, values in by_day.items() if values["source"] == _CURVE]
            if curve_days:
                first, last = min(curve_days), max(curve_days)
                meter = await self._meter_days(conn, usage_point_id, direction, first, last)
                for day in meter.intersection(curve_days):
                    del by_day[day]
            await self._upsert_rows(conn, daily_energy, list(by_day.values()), ("wh", "source", "complete"))
            await self._merge_coverage(conn, usage_point_id, DataKind.daily(direction), covered)

    async def save_curve(
        self,
        usage_point_id: str,
        direction: Direction,
        readings: Sequence[IntervalReading],
        covered: Sequence[DateRange],
    ) -> None:
        """Upsert load-curve readings, then refresh the CURVE daily totals of the days they touch."""
        iso_days = self._dialect == "sqlite"
        with _gc_paused():
            rows, touched = _curve_rows(usage_point_id, direction, readings, iso_days=iso_days)
            async with self._write() as conn:
                await self._upsert_tuples(conn, interval_reading, CURVE_COLUMNS, CURVE_UPDATE, rows)
                if touched:
                    await self._derive_daily(conn, usage_point_id, direction, touched)
                await self._merge_coverage(conn, usage_point_id, DataKind.curve(direction), covered)

    async def _meter_days(
        self, conn: AsyncConnection, usage_point_id: str, direction: Direction, first: dt.date, last: dt.date
    ) -> set[dt.date]:
        result = await conn.execute(
            select(daily_energy.c.day).where(
                daily_energy.c.usage_point_id == usage_point_id,
                daily_energy.c.direction == direction.value,
                daily_energy.c.day >= first,
                daily_energy.c.day <= last,
                daily_energy.c.source == _METER,
            )
        )
        return set(result.scalars())

    async def _derive_daily(
        self, conn: AsyncConnection, usage_point_id: str, direction: Direction, touched: set[dt.date]
    ) -> None:
        first, last = min(touched), max(touched)
        ir = interval_reading
        energy = func.sum(cast(ir.c.average_w, BigInteger) * ir.c.minutes)  # W x min; NULLs ignored
        minutes = func.sum(case((ir.c.average_w.is_(None), 0), else_=ir.c.minutes))
        sums = await conn.execute(
            select(ir.c.local_day, energy, minutes)
            .where(
                ir.c.usage_point_id == usage_point_id,
                ir.c.direction == direction.value,
                ir.c.start_ts >= _epoch(day_start_utc(first)),
                ir.c.start_ts < _epoch(day_start_utc(last + _ONE_DAY)),
            )
            .group_by(ir.c.local_day)
        )
        per_day = sums.all()
        meter = await self._meter_days(conn, usage_point_id, direction, first, last)
        derived = []
        for day, watt_minutes, known_minutes in per_day:
            if day not in touched or day in meter:
                continue
            derived.append(
                {
                    "usage_point_id": usage_point_id,
                    "direction": direction.value,
                    "day": day,
                    "wh": round(int(watt_minutes or 0) / 60),
                    "source": _CURVE,
                    "complete": int(known_minutes or 0) == day_length_minutes(day),
                }
            )
        await self._upsert_rows(conn, daily_energy, derived, ("wh", "source", "complete"))

    async def save_max_power(
        self, usage_point_id: str, rows: Sequence[MaxPower], covered: Sequence[DateRange]
    ) -> None:
        by_day: dict[dt.date, dict[str, Any]] = {}
        for row in rows:
            if row.usage_point_id != usage_point_id:
                raise ValueError(f"max power of {row.usage_point_id} saved under {usage_point_id}")
            by_day[row.day] = {
                "usage_point_id": usage_point_id,
                "day": row.day,
                "va": int(row.va),
                "at_ts": None if row.at is None else _epoch(row.at),
            }
        async with self._write() as conn:
            await self._upsert_rows(conn, max_power, list(by_day.values()), ("va", "at_ts"))
            await self._merge_coverage(conn, usage_point_id, DataKind.MAX_POWER, covered)

    async def save_tempo(self, days: Sequence[TempoDay], covered: Sequence[DateRange]) -> None:
        rows = {d.day: {"day": d.day, "color": TempoColor(d.color).value} for d in days}
        async with self._write() as conn:
            await self._upsert_rows(conn, tempo_day, list(rows.values()), ("color",))
            await self._merge_coverage(conn, SHARED, DataKind.TEMPO, covered)

    async def save_ecowatt(self, days: Sequence[EcoWattDay]) -> None:
        rows = {
            d.day: {
                "day": d.day,
                "level": int(d.level),
                "message": d.message,
                "hourly": json.dumps([int(v) for v in d.hourly]),
                "generated_at": None if d.generated_at is None else _epoch(d.generated_at),
            }
            for d in days
        }
        async with self._write() as conn:
            await self._upsert_rows(conn, ecowatt_day, list(rows.values()), _non_key(ecowatt_day))

    async def save_offers(self, offers: Sequence[Offer], *, source: str) -> None:
        """Replace the offers of `source` (the stored offers' `source` is this argument)."""
        wanted: dict[tuple[Any, ...], dict[str, Any]] = {}
        for item in offers:
            row = {
                "source": source,
                "provider": item.provider,
                "name": item.name,
                "option": PricingOption(item.option).value,
                "power_kva": int(item.power_kva),
                "valid_from": item.valid_from,
                "valid_to": item.valid_to,
                "subscription": _decimal_text(item.subscription_eur_month),
                "prices": json.dumps([[bucket, _decimal_text(p)] for bucket, p in item.prices_eur_kwh]),
                "offpeak": _offpeak_text(item.offpeak_hours),
            }
            wanted[tuple(row[c.name] for c in offer.primary_key.columns)] = row
        columns = [c.name for c in offer.columns]
        async with self._write() as conn:
            result = await conn.execute(select(offer).where(offer.c.source == source))
            stored = {tuple(row._mapping[name] for name in columns) for row in result}
            if stored == {tuple(row[name] for name in columns) for row in wanted.values()}:
                return
            await conn.execute(delete(offer).where(offer.c.source == source))
            if wanted:
                await self._execute_many(conn, insert(offer), list(wanted.values()))

    # ------------------------------------------------------------------ fetch state

    async def mark_fetched(self, usage_point_id: str, kind: DataKind, at: dt.datetime) -> None:
        row = {
            "usage_point_id": usage_point_id,
            "kind": DataKind(kind).value,
            "last_fetched_at": _epoch(at),
            "disabled": False,
            "disabled_reason": None,
        }
        async with self._write() as conn:
            await self._upsert_rows(conn, fetch_state, [row], ("last_fetched_at",))

    async def set_disabled(self, usage_point_id: str, kind: DataKind, reason: str | None) -> None:
        """Disable fetching `kind` for a usage point with a reason; None re-enables it."""
        row = {
            "usage_point_id": usage_point_id,
            "kind": DataKind(kind).value,
            "last_fetched_at": None,
            "disabled": reason is not None,
            "disabled_reason": reason,
        }
        async with self._write() as conn:
            await self._upsert_rows(
                conn, fetch_state, [_fit(fetch_state, row)], ("disabled", "disabled_reason")
            )

    async def fetch_state(self) -> dict[tuple[str, DataKind], tuple[dt.datetime | None, str | None]]:
        """(usage point, kind) -> (last fetched at, disabled reason or None when enabled)."""
        async with self._read() as conn:
            result = await conn.execute(select(fetch_state))
            state: dict[tuple[str, DataKind], tuple[dt.datetime | None, str | None]] = {}
            for row in result:
                kind = _data_kind(row.kind)
                if kind is None:
                    continue
                reason = (row.disabled_reason or "") if row.disabled else None
                state[(row.usage_point_id, kind)] = (_instant(row.last_fetched_at), reason)
            return state

    # ------------------------------------------------------------------ coverage

    async def _merge_coverage(
        self, conn: AsyncConnection, usage_point_id: str, kind: DataKind, covered: Sequence[DateRange]
    ) -> None:
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

    async def coverage(self, usage_point_id: str, kind: DataKind) -> list[DateRange]:
        async with self._read() as conn:
            result = await conn.execute(
                select(sync_coverage.c.first_day, sync_coverage.c.last_day)
                .where(sync_coverage.c.usage_point_id == usage_point_id, sync_coverage.c.kind == kind.value)
                .order_by(sync_coverage.c.first_day)
            )
            return merge_date_ranges(DateRange(first, last) for first, last in result)

    async def all_coverage(self) -> dict[tuple[str, DataKind], list[DateRange]]:
        async with self._read() as conn:
            result = await conn.execute(
                select(
                    sync_coverage.c.usage_point_id,
                    sync_coverage.c.kind,
                    sync_coverage.c.first_day,
                    sync_coverage.c.last_day,
                )
            )
            grouped: dict[tuple[str, DataKind], list[DateRange]] = {}
            for pdl, kind_text, first, last in result:
                kind = _data_kind(kind_text)
                if kind is not None:
                    grouped.setdefault((pdl, kind), []).append(DateRange(first, last))
        return {key: merge_date_ranges(ranges) for key, ranges in sorted(grouped.items())}

    # ------------------------------------------------------------------ reads

    async def daily(
        self, usage_point_id: str, direction: Direction, first: dt.date, last: dt.date
    ) -> list[DailyEnergy]:
        de = daily_energy
        async with self._read() as conn:
            result = await conn.execute(
                select(de.c.day, de.c.wh, de.c.source, de.c.complete)
                .where(
                    de.c.usage_point_id == usage_point_id,
                    de.c.direction == direction.value,
                    de.c.day >= first,
                    de.c.day <= last,
                )
                .order_by(de.c.day)
            )
            return [
                DailyEnergy(usage_point_id, direction, day, int(wh), DailySource(source), bool(complete))
                for day, wh, source, complete in result
            ]

    async def intervals(
        self, usage_point_id: str, direction: Direction, start: dt.datetime, end: dt.datetime
    ) -> list[IntervalReading]:
        """Readings starting in [start, end), sorted by start."""
        ir = interval_reading
        query = (
            select(ir.c.start_ts, ir.c.minutes, ir.c.average_w)
            .where(
                ir.c.usage_point_id == usage_point_id,
                ir.c.direction == direction.value,
                ir.c.start_ts >= _epoch_ceil(start),
                ir.c.start_ts < _epoch_ceil(end),
            )
            .order_by(ir.c.start_ts)
        )
        with _gc_paused():
            async with self._read() as conn:
                rows = (await conn.execute(query)).all()
            return _make_readings(usage_point_id, direction, rows)

    async def interval_values(
        self, usage_point_id: str, direction: Direction, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[int, int, int | None]]:
        """Raw (start epoch seconds, minutes, average W) rows starting in [start, end), sorted: the fast
        path for charts (a plain statement and tuples, no objects: a year of half-hours in tens of ms)."""
        params = {
            "pdl": usage_point_id,
            "direction": direction.value,
            "start": _epoch_ceil(start),
            "end": _epoch_ceil(end),
        }
        with _gc_paused():  # 17,520 rows a year: no collector pass over a big heap in the middle
            async with self._read() as conn:
                rows = (await conn.execute(_INTERVAL_VALUES, params)).all()
        # Integer columns come back as ints from every driver: no per-row conversion (a third of the time).
        return _as_int_rows(rows)

    async def interval_columns(
        self, usage_point_id: str, direction: Direction, start: dt.datetime, end: dt.datetime
    ) -> tuple[list[int], list[int], list[int | None]]:
        """`interval_values` as three columns (start epochs, minutes, average W), for the load-curve chart.

        The rows are turned into columns and dropped while the collector is still paused: a year of
        half-hours then leaves three lists behind instead of 17,520 tracked rows, whose allocation count
        made the collector walk the whole heap right after the read (+50 ms at random)."""
        params = {
            "pdl": usage_point_id,
            "direction": direction.value,
            "start": _epoch_ceil(start),
            "end": _epoch_ceil(end),
        }
        with _gc_paused():
            async with self._read() as conn:
                rows = (await conn.execute(_INTERVAL_VALUES, params)).all()
            if not rows:
                return [], [], []
            epochs, minutes, watts = zip(*rows, strict=True)
            del rows
            return list(epochs), list(minutes), list(watts)

    # ------------------------------------------------------------------ the meter's daily total wins

    async def meter_daily_wh(
        self, usage_point_id: str, direction: Direction, first: dt.date, last: dt.date
    ) -> dict[dt.date, int]:
        """The meter's own daily values (not those derived from the curve) over [first, last]."""
        de = daily_energy
        async with self._read() as conn:
            result = await conn.execute(
                select(de.c.day, de.c.wh).where(
                    de.c.usage_point_id == usage_point_id,
                    de.c.direction == direction.value,
                    de.c.day >= first,
                    de.c.day <= last,
                    de.c.source == _METER,
                )
            )
            return {day: int(wh) for day, wh in result}

    async def _meter_for(
        self, usage_point_id: str, direction: Direction, start: dt.datetime, end: dt.datetime
    ) -> tuple[dict[dt.date, int], list[dt.date]]:
        """The meter's values of the whole Paris days inside [start, end), and those days."""
        first = start.astimezone(PARIS).date()
        if day_start_utc(first) < start:
            first += _ONE_DAY
        last = end.astimezone(PARIS).date() - _ONE_DAY
        if day_start_utc(last + _ONE_DAY) > end:
            last -= _ONE_DAY
        if last < first:
            return {}, []
        days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        return await self.meter_daily_wh(usage_point_id, direction, first, last), days

    async def completed_interval_values(
        self, usage_point_id: str, direction: Direction, start: dt.datetime, end: dt.datetime
    ) -> tuple[list[tuple[int, int, int | None]], frozenset[dt.date]]:
        """`interval_values` with the days the meter's value exceeds completed (app/hourly_energy.py),
        and those estimated days."""
        rows = await self.interval_values(usage_point_id, direction, start, end)
        meter, days = await self._meter_for(usage_point_id, direction, start, end)
        completion = complete_rows(rows, meter, days=days)
        return completion.rows, completion.estimated

    async def completed_intervals(
        self, usage_point_id: str, direction: Direction, start: dt.datetime, end: dt.datetime
    ) -> list[IntervalReading]:
        """`intervals` with the days the meter's value exceeds completed (app/hourly_energy.py): what every
        consumer of hourly energy reads."""
        readings = await self.intervals(usage_point_id, direction, start, end)
        meter, days = await self._meter_for(usage_point_id, direction, start, end)
        completed, _ = complete_readings(
            readings, meter, usage_point_id=usage_point_id, direction=direction, days=days
        )
        return completed

    async def estimated_days(
        self, usage_point_id: str, direction: Direction, first: dt.date, last: dt.date
    ) -> frozenset[dt.date]:
        """The Paris days of [first, last] whose hours are completed from the meter's value."""
        _, estimated = await self.completed_interval_values(
            usage_point_id, direction, day_start_utc(first), day_start_utc(last + _ONE_DAY)
        )
        return estimated

    async def max_power(self, usage_point_id: str, first: dt.date, last: dt.date) -> list[MaxPower]:
        async with self._read() as conn:
            result = await conn.execute(
                select(max_power.c.day, max_power.c.va, max_power.c.at_ts)
                .where(
                    max_power.c.usage_point_id == usage_point_id,
                    max_power.c.day >= first,
                    max_power.c.day <= last,
                )
                .order_by(max_power.c.day)
            )
            return [MaxPower(usage_point_id, day, int(va), _instant(at)) for day, va, at in result]

    async def tempo(self, first: dt.date, last: dt.date) -> list[TempoDay]:
        async with self._read() as conn:
            result = await conn.execute(
                select(tempo_day.c.day, tempo_day.c.color)
                .where(tempo_day.c.day >= first, tempo_day.c.day <= last)
                .order_by(tempo_day.c.day)
            )
            return [TempoDay(day, TempoColor(color)) for day, color in result]

    async def ecowatt(self, first: dt.date, last: dt.date) -> list[EcoWattDay]:
        async with self._read() as conn:
            result = await conn.execute(
                select(ecowatt_day)
                .where(ecowatt_day.c.day >= first, ecowatt_day.c.day <= last)
                .order_by(ecowatt_day.c.day)
            )
            return [
                EcoWattDay(
                    day=row.day,
                    level=int(row.level),
                    message=row.message,
                    hourly=tuple(int(v) for v in json.loads(row.hourly)),
                    generated_at=_instant(row.generated_at),
                )
                for row in result
            ]

    async def offers(self) -> list[Offer]:
        async with self._read() as conn:
            result = await conn.execute(select(offer))
            found = [
                Offer(
                    provider=row.provider,
                    name=row.name,
                    option=_pricing_option(row.option),
                    power_kva=int(row.power_kva),
                    subscription_eur_month=Decimal(row.subscription),
                    prices_eur_kwh=_parse_prices(row.prices),
                    valid_from=row.valid_from,
                    valid_to=row.valid_to,
                    offpeak_hours=_parse_offpeak(row.offpeak),
                    source=row.source,
                )
                for row in result
            ]
        return sorted(
            found, key=lambda o: (o.provider, o.name, o.option.value, o.power_kva, o.valid_from, o.source)
        )

    # ------------------------------------------------------------------ aggregates (in SQL)

    async def curve_energy(
        self,
        usage_point_id: str,
        direction: Direction,
        bucket: Bucket,
        first: dt.date,
        last: dt.date,
    ) -> list[tuple[dt.datetime | dt.date, float]]:
        """Energy in Wh of the stored load curve over the Paris days [first, last], per hour (key: aware
        UTC start of the hour), day (Paris date), month (its first day) or year (Jan 1). Missing slots
        are ignored; buckets with no known slot are absent."""
        ir = interval_reading
        watt_minutes = func.sum(cast(ir.c.average_w, BigInteger) * ir.c.minutes)
        keys: list[ColumnElement[Any]]
        if bucket == "hour":
            keys = [(ir.c.start_ts - ir.c.start_ts % 3600).label("hour_ts")]
        elif bucket == "day":
            keys = [ir.c.local_day]
        elif bucket == "month":
            keys = [extract("year", ir.c.local_day).label("y"), extract("month", ir.c.local_day).label("m")]
        elif bucket == "year":
            keys = [extract("year", ir.c.local_day).label("y")]
        else:
            raise ValueError(f"unknown bucket {bucket!r}")
        query = (
            select(*keys, watt_minutes)
            .where(
                ir.c.usage_point_id == usage_point_id,
                ir.c.direction == direction.value,
                ir.c.start_ts >= _epoch(day_start_utc(first)),
                ir.c.start_ts < _epoch(day_start_utc(last + _ONE_DAY)),
                ir.c.average_w.is_not(None),
            )
            .group_by(*keys)
        )
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        out: list[tuple[dt.datetime | dt.date, float]] = []
        for row in rows:
            *key, total = row
            out.append((_bucket_key(bucket, key), int(total) / 60))
        out.sort(key=lambda item: _sort_key(item[0]))
        return out

    async def offpeak_energy(
        self,
        usage_point_id: str,
        direction: Direction,
        windows: Sequence[tuple[int, int]],
        first: dt.date,
        last: dt.date,
    ) -> dict[dt.date, tuple[float, float]]:
        """Energy (Wh) of the stored load curve per Paris day over [first, last], split into (outside,
        inside) the local time-of-day windows given in seconds since local midnight ([start, end), end <=
        start crosses midnight). Classified in SQL with the Paris UTC offset of each slot (DST exact)."""
        ir = interval_reading
        start, end = day_start_utc(first), day_start_utc(last + _ONE_DAY)
        ts = ir.c.start_ts
        segments = _offset_segments(start, end)
        offset: ColumnElement[Any] = literal_column(str(segments[-1][2]))
        if len(segments) > 1:
            offset = case(
                *(
                    (
                        and_(ts >= literal_column(str(a)), ts < literal_column(str(b))),
                        literal_column(str(off)),
                    )
                    for a, b, off in segments[:-1]
                ),
                else_=literal_column(str(segments[-1][2])),
            )
        second_of_day = (ts + offset) % literal_column("86400")
        conditions = []
        for low, high in windows:
            low_c: ColumnElement[Any] = literal_column(str(int(low)))
            high_c: ColumnElement[Any] = literal_column(str(int(high)))
            if low < high:
                conditions.append(and_(second_of_day >= low_c, second_of_day < high_c))
            else:
                conditions.append(or_(second_of_day >= low_c, second_of_day < high_c))
        inside: ColumnElement[Any] = (
            case((or_(*conditions), literal_column("1")), else_=literal_column("0"))
            if conditions
            else literal_column("0")
        )
        flag = inside.label("inside")
        query = (
            select(ir.c.local_day, flag, func.sum(cast(ir.c.average_w, BigInteger) * ir.c.minutes))
            .where(
                ir.c.usage_point_id == usage_point_id,
                ir.c.direction == direction.value,
                ts >= _epoch(start),
                ts < _epoch(end),
                ir.c.average_w.is_not(None),
            )
            .group_by(ir.c.local_day, *((inside,) if conditions else ()))  # a constant is no GROUP BY term
        )
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        out: dict[dt.date, list[float]] = {}
        for day_value, is_inside, watt_minutes in rows:
            day = _bucket_key("day", [day_value])
            assert isinstance(day, dt.date)
            out.setdefault(day, [0.0, 0.0])[1 if int(is_inside) else 0] += int(watt_minutes) / 60
        return {day: (values[0], values[1]) for day, values in sorted(out.items())}

    async def daily_energy(
        self,
        usage_point_id: str,
        direction: Direction,
        bucket: DayBucket,
        first: dt.date,
        last: dt.date,
    ) -> list[tuple[dt.date, int]]:
        """Sum of stored daily totals (Wh) over [first, last] per day, month (first day) or year (Jan 1)."""
        de = daily_energy
        keys: list[ColumnElement[Any]]
        if bucket == "day":
            keys = [de.c.day]
        elif bucket == "month":
            keys = [extract("year", de.c.day).label("y"), extract("month", de.c.day).label("m")]
        elif bucket == "year":
            keys = [extract("year", de.c.day).label("y")]
        else:
            raise ValueError(f"unknown bucket {bucket!r}")
        query = (
            select(*keys, func.sum(de.c.wh))
            .where(
                de.c.usage_point_id == usage_point_id,
                de.c.direction == direction.value,
                de.c.day >= first,
                de.c.day <= last,
            )
            .group_by(*keys)
        )
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        out: list[tuple[dt.date, int]] = []
        for row in rows:
            *key, total = row
            day_key = _bucket_key(bucket, key)
            assert isinstance(day_key, dt.date)
            out.append((day_key, int(total)))
        out.sort()
        return out

    # ------------------------------------------------------------------ calls, progress, settings

    async def record_calls(self, calls: Sequence[CallRecord]) -> None:
        if not calls:
            return
        rows = [
            _fit(
                gateway_call,
                {
                    "at_ts": _epoch(call.at),
                    "route": call.route,
                    "usage_point_id": call.usage_point_id,
                    "status": call.status,
                    "outcome": call.outcome,
                    "counts_against_quota": bool(call.counts_against_quota),
                },
            )
            for call in calls
        ]
        async with self._write() as conn:
            await self._execute_many(conn, insert(gateway_call), rows)

    async def quota_calls_on(self, utc_day: dt.date) -> int:
        """How many recorded calls counting against the quota were sent on that UTC day."""
        start = _epoch(dt.datetime(utc_day.year, utc_day.month, utc_day.day, tzinfo=UTC))
        async with self._read() as conn:
            result = await conn.execute(
                select(func.count())
                .select_from(gateway_call)
                .where(
                    gateway_call.c.at_ts >= start,
                    gateway_call.c.at_ts < start + 86_400,
                    gateway_call.c.counts_against_quota,
                )
            )
            return int(result.scalar_one())

    async def save_progress(self, progress: SyncProgress) -> None:
        row = {
            "usage_point_id": progress.usage_point_id,
            "phase": SyncPhase(progress.phase).value,
            "done": int(progress.done),
            "total": int(progress.total),
            "step": progress.step,
            "last_success": None if progress.last_success is None else _epoch(progress.last_success),
            "last_error_code": progress.last_error_code,
            "last_error_message": progress.last_error_message,
            "updated_at": None if progress.updated_at is None else _epoch(progress.updated_at),
        }
        async with self._write() as conn:
            await self._upsert_rows(conn, sync_progress, [_fit(sync_progress, row)], _non_key(sync_progress))

    async def progress(self) -> list[SyncProgress]:
        async with self._read() as conn:
            result = await conn.execute(select(sync_progress).order_by(sync_progress.c.usage_point_id))
            return [
                SyncProgress(
                    usage_point_id=row.usage_point_id,
                    phase=_sync_phase(row.phase),
                    done=int(row.done),
                    total=int(row.total),
                    step=row.step,
                    last_success=_instant(row.last_success),
                    last_error_code=row.last_error_code,
                    last_error_message=row.last_error_message,
                    updated_at=_instant(row.updated_at),
                )
                for row in result
            ]

    async def get_setting(self, key: str) -> Any | None:
        async with self._read() as conn:
            result = await conn.execute(select(setting.c.value).where(setting.c.key == key))
            text = result.scalar_one_or_none()
        return None if text is None else json.loads(text)

    async def set_setting(self, key: str, value: Any) -> None:
        row = {"key": key, "value": json.dumps(value, sort_keys=True, separators=(",", ":"))}
        async with self._write() as conn:
            await self._upsert_rows(conn, setting, [row], ("value",))

    # ------------------------------------------------------------------ inspection

    async def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every data table's rows as sorted plain tuples (dates/datetimes as ISO text, decimals as
        text), so that snapshots of SQLite, PostgreSQL and MariaDB stores compare equal."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        async with self._read() as conn:
            for table in DATA_TABLES:
                result = await conn.execute(select(table))
                rows = [tuple(_plain(value) for value in row) for row in result]
                rows.sort(key=_row_sort_key)
                out[table.name] = rows
        return out

    async def row_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        async with self._read() as conn:
            for table in metadata.sorted_tables:
                result = await conn.execute(select(func.count()).select_from(table))
                out[table.name] = int(result.scalar_one())
        return out


# ---------------------------------------------------------------------- helpers

# Aliases: the methods `contract` and `address` shadow the table names inside the class body.
_contract_table = contract
_address_table = address


_INTERVAL_VALUES = text(
    "SELECT start_ts, minutes, average_w FROM interval_reading WHERE usage_point_id = :pdl"
    " AND direction = :direction AND start_ts >= :start AND start_ts < :end ORDER BY start_ts"
)


def _as_int_rows(rows: Sequence[Any]) -> list[tuple[int, int, int | None]]:
    return rows  # type: ignore[return-value]  # Row objects are tuples of the integer columns


def _offset_segments(start: dt.datetime, end: dt.datetime) -> list[tuple[int, int, int]]:
    """[start, end) cut where the Paris UTC offset changes: (first epoch, end epoch, offset seconds)."""

    def offset_at(epoch: int) -> int:
        delta = dt.datetime.fromtimestamp(epoch, UTC).astimezone(PARIS).utcoffset()
        return int(delta.total_seconds()) if delta else 0

    first, stop = _epoch(start), _epoch(end)
    segments: list[tuple[int, int, int]] = []
    seg_start, current = first, offset_at(first)
    hour = first - first % 3600
    day = 86400
    while hour < stop:
        following = min(hour + day, stop)
        if offset_at(following - 1) != current:  # a change within this day: find its hour
            probe = hour
            while probe < following and offset_at(probe) == current:
                probe += 3600
            segments.append((seg_start, probe, current))
            seg_start, current = probe, offset_at(probe)
        hour = following
    segments.append((seg_start, stop, current))
    return segments


def _fit(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """Clip free text to its column's length, so that a long name or message is stored the same way on
    every database (SQLite would keep it whole, PostgreSQL and MariaDB would refuse the row)."""
    for name, limit in _text_limits(table):
        value = row.get(name)
        if isinstance(value, str) and len(value) > limit:
            row[name] = value[:limit]
    return row


@functools.cache
def _text_limits(table: Table) -> tuple[tuple[str, int], ...]:
    keys = {c.name for c in table.primary_key.columns}
    return tuple(
        (c.name, c.type.length)
        for c in table.columns
        if c.name not in keys and isinstance(c.type, String) and c.type.length is not None
    )


def _non_key(table: Table) -> tuple[str, ...]:
    keys = {c.name for c in table.primary_key.columns}
    return tuple(c.name for c in table.columns if c.name not in keys)


def _check_owner(row_pdl: str, row_direction: Direction, pdl: str, direction: Direction) -> None:
    if row_pdl != pdl or row_direction != direction:
        raise ValueError(f"a {row_direction} row of {row_pdl} saved under {direction} of {pdl}")


def _epoch(instant: dt.datetime) -> int:
    """UTC epoch seconds of an aware instant (floored to the second)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant!r}: instants must be timezone-aware")
    seconds = instant.timestamp()
    whole = int(seconds)
    return whole - 1 if whole > seconds else whole


def _epoch_ceil(instant: dt.datetime) -> int:
    """Smallest whole second >= instant (bounds of [start, end) queries)."""
    floor = _epoch(instant)
    return floor + 1 if instant.microsecond else floor


def _instant(seconds: int | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(int(seconds), UTC)


_gc_pause_depth = 0
_gc_was_enabled = False


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around one bulk read or write (awaits included).

    Fetching or ingesting tens of thousands of rows allocates as many tuples and readings; each
    allocation burst otherwise triggers collections that walk the whole heap, which made a one-year read
    take 2-4 times longer at random (p90 ~100 ms instead of ~35 ms). Reference counting still frees
    everything; the collector runs again as soon as the outermost pause ends. Nesting and concurrent
    tasks (one event loop thread) are handled with a depth counter.
    """
    global _gc_pause_depth, _gc_was_enabled
    if _gc_pause_depth == 0:
        _gc_was_enabled = gc.isenabled()
        gc.disable()
    _gc_pause_depth += 1
    try:
        yield
    finally:
        _gc_pause_depth -= 1
        if _gc_pause_depth == 0 and _gc_was_enabled:
            gc.enable()


def _curve_rows(
    usage_point_id: str, direction: Direction, readings: Sequence[IntervalReading], *, iso_days: bool
) -> tuple[list[tuple[Any, ...]], set[dt.date]]:
    """Rows of interval_reading in `CURVE_COLUMNS` order (deduplicated by start, last wins) and the
    Paris days they touch. With `iso_days`, local_day is given as ISO text (SQLite's DATE storage)."""
    direction_text = direction.value
    by_start: dict[int, tuple[Any, ...]] = {}
    touched: set[dt.date] = set()
    # The Paris day of the current reading's start, as [day_lo, day_hi) in epoch seconds: readings come
    # sorted, so the day is worked out once per day, not once per reading.
    day_lo = day_hi = 0
    day_value: Any = None
    for reading in readings:
        if reading.usage_point_id != usage_point_id or reading.direction is not direction:
            _check_owner(reading.usage_point_id, reading.direction, usage_point_id, direction)
        start = reading.start
        if start.tzinfo is None:
            raise ValueError(f"naive reading start {start!r}: instants must be timezone-aware")
        seconds = start.timestamp()
        ts = int(seconds)
        if ts > seconds:
            ts -= 1
        if not day_lo <= ts < day_hi:
            day = dt.datetime.fromtimestamp(ts, PARIS).date()
            day_lo = _epoch(day_start_utc(day))
            day_hi = _epoch(day_start_utc(day + _ONE_DAY))
            touched.add(day)
            day_value = day.isoformat() if iso_days else day
        watts = reading.average_w
        if watts is not None and type(watts) is not int:
            watts = int(watts)
        by_start[ts] = (usage_point_id, direction_text, ts, reading.minutes, watts, day_value)
    return list(by_start.values()), touched


def _make_readings(
    usage_point_id: str, direction: Direction, rows: Iterable[Sequence[Any]]
) -> list[IntervalReading]:
    """IntervalReading objects from (start_ts, minutes, average_w) rows.

    A year of half-hours is 17,520 objects: filling the slots directly is about twice as fast as the
    frozen dataclass's __init__ (which goes through object.__setattr__ per field). Falls back to the
    constructor if the dataclass ever changes shape."""
    fromtimestamp = dt.datetime.fromtimestamp
    if not _FAST_READINGS:
        return [
            IntervalReading(usage_point_id, direction, fromtimestamp(ts, UTC), minutes, watts)
            for ts, minutes, watts in rows
        ]
    new = object.__new__
    cls = IntervalReading
    set_pdl, set_direction, set_start, set_minutes, set_watts = _READING_SETTERS
    out: list[IntervalReading] = []
    append = out.append
    for ts, minutes, watts in rows:
        reading = new(cls)
        set_pdl(reading, usage_point_id)
        set_direction(reading, direction)
        set_start(reading, fromtimestamp(ts, UTC))
        set_minutes(reading, minutes)
        set_watts(reading, watts)
        append(reading)
    return out


_READING_FIELDS = ("usage_point_id", "direction", "start", "minutes", "average_w")
_FAST_READINGS = (
    getattr(IntervalReading, "__slots__", None) == _READING_FIELDS
    and tuple(f.name for f in dataclasses.fields(IntervalReading)) == _READING_FIELDS
)
_READING_SETTERS: tuple[Any, ...] = (
    tuple(getattr(IntervalReading, name).__set__ for name in _READING_FIELDS) if _FAST_READINGS else ()
)


def _offpeak_text(ranges: Sequence[OffpeakRange]) -> str:
    return ";".join(str(r) for r in ranges)


def _parse_offpeak(text: str | None) -> tuple[OffpeakRange, ...]:
    return parse_offpeak_text(text) if text else ()


def _decimal_text(value: Decimal | int | str) -> str:
    number = Decimal(value) if not isinstance(value, Decimal) else value
    if not number.is_finite():
        raise ValueError(f"not a finite price: {value!r}")
    return str(number)


def _parse_prices(text: str) -> tuple[tuple[str, Decimal], ...]:
    return tuple((str(bucket), Decimal(price)) for bucket, price in json.loads(text))


def _pricing_option(text: str) -> PricingOption:
    try:
        return PricingOption(text)
    except ValueError:
        return PricingOption.UNKNOWN


def _sync_phase(text: str) -> SyncPhase:
    try:
        return SyncPhase(text)
    except ValueError:
        return SyncPhase.IDLE


def _data_kind(text: str) -> DataKind | None:
    try:
        return DataKind(text)
    except ValueError:
        return None


def _bucket_key(bucket: str, key: Sequence[Any]) -> dt.datetime | dt.date:
    if bucket == "hour":
        return dt.datetime.fromtimestamp(int(key[0]), UTC)
    if bucket == "day":
        day = key[0]
        return day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
    if bucket == "month":
        return dt.date(int(key[0]), int(key[1]), 1)
    return dt.date(int(key[0]), 1, 1)


def _sort_key(key: dt.datetime | dt.date) -> tuple[int, float]:
    if isinstance(key, dt.datetime):
        return (0, key.timestamp())
    return (1, key.toordinal())


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row_sort_key(row: tuple[Any, ...]) -> tuple[tuple[bool, Any], ...]:
    return tuple((value is None, "" if value is None else value) for value in row)


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
