"""The sync against a simulator with every habit of the real gateway switched on (gateway-api.md sections 8
and 10): no day lost at the history bound, at window edges or at the activation day, no false error, no
stop until midnight on a passing RATE_LIMIT_EXCEEDED, and a month of daily syncs without an error state."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app import timeline
from app.domain import DataKind, Direction, SyncPhase
from app.gateway.simulator import SimulatedUsagePoint, SimulatorState, default_usage_points
from app.gateway.simulator import faults as fk
from app.health import health_of
from app.service import Service
from app.store import Store
from app.store.settings import HISTORY_BOUNDS_KEY
from app.sync import runner as sync_runner
from app.sync.planner import HistoryLimits, last_available_day, wanted_range
from app.web.app import build_status
from tests.support import NOW, AiohttpServer, Clock, data_requests, make_service, start_simulator

LAG_DAYS = 2  # the gateway's "today - 3 years" is two days later than ours
NULL_SLOT_DAY = dt.date(2026, 11, 20)
LATE_PDL = "09444444444444"
ACTIVATION = dt.date(2026, 6, 10)


def habit_points() -> list[SimulatedUsagePoint]:
    points = default_usage_points()
    points[1] = replace(points[1], null_slot_days=frozenset({NULL_SLOT_DAY}))
    points.append(
        SimulatedUsagePoint(
            usage_point_id=LATE_PDL,
            name="Maison neuve",
            subscribed_power_kva=6,
            pricing_option="BASE",
            offpeak_hours=None,
            profile="base",
            activation_date=ACTIVATION,
            announced_activation_date=ACTIVATION - dt.timedelta(days=1),  # /pdl says one day too early
        )
    )
    return points


async def start_all(
    aiohttp_server: AiohttpServer, tmp_path: Path, clock: Clock, **config: Any
) -> tuple[Service, SimulatorState]:
    server, state = await start_simulator(
        aiohttp_server,
        clock,
        usage_points=habit_points(),
        daily_consumption_years=3,
        daily_consumption_bound_lag_days=LAG_DAYS,
        daily_end_exclusive=True,
        empty_before_activation=True,
        **config,
    )
    service = make_service(tmp_path, str(server.make_url("/")), clock)
    await service.start(schedule=False)
    return service, state


@pytest.fixture(autouse=True)
def _fast_rate_limit_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync_runner, "RATE_LIMIT_FIRST_DELAY", 0.001)


def gateway_bound(today: dt.date) -> dt.date:
    return timeline.add_months(today, -36) + dt.timedelta(days=LAG_DAYS)


async def assert_healthy(store: Store, now: dt.datetime) -> None:
    for progress in await store.progress():
        health = health_of(progress, now)
        assert progress.phase is not SyncPhase.ERROR, progress
        assert not health.needs_user, (progress, health)


async def test_first_sync_stores_every_published_day_from_the_bound_or_activation(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    clock = Clock()
    service, state = await start_all(aiohttp_server, tmp_path, clock)
    store = service.store
    assert store is not None
    try:
        outcome = await service.sync()
        assert outcome.phase is SyncPhase.DONE and outcome.usage_point_errors == {}, outcome
        await assert_healthy(store, NOW)
        today = timeline.paris_today(NOW)
        yesterday = last_available_day(NOW)
        points = {p.usage_point_id: p for p in await store.usage_points()}
        for pdl, point in points.items():
            streams = [DataKind.DAILY_CONSUMPTION, DataKind.CURVE_CONSUMPTION, DataKind.MAX_POWER]
            if point.has_production:
                streams += [DataKind.DAILY_PRODUCTION, DataKind.CURVE_PRODUCTION]
            for kind in streams:
                planned = wanted_range(point, None, kind, NOW, HistoryLimits())
                assert planned is not None
                first = planned.first
                if kind is DataKind.DAILY_CONSUMPTION:
                    first = max(first, gateway_bound(today))
                if pdl == LATE_PDL:
                    first = ACTIVATION  # the real activation day, one after the announced one
                wanted = [first + dt.timedelta(days=i) for i in range((yesterday - first).days + 1)]
                if kind in (DataKind.DAILY_CONSUMPTION, DataKind.DAILY_PRODUCTION):
                    direction = kind.direction or Direction.CONSUMPTION
                    rows = await store.daily(pdl, direction, first - dt.timedelta(days=40), yesterday)
                    assert [r.day for r in rows] == wanted, (pdl, kind)
                    assert all(r.wh == state.data.daily_wh(pdl, direction, r.day) for r in rows[:-1])
                elif kind is DataKind.MAX_POWER:
                    rows_mp = await store.max_power(pdl, first - dt.timedelta(days=40), yesterday)
                    assert [r.day for r in rows_mp] == wanted[:-1] or [r.day for r in rows_mp] == wanted
                else:
                    direction = kind.direction or Direction.CONSUMPTION
                    per_day = await store.curve_energy(
                        pdl, direction, "day", first - dt.timedelta(days=40), today
                    )
                    assert [d for d, _ in per_day] == wanted, (pdl, kind)
        # the bound was learned once per point, and no other window was refused
        bounds = await store.get_setting(HISTORY_BOUNDS_KEY)
        old_points = [pdl for pdl in points if pdl != LATE_PDL]
        assert bounds == {f"{pdl}/daily_consumption": gateway_bound(today).isoformat() for pdl in old_points}
        refused = Counter(r.usage_point_id for r in state.requests if r.outcome == "error:DATE_TOO_OLD")
        assert refused == dict.fromkeys(old_points, 1)

        # the next day: the learned bound is used, nothing is refused any more
        clock.advance(dt.timedelta(days=1))
        before = len(state.requests)
        outcome = await service.sync()
        assert outcome.phase is SyncPhase.DONE and outcome.usage_point_errors == {}
        assert not [r for r in state.requests[before:] if r.outcome.startswith("error:")]
        await assert_healthy(store, clock.now)
    finally:
        await service.stop()


async def test_a_passing_rate_limit_is_retried_within_the_run(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    clock = Clock()
    service, state = await start_all(aiohttp_server, tmp_path, clock)
    assert service.store is not None
    try:
        state.force_fault(fk.RATE_LIMIT_EXCEEDED)
        outcome = await service.sync()
        assert outcome.phase is SyncPhase.DONE and outcome.usage_point_errors == {}, outcome
        assert any(r.route == "usage_stats" for r in state.requests)
        assert sum(1 for r in state.requests if r.outcome == f"fault:{fk.RATE_LIMIT_EXCEEDED}") == 1
        await assert_healthy(service.store, NOW)
        progress = {p.usage_point_id: p for p in await service.store.progress()}
        assert all(p.last_error_code is None for p in progress.values())
    finally:
        await service.stop()


async def test_a_used_up_quota_stops_until_midnight_naming_the_counter(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    clock = Clock()
    service, _ = await start_all(aiohttp_server, tmp_path, clock, quota_cached=12)
    assert service.store is not None
    try:
        outcome = await service.sync()
        assert outcome.phase is SyncPhase.QUOTA
        assert outcome.resumes_at == dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
        assert outcome.error is not None and "12/12 cached requests" in outcome.error.message
        for progress in await service.store.progress():
            health = health_of(progress, NOW)
            assert not health.needs_user
            assert health.state.value == "waiting"
            assert "12/12 cached requests" in health.cause
        # the dashboard says which counter, without an error
        status = await build_status(service, "en")
        for entry in status["usage_points"]:
            progress = entry["progress"]
            assert progress["health"]["state"] == "waiting" and not progress["health"]["needs_user"]
            assert "12/12 cached requests" in progress["last_error"]["detail"]
    finally:
        await service.stop()


async def test_a_month_of_daily_syncs_never_shows_an_error(
    aiohttp_server: AiohttpServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = Clock()
    service, state = await start_all(aiohttp_server, tmp_path, clock)
    store = service.store
    assert store is not None
    daily_faults = [fk.ENEDIS_UNAVAILABLE, fk.RATE_LIMIT_EXCEEDED, fk.HTTP_500, fk.HTTP_502]
    per_point_day: list[int] = []  # counted requests per point per day, the faulted attempts aside
    with_retries: list[int] = []
    try:
        outcome = await service.sync()
        assert outcome.phase is SyncPhase.DONE and outcome.usage_point_errors == {}
        first_sync = len(state.requests)
        for day in range(1, 31):
            # every sixth day the sync runs at 07:30 Paris, before yesterday is published
            hour = 6 if day % 6 == 0 else 10
            clock.now = NOW.replace(hour=hour, minute=30) + dt.timedelta(days=day)
            state.force_fault(daily_faults[day % len(daily_faults)])
            before = len(state.requests)
            outcome = await service.sync()
            assert outcome.phase is SyncPhase.DONE and outcome.usage_point_errors == {}, (day, outcome)
            await assert_healthy(store, clock.now)
            counted = [r for r in state.requests[before:] if r.counted and r.usage_point_id]
            per_point = Counter(r.usage_point_id for r in counted if not r.outcome.startswith("fault:"))
            per_point_day.extend(per_point.values())
            with_retries.extend(Counter(r.usage_point_id for r in counted).values())
        refused_later = [r for r in state.requests[first_sync:] if r.outcome == "error:DATE_TOO_OLD"]
        assert refused_later == []
        assert max(per_point_day) <= 6
        with capsys.disabled():
            print(
                f"\nmonth of daily syncs: requests per point per day max {max(per_point_day)}, "
                f"mean {sum(per_point_day) / len(per_point_day):.2f} (with the faulted attempts: max "
                f"{max(with_retries)}); quota units on refused windows "
                f"after the first sync: {len(refused_later)}"
            )
        # no day lost: the daily consumption is complete from the bound to J-1 at the end
        yesterday = last_available_day(clock.now)
        for pdl in ("09111111111111", "09222222222222"):
            rows = await store.daily(pdl, Direction.CONSUMPTION, dt.date(2023, 1, 1), yesterday)
            days = [r.day for r in rows]
            assert days[-1] == yesterday
            assert len(days) == (days[-1] - days[0]).days + 1
    finally:
        await service.stop()
    assert data_requests(state)
