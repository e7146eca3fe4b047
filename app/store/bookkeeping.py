"""Sync bookkeeping: gateway calls (quota), progress, fetch state and the days each kind covers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, insert, select

from app.domain import CallRecord, DataKind, DateRange, SyncPhase, SyncProgress, merge_date_ranges
from app.store.database import Database
from app.store.rows import UTC, data_kind, epoch, fit, instant, non_key
from app.store.tables import fetch_state, gateway_call, sync_coverage, sync_progress


class SyncBookkeeping:
    """What the sync runner records about its own work."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # ------------------------------------------------------------------ gateway calls and progress

    async def record_calls(self, calls: Sequence[CallRecord]) -> None:
        if not calls:
            return
        rows = [
            fit(
                gateway_call,
                {
                    "at_ts": epoch(call.at),
                    "route": call.route,
                    "usage_point_id": call.usage_point_id,
                    "status": call.status,
                    "outcome": call.outcome,
                    "counts_against_quota": bool(call.counts_against_quota),
                },
            )
            for call in calls
        ]
        async with self._db.write() as conn:
            await self._db.execute_many(conn, insert(gateway_call), rows)

    async def quota_calls_on(self, utc_day: dt.date) -> int:
        """How many recorded calls counting against the quota were sent on that UTC day."""
        start = epoch(dt.datetime(utc_day.year, utc_day.month, utc_day.day, tzinfo=UTC))
        async with self._db.read() as conn:
            result = await conn.execute(
                select(func.count())
                .select_from(gateway_call)
                .where(
                    gateway_call.c.at_ts >= start,
                    gateway_call.c.at_ts < start + 86_400,
                    gateway_call.c.counts_against_quota,
                )
            )
            return int(result.scalar_one())

    async def save_progress(self, progress: SyncProgress) -> None:
        row = {
            "usage_point_id": progress.usage_point_id,
            "phase": SyncPhase(progress.phase).value,
            "done": int(progress.done),
            "total": int(progress.total),
            "step": progress.step,
            "last_success": None if progress.last_success is None else epoch(progress.last_success),
            "last_error_code": progress.last_error_code,
            "last_error_message": progress.last_error_message,
            "updated_at": None if progress.updated_at is None else epoch(progress.updated_at),
        }
        async with self._db.write() as conn:
            await self._db.upsert_rows(conn, sync_progress, [fit(sync_progress, row)], non_key(sync_progress))

    async def progress(self) -> list[SyncProgress]:
        async with self._db.read() as conn:
            result = await conn.execute(select(sync_progress).order_by(sync_progress.c.usage_point_id))
            return [
                SyncProgress(
                    usage_point_id=row.usage_point_id,
                    phase=_sync_phase(row.phase),
                    done=int(row.done),
                    total=int(row.total),
                    step=row.step,
                    last_success=instant(row.last_success),
                    last_error_code=row.last_error_code,
                    last_error_message=row.last_error_message,
                    updated_at=instant(row.updated_at),
                )
                for row in result
            ]

    # ------------------------------------------------------------------ fetch state

    async def mark_fetched(self, usage_point_id: str, kind: DataKind, at: dt.datetime) -> None:
        row = {
            "usage_point_id": usage_point_id,
            "kind": DataKind(kind).value,
            "last_fetched_at": epoch(at),
            "disabled": False,
            "disabled_reason": None,
        }
        async with self._db.write() as conn:
            await self._db.upsert_rows(conn, fetch_state, [row], ("last_fetched_at",))

    async def set_disabled(self, usage_point_id: str, kind: DataKind, reason: str | None) -> None:
        """Disable fetching `kind` for a usage point with a reason; None re-enables it."""
        row = {
            "usage_point_id": usage_point_id,
            "kind": DataKind(kind).value,
            "last_fetched_at": None,
            "disabled": reason is not None,
            "disabled_reason": reason,
        }
        async with self._db.write() as conn:
            await self._db.upsert_rows(
                conn, fetch_state, [fit(fetch_state, row)], ("disabled", "disabled_reason")
            )

    async def fetch_state(self) -> dict[tuple[str, DataKind], tuple[dt.datetime | None, str | None]]:
        """(usage point, kind) -> (last fetched at, disabled reason or None when enabled)."""
        async with self._db.read() as conn:
            result = await conn.execute(select(fetch_state))
            state: dict[tuple[str, DataKind], tuple[dt.datetime | None, str | None]] = {}
            for row in result:
                kind = data_kind(row.kind)
                if kind is None:
                    continue
                reason = (row.disabled_reason or "") if row.disabled else None
                state[(row.usage_point_id, kind)] = (instant(row.last_fetched_at), reason)
            return state

    async def coverage(self, usage_point_id: str, kind: DataKind) -> list[DateRange]:
        async with self._db.read() as conn:
            result = await conn.execute(
                select(sync_coverage.c.first_day, sync_coverage.c.last_day)
                .where(sync_coverage.c.usage_point_id == usage_point_id, sync_coverage.c.kind == kind.value)
                .order_by(sync_coverage.c.first_day)
            )
            return merge_date_ranges(DateRange(first, last) for first, last in result)

    async def all_coverage(self) -> dict[tuple[str, DataKind], list[DateRange]]:
        async with self._db.read() as conn:
            result = await conn.execute(
                select(
                    sync_coverage.c.usage_point_id,
                    sync_coverage.c.kind,
                    sync_coverage.c.first_day,
                    sync_coverage.c.last_day,
                )
            )
            grouped: dict[tuple[str, DataKind], list[DateRange]] = {}
            for pdl, kind_text, first, last in result:
                kind = data_kind(kind_text)
                if kind is not None:
                    grouped.setdefault((pdl, kind), []).append(DateRange(first, last))
        return {key: merge_date_ranges(ranges) for key, ranges in sorted(grouped.items())}


def _sync_phase(text: str) -> SyncPhase:
    try:
        return SyncPhase(text)
    except ValueError:
        return SyncPhase.IDLE
