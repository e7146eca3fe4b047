"""The price clock's real-time wait and its next wake-up (the production path, without a test clock)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest

from app import timeline
from app.domain import OffpeakRange
from app.exporters._live import RealClockWait, next_wake
from app.pricing.catalogue import load_shipped
from app.pricing.live import live_price

OFFERS = {o.id: o for o in load_shipped()}


async def test_the_real_clock_wait_sleeps_once_until_the_instant(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    real_sleep = asyncio.sleep

    async def counted(delay: float) -> None:
        sleeps.append(delay)
        await real_sleep(delay)

    monkeypatch.setattr(asyncio, "sleep", counted)
    when = timeline.now_utc() + dt.timedelta(milliseconds=300)
    started = time.monotonic()
    await RealClockWait(timeline.now_utc)(when)
    assert timeline.now_utc() >= when
    assert 0.25 < time.monotonic() - started < 2
    assert len(sleeps) <= 2  # one sleep to the instant (a second one only if woken a hair early)


async def test_a_past_instant_does_not_wait() -> None:
    started = time.monotonic()
    await RealClockWait(timeline.now_utc)(timeline.now_utc() - dt.timedelta(hours=1))
    assert time.monotonic() - started < 0.1


def test_next_wake_is_the_earliest_change_else_midnight() -> None:
    now = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)  # 10:00 in Paris
    base = live_price(OFFERS["edf-base-6"], now, offpeak=(), tempo={})
    assert next_wake({"a": base}, now) == dt.datetime(2026, 1, 15, 23, 0, tzinfo=dt.UTC)  # Paris midnight
    lunch = (OffpeakRange(dt.time(12, 30), dt.time(14)),)
    hphc = live_price(OFFERS["edf-hc_hp-6"], now, offpeak=lunch, tempo={})
    assert next_wake({"a": base, "b": hphc}, now) == dt.datetime(2026, 1, 15, 11, 30, tzinfo=dt.UTC)
