"""Home Assistant long-term statistics (Energy dashboard) over the Core websocket.

One external statistic per usage point and direction (`myelectricaldata:consumption_<pdl>`,
`myelectricaldata:production_<pdl>`), one per tariff bucket (`..._hp`, `..._tempo_blue_hc`, ...) and EUR
twins (`..._cost`) when costs are known. Commands (HA core `components/recorder/websocket_api.py`):
`recorder/import_statistics` (metadata + hourly `{"start", "state", "sum"}` rows; re-importing an hour
overwrites it), `recorder/statistics_during_period` (read back the last stored sums) and `get_config`
(the core version: `mean_type`/`unit_class` from 2025.11, `has_mean` before, see the developers' blog
"recorder statistics API changes", 2025-10-16).

Incremental: the last sum stored in HA is read back and the export continues from it; the correction
window (the last `correction_days` days) is re-imported each time with sums recomputed from the sum just
before it, which is idempotent. The whole history is only sent when HA has nothing for a statistic.
The recorder stores imports one row at a time in arrival order, so every kWh statistic is sent before
any EUR twin: on a first import the Energy dashboard's kWh are there first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import voluptuous as vol

from app import timeline
from app.domain import DataKind, Direction, UsagePoint
from app.exporters.base import BaseExporter, ExportContext, ExporterError, ExportResult
from app.exporters.homeassistant.hourly import (
    TOTAL,
    WM_PER_KWH,
    BucketClassifier,
    HourlyEnergy,
    classifier_for,
    hourly_energy,
)
from app.exporters.homeassistant.websocket import HomeAssistantWebSocket, core_endpoint, version_tuple
from app.store import contracts

log = logging.getLogger(__name__)

SOURCE = "myelectricaldata"
LOOKBACK = dt.timedelta(days=7)
FAR_PAST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
MEAN_TYPE_SINCE = (2025, 11)
APPLY_TIMEOUT = 300.0
BUCKET_LABELS = {
    "hp": "HP",
    "hc": "HC",
    **{f"tempo_{c}_{p}": f"Tempo {c} {p.upper()}" for c in ("blue", "white", "red") for p in ("hp", "hc")},
}


@dataclass(frozen=True, slots=True)
class StatisticSpec:
    statistic_id: str
    name: str
    direction: Direction
    bucket: str  # "" = total
    cost: bool

    @property
    def unit(self) -> str:
        return "EUR" if self.cost else "kWh"


@dataclass(frozen=True, slots=True)
class Resume:
    """Where to continue a statistic: from `start` (None = from the first stored day) on top of `base`."""

    start: dt.datetime | None
    base: float


def statistic_id(usage_point_id: str, direction: Direction, bucket: str = TOTAL, cost: bool = False) -> str:
    parts = [direction.value, usage_point_id.lower()]
    if bucket:
        parts.append(bucket)
    if cost:
        parts.append("cost")
    return f"{SOURCE}:{'_'.join(parts)}"


def statistic_specs(point: UsagePoint, buckets: list[str], with_costs: bool) -> list[StatisticSpec]:
    label = f"Linky {point.name or point.usage_point_id}"
    specs: list[StatisticSpec] = []
    if point.has_consumption:
        direction = Direction.CONSUMPTION
        for cost in (False, True) if with_costs else (False,):
            suffix = " cost" if cost else ""
            specs.append(
                StatisticSpec(
                    statistic_id(point.usage_point_id, direction, TOTAL, cost),
                    f"{label} consumption{suffix}",
                    direction,
                    TOTAL,
                    cost,
                )
            )
            specs.extend(
                StatisticSpec(
                    statistic_id(point.usage_point_id, direction, bucket, cost),
                    f"{label} consumption {BUCKET_LABELS.get(bucket, bucket)}{suffix}",
                    direction,
                    bucket,
                    cost,
                )
                for bucket in buckets
            )
    if point.has_production:
        direction = Direction.PRODUCTION
        specs.append(
            StatisticSpec(
                statistic_id(point.usage_point_id, direction), f"{label} production", direction, TOTAL, False
            )
        )
    return specs


def core_release(ha_version: str) -> tuple[int, int]:
    """(year, month) of the core; ExporterError when the version names no release: the metadata
    shapes before and after 2025.11 exclude each other, and a guess could lose every import."""
    release = version_tuple(ha_version)
    if release is None:
        raise ExporterError(
            f"Home Assistant did not report a usable version ({ha_version!r}): the statistics format "
            "depends on it (mean_type and unit_class from 2025.11, has_mean before), so nothing was "
            "sent. Check that the Home Assistant URL points at Home Assistant itself."
        )
    return release


def metadata(spec: StatisticSpec, ha_version: str) -> dict[str, Any]:
    """The import metadata in the shape the core of `ha_version` accepts."""
    meta: dict[str, Any] = {
        "source": SOURCE,
        "statistic_id": spec.statistic_id,
        "name": spec.name,
        "unit_of_measurement": spec.unit,
        "has_sum": True,
    }
    if core_release(ha_version) >= MEAN_TYPE_SINCE:
        meta["mean_type"] = 0
        meta["unit_class"] = None if spec.cost else "energy"
    else:
        meta["has_mean"] = False
    return meta


def _hours(
    series: Mapping[dt.datetime, Any],
    total: Mapping[dt.datetime, Any],
    bucket: str,
    fill_from: dt.datetime | None,
) -> list[dt.datetime]:
    """The hours a statistic gets a row for. When re-splitting after a contract timeline change, a bucket
    statistic gets one (0 when empty) for every hour of the total from `fill_from` (the first changed
    day) on, so that an hour moved to another bucket is overwritten in HA."""
    if fill_from is None or bucket == TOTAL:
        return sorted(series)
    return sorted(set(series) | {hour for hour in total if hour >= fill_from})


def build_rows(
    spec: StatisticSpec, data: HourlyEnergy, resume: Resume, *, fill_from: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Hourly rows from `resume.start` on, with sums continuing from `resume.base` (`fill_from`: _hours)."""
    rows: list[dict[str, Any]] = []
    if spec.cost:
        costs = data.cost.get(spec.bucket, {})
        running = Decimal(repr(resume.base))
        for hour in _hours(costs, data.cost.get(TOTAL, {}), spec.bucket, fill_from):
            if resume.start is not None and hour < resume.start:
                continue
            running += costs.get(hour, Decimal(0))
            rows.append(
                {
                    "start": hour.isoformat(),
                    "state": float(round(costs.get(hour, Decimal(0)), 6)),
                    "sum": float(round(running, 6)),
                }
            )
        return rows
    energy = data.energy.get(spec.bucket, {})
    cumulative = 0
    for hour in _hours(energy, data.energy.get(TOTAL, {}), spec.bucket, fill_from):
        if resume.start is not None and hour < resume.start:
            continue
        cumulative += energy.get(hour, 0)
        rows.append(
            {
                "start": hour.isoformat(),
                "state": round(energy.get(hour, 0) / WM_PER_KWH, 6),
                "sum": round(resume.base + cumulative / WM_PER_KWH, 6),
            }
        )
    return rows


