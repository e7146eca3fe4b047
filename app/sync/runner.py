"""Executes a sync plan: one gateway answer -> one store transaction, progress recorded per usage point.

The planner decides what to ask; the runner asks it, within the quota, and turns every failure into a
recorded state (never an exception that stops the server).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from app import contracts, timeline
from app.domain import (
    CallRecord,
    DataKind,
    DateRange,
    Direction,
    SyncPhase,
    SyncProgress,
    UsagePoint,
)
from app.gateway.base import Gateway
from app.gateway.errors import (
    AccessDeniedError,
    DateTooOldError,
    GatewayError,
    LoadCurveDisabledError,
    NoConsentError,
    NoDataError,
    NoProductionError,
    NotActivatedError,
    RateLimitError,
    TransientRateLimitError,
)
from app.store import Store
from app.sync.planner import PlanInputs, PlannedRequest, latest_activation, plan

log = logging.getLogger(__name__)
_T = TypeVar("_T")

ACCOUNT = ""  # progress row of the account as a whole
RATE_LIMIT_RETRIES = 3  # retries of one request refused by the limiter while the counters are under it
RATE_LIMIT_FIRST_DELAY = 5.0  # seconds, x4 each time (5, 20, 80)
DISABLED_RETRY_AFTER = dt.timedelta(days=7)
_COUNTED_KINDS = frozenset(
    {
        DataKind.CONTRACT,
        DataKind.ADDRESS,
        DataKind.DAILY_CONSUMPTION,
        DataKind.DAILY_PRODUCTION,
        DataKind.CURVE_CONSUMPTION,
        DataKind.CURVE_PRODUCTION,
        DataKind.MAX_POWER,
    }
)
_METADATA_KINDS = frozenset({DataKind.CONTRACT, DataKind.ADDRESS})


@dataclass
class SyncOutcome:
    phase: SyncPhase
    requests: int = 0
    error: GatewayError | None = None
    resumes_at: dt.datetime | None = None
    usage_point_errors: dict[str, GatewayError] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.phase is SyncPhase.DONE and not self.usage_point_errors


class QuotaExhaustedError(Exception):
    """Raised inside the runner when the known remaining quota reaches zero (nothing more is sent)."""


@dataclass
class _Budget:
    """What is left of today's cached-request quota, charged with every counted call really sent
    (retries included). None: unknown (no usage stats); then RATE_LIMIT_EXCEEDED is the guard."""

    remaining: int | None = None
    limit: int | None = None

    def check(self) -> None:
        if self.remaining is not None and self.remaining <= 0:
            raise QuotaExhaustedError

    def charge(self, calls: int) -> None:
        if self.remaining is not None:
            self.remaining -= calls


class SyncRunner:
    def __init__(
        self,
        store: Store,
        gateway: Gateway,
        *,
        clock: Callable[[], dt.datetime] = timeline.now_utc,
        correction_days: int = 7,
        only_usage_points: Sequence[str] = (),
        call_log: list[CallRecord] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rate_limit_retries: int = RATE_LIMIT_RETRIES,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._clock = clock
        self._correction_days = correction_days
        self._only = tuple(only_usage_points)
        self._calls: list[CallRecord] = [] if call_log is None else call_log
        self._progress: dict[str, SyncProgress] = {}
        self._started: set[str] = set()
        self._current_points: set[str] = set()
        self._blocked: set[str] = set()  # usage points refused as a whole (access denied, no consent)
        self._budget = _Budget()
        self._sleep = sleep
        self._rate_limit_retries = rate_limit_retries
        self._activations: dict[str, dt.date] = {}
        self._bounds: dict[tuple[str, DataKind], dt.date] = {}

    async def run(self, *, shared_only: bool = False) -> SyncOutcome:
        outcome = SyncOutcome(SyncPhase.DONE)
        self._progress = {p.usage_point_id: p for p in await self._store.progress()}
        self._started = {ACCOUNT}
        self._current_points = set()
        self._blocked = set()
        self._budget = _Budget()
        await self._set_progress(
            ACCOUNT,
            phase=SyncPhase.RUNNING,
            step="usage_points",
            done=0,
            total=0,
            last_error_code=None,
            last_error_message=None,
        )
        try:
            points = await self._usage_points(outcome)
            stats = await self._gateway.usage_stats()
            await self._flush_calls()
            self._budget = _Budget() if stats is None else _Budget(stats.cached_remaining, stats.cached_limit)
            if shared_only:
                await self._execute(
                    [r for r in await self._plan(points) if r.usage_point_id is None], outcome
                )
            else:
                # Contracts first: their activation dates shape the data windows planned next.
                await self._execute(
                    [r for r in await self._plan(points) if r.kind in _METADATA_KINDS], outcome
                )
                await self._execute(
                    [r for r in await self._plan(points) if r.kind not in _METADATA_KINDS], outcome
                )
        except QuotaExhaustedError:
            outcome.phase = SyncPhase.QUOTA
            outcome.resumes_at = timeline.next_utc_midnight(self._clock())
            limit = self._budget.limit
            outcome.error = RateLimitError(
                f"daily gateway quota used up: {limit}/{limit} cached requests today; "
                "the sync resumes after 00:00 UTC",
                resets_at=outcome.resumes_at,
            )
        except RateLimitError as exc:
            outcome.phase = SyncPhase.QUOTA
            outcome.error = exc
            outcome.resumes_at = exc.resets_at or timeline.next_utc_midnight(self._clock())
        except GatewayError as exc:
            outcome.phase = SyncPhase.ERROR
            outcome.error = exc
        finally:
            await self._flush_calls()
        await self._finish(outcome)
        return outcome

    async def _usage_points(self, outcome: SyncOutcome) -> list[UsagePoint]:
        points = await self._gateway.usage_points()
        await self._flush_calls()
        await self._store.save_usage_points(points)
        today = timeline.paris_today(self._clock())
        for point in points:  # a contract change seen in /pdl opens a new contract period
            if await self._store.contract(point.usage_point_id) is not None:
                await contracts.record_seen(self._store, point.usage_point_id, today)
        known = {p.usage_point_id for p in points}
        for pdl in self._only:
            if pdl not in known:
                error = AccessDeniedError(
                    f"usage point {pdl} is not in this MyElectricalData account", usage_point_id=pdl
                )
                outcome.usage_point_errors[pdl] = error
                await self._set_progress(
                    pdl, phase=SyncPhase.ERROR, last_error_code=error.code, last_error_message=error.message
                )
        if self._only:
            points = [p for p in points if p.usage_point_id in self._only]
        points = [p for p in points if p.is_active or p.usage_point_id in self._only]
        self._current_points = {p.usage_point_id for p in points}
        return points

    async def _plan(self, points: Sequence[UsagePoint]) -> list[PlannedRequest]:
        now = self._clock()
        state = await self._store.fetch_state()
        last_fetched: dict[tuple[str, DataKind], dt.datetime] = {}
        disabled: set[tuple[str, DataKind]] = set()
        for key, (fetched_at, reason) in state.items():
            if fetched_at is not None:
                last_fetched[key] = fetched_at
            if reason is not None and (fetched_at is None or now - fetched_at < DISABLED_RETRY_AFTER):
                disabled.add(key)
        contracts = await self._store.contracts()
        self._activations = {}
        for point in points:
            activation = latest_activation(point, contracts.get(point.usage_point_id))
            if activation is not None:
                self._activations[point.usage_point_id] = activation
        self._bounds = await self._load_bounds()
        return plan(
            PlanInputs(
                now=now,
                usage_points=points,
                contracts=contracts,
                coverage=await self._store.all_coverage(),
                last_fetched=last_fetched,
                disabled=frozenset(disabled),
                bounds=self._bounds,
                correction_days=self._correction_days,
            )
        )

    async def _load_bounds(self) -> dict[tuple[str, DataKind], dt.date]:
        return await self._store.settings.history_bounds()

    async def _learn_bound(self, usage_point_id: str, kind: DataKind, day: dt.date) -> None:
        self._bounds[(usage_point_id, kind)] = day
        await self._store.settings.set_history_bounds(self._bounds)
        log.info("sync: the gateway serves %s of %s from %s on", kind.value, usage_point_id, day.isoformat())

    async def _execute(self, requests: Sequence[PlannedRequest], outcome: SyncOutcome) -> None:
        added: dict[str, int] = {}
        for request in requests:
            owner = request.usage_point_id or ACCOUNT
            added[owner] = added.get(owner, 0) + 1
        for owner, count in added.items():
            if owner not in self._started:
                self._started.add(owner)
                await self._set_progress(
                    owner,
                    phase=SyncPhase.RUNNING,
                    done=0,
                    total=count,
                    step="",
                    last_error_code=None,
                    last_error_message=None,
                )
            else:
                await self._set_progress(owner, total=self._progress[owner].total + count)
        for planned in requests:
            owner = planned.usage_point_id or ACCOUNT
            if owner in self._blocked:
                continue
            bounded = self._within_bound(planned)
            if bounded is None:  # wholly before a bound learned earlier in this run: nothing to ask
                await self._set_progress(owner, done=self._progress[owner].done + 1)
                continue
            request = bounded
            await self._set_progress(owner, step=request.kind.value)
            try:
                await self._send(request, outcome)
            except (QuotaExhaustedError, RateLimitError):
                raise
            except GatewayError as exc:
                if exc.stops_run:
                    raise
                if request.usage_point_id is not None and isinstance(exc, AccessDeniedError | NoConsentError):
                    self._blocked.add(request.usage_point_id)
                    outcome.usage_point_errors[request.usage_point_id] = exc
                elif request.usage_point_id is not None and not isinstance(exc, LoadCurveDisabledError):
                    outcome.usage_point_errors.setdefault(request.usage_point_id, exc)
                log.warning(
                    "sync: %s for %s failed: %s (%s)",
                    request.kind.value,
                    owner or "account",
                    exc.message,
                    exc.code,
                )
                await self._set_progress(owner, last_error_code=exc.code, last_error_message=exc.message)
            await self._set_progress(owner, done=self._progress[owner].done + 1)

    def _within_bound(self, request: PlannedRequest) -> PlannedRequest | None:
        """``request`` re-planned against the bounds learned so far (the plan was made before them)."""
        if request.usage_point_id is None or request.first is None or request.last is None:
            return request
        bound = self._bounds.get((request.usage_point_id, request.kind))
        if bound is None or request.first >= bound:
            return request
        if request.last < bound:
            return None
        return replace(request, first=bound)

    async def _send(self, request: PlannedRequest, outcome: SyncOutcome) -> None:
        """One planned request; a RATE_LIMIT_EXCEEDED is checked against /accounts/usage-stats: under the
        limits it was the limiter's passing mood (retried with backoff, bounded), at the limit the run
        stops until 00:00 UTC with the counter named."""
        delay = RATE_LIMIT_FIRST_DELAY
        retries = 0
        while True:
            if request.kind in _COUNTED_KINDS:
                self._budget.check()
            outcome.requests += 1
            try:
                await self._fetch_and_store(request)
                return
            except RateLimitError as exc:
                await self._flush_calls()
                stats = await self._gateway.usage_stats()
                await self._flush_calls()
                if stats is None:
                    raise RateLimitError(
                        f"{exc.message}; the gateway's usage counters could not be read to confirm it",
                        resets_at=exc.resets_at,
                        usage_point_id=exc.usage_point_id,
                    ) from exc
                self._budget = _Budget(stats.cached_remaining, stats.cached_limit)
                if stats.cached_requests >= stats.cached_limit:
                    raise RateLimitError(
                        f"daily gateway quota used up: {stats.cached_requests}/{stats.cached_limit} "
                        "cached requests today; the sync resumes after 00:00 UTC",
                        resets_at=exc.resets_at,
                        usage_point_id=exc.usage_point_id,
                    ) from exc
                if retries >= self._rate_limit_retries:
                    raise TransientRateLimitError(
                        f"the gateway's limiter refused {retries + 1} times although only "
                        f"{stats.cached_requests}/{stats.cached_limit} cached requests were used today; "
                        "the next scheduled sync asks again",
                        usage_point_id=exc.usage_point_id,
                    ) from exc
                retries += 1
                log.info(
                    "sync: RATE_LIMIT_EXCEEDED with %d/%d cached requests used: retry %d in %.0f s",
                    stats.cached_requests,
                    stats.cached_limit,
                    retries,
                    delay,
                )
                await self._sleep(delay)
                delay *= 4

    async def _fetch_and_store(self, request: PlannedRequest) -> None:
        kind, pdl = request.kind, request.usage_point_id
        now = self._clock()
        try:
            if kind is DataKind.CONTRACT:
                assert pdl is not None
                contract = await self._gateway.contract(pdl)
                await self._flush_calls()
                await self._store.save_contract(contract)
                await contracts.record_seen(self._store, pdl, timeline.paris_today(now))
                await self._store.mark_fetched(pdl, kind, now)
            elif kind is DataKind.ADDRESS:
                assert pdl is not None
                address = await self._gateway.address(pdl)
                await self._flush_calls()
                await self._store.save_address(address)
                await self._store.mark_fetched(pdl, kind, now)
            elif kind in (DataKind.DAILY_CONSUMPTION, DataKind.DAILY_PRODUCTION):
                await self._daily(request)
            elif kind in (DataKind.CURVE_CONSUMPTION, DataKind.CURVE_PRODUCTION):
                await self._curve(request)
            elif kind is DataKind.MAX_POWER:
                await self._max_power(request)
            elif kind is DataKind.TEMPO:
                await self._tempo(request)
            elif kind is DataKind.ECOWATT:
                days = await self._gateway.ecowatt(4)
                await self._flush_calls()
                await self._store.save_ecowatt(days)
                await self._store.mark_fetched(ACCOUNT, kind, now)
            elif kind is DataKind.OFFERS:
                offers = await self._gateway.offers()
                await self._flush_calls()
                await self._store.save_offers(offers, source="gateway")
                await self._store.mark_fetched(ACCOUNT, kind, now)
        except LoadCurveDisabledError:
            await self._flush_calls()
            if pdl is not None:
                await self._store.set_disabled(pdl, kind, "load_curve_disabled")
                await self._store.mark_fetched(pdl, kind, now)
            raise
        except NoProductionError:
            await self._flush_calls()
            if pdl is not None:
                for production_kind in (DataKind.DAILY_PRODUCTION, DataKind.CURVE_PRODUCTION):
                    await self._store.set_disabled(pdl, production_kind, "no_production")
                    await self._store.mark_fetched(pdl, production_kind, now)
            raise
        except (NotActivatedError, NoDataError):
            # Nothing exists there: remember the window so it is not asked again every day.
            await self._flush_calls()
            await self._mark_empty(request)

    async def _mark_empty(self, request: PlannedRequest) -> None:
        if request.first is None or request.last is None or request.usage_point_id is None:
            return
        window = [DateRange(request.first, request.last)]
        kind, pdl = request.kind, request.usage_point_id
        direction = kind.direction or Direction.CONSUMPTION
        if kind in (DataKind.DAILY_CONSUMPTION, DataKind.DAILY_PRODUCTION):
            await self._store.save_daily(pdl, direction, [], window)
        elif kind in (DataKind.CURVE_CONSUMPTION, DataKind.CURVE_PRODUCTION):
            await self._store.save_curve(pdl, direction, [], window)
        elif kind is DataKind.MAX_POWER:
            await self._store.save_max_power(pdl, [], window)

    async def _with_date_retry(
        self, request: PlannedRequest, fetch: Callable[[dt.date], Awaitable[_T]]
    ) -> _T:
        """One window refused as too old is asked again at once from the oldest day the gateway named
        (learned and kept for the next plans: no refused window again), or, when it named none, from two
        days later (its idea of "today" may differ from ours). A single bad window never drops a year."""
        assert request.first is not None and request.last is not None and request.usage_point_id is not None
        try:
            return await fetch(request.first)
        except DateTooOldError as exc:
            await self._flush_calls()
            bound = exc.oldest_allowed
            if bound is None or bound <= request.first:
                bound = request.first + dt.timedelta(days=2)
            else:
                await self._learn_bound(request.usage_point_id, request.kind, bound)
            if bound > request.last:
                # nothing of this window is served any more: remembered as empty, never asked again
                raise NoDataError(exc.message, usage_point_id=request.usage_point_id) from exc
            return await fetch(bound)

    def _starts_at_activation(self, request: PlannedRequest) -> bool:
        return request.usage_point_id is not None and request.first == self._activations.get(
            request.usage_point_id
        )

    async def _daily(self, request: PlannedRequest) -> None:
        pdl, first, last = _range_of(request)
        direction = request.kind.direction or Direction.CONSUMPTION
        fetched = await self._with_date_retry(
            request, lambda start: self._gateway.daily(pdl, direction, start, last)
        )
        await self._flush_calls()
        if (
            not fetched.items
            and fetched.partial is None
            and self._starts_at_activation(request)
            and first < last
        ):
            # the gateway's activation day may be one later than announced: its window came back empty
            fetched = await self._gateway.daily(pdl, direction, first + dt.timedelta(days=1), last)
            await self._flush_calls()
        covered = _covered(first, last, (row.day for row in fetched.items), fetched.partial)
        await self._store.save_daily(pdl, direction, fetched.items, covered)

    async def _curve(self, request: PlannedRequest) -> None:
        pdl, first, last = _range_of(request)
        direction = request.kind.direction or Direction.CONSUMPTION
        fetched = await self._with_date_retry(
            request, lambda start: self._gateway.curve(pdl, direction, start, last)
        )
        await self._flush_calls()
        days = {timeline.paris_date(reading.start) for reading in fetched.items}
        covered = _covered(first, last, days, fetched.partial)
        if fetched.partial is not None and "ADAM-ERR0123" in fetched.partial and days:
            # the days before the meter's activation have nothing to give: not asked again
            before = min(days) - dt.timedelta(days=1)
            if first <= before:
                covered.append(DateRange(first, before))
        await self._store.save_curve(pdl, direction, fetched.items, covered)

    async def _max_power(self, request: PlannedRequest) -> None:
        pdl, first, last = _range_of(request)
        fetched = await self._with_date_retry(
            request, lambda start: self._gateway.max_power(pdl, start, last)
        )
        await self._flush_calls()
        if (
            not fetched.items
            and fetched.partial is None
            and self._starts_at_activation(request)
            and first < last
        ):
            fetched = await self._gateway.max_power(pdl, first + dt.timedelta(days=1), last)
            await self._flush_calls()
        covered = _covered(first, last, (row.day for row in fetched.items), fetched.partial)
        await self._store.save_max_power(pdl, fetched.items, covered)

    async def _tempo(self, request: PlannedRequest) -> None:
        assert request.first is not None and request.last is not None
        days = await self._gateway.tempo_days(request.first, request.last)
        await self._flush_calls()
        # Only days that came are covered: tomorrow's colour may not be published yet.
        covered = _ranges_of(sorted({d.day for d in days if request.first <= d.day <= request.last}))
        await self._store.save_tempo(days, covered)

    async def _flush_calls(self) -> None:
        if self._calls:
            calls = list(self._calls)
            self._calls.clear()  # the gateway keeps appending to this same list
            # EcoWatt draws on the separate no-cache bucket.
            self._budget.charge(sum(1 for c in calls if c.counts_against_quota and "ecowatt" not in c.route))
            await self._store.record_calls(calls)

    async def _set_progress(self, usage_point_id: str, **changes: object) -> None:
        previous = self._progress.get(usage_point_id) or SyncProgress(usage_point_id, SyncPhase.IDLE)
        values = {
            "phase": previous.phase,
            "done": previous.done,
            "total": previous.total,
            "step": previous.step,
            "last_success": previous.last_success,
            "last_error_code": previous.last_error_code,
            "last_error_message": previous.last_error_message,
        }
        values.update(changes)
        values["updated_at"] = self._clock()
        progress = SyncProgress(usage_point_id, **values)  # type: ignore[arg-type]
        self._progress[usage_point_id] = progress
        await self._store.save_progress(progress)

    async def _finish(self, outcome: SyncOutcome) -> None:
        now = self._clock()
        for owner in sorted(self._started | self._current_points):
            if owner in outcome.usage_point_errors:
                error = outcome.usage_point_errors[owner]
                await self._set_progress(
                    owner,
                    phase=SyncPhase.ERROR,
                    step="",
                    last_error_code=error.code,
                    last_error_message=error.message,
                )
            elif outcome.phase is SyncPhase.DONE:
                progress = self._progress.get(owner)
                touched = owner in self._started
                await self._set_progress(
                    owner,
                    phase=SyncPhase.DONE,
                    step="",
                    last_success=now,
                    done=progress.total if progress and touched else 0,
                    total=progress.total if progress and touched else 0,
                    last_error_code=progress.last_error_code if progress and touched else None,
                    last_error_message=progress.last_error_message if progress and touched else None,
                )
            else:
                failure = outcome.error
                await self._set_progress(
                    owner,
                    phase=outcome.phase,
                    step="",
                    last_error_code=failure.code if failure else "quota_reached",
                    last_error_message=failure.message if failure else "daily gateway quota reached",
                )


def _range_of(request: PlannedRequest) -> tuple[str, dt.date, dt.date]:
    assert request.usage_point_id is not None and request.first is not None and request.last is not None
    return request.usage_point_id, request.first, request.last


def _ranges_of(days: Sequence[dt.date]) -> list[DateRange]:
    ranges: list[DateRange] = []
    for day in days:
        if ranges and ranges[-1].last + dt.timedelta(days=1) == day:
            ranges[-1] = DateRange(ranges[-1].first, day)
        else:
            ranges.append(DateRange(day, day))
    return ranges


def _covered(first: dt.date, last: dt.date, days: Iterable[dt.date], partial: str | None) -> list[DateRange]:
    """A complete answer covers its whole window (days without data have none to give); a PARTIAL_DATA
    answer covers only the days that came, so the missing ones are asked again next time."""
    if partial is None:
        return [DateRange(first, last)]
    return _ranges_of(sorted({day for day in days if first <= day <= last}))
