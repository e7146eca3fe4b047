"""The local store: one `Store` per database, made of rooms that share its connection helpers.

- `store.readings`: daily totals, the load curve, max power (`app/store/readings.py`);
- `store.totals`: energy sums computed in SQL from those readings (`app/store/totals.py`);
- `store.reference`: usage points, contracts, addresses, offers, Tempo, EcoWatt (`app/store/reference.py`);
- `store.bookkeeping`: gateway calls, sync progress, fetch state, coverage (`app/store/bookkeeping.py`);
- `store.settings`: typed settings, the one owner of settings keys (`app/store/settings.py`).

Every `save_*` is one transaction, so a process killed in the middle leaves either the whole answer or
nothing, and saving the same answer twice changes nothing. Instants are stored as UTC epoch seconds and
come back as aware UTC datetimes (whole seconds); days are Paris-local dates.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store import migrate
from app.store.bookkeeping import SyncBookkeeping
from app.store.database import Database
from app.store.engine import create_engine, normalise_database_url, sqlite_path
from app.store.readings import Readings
from app.store.reference import ReferenceData
from app.store.settings import StoredSettings
from app.store.tables import DATA_TABLES, metadata
from app.store.totals import EnergyTotals


class Store(Database):
    """Async repository over one database (SQLite, PostgreSQL or MariaDB/MySQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self.readings = readings = Readings(self)
        self.totals = totals = EnergyTotals(self)
        self.reference = reference = ReferenceData(self)
        self.bookkeeping = bookkeeping = SyncBookkeeping(self)
        self.settings = settings = StoredSettings(self)

        # The flat names the store had before its rooms: each is the room's own method, so existing
        # callers keep working. New code names the room (`store.readings.daily(...)`).
        self.save_daily = readings.save_daily
        self.save_curve = readings.save_curve
        self.save_max_power = readings.save_max_power
        self.daily = readings.daily
        self.intervals = readings.intervals
        self.interval_values = readings.interval_values
        self.interval_columns = readings.interval_columns
        self.meter_daily_wh = readings.meter_daily_wh
        self.completed_interval_values = readings.completed_interval_values
        self.completed_intervals = readings.completed_intervals
        self.estimated_days = readings.estimated_days
        self.max_power = readings.max_power

        self.curve_energy = totals.curve_energy
        self.offpeak_energy = totals.offpeak_energy
        self.daily_energy = totals.daily_energy

        self.save_usage_points = reference.save_usage_points
        self.usage_points = reference.usage_points
        self.save_contract = reference.save_contract
        self.contract = reference.contract
        self.contracts = reference.contracts
        self.save_address = reference.save_address
        self.address = reference.address
        self.save_offers = reference.save_offers
        self.offers = reference.offers
        self.save_tempo = reference.save_tempo
        self.tempo = reference.tempo
        self.save_ecowatt = reference.save_ecowatt
        self.ecowatt = reference.ecowatt

        self.record_calls = bookkeeping.record_calls
        self.quota_calls_on = bookkeeping.quota_calls_on
        self.save_progress = bookkeeping.save_progress
        self.progress = bookkeeping.progress
        self.mark_fetched = bookkeeping.mark_fetched
        self.set_disabled = bookkeeping.set_disabled
        self.fetch_state = bookkeeping.fetch_state
        self.coverage = bookkeeping.coverage
        self.all_coverage = bookkeeping.all_coverage

        self.get_setting = settings.value
        self.set_setting = settings.set_value

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

    # ------------------------------------------------------------------ inspection

    async def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every data table's rows as sorted plain tuples (dates/datetimes as ISO text, decimals as
        text), so that snapshots of SQLite, PostgreSQL and MariaDB stores compare equal."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        async with self.read() as conn:
            for table in DATA_TABLES:
                result = await conn.execute(select(table))
                rows = [tuple(_plain(value) for value in row) for row in result]
                rows.sort(key=_row_sort_key)
                out[table.name] = rows
        return out

    async def row_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        async with self.read() as conn:
            for table in metadata.sorted_tables:
                result = await conn.execute(select(func.count()).select_from(table))
                out[table.name] = int(result.scalar_one())
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row_sort_key(row: tuple[Any, ...]) -> tuple[tuple[bool, Any], ...]:
    return tuple((value is None, "" if value is None else value) for value in row)
