"""Runs syncs: one at start, then daily after 08:00 Paris at this install's own minute, a light
Tempo/EcoWatt run after 11:00, retries with backoff, a resume after the quota reset, and "sync now"."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app import timeline
from app.domain import SyncPhase
from app.sync.runner import SyncOutcome
from app.sync.schedule import next_daily_run, next_tempo_check, quota_resume_at, retry_delay

log = logging.getLogger(__name__)

RunSync = Callable[[bool], Awaitable[SyncOutcome]]  # argument: shared_only


@dataclass
class SchedulerState:
    running: bool = False
    next_run_at: dt.datetime | None = None
    next_run_shared_only: bool = False
    last_outcome: SyncOutcome | None = None
    last_run_at: dt.datetime | None = None
    failures: int = 0


class SyncScheduler:
    def __init__(
        self,
        run_sync: RunSync,
        *,
        install_minute: int,
        clock: Callable[[], dt.datetime] = timeline.now_utc,
    ) -> None:
        self._run_sync = run_sync
        self._install_minute = install_minute
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._waiters: list[asyncio.Future[SyncOutcome]] = []
        self.state = SchedulerState()

    @staticmethod
    def draw_install_minute() -> int:
        return random.SystemRandom().randrange(0, 120)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="sync-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def trigger(self) -> bool:
        """'Sync now'. Returns False when a sync is already running (it is not queued twice)."""
        if self.state.running:
            return False
        self.state.next_run_at = self._clock()
        self.state.next_run_shared_only = False
        self._wake.set()
        return True

    def next_run_finished(self) -> asyncio.Future[SyncOutcome]:
        """A future resolved with the outcome of the next run that finishes."""
        waiter: asyncio.Future[SyncOutcome] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        return waiter

    async def run_once(self, shared_only: bool = False) -> SyncOutcome:
        self.state.running = True
        try:
            outcome = await self._run_sync(shared_only)
        except Exception:  # a bug must not kill the scheduler; the next run is planned as a retry
            log.exception("sync crashed")
            outcome = SyncOutcome(SyncPhase.ERROR)
        finally:
            self.state.running = False
        self.state.last_outcome = outcome
        self.state.last_run_at = self._clock()
        self._plan_next(outcome, shared_only)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(outcome)
        return outcome

    def _plan_next(self, outcome: SyncOutcome, shared_only: bool) -> None:
        now = self._clock()
        daily = next_daily_run(now, self._install_minute)
        tempo = next_tempo_check(now, self._install_minute)
        if outcome.phase is SyncPhase.QUOTA:
            self.state.failures = 0
            self.state.next_run_at = outcome.resumes_at or quota_resume_at(now, self._install_minute)
            self.state.next_run_shared_only = False
            log.info("quota reached: the sync resumes at %s", self.state.next_run_at.isoformat())
            return
        if outcome.phase is SyncPhase.ERROR and (outcome.error is None or outcome.error.retryable):
            self.state.failures += 1
            retry_at = now + retry_delay(self.state.failures)
            if retry_at < daily:
                self.state.next_run_at = retry_at
                self.state.next_run_shared_only = shared_only
                log.info("sync failed; retry at %s", retry_at.isoformat())
                return
        else:
            self.state.failures = 0
        if tempo < daily:
            self.state.next_run_at, self.state.next_run_shared_only = tempo, True
        else:
            self.state.next_run_at, self.state.next_run_shared_only = daily, False

    async def _loop(self) -> None:
        await self.run_once()
        while True:
            next_at = self.state.next_run_at or self._clock()
            delay = (next_at - self._clock()).total_seconds()
            if delay > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=min(delay, 3600.0))
                if self.state.next_run_at is not None and self.state.next_run_at > self._clock():
                    continue
            await self.run_once(self.state.next_run_shared_only)
