"""The meter's daily total wins: app/hourly_energy.py completes incomplete load curves (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import Direction, IntervalReading
from app.hourly_energy import Row, complete_readings, complete_rows
from app.timeline import day_start_utc

DAY = dt.date(2026, 11, 3)
SPRING, AUTUMN = dt.date(2026, 3, 29), dt.date(2026, 10, 25)


def epoch(day: dt.date) -> int:
    return int(day_start_utc(day).timestamp())


def day_rows(day: dt.date, minutes: int, watts: Sequence[int | None]) -> list[Row]:
    return [(epoch(day) + i * minutes * 60, minutes, w) for i, w in enumerate(watts)]


def slots_of(day: dt.date, minutes: int) -> int:
    return (epoch(day + dt.timedelta(days=1)) - epoch(day)) // (minutes * 60)


def wm(rows: list[Row]) -> int:
    return sum(m * w for _, m, w in rows if w is not None)


def test_null_slots_get_the_missing_energy_flat() -> None:
    watts: list[int | None] = [400] * 48
    for i in range(16, 22):
        watts[i] = None
    rows = day_rows(DAY, 30, watts)
    meter = 400 * 48 * 30 // 60 + 2100  # 2.1 kWh more than the curve's sum
    completion = complete_rows(rows, {DAY: meter})
    assert completion.estimated == {DAY}
    assert wm(completion.rows) == meter * 60
    filled = [w for _, _, w in completion.rows[16:22]]
    assert filled == [400 + 2100 * 60 // 180] * 6  # 1100 W over the three missing hours
    assert completion.rows[:16] == rows[:16] and completion.rows[22:] == rows[22:]


def test_absent_slots_are_filled_too_and_nothing_else_moves() -> None:
    rows = day_rows(DAY, 30, [300] * 48)
    holed = rows[:10] + rows[14:]  # two hours absent
    meter = 300 * 48 // 2
    completion = complete_rows(holed, {DAY: meter})
    assert completion.rows == rows
    assert completion.estimated == {DAY}


def test_days_the_curve_explains_are_left_alone() -> None:
    rows = day_rows(DAY, 30, [300] * 47 + [None])
    assert complete_rows(rows, {DAY: 300 * 47 // 2}).estimated == frozenset()  # nothing missing
    assert complete_rows(rows, {DAY: 100}).rows == rows  # the curve holds more: unchanged
    assert complete_rows(rows, {}).rows == rows  # no meter value (yesterday)
    other = DAY + dt.timedelta(days=1)
    assert complete_rows(rows, {other: 99_999}).rows == rows  # no curve that day
    # a day outside the whole days read is not touched
    assert complete_rows(rows, {DAY: 99_999}, days=[other]).rows == rows


def test_readings_wrapper_keeps_the_objects_and_their_owner() -> None:
    readings = [
        IntervalReading("01234567890123", Direction.CONSUMPTION, dt.datetime.fromtimestamp(s, dt.UTC), m, w)
        for s, m, w in day_rows(DAY, 60, [1000] * 23 + [None])
    ]
    out, estimated = complete_readings(
        readings, {DAY: 24_000}, usage_point_id="01234567890123", direction=Direction.CONSUMPTION
    )
    assert estimated == {DAY}
    assert out[:23] == readings[:23]
    assert out[23].average_w == 1000 and out[23].start == readings[23].start


@settings(max_examples=300, deadline=None)
@given(
    day=st.sampled_from([DAY, SPRING, AUTUMN, dt.date(2025, 1, 1)]),
    minutes=st.sampled_from([10, 15, 30, 60]),
    data=st.data(),
    extra_wh=st.integers(0, 50_000),
)
def test_completed_day_sums_to_the_meter_exactly(
    day: dt.date, minutes: int, data: st.DataObject, extra_wh: int
) -> None:
    count = slots_of(day, minutes)
    watts = data.draw(st.lists(st.one_of(st.none(), st.integers(0, 12_000)), min_size=count, max_size=count))
    absent = data.draw(st.sets(st.integers(0, count - 1), max_size=count - 1))
    rows = [row for i, row in enumerate(day_rows(day, minutes, watts)) if i not in absent]
    known = wm(rows)
    meter = -(-known // 60) + extra_wh  # at least what the curve holds
    completion = complete_rows(rows, {day: meter})
    out = completion.rows
    missing = any(w is None for _, _, w in rows) or absent
    if missing and meter * 60 > known:
        assert completion.estimated == {day}
        assert wm(out) == meter * 60  # slot lengths divide an hour: exact to the watt-minute
        assert [s for s, _, _ in out] == [s for s, _, _ in day_rows(day, minutes, watts)]
        assert all(w is not None and w >= 0 for _, _, w in out)
        known_starts = {r[0] for r in rows if r[2] is not None}
        filled = [w or 0 for (s, _, w) in out if s not in known_starts]
        assert filled and max(filled) - min(filled) <= 1  # flat over the missing slots
        kept = {r[0]: r for r in rows if r[2] is not None}
        assert all(kept[s] == (s, m, w) for s, m, w in out if s in kept)  # known slots never move
    else:
        assert completion.estimated == frozenset()
        assert out == rows


def test_a_later_complete_curve_replaces_the_estimate() -> None:
    holed = day_rows(DAY, 30, [500] * 40 + [None] * 8)
    complete = day_rows(DAY, 30, [500] * 40 + [250] * 8)
    meter = wm(complete) // 60
    assert complete_rows(holed, {DAY: meter}).estimated == {DAY}
    later = complete_rows(complete, {DAY: meter})
    assert later.estimated == frozenset() and later.rows == complete
