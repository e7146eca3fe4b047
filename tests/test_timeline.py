"""Properties of the Paris timeline: DST disambiguation by order, day lengths, month arithmetic."""

from __future__ import annotations

import calendar
import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.timeline import (
    PARIS,
    UTC,
    add_months,
    at_paris,
    day_bounds_utc,
    day_length_minutes,
    day_start_utc,
    is_ambiguous,
    is_nonexistent,
    paris_stamps_to_utc,
    parse_interval_minutes,
    slots_in_day,
    utc_to_paris_naive,
)

D = dt.date


def last_sunday(year: int, month: int) -> dt.date:
    day = D(year, month, calendar.monthrange(year, month)[1])
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)


SPRING = {last_sunday(y, 3) for y in range(1997, 2038)}
FALL = {last_sunday(y, 10) for y in range(1997, 2038)}
DST_DAYS = sorted(SPRING | FALL)

days = st.one_of(
    st.dates(D(1997, 1, 1), D(2037, 12, 31)),
    st.sampled_from(DST_DAYS).flatmap(lambda d: st.integers(-1, 1).map(lambda k: d + dt.timedelta(days=k))),
)


def utc_slots(first: dt.date, count: int, minutes: int) -> list[dt.datetime]:
    start = day_start_utc(first)
    end = day_start_utc(first + dt.timedelta(days=count))
    step = dt.timedelta(minutes=minutes)
    slots = []
    slot = start
    while slot < end:
        slots.append(slot)
        slot += step
    return slots


# ------------------------------------------------------------------ paris_stamps_to_utc


@settings(max_examples=150, deadline=None)
@given(first=days, count=st.integers(1, 3), minutes=st.sampled_from((10, 15, 30, 60)))
def test_stamps_in_feed_order_give_back_the_utc_instants(first: dt.date, count: int, minutes: int) -> None:
    # other routes: 02:00, 02:30, 02:00, 02:30 on the fall-back day (the UTC order)
    slots = utc_slots(first, count, minutes)
    naive = [utc_to_paris_naive(s) for s in slots]
    assert paris_stamps_to_utc(naive) == slots


@settings(max_examples=150, deadline=None)
@given(first=days, count=st.integers(1, 3), minutes=st.sampled_from((10, 15, 30, 60)))
def test_stamps_in_sorted_batch_order_give_back_the_utc_instants(
    first: dt.date, count: int, minutes: int
) -> None:
    # sorted batch answers: 02:00, 02:00, 02:30, 02:30 (stable sort keeps summer time first)
    slots = utc_slots(first, count, minutes)
    pairs = sorted(((utc_to_paris_naive(s), s) for s in slots), key=lambda pair: pair[0])
    assert paris_stamps_to_utc([naive for naive, _ in pairs]) == [instant for _, instant in pairs]


@settings(max_examples=50, deadline=None)
@given(first=st.sampled_from(sorted(FALL)), minutes=st.sampled_from((10, 15, 30, 60)))
def test_a_fall_back_day_sent_twice(first: dt.date, minutes: int) -> None:
    slots = utc_slots(first, 1, minutes)
    naive = [utc_to_paris_naive(s) for s in slots]
    assert paris_stamps_to_utc(naive + naive) == slots + slots


def test_fall_back_orders_explicitly() -> None:
    def n(hour: int, minute: int) -> dt.datetime:
        return dt.datetime(2026, 10, 25, hour, minute)

    def u(hour: int, minute: int) -> dt.datetime:
        return dt.datetime(2026, 10, 25, hour, minute, tzinfo=UTC)

    batch = [n(1, 30), n(2, 0), n(2, 0), n(2, 30), n(2, 30), n(3, 0)]
    assert paris_stamps_to_utc(batch) == [
        dt.datetime(2026, 10, 24, 23, 30, tzinfo=UTC),
        u(0, 0),
        u(1, 0),
        u(0, 30),
        u(1, 30),
        u(2, 0),
    ]
    other = [n(1, 30), n(2, 0), n(2, 30), n(2, 0), n(2, 30), n(3, 0)]
    assert paris_stamps_to_utc(other) == [
        dt.datetime(2026, 10, 24, 23, 30, tzinfo=UTC),
        u(0, 0),
        u(0, 30),
        u(1, 0),
        u(1, 30),
        u(2, 0),
    ]
    assert len(set(paris_stamps_to_utc(other))) == 6  # the repeat is never dropped


