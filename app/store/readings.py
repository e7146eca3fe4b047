"""Readings: daily totals, the load curve (with the meter's daily value completing it) and max power."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import BigInteger, case, cast, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain import DailyEnergy, DailySource, DataKind, DateRange, Direction, IntervalReading, MaxPower
from app.hourly_energy import complete_readings, complete_rows
from app.store.database import Database
from app.store.rows import UTC, epoch, epoch_ceil, gc_paused, instant
from app.store.tables import daily_energy, interval_reading, max_power
from app.timeline import PARIS, day_length_minutes, day_start_utc

_ONE_DAY = dt.timedelta(days=1)
_METER = DailySource.METER.value
_CURVE = DailySource.CURVE.value

CURVE_COLUMNS = ("usage_point_id", "direction", "start_ts", "minutes", "average_w", "local_day")
CURVE_UPDATE = ("minutes", "average_w", "local_day")


class Readings:
    """Saves and reads the metered values of each usage point and direction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # ------------------------------------------------------------------ saves (rows + coverage)

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
        async with self._db.write() as conn:
            curve_days = [day for day, values in by_day.items() if values["source"] == _CURVE]
            if curve_days:
                first, last = min(curve_days), max(curve_days)
                meter = await self._meter_days(conn, usage_point_id, direction, first, last)
                for day in meter.intersection(curve_days):
                    del by_day[day]
            await self._db.upsert_rows(
                conn, daily_energy, list(by_day.values()), ("wh", "source", "complete")
            )
            await self._db._merge_coverage(conn, usage_point_id, DataKind.daily(direction), covered)

    async def save_curve(
        self,
        usage_point_id: str,
        direction: Direction,
        readings: Sequence[IntervalReading],
        covered: Sequence[DateRange],
    ) -> None:
        """Upsert load-curve readings, then refresh the CURVE daily totals of the days they touch."""
        iso_days = self._db.dialect == "sqlite"
        with gc_paused():
            rows, touched = _curve_rows(usage_point_id, direction, readings, iso_days=iso_days)
            async with self._db.write() as conn:
                await self._db.upsert_tuples(conn, interval_reading, CURVE_COLUMNS, CURVE_UPDATE, rows)
                if touched:
                    await self._derive_daily(conn, usage_point_id, direction, touched)
                await self._db._merge_coverage(conn, usage_point_id, DataKind.curve(direction), covered)

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
                ir.c.start_ts >= epoch(day_start_utc(first)),
                ir.c.start_ts < epoch(day_start_utc(last + _ONE_DAY)),
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
        await self._db.upsert_rows(conn, daily_energy, derived, ("wh", "source", "complete"))

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
                "at_ts": None if row.at is None else epoch(row.at),
            }
        async with self._db.write() as conn:
            await self._db.upsert_rows(conn, max_power, list(by_day.values()), ("va", "at_ts"))
            await self._db._merge_coverage(conn, usage_point_id, DataKind.MAX_POWER, covered)

    # ------------------------------------------------------------------ reads

    async def daily(
        self, usage_point_id: str, direction: Direction, first: dt.date, last: dt.date
    ) -> list[DailyEnergy]:
        de = daily_energy
        async with self._db.read() as conn:
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
                ir.c.start_ts >= epoch_ceil(start),
                ir.c.start_ts < epoch_ceil(end),
            )
            .order_by(ir.c.start_ts)
        )
        with gc_paused():
            async with self._db.read() as conn:
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
            "start": epoch_ceil(start),
            "end": epoch_ceil(end),
        }
        with gc_paused():  # 17,520 rows a year: no collector pass over a big heap in the middle
            async with self._db.read() as conn:
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
            "start": epoch_ceil(start),
            "end": epoch_ceil(end),
        }
        with gc_paused():
            async with self._db.read() as conn:
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
        async with self._db.read() as conn:
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
        async with self._db.read() as conn:
            result = await conn.execute(
                select(max_power.c.day, max_power.c.va, max_power.c.at_ts)
                .where(
                    max_power.c.usage_point_id == usage_point_id,
                    max_power.c.day >= first,
                    max_power.c.day <= last,
                )
                .order_by(max_power.c.day)
            )
            return [MaxPower(usage_point_id, day, int(va), instant(at)) for day, va, at in result]


_INTERVAL_VALUES = text(
    "SELECT start_ts, minutes, average_w FROM interval_reading WHERE usage_point_id = :pdl"
    " AND direction = :direction AND start_ts >= :start AND start_ts < :end ORDER BY start_ts"
)


def _as_int_rows(rows: Sequence[Any]) -> list[tuple[int, int, int | None]]:
    return rows  # type: ignore[return-value]  # Row objects are tuples of the integer columns


def _check_owner(row_pdl: str, row_direction: Direction, pdl: str, direction: Direction) -> None:
    if row_pdl != pdl or row_direction != direction:
        raise ValueError(f"a {row_direction} row of {row_pdl} saved under {direction} of {pdl}")


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
            day_lo = epoch(day_start_utc(day))
            day_hi = epoch(day_start_utc(day + _ONE_DAY))
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
