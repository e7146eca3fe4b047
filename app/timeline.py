"""Paris local time <-> UTC, DST disambiguation by order, and day/hour/month buckets."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC

_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?$", re.ASCII)  # ASCII: "PT٣٠M" is junk


def parse_interval_minutes(value: str) -> int:
    """'PT30M' -> 30, 'PT1H' -> 60. Raises ValueError on anything else."""
    match = _DURATION.match(value.strip().upper())
    if not match or not (match.group(1) or match.group(2)):
        raise ValueError(f"not an ISO-8601 interval length: {value!r}")
    minutes = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
    if minutes <= 0:
        raise ValueError(f"interval length must be positive: {value!r}")
    return minutes


def parse_naive_stamp(value: str) -> dt.datetime:
    """'2023-03-01 00:00:00' (or with a 'T') -> a naive datetime. Raises ValueError."""
    stamp = dt.datetime.fromisoformat(value.strip())
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(PARIS).replace(tzinfo=None)
    return stamp


def now_utc() -> dt.datetime:
    return dt.datetime.now(UTC)


def to_paris(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(PARIS)


def paris_date(instant: dt.datetime) -> dt.date:
    return instant.astimezone(PARIS).date()


def paris_today(now: dt.datetime) -> dt.date:
    return paris_date(now)


def day_start_utc(day: dt.date) -> dt.datetime:
    """The UTC instant of 00:00 Paris on `day` (midnight always exists in Paris)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=PARIS).astimezone(UTC)


def day_bounds_utc(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return day_start_utc(day), day_start_utc(day + dt.timedelta(days=1))


def day_length_minutes(day: dt.date) -> int:
    """1440, or 1380 on the spring-forward day and 1500 on the fall-back day."""
    start, end = day_bounds_utc(day)
    return int((end - start).total_seconds() // 60)


def slots_in_day(day: dt.date, minutes: int = 30) -> int:
    return day_length_minutes(day) // minutes


def hour_start_utc(instant: dt.datetime) -> dt.datetime:
    """The start of the local hour holding `instant` (Paris offsets are whole hours, so the UTC hour)."""
    instant = instant.astimezone(UTC)
    return instant.replace(minute=0, second=0, microsecond=0)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar month arithmetic clamped to the month's last day (2024-02-29 - 12 months = 2023-02-28)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = _last_day_of_month(year, month)
    return dt.date(year, month, min(day.day, last))


def _last_day_of_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (dt.date(year, month + 1, 1) - dt.timedelta(days=1)).day


def is_ambiguous(naive: dt.datetime) -> bool:
    """True for wall-clock times that happen twice (the fall-back hour)."""
    first = naive.replace(tzinfo=PARIS, fold=0).utcoffset()
    second = naive.replace(tzinfo=PARIS, fold=1).utcoffset()
    return first != second and first is not None and second is not None and first > second


def is_nonexistent(naive: dt.datetime) -> bool:
    """True for wall-clock times skipped by the spring-forward jump."""
    aware = naive.replace(tzinfo=PARIS)
    return aware.astimezone(UTC).astimezone(PARIS).replace(tzinfo=None) != naive


class _DayOffsets:
    """Caches, per local date, the UTC offset when it is the same all day (every day but two a year)."""

    def __init__(self) -> None:
        self._cache: dict[dt.date, dt.timedelta | None] = {}

    def constant_offset(self, day: dt.date) -> dt.timedelta | None:
        try:
            return self._cache[day]
        except KeyError:
            start = dt.datetime(day.year, day.month, day.day, tzinfo=PARIS).utcoffset()
            end = dt.datetime(day.year, day.month, day.day, 23, 59, tzinfo=PARIS).utcoffset()
            offset = start if start == end else None
            self._cache[day] = offset
            return offset


def paris_stamps_to_utc(stamps: Sequence[dt.datetime]) -> list[dt.datetime]:
    """Convert naive Paris wall-clock stamps to UTC instants, in order.

    A fall-back wall-clock time that appears several times is disambiguated by order of appearance:
    the 1st, 3rd, ... occurrence is the summer-time one, the 2nd, 4th, ... the winter-time one. This
    holds for `02:00, 02:00, 02:30, 02:30` (sorted batch answers), `02:00, 02:30, 02:00, 02:30`
    (other routes) and for a day the gateway sent twice. Skipped spring-forward times (which a correct
    feed never has) are mapped forward by the usual fold=0 rule.
    """
    offsets = _DayOffsets()
    seen_ambiguous: dict[dt.datetime, int] = {}
    result: list[dt.datetime] = []
    append = result.append
    for naive in stamps:
        offset = offsets.constant_offset(naive.date())
        if offset is not None:
            append((naive - offset).replace(tzinfo=UTC))
            continue
        if is_ambiguous(naive):
            count = seen_ambiguous.get(naive, 0)
            seen_ambiguous[naive] = count + 1
            aware = naive.replace(tzinfo=PARIS, fold=count % 2)
        else:
            aware = naive.replace(tzinfo=PARIS)
        append(aware.astimezone(UTC))
    return result


def utc_to_paris_naive(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(PARIS).replace(tzinfo=None)


def iter_days(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def next_utc_midnight(now: dt.datetime) -> dt.datetime:
    now = now.astimezone(UTC)
    return dt.datetime(now.year, now.month, now.day, tzinfo=UTC) + dt.timedelta(days=1)


def at_paris(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """The UTC instant of a given Paris wall-clock time on `day` (first occurrence if ambiguous)."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS).astimezone(UTC)
