"""The whole pipeline (client -> runner -> store) against the gateway simulator on a real local server."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from pathlib import Path

import pytest

from app import timeline
from app.domain import DailySource, DataKind, Direction, SyncPhase
from app.gateway.simulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, default_usage_points
from app.store import Store
from app.sync.planner import HistoryLimits, last_available_day, minimum_requests, wanted_range
from tests.support import NOW, AiohttpServer, Clock, data_requests, make_service, start_simulator

DST_SPRING = dt.date(2025, 3, 30)
DST_AUTUMN = dt.date(2025, 10, 26)


def _directions(has_production: bool) -> list[Direction]:
    return [Direction.CONSUMPTION, Direction.PRODUCTION] if has_production else [Direction.CONSUMPTION]


async def test_first_sync_stores_exactly_what_the_gateway_has(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    clock = Clock()
    server, state = await start_simulator(aiohttp_server, clock)
    service = make_service(tmp_path, str(server.make_url("/")), clock)
    await service.start(schedule=False)
    assert service.store is not None
    store = service.store
    try:
        outcome = await service.sync()
        assert outcome.phase is SyncPhase.DONE, outcome
        assert outcome.usage_point_errors == {}
        today = timeline.paris_today(NOW)
        yesterday = today - dt.timedelta(days=1)
        assert last_available_day(NOW) == yesterday
        points = {p.usage_point_id: p for p in await store.usage_points()}
        contracts = await store.contracts()
        assert set(points) == {p.usage_point_id for p in default_usage_points()}
        for pdl, point in points.items():
            for direction in _directions(point.has_production):
                daily_window = wanted_range(
                    point, contracts.get(pdl), DataKind.daily(direction), NOW, HistoryLimits()
                )
                assert daily_window is not None
                rows = await store.daily(pdl, direction, daily_window.first - dt.timedelta(days=30), today)
                by_day = {r.day: r for r in rows}
                # every day of the history, nothing dated today, each equal to the gateway's figure
                assert sorted(by_day) == daily_window.iter_days()
                assert max(by_day) == yesterday
                for day, row in by_day.items():
                    assert row.wh == state.data.daily_wh(pdl, direction, day), (pdl, direction, day)
                # the daily route never returns yesterday: it comes from the curve until the meter's value
                assert by_day[yesterday].source is DailySource.CURVE and by_day[yesterday].complete
                assert all(r.source is DailySource.METER for d, r in by_day.items() if d < yesterday)

                curve_window = wanted_range(
                    point, contracts.get(pdl), DataKind.curve(direction), NOW, HistoryLimits()
                )
                assert curve_window is not None
                per_day = dict(await store.curve_energy(pdl, direction, "day", curve_window.first, today))
                assert sorted(per_day) == curve_window.iter_days()
                for day, wh in per_day.items():
                    assert isinstance(day, dt.date)
                    assert abs(wh - by_day[day].wh) < 1, (pdl, direction, day)
                for day, slots in ((DST_SPRING, 46), (DST_AUTUMN, 50), (dt.date(2025, 11, 3), 48)):
                    start, end = timeline.day_bounds_utc(day)
                    readings = await store.intervals(pdl, direction, start, end)
                    assert len(readings) == slots, (pdl, day)
                    assert len({r.start for r in readings}) == slots
                today_start, _ = timeline.day_bounds_utc(today)
                assert (
                    await store.intervals(pdl, direction, today_start, today_start + dt.timedelta(days=2))
                    == []
                )
            power = await store.max_power(pdl, today - dt.timedelta(days=40), today)
            assert power and max(p.day for p in power) < today
            for peak in power:
                assert peak.va == state.data.max_power(pdl, peak.day)[0]
    finally:
        await service.stop()


async def test_first_sync_sends_the_minimum_and_the_next_day_at_most_six_per_point(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    clock = Clock()
    server, state = await start_simulator(aiohttp_server, clock)
    service = make_service(tmp_path, str(server.make_url("/")), clock)
    await service.start(schedule=False)
    assert service.store is not None
    try:
        assert (await service.sync()).phase is SyncPhase.DONE
        points = await service.store.usage_points()
        contracts = await service.store.contracts()
        for point in points:
            sent = len(data_requests(state, point.usage_point_id))
            assert sent == minimum_requests(point, contracts.get(point.usage_point_id), NOW), point
        shared = Counter(r.route for r in state.requests if r.usage_point_id is None)
        for route in ("pdl", "tempo", "ecowatt", "offers", "usage_stats"):
            assert shared[route] == 1, (route, shared)

        state.requests.clear()
        clock.advance(dt.timedelta(days=1))
        assert (await service.sync()).phase is SyncPhase.DONE
        per_point = Counter(r.usage_point_id for r in data_requests(state) if r.usage_point_id)
        assert set(per_point) == {p.usage_point_id for p in points}
        assert max(per_point.values()) <= 6, per_point
    finally:
        await service.stop()


async def test_random_failures_converge_to_the_fault_free_store(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    clock = Clock()
    clean_server, _ = await start_simulator(aiohttp_server, clock)
    reference = make_service(tmp_path, str(clean_server.make_url("/")), clock, name="reference")
    await reference.start(schedule=False)
    assert reference.store is not None
    assert (await reference.sync()).ok
    expected = await reference.store.snapshot()
    await reference.stop()

    faulty_server, faulty_state = await start_simulator(
        aiohttp_server, clock, fault_rate=0.2, fault_seed=20261128, timeout_delay=0.6
    )
    service = make_service(tmp_path, str(faulty_server.make_url("/")), clock, name="faulty", timeout=0.3)
    await service.start(schedule=False)
    assert service.store is not None
    try:
        runs = 0
        for runs in range(1, 31):  # noqa: B007 - the count is reported on failure
            outcome = await service.sync()
            if outcome.ok and await service.store.snapshot() == expected:
                break
        faults = Counter(r.outcome for r in faulty_state.requests if r.outcome.startswith("fault:"))
        assert len(faults) >= 3, faults  # the failures really happened, of several kinds
        assert await service.store.snapshot() == expected, f"not converged after {runs} runs"
    finally:
        await service.stop()


async def test_quota_stops_the_sync_and_sends_nothing_beyond_it(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    clock = Clock()
    server, state = await start_simulator(aiohttp_server, clock, quota_cached=5)
    service = make_service(tmp_path, str(server.make_url("/")), clock)
    await service.start(schedule=False)
    assert service.store is not None
    try:
        outcome = await service.sync()
        assert outcome.phase is SyncPhase.QUOTA
        assert outcome.resumes_at == dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
        assert len(data_requests(state)) == 5
        assert not [r for r in state.requests if r.outcome == "rate_limited"]
        account = next(p for p in await service.store.progress() if p.usage_point_id == "")
        assert account.phase is SyncPhase.QUOTA and account.last_error_code == "quota_reached"
        assert await service.store.quota_calls_on(NOW.date()) == 5
    finally:
        await service.stop()


async def test_no_secret_or_token_is_ever_logged(
    aiohttp_server: AiohttpServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = Clock()
    server, state = await start_simulator(
        aiohttp_server, clock, fault_rate=0.1, fault_seed=3, timeout_delay=0.5
    )
    service = make_service(tmp_path, str(server.make_url("/")), clock, timeout=0.3)
    await service.start(schedule=False)
    try:
        await service.sync()
        state.expire_tokens()
        clock.advance(dt.timedelta(days=1))
        await service.sync()
    finally:
        await service.stop()
    bad = make_service(tmp_path, str(server.make_url("/")), clock, client_secret="x" * 86, name="bad")
    await bad.start(schedule=False)
    await bad.sync()
    await bad.stop()
    secrets = [DEMO_CLIENT_SECRET, DEMO_CLIENT_ID, "x" * 86, *state.issued_tokens]
    assert len(state.issued_tokens) >= 2
    assert len(caplog.records) > 20
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        for secret in secrets:
            assert secret not in text, f"a secret leaked in a {record.name} log line"


async def test_store_reopened_after_sync_keeps_everything(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    clock = Clock()
    server, _ = await start_simulator(aiohttp_server, clock)
    service = make_service(tmp_path, str(server.make_url("/")), clock)
    await service.start(schedule=False)
    assert service.store is not None
    await service.sync()
    before = await service.store.snapshot()
    await service.stop()
    reopened = await Store.open("", data_dir=tmp_path / "data")
    try:
        assert await reopened.snapshot() == before
    finally:
        await reopened.close()
