"""The meter's daily total wins (pure: no I/O): the one place that completes an incomplete load curve.

Where a Paris day has the meter's daily value and a load curve with missing slots (``null`` values or
slots absent altogether), the energy the curve misses (meter value - what the curve holds) is spread
flat over the missing slots, in proportion to their duration: each missing slot gets the same average
power. The day's slots then sum to the meter's value, which is what the bill uses, and every consumer
of hourly energy (Home Assistant statistics, HP/HC and Tempo buckets, costs, the history exporters,
the pages) reads the completed curve BEFORE bucketing. The day is reported as estimated; when a later
complete curve is stored, nothing is missing any more and the estimate disappears by itself (the
exporters' correction windows re-send the day).

Rows are ``(start epoch seconds, minutes, average W or None)``, sorted by start, as
``Store.interval_values`` gives them. Energy is kept in watt-minutes (W x minutes; 60 per Wh) so the
arithmetic is exact: with slot lengths dividing 60 minutes (10, 15, 30, 60), a completed day sums to the
meter's value to the watt-minute; otherwise to less than one slot's watt-minutes.

Days whose curve already holds as much as the meter's value (or more) are left as they are, as are days
without a meter value (yesterday, whose daily value comes from the curve) and days without any slot.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.domain import Direction, IntervalReading
from app.timeline import day_start_utc

__all__ = ["Completion", "Row", "complete_readings", "complete_rows"]

Row = tuple[int, int, int | None]  # (start epoch seconds, minutes, average W; None = missing slot)


@dataclass(frozen=True, slots=True)
class Completion:
    rows: list[Row]
    estimated: frozenset[dt.date]  # days whose missing slots were filled from the meter's value


def _epoch(day: dt.date) -> int:
    return int(day_start_utc(day).timestamp())


def _complete_day(rows: Sequence[Row], low: int, high: int, meter_wh: int) -> list[Row] | None:
    """The completed rows of the day [low, high) (epochs), or None when nothing is to be done."""
    minutes = Counter(m for _, m, _ in rows).most_common(1)[0][0]
    step = minutes * 60
    known_wm = sum(w * m for _, m, w in rows if w is not None)
    missing_wm = meter_wh * 60 - known_wm
    if missing_wm <= 0:
        return None
    # Missing slots: the null ones, and the grid slots of the day that no row touches.
    spans = sorted((start, start + m * 60) for start, m, _ in rows)
    gaps: list[Row] = []
    index = 0
    for slot in range(low, high, step):
        end = min(slot + step, high)
        while index < len(spans) and spans[index][1] <= slot:
            index += 1
        if index < len(spans) and spans[index][0] < end:
            continue  # a row overlaps this slot
        gaps.append((slot, (end - slot) // 60, None))
    missing = [row for row in rows if row[2] is None] + gaps
    if not missing:
        return None
    total_minutes = sum(m for _, m, _ in missing)
    base, remainder = divmod(missing_wm, total_minutes)
    filled: dict[int, Row] = {}
    for start, m, _ in sorted(missing):
        watts = base
        if remainder >= m:
            watts += 1
            remainder -= m
        filled[start] = (start, m, watts)
    out = [filled.get(start, (start, m, w)) if w is None else (start, m, w) for start, m, w in rows]
    out.extend(filled[start] for start, _, _ in gaps)
    out.sort(key=lambda row: row[0])
    return out


def complete_rows(
    rows: Sequence[Row],
    meter_wh: Mapping[dt.date, int],
    *,
    days: Iterable[dt.date] | None = None,
) -> Completion:
    """``rows`` (sorted by start) with every day of ``meter_wh`` (restricted to ``days`` when given: the
    whole Paris days the rows were read for) completed to the meter's value."""
    wanted = sorted(meter_wh if days is None else set(days) & set(meter_wh))
    if not wanted or not rows:
        return Completion(list(rows), frozenset())
    starts = [row[0] for row in rows]
    out: list[Row] = []
    estimated: set[dt.date] = set()
    cursor = 0
    for day in wanted:
        low, high = _epoch(day), _epoch(day + dt.timedelta(days=1))
        first = bisect.bisect_left(starts, low, lo=cursor)
        last = bisect.bisect_left(starts, high, lo=first)
        if first == last:
            continue  # no curve that day: the consumers use the daily value as it is
        completed = _complete_day(rows[first:last], low, high, meter_wh[day])
        if completed is None:
            continue
        out.extend(rows[cursor:first])
        out.extend(completed)
        cursor = last
        estimated.add(day)
    out.extend(rows[cursor:])
    return Completion(out, frozenset(estimated))


def complete_readings(
    readings: Sequence[IntervalReading],
    meter_wh: Mapping[dt.date, int],
    *,
    usage_point_id: str,
    direction: Direction,
    days: Iterable[dt.date] | None = None,
) -> tuple[list[IntervalReading], frozenset[dt.date]]:
    """:func:`complete_rows` for ``IntervalReading`` objects (of one usage point and direction)."""
    rows: list[Row] = [(int(r.start.timestamp()), r.minutes, r.average_w) for r in readings]
    completion = complete_rows(rows, meter_wh, days=days)
    if not completion.estimated:
        return list(readings), completion.estimated
    return [
        IntervalReading(usage_point_id, direction, dt.datetime.fromtimestamp(start, dt.UTC), minutes, watts)
        for start, minutes, watts in completion.rows
    ], completion.estimated