def test_spring_forward_day() -> None:
    slots = utc_slots(D(2026, 3, 29), 1, 30)
    naive = [utc_to_paris_naive(s) for s in slots]
    assert len(naive) == 46
    assert dt.datetime(2026, 3, 29, 2, 0) not in naive
    assert paris_stamps_to_utc(naive) == slots


def test_ambiguous_and_nonexistent() -> None:
    assert is_ambiguous(dt.datetime(2026, 10, 25, 2, 30))
    assert not is_ambiguous(dt.datetime(2026, 10, 25, 3, 0))
    assert not is_ambiguous(dt.datetime(2026, 10, 25, 1, 59))
    assert not is_ambiguous(dt.datetime(2026, 3, 29, 2, 30))
    assert is_nonexistent(dt.datetime(2026, 3, 29, 2, 30))
    assert not is_nonexistent(dt.datetime(2026, 3, 29, 3, 0))
    assert not is_nonexistent(dt.datetime(2026, 10, 25, 2, 30))


# ------------------------------------------------------------------------- day lengths and bounds


@settings(max_examples=300, deadline=None)
@given(day=days)
def test_day_length(day: dt.date) -> None:
    expected = 1380 if day in SPRING else 1500 if day in FALL else 1440
    assert day_length_minutes(day) == expected
    assert slots_in_day(day) == expected // 30
    assert slots_in_day(day, 10) == expected // 10


def test_day_length_examples() -> None:
    assert day_length_minutes(D(2026, 3, 29)) == 1380
    assert day_length_minutes(D(2026, 10, 25)) == 1500
    assert day_length_minutes(D(2026, 3, 28)) == 1440
    assert day_length_minutes(D(2024, 2, 29)) == 1440
    assert slots_in_day(D(2026, 3, 29)) == 46
    assert slots_in_day(D(2026, 10, 25)) == 50


@settings(max_examples=300, deadline=None)
@given(day=days)
def test_day_bounds(day: dt.date) -> None:
    start, end = day_bounds_utc(day)
    assert start.utcoffset() == end.utcoffset() == dt.timedelta(0)
    assert start == day_start_utc(day)
    assert end == day_start_utc(day + dt.timedelta(days=1))
    assert utc_to_paris_naive(start) == dt.datetime(day.year, day.month, day.day)
    assert utc_to_paris_naive(end) == dt.datetime(day.year, day.month, day.day) + dt.timedelta(days=1)
    assert end - start == dt.timedelta(minutes=day_length_minutes(day))
    assert start.astimezone(PARIS).date() == day
    assert (end - dt.timedelta(microseconds=1)).astimezone(PARIS).date() == day


def test_day_bounds_examples() -> None:
    assert day_bounds_utc(D(2026, 1, 15)) == (
        dt.datetime(2026, 1, 14, 23, tzinfo=UTC),
        dt.datetime(2026, 1, 15, 23, tzinfo=UTC),
    )
    assert day_bounds_utc(D(2026, 7, 15))[0] == dt.datetime(2026, 7, 14, 22, tzinfo=UTC)
    assert day_bounds_utc(D(2026, 3, 29)) == (
        dt.datetime(2026, 3, 28, 23, tzinfo=UTC),
        dt.datetime(2026, 3, 29, 22, tzinfo=UTC),
    )
    assert day_bounds_utc(D(2026, 10, 25)) == (
        dt.datetime(2026, 10, 24, 22, tzinfo=UTC),
        dt.datetime(2026, 10, 25, 23, tzinfo=UTC),
    )
    assert at_paris(D(2026, 1, 15), 8) == dt.datetime(2026, 1, 15, 7, tzinfo=UTC)
    assert at_paris(D(2026, 7, 15), 8) == dt.datetime(2026, 7, 15, 6, tzinfo=UTC)


# ------------------------------------------------------------------------------------- add_months


