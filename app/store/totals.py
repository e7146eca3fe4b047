"""Energy totals computed in SQL from stored readings: per hour, day, month or year, and off-peak splits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import BigInteger, ColumnElement, and_, case, cast, extract, func, literal_column, or_, select

from app.domain import Direction
from app.store.database import Database
from app.store.rows import UTC, epoch
from app.store.tables import daily_energy, interval_reading
from app.timeline import PARIS, day_start_utc

_ONE_DAY = dt.timedelta(days=1)

Bucket = Literal["hour", "day", "month", "year"]
DayBucket = Literal["day", "month", "year"]


class EnergyTotals:
    """Sums over stored readings, grouped in SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

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
        else:
            keys = _calendar_keys(ir.c.local_day, bucket)
        query = (
            select(*keys, watt_minutes)
            .where(
                ir.c.usage_point_id == usage_point_id,
                ir.c.direction == direction.value,
                ir.c.start_ts >= epoch(day_start_utc(first)),
                ir.c.start_ts < epoch(day_start_utc(last + _ONE_DAY)),
                ir.c.average_w.is_not(None),
            )
            .group_by(*keys)
        )
        async with self._db.read() as conn:
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
                ts >= epoch(start),
                ts < epoch(end),
                ir.c.average_w.is_not(None),
            )
            .group_by(ir.c.local_day, *((inside,) if conditions else ()))  # a constant is no GROUP BY term
        )
        async with self._db.read() as conn:
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
        keys = _calendar_keys(de.c.day, bucket)
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
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        out: list[tuple[dt.date, int]] = []
        for row in rows:
            *key, total = row
            day_key = _bucket_key(bucket, key)
            assert isinstance(day_key, dt.date)
            out.append((day_key, int(total)))
        out.sort()
        return out


def _calendar_keys(day: ColumnElement[Any], bucket: str) -> list[ColumnElement[Any]]:
    """The GROUP BY columns of a Paris-day column for a day, month or year bucket."""
    if bucket == "day":
        return [day]
    if bucket == "month":
        return [extract("year", day).label("y"), extract("month", day).label("m")]
    if bucket == "year":
        return [extract("year", day).label("y")]
    raise ValueError(f"unknown bucket {bucket!r}")


def _offset_segments(start: dt.datetime, end: dt.datetime) -> list[tuple[int, int, int]]:
    """[start, end) cut where the Paris UTC offset changes: (first epoch, end epoch, offset seconds)."""

    def offset_at(epoch: int) -> int:
        delta = dt.datetime.fromtimestamp(epoch, UTC).astimezone(PARIS).utcoffset()
        return int(delta.total_seconds()) if delta else 0

    first, stop = epoch(start), epoch(end)
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
