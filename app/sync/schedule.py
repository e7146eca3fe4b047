"""When to sync (pure timing rules; ``now`` is always an input).

Every install draws ``install_minute`` once, in [0, 120), so thousands of installs spread their daily
sync over 08:00-10:00 Paris instead of all hitting the gateway at 08:00 (when yesterday is published).
"""

from __future__ import annotations

import datetime as dt

from app.sync.planner import PUBLICATION_HOUR, TEMPO_PUBLICATION_HOUR
from app.timeline import at_paris, next_utc_midnight, paris_today

__all__ = [
    "DAILY_RUN_HOUR",
    "INSTALL_MINUTE_RANGE",
    "TEMPO_CHECK_HOUR",
    "next_daily_run",
    "next_tempo_check",
    "quota_resume_at",
    "retry_delay",
]

DAILY_RUN_HOUR = PUBLICATION_HOUR  # the daily run starts when yesterday's data is published
TEMPO_CHECK_HOUR = TEMPO_PUBLICATION_HOUR
INSTALL_MINUTE_RANGE = 120


def _check_install_minute(install_minute: int) -> None:
    if not 0 <= install_minute < INSTALL_MINUTE_RANGE:
        raise ValueError(f"install_minute must be in [0, {INSTALL_MINUTE_RANGE}), not {install_minute}")


def _check_aware(now: dt.datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def _next_paris_time(now: dt.datetime, hour: int, offset: dt.timedelta) -> dt.datetime:
    """The first instant strictly after ``now`` that is ``hour``:00 Paris + ``offset`` on some day (UTC)."""
    _check_aware(now)
    today = paris_today(now)
    candidate = at_paris(today, hour) + offset
    if candidate > now:
        return candidate
    return at_paris(today + dt.timedelta(days=1), hour) + offset


def next_daily_run(now: dt.datetime, install_minute: int) -> dt.datetime:
    """The next 08:00 Paris + ``install_minute`` minutes: today if still ahead, else tomorrow (UTC)."""
    _check_install_minute(install_minute)
    return _next_paris_time(now, DAILY_RUN_HOUR, dt.timedelta(minutes=install_minute))


def quota_resume_at(now: dt.datetime, install_minute: int) -> dt.datetime:
    """After RATE_LIMIT_EXCEEDED: the next 00:00 UTC (quota reset) + ``install_minute % 30`` minutes."""
    _check_install_minute(install_minute)
    _check_aware(now)
    return next_utc_midnight(now) + dt.timedelta(minutes=install_minute % 30)


def retry_delay(
    attempt: int,
    *,
    base: dt.timedelta = dt.timedelta(minutes=5),
    cap: dt.timedelta = dt.timedelta(hours=2),
) -> dt.timedelta:
    """Exponential back-off after a failed sync: ``base * 2**(attempt - 1)``, at most ``cap``.

    ``attempt`` counts from 1 (the first retry waits ``base``); values below 1 are treated as 1.
    """
    if base <= dt.timedelta(0) or cap <= dt.timedelta(0):
        raise ValueError("base and cap must be positive")
    exponent = max(attempt, 1) - 1
    delay = base
    for _ in range(exponent):  # doubling stops at the cap, so a huge attempt cannot overflow
        delay *= 2
        if delay >= cap:
            return cap
    return min(delay, cap)


def next_tempo_check(now: dt.datetime, install_minute: int) -> dt.datetime:
    """The next 11:00 Paris + ``install_minute % 30`` minutes (tomorrow's colour): today if still
    ahead, else tomorrow (UTC)."""
    _check_install_minute(install_minute)
    return _next_paris_time(now, TEMPO_CHECK_HOUR, dt.timedelta(minutes=install_minute % 30))