@settings(max_examples=300, deadline=None)
@given(day=st.dates(D(1900, 1, 1), D(2100, 12, 31)), months=st.integers(-600, 600))
def test_add_months(day: dt.date, months: int) -> None:
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day == min(day.day, calendar.monthrange(result.year, result.month)[1])
    if day.day <= 28:
        assert add_months(result, -months) == day
    assert add_months(day, 0) == day


@settings(max_examples=200, deadline=None)
@given(
    a=st.dates(D(1900, 1, 1), D(2100, 12, 31)),
    b=st.dates(D(1900, 1, 1), D(2100, 12, 31)),
    months=st.integers(-600, 600),
)
def test_add_months_is_monotonic(a: dt.date, b: dt.date, months: int) -> None:
    low, high = min(a, b), max(a, b)
    assert add_months(low, months) <= add_months(high, months)


@settings(max_examples=200, deadline=None)
@given(day=st.dates(D(1900, 1, 1), D(2100, 12, 31)), m=st.integers(-300, 300), n=st.integers(-300, 300))
def test_add_months_composes_when_no_clamping(day: dt.date, m: int, n: int) -> None:
    day = day.replace(day=min(day.day, 28))
    assert add_months(add_months(day, m), n) == add_months(day, m + n)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2024, 2, 29), -12, D(2023, 2, 28)),
        (D(2024, 2, 29), 48, D(2028, 2, 29)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2023, 1, 31), 1, D(2023, 2, 28)),
        (D(2023, 12, 31), 2, D(2024, 2, 29)),
        (D(2024, 12, 15), 1, D(2025, 1, 15)),
        (D(2025, 1, 15), -1, D(2024, 12, 15)),
        (D(2026, 11, 28), -36, D(2023, 11, 28)),
        (D(2026, 3, 31), -1, D(2026, 2, 28)),
        (D(2026, 5, 31), -1, D(2026, 4, 30)),
    ],
)
def test_add_months_examples(day: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(day, months) == expected


# ---------------------------------------------------------------------------- parse_interval_minutes


@pytest.mark.parametrize(
    ("value", "minutes"),
    [
        ("PT10M", 10),
        ("PT15M", 15),
        ("PT30M", 30),
        ("PT60M", 60),
        ("PT1H", 60),
        ("PT1H30M", 90),
        ("pt30m", 30),
        (" PT30M ", 30),
    ],
)
def test_parse_interval_minutes(value: str, minutes: int) -> None:
    assert parse_interval_minutes(value) == minutes


@pytest.mark.parametrize(
    "value",
    [
        "",
        "PT",
        "30",
        "PT0M",
        "PT0H0M",
        "P1D",
        "PT-5M",
        "PT30S",
        "PT30",
        "30M",
        "PT 30M",
        "PT30M30M",
        "PTM",
        "abc",
        "PT٣٠M",
    ],
)
def test_parse_interval_minutes_junk(value: str) -> None:
    with pytest.raises(ValueError, match="interval length"):
        parse_interval_minutes(value)


_STRICT = re.compile(r"PT(?:[0-9]+H)?(?:[0-9]+M)?", re.IGNORECASE)


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.text(max_size=12), st.from_regex(r"\APT[0-9٠-٩]{0,3}[HMS]?[0-9]{0,2}M?\Z")))
def test_parse_interval_minutes_accepts_only_iso_lengths(value: str) -> None:
    stripped = value.strip()
    match = _STRICT.fullmatch(stripped)
    if match and re.search(r"[1-9]", stripped):
        hours = re.search(r"([0-9]+)H", stripped, re.IGNORECASE)
        mins = re.search(r"([0-9]+)M", stripped, re.IGNORECASE)
        expected = (int(hours.group(1)) * 60 if hours else 0) + (int(mins.group(1)) if mins else 0)
        assert parse_interval_minutes(value) == expected
    else:
        with pytest.raises(ValueError, match="interval length"):
            parse_interval_minutes(value)


@given(minutes=st.integers(1, 10_000))
def test_parse_interval_minutes_round_trip(minutes: int) -> None:
    assert parse_interval_minutes(f"PT{minutes}M") == minutes
    hours, rest = divmod(minutes, 60)
    text = f"PT{hours}H{rest}M" if hours else f"PT{rest}M"
    assert parse_interval_minutes(text) == minutes
