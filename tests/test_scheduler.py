"""The scheduler: a run at start, the next one after 08:00 Paris at the install's minute, a Tempo run
after 11:00, backoff after failures, resume after the quota reset, "sync now" wakes it."""

from __future__ import annotations

import asyncio
import datetime as dt

from app.domain import SyncPhase
from app.gateway.errors import AuthenticationError, GatewayUnavailableError, RateLimitError
from app.sync.runner import SyncOutcome
from app.sync.scheduler import SyncScheduler
from tests.support import Clock

WINTER_MORNING = dt.datetime(2026, 11, 28, 5, 0, tzinfo=dt.UTC)  # 06:00 Paris


class FakeRuns:
    """Stands in for the sync (the scheduler's own collaborator), returning scripted outcomes."""

    def __init__(self, *outcomes: SyncOutcome) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[bool] = []

    async def __call__(self, shared_only: bool) -> SyncOutcome:
        self.calls.append(shared_only)
        return self.outcomes.pop(0) if self.outcomes else SyncOutcome(SyncPhase.DONE)


async def test_done_run_schedules_tempo_check_then_the_daily_run() -> None:
    clock = Clock(WINTER_MORNING)
    scheduler = SyncScheduler(FakeRuns(), install_minute=37, clock=clock)
    await scheduler.run_once()
    # 06:00 Paris: the daily run at 08:37 Paris (07:37 UTC in winter) comes before the 11:07 Tempo check
    assert scheduler.state.next_run_at == dt.datetime(2026, 11, 28, 7, 37, tzinfo=dt.UTC)
    assert scheduler.state.next_run_shared_only is False
    clock.now = dt.datetime(2026, 11, 28, 7, 40, tzinfo=dt.UTC)
    await scheduler.run_once()
    assert scheduler.state.next_run_at == dt.datetime(2026, 11, 28, 10, 7, tzinfo=dt.UTC)
    assert scheduler.state.next_run_shared_only is True


async def test_quota_resumes_after_midnight_utc_and_failures_back_off() -> None:
    clock = Clock(dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC))
    resets = dt.datetime(2026, 7, 2, tzinfo=dt.UTC)
    runs = FakeRuns(
        SyncOutcome(SyncPhase.QUOTA, error=RateLimitError("quota", resets_at=resets), resumes_at=resets),
        SyncOutcome(SyncPhase.ERROR, error=GatewayUnavailableError("down")),
        SyncOutcome(SyncPhase.ERROR, error=GatewayUnavailableError("down")),
        SyncOutcome(SyncPhase.ERROR, error=AuthenticationError("bad credentials")),
    )
    scheduler = SyncScheduler(runs, install_minute=10, clock=clock)
    await scheduler.run_once()
    assert scheduler.state.next_run_at == resets
    await scheduler.run_once()
    first_retry = scheduler.state.next_run_at
    assert first_retry is not None and clock.now < first_retry <= clock.now + dt.timedelta(minutes=10)
    await scheduler.run_once()
    second_retry = scheduler.state.next_run_at
    assert second_retry is not None and second_retry - clock.now > first_retry - clock.now
    await scheduler.run_once()  # bad credentials: no hammering, wait for the next daily slot
    eight_ten_paris_summer = dt.datetime(2026, 7, 2, 6, 10, tzinfo=dt.UTC)
    assert scheduler.state.next_run_at == eight_ten_paris_summer


async def test_start_runs_at_once_and_sync_now_wakes_the_loop() -> None:
    clock = Clock(WINTER_MORNING)
    runs = FakeRuns()
    scheduler = SyncScheduler(runs, install_minute=0, clock=clock)
    first = scheduler.next_run_finished()
    scheduler.start()
    await first
    assert runs.calls == [False]
    second = scheduler.next_run_finished()
    assert scheduler.trigger() is True
    await asyncio.wait_for(second, timeout=5)
    assert runs.calls == [False, False]
    await scheduler.stop()


async def test_a_crashing_sync_does_not_kill_the_scheduler() -> None:
    async def crash(shared_only: bool) -> SyncOutcome:
        raise RuntimeError("bug")

    scheduler = SyncScheduler(crash, install_minute=0, clock=Clock(WINTER_MORNING))
    outcome = await scheduler.run_once()
    assert outcome.phase is SyncPhase.ERROR
    assert scheduler.state.next_run_at is not None
