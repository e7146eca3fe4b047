"""Timing rules of the scheduler: 08:00 Paris daily run, quota resume, back-off, Tempo check."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.sync.schedule import next_daily_run, next_tempo_check, quota_resume_at, retry_delay
from app.timeline import PARIS, UTC


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


instants = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2036, 12, 31)).map(
    lambda naive: naive.replace(tzinfo=UTC)
)
install_minutes = st.integers(0, 119)


@pytest.mark.parametrize(
    ("now", "minute", "expected"),
    [
        # winter: 08:00 Paris = 07:00 UTC
        (utc(2026, 1, 15, 6, 0), 0, utc(2026, 1, 15, 7, 0)),
        (utc(2026, 1, 15, 6, 0), 90, utc(2026, 1, 15, 8, 30)),
        (utc(2026, 1, 15, 7, 0), 0, utc(2026, 1, 16, 7, 0)),  # exactly now: the next one
        (utc(2026, 1, 15, 7, 0), 1, utc(2026, 1, 15, 7, 1)),
        (utc(2026, 1, 15, 8, 31), 90, utc(2026, 1, 16, 8, 30)),
        (utc(2026, 1, 15, 23, 30), 0, utc(2026, 1, 16, 7, 0)),  # 00:30 Paris on the 16th
        # summer: 08:00 Paris = 06:00 UTC
        (utc(2026, 7, 15, 5, 0), 0, utc(2026, 7, 15, 6, 0)),
        (utc(2026, 7, 15, 6, 30), 45, utc(2026, 7, 15, 6, 45)),
        (utc(2026, 7, 15, 6, 45), 45, utc(2026, 7, 16, 6, 45)),
        (utc(2026, 7, 15, 22, 30), 119, utc(2026, 7, 16, 7, 59)),  # 00:30 Paris on the 16th
        # the DST change happens in between
        (utc(2026, 3, 28, 10, 0), 0, utc(2026, 3, 29, 6, 0)),  # spring forward on the 29th
        (utc(2026, 3, 29, 1, 30), 10, utc(2026, 3, 29, 6, 10)),  # 03:30 CEST, just after the jump
        (utc(2026, 10, 24, 10, 0), 0, utc(2026, 10, 25, 7, 0)),  # fall back on the 25th
        (utc(2026, 10, 25, 0, 30), 30, utc(2026, 10, 25, 7, 30)),  # 02:30 CEST, before the repeat
    ],
)
def test_next_daily_run(now: dt.datetime, minute: int, expected: dt.datetime) -> None:
    assert next_daily_run(now, minute) == expected


@settings(max_examples=300, deadline=None)
@given(now=instants, minute=install_minutes)
def test_next_daily_run_properties(now: dt.datetime, minute: int) -> None:
    run = next_daily_run(now, minute)
    assert run > now
    assert run.utcoffset() == dt.timedelta(0)
    local = run.astimezone(PARIS)
    assert (local.hour, local.minute) == divmod(8 * 60 + minute, 60)
    # no earlier run was skipped: the same time the Paris day before is not after now
    before = local.replace(tzinfo=None) - dt.timedelta(days=1)
    assert before.replace(tzinfo=PARIS).astimezone(UTC) <= now
    assert run - now <= dt.timedelta(hours=25)  # 25 h only across the fall-back night


@pytest.mark.parametrize(
    ("now", "minute", "expected"),
    [
        (utc(2026, 1, 15, 12, 0), 0, utc(2026, 1, 16, 0, 0)),
        (utc(2026, 1, 15, 12, 0), 47, utc(2026, 1, 16, 0, 17)),
        (utc(2026, 1, 15, 0, 0), 5, utc(2026, 1, 16, 0, 5)),
        (utc(2026, 7, 15, 23, 59), 29, utc(2026, 7, 16, 0, 29)),  # 01:59 Paris on the 16th: still UTC
        (utc(2026, 12, 31, 23, 0), 119, utc(2027, 1, 1, 0, 29)),
    ],
)
def test_quota_resume_at(now: dt.datetime, minute: int, expected: dt.datetime) -> None:
    assert quota_resume_at(now, minute) == expected


@settings(max_examples=200, deadline=None)
@given(now=instants, minute=install_minutes)
def test_quota_resume_properties(now: dt.datetime, minute: int) -> None:
    resume = quota_resume_at(now, minute)
    assert resume > now
    assert resume.date() == now.date() + dt.timedelta(days=1)
    assert (resume.hour, resume.minute, resume.second) == (0, minute % 30, 0)


def test_retry_delay() -> None:
    minutes = [retry_delay(attempt) / dt.timedelta(minutes=1) for attempt in range(1, 9)]
    assert minutes == [5, 10, 20, 40, 80, 120, 120, 120]
    assert retry_delay(0) == retry_delay(1) == dt.timedelta(minutes=5)
    assert retry_delay(10**6) == dt.timedelta(hours=2)
    assert retry_delay(3, base=dt.timedelta(seconds=1), cap=dt.timedelta(seconds=3)) == dt.timedelta(
        seconds=3
    )
    assert retry_delay(2, base=dt.timedelta(seconds=1), cap=dt.timedelta(seconds=3)) == dt.timedelta(
        seconds=2
    )
    with pytest.raises(ValueError, match="positive"):
        retry_delay(1, base=dt.timedelta(0))


@given(attempt=st.integers(-5, 10_000))
def test_retry_delay_is_monotonic_and_capped(attempt: int) -> None:
    delay = retry_delay(attempt)
    assert dt.timedelta(minutes=5) <= delay <= dt.timedelta(hours=2)
    assert retry_delay(attempt + 1) >= delay


@pytest.mark.parametrize(
    ("now", "minute", "expected"),
    [
        (utc(2026, 1, 15, 9, 0), 0, utc(2026, 1, 15, 10, 0)),  # winter: 11:00 Paris = 10:00 UTC
        (utc(2026, 1, 15, 9, 0), 47, utc(2026, 1, 15, 10, 17)),
        (utc(2026, 1, 15, 10, 17), 47, utc(2026, 1, 16, 10, 17)),
        (utc(2026, 7, 15, 8, 0), 0, utc(2026, 7, 15, 9, 0)),  # summer: 11:00 Paris = 09:00 UTC
        (utc(2026, 7, 15, 9, 30), 5, utc(2026, 7, 16, 9, 5)),
        (utc(2026, 3, 28, 12, 0), 0, utc(2026, 3, 29, 9, 0)),
        (utc(2026, 10, 24, 12, 0), 0, utc(2026, 10, 25, 10, 0)),
    ],
)
def test_next_tempo_check(now: dt.datetime, minute: int, expected: dt.datetime) -> None:
    assert next_tempo_check(now, minute) == expected


@settings(max_examples=200, deadline=None)
@given(now=instants, minute=install_minutes)
def test_next_tempo_check_properties(now: dt.datetime, minute: int) -> None:
    check = next_tempo_check(now, minute)
    assert now < check <= now + dt.timedelta(hours=25)
    local = check.astimezone(PARIS)
    assert (local.hour, local.minute) == (11, minute % 30)


@pytest.mark.parametrize("minute", [-1, 120, 1000])
def test_install_minute_out_of_range(minute: int) -> None:
    now = utc(2026, 1, 15)
    with pytest.raises(ValueError, match="install_minute"):
        next_daily_run(now, minute)
    with pytest.raises(ValueError, match="install_minute"):
        quota_resume_at(now, minute)
    with pytest.raises(ValueError, match="install_minute"):
        next_tempo_check(now, minute)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_daily_run(dt.datetime(2026, 1, 15, 6), 0)
    with pytest.raises(ValueError, match="aware"):
        quota_resume_at(dt.datetime(2026, 1, 15, 6), 0)


def test_other_zones_are_accepted() -> None:
    now = dt.datetime(2026, 1, 15, 7, 0, tzinfo=PARIS)  # 06:00 UTC
    assert next_daily_run(now, 0) == utc(2026, 1, 15, 7, 0)