def _row_start(value: Any) -> dt.datetime:
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
    return dt.datetime.fromisoformat(str(value)).astimezone(dt.UTC)


class HomeAssistantStatisticsExporter(BaseExporter):
    name: ClassVar[str] = "homeassistant_statistics"
    title: ClassVar[str] = "Home Assistant – Energy dashboard statistics"
    description: ClassVar[str] = (
        "Hourly consumption, production and cost as long-term statistics, for the Energy dashboard."
    )
    config_schema: ClassVar[vol.Schema] = vol.Schema(
        {
            vol.Optional("enabled", default=False): bool,
            # Empty URL and token: the Core API of the add-on runtime (supervisor proxy, or HA_URL +
            # HA_TOKEN); filled in, they override it.
            vol.Optional("url", default=""): vol.All(str, vol.Strip),
            vol.Optional("token", default=""): vol.All(str, vol.Strip),
            vol.Optional("correction_days", default=7): vol.All(vol.Coerce(int), vol.Range(min=1, max=60)),
            vol.Optional("costs", default=True): bool,
            vol.Optional("batch_rows", default=2000): vol.All(vol.Coerce(int), vol.Range(min=24, max=20000)),
        }
    )
    secret_fields: ClassVar[frozenset[str]] = frozenset({"token"})

    energy_stored_after: float | None = None  # seconds, last export: until HA held every kWh row

    @classmethod
    def enabled_by_default(cls, context: ExportContext) -> bool:
        """On where the Core API is known: the supervisor's proxy, or HA_URL and HA_TOKEN."""
        return context.core_api is not None

    async def connect(self) -> None:
        self.endpoint()  # fail early on missing settings

    async def disconnect(self) -> None:
        self.status.connected = False

    def endpoint(self) -> tuple[str, str]:
        """The exporter's own URL and token when set, else the Core API of the add-on runtime."""
        return core_endpoint(self.config["url"], self.config["token"], self.context.core_api)

    def _socket(self) -> HomeAssistantWebSocket:
        return HomeAssistantWebSocket(*self.endpoint())

    async def test_connection(self) -> str:
        async with self._socket() as ws:
            config = await ws.command("get_config")
            return (
                f"Home Assistant {config.get('version', ws.ha_version)} ({config.get('location_name', '')})"
            )

    async def export(self) -> ExportResult:
        now = self.context.clock()
        self.status.last_run = now
        try:
            result = await self._export(now)
        except ExporterError as exc:
            self.status.last_error = str(exc)
            self.status.connected = False
            raise
        self.status.last_success = now
        self.status.last_error = None
        return result

    async def _export(self, now: dt.datetime) -> ExportResult:
        store = self.context.store
        costs = self.context.costs if self.config["costs"] else None
        window_start = timeline.day_start_utc(
            timeline.paris_today(now) - dt.timedelta(days=self.config["correction_days"])
        )
        sent = 0
        newest: dt.datetime | None = None
        pending: list[tuple[str, dict[str, Any]]] = []
        pending_costs: list[tuple[str, dict[str, Any]]] = []
        deferred: list[tuple[StatisticSpec, list[dict[str, Any]]]] = []
        started = time.monotonic()
        async with self._socket() as ws:
            self.status.connected = True
            ha_version = str((await ws.command("get_config")).get("version", ws.ha_version))
            core_release(ha_version)  # refuse an unknown core before reading the store
            coverage = await store.all_coverage()
            handled: list[tuple[str, Any]] = []
            for point in await store.usage_points():
                pdl = point.usage_point_id
                point_window = window_start
                resplit = await contracts.pending_resplit(store, self.name, pdl)
                fill_from: dt.datetime | None = None
                if resplit is not None:  # the contract timeline changed: re-split and re-sum from there
                    fill_from = timeline.day_start_utc(resplit[0])
                    point_window = min(window_start, fill_from)
                    handled.append((pdl, resplit[1]))
                for direction in (Direction.CONSUMPTION, Direction.PRODUCTION):
                    ranges = coverage.get((pdl, DataKind.daily(direction)), []) + coverage.get(
                        (pdl, DataKind.curve(direction)), []
                    )
                    if not ranges:
                        continue
                    first = min(r.first for r in ranges)
                    last = max(r.last for r in ranges)
                    classifier: BucketClassifier | None = None
                    if direction is Direction.CONSUMPTION:
                        classifier = await classifier_for(store, pdl, first, last)
                    buckets = classifier.buckets if classifier is not None else []
                    specs = [
                        s
                        for s in statistic_specs(point, buckets, costs is not None)
                        if s.direction is direction
                    ]
                    if not specs:
                        continue
                    resumes = await self._resumes(ws, [s.statistic_id for s in specs], point_window)
                    starts = [r.start for r in resumes.values()]
                    from_day = (
                        first
                        if any(s is None for s in starts)
                        else max(first, min(timeline.paris_date(s) for s in starts if s is not None))
                    )
                    if from_day > last:
                        continue
                    data = await hourly_energy(
                        store,
                        pdl,
                        direction,
                        from_day,
                        last,
                        classifier=classifier,
                        costs=costs if direction is Direction.CONSUMPTION else None,
                    )
                    for spec in specs:
                        rows = build_rows(spec, data, resumes[spec.statistic_id], fill_from=fill_from)
                        if not rows:
                            continue
                        if spec.cost:  # kWh first: the recorder stores in order, euros follow
                            deferred.append((spec, rows))
                            continue
                        sent += await self._import(ws, spec, rows, ha_version)
                        pending.append((spec.statistic_id, rows[-1]))
                        last_start = _row_start(rows[-1]["start"])
                        newest = last_start if newest is None else max(newest, last_start)
                    del data
            for spec, rows in deferred:
                sent += await self._import(ws, spec, rows, ha_version)
                pending_costs.append((spec.statistic_id, rows[-1]))
            deferred.clear()
            for pdl, token in handled:
                await contracts.resplit_done(store, self.name, pdl, token)
            sent_at = time.monotonic()
            for sid, row in pending:
                await self._wait_applied(ws, sid, row)
            self.energy_stored_after = time.monotonic() - started
            for sid, row in pending_costs:
                await self._wait_applied(ws, sid, row)
            log.info(
                "Home Assistant statistics: %d rows sent in %.1f s; energy stored after %.1f s, "
                "everything after %.1f s",
                sent,
                sent_at - started,
                self.energy_stored_after,
                time.monotonic() - started,
            )
        if newest is not None:
            self.status.last_exported = (
                f"{sent} hourly rows, up to {timeline.to_paris(newest):%Y-%m-%d %H:%M}"
            )
        return ExportResult(sent, self.status.last_exported or "nothing new")

    async def _import(
        self, ws: HomeAssistantWebSocket, spec: StatisticSpec, rows: list[dict[str, Any]], ha_version: str
    ) -> int:
        meta = metadata(spec, ha_version)
        size = self.config["batch_rows"]
        for index in range(0, len(rows), size):
            await ws.command("recorder/import_statistics", metadata=meta, stats=rows[index : index + size])
        return len(rows)

    async def _resumes(
        self, ws: HomeAssistantWebSocket, ids: list[str], window_start: dt.datetime
    ) -> dict[str, Resume]:
        """Read back what HA holds and decide where each statistic continues."""
        recent = await self._hourly_sums(ws, ids, window_start - LOOKBACK, None)
        out: dict[str, Resume] = {}
        missing: list[str] = []
        for sid in ids:
            rows = recent.get(sid, [])
            if not rows:
                missing.append(sid)
                continue
            last_start, last_sum = rows[-1]
            if last_start + dt.timedelta(hours=1) < window_start:
                out[sid] = Resume(last_start + dt.timedelta(hours=1), last_sum)
                continue
            before = [r for r in rows if r[0] < window_start]
            # No row just before the window: HA's history starts inside it; rebuild it from the start.
            out[sid] = Resume(window_start, before[-1][1]) if before else Resume(None, 0.0)
        if missing:
            months = await ws.command(
                "recorder/statistics_during_period",
                start_time=FAR_PAST.isoformat(),
                statistic_ids=missing,
                period="month",
                types=["sum"],
            )
            for sid in missing:
                month_rows: list[dict[str, Any]] = (months or {}).get(sid) or []
                if not month_rows:
                    out[sid] = Resume(None, 0.0)
                    continue
                month_start = _row_start(month_rows[-1]["start"])
                hours = (
                    await self._hourly_sums(ws, [sid], month_start, month_start + dt.timedelta(days=32))
                ).get(sid, [])
                if not hours:
                    out[sid] = Resume(None, 0.0)
                    continue
                last_start, last_sum = hours[-1]
                out[sid] = Resume(last_start + dt.timedelta(hours=1), last_sum)
        return out

    @staticmethod
    async def _hourly_sums(
        ws: HomeAssistantWebSocket, ids: list[str], start: dt.datetime, end: dt.datetime | None
    ) -> dict[str, list[tuple[dt.datetime, float]]]:
        fields: dict[str, Any] = {
            "start_time": start.isoformat(),
            "statistic_ids": ids,
            "period": "hour",
            "types": ["sum"],
        }
        if end is not None:
            fields["end_time"] = end.isoformat()
        result = await ws.command("recorder/statistics_during_period", **fields)
        return {
            sid: [(_row_start(r["start"]), float(r["sum"])) for r in rows if r.get("sum") is not None]
            for sid, rows in (result or {}).items()
        }

    async def _wait_applied(self, ws: HomeAssistantWebSocket, sid: str, row: dict[str, Any]) -> None:
        """The recorder queues imports: wait until the newest row reads back with its sum."""
        start = _row_start(row["start"])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + APPLY_TIMEOUT
        delay = 0.05
        while True:
            rows = (await self._hourly_sums(ws, [sid], start, start + dt.timedelta(hours=1))).get(sid, [])
            if rows and abs(rows[-1][1] - float(row["sum"])) < 1e-6:
                return
            if loop.time() > deadline:
                raise ExporterError(f"Home Assistant did not store {sid} within {APPLY_TIMEOUT:.0f} s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
