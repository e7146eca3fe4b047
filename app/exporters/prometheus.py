"""Prometheus: current values on `/metrics` (web server, and optionally a port of its own).

A prometheus-client custom collector yields the families built from a snapshot of the store at each
scrape. The snapshot is refreshed after every sync (the export step) and when older than a minute,
so a scrape never waits on the database for long. No timestamps and no per-hour labels: history
belongs in VictoriaMetrics.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import voluptuous as vol
from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from app import timeline
from app.costing import live_prices
from app.domain import SyncPhase, SyncProgress, TempoColor
from app.exporters._data import DirectionSummary, Summary, summarize
from app.exporters.base import BaseExporter, ExporterError, ExportResult
from app.pricing.live import LivePrice
from app.pricing.schedule import slot_at

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "myelectricaldata"
TEMPO_LEVEL = {TempoColor.BLUE: 1, TempoColor.WHITE: 2, TempoColor.RED: 3}

SCHEMA = vol.Schema(
    {
        vol.Optional("enabled", default=False): bool,
        vol.Optional(
            "port", default=0, description="Also serve /metrics on this port (0 = only on the web UI port)"
        ): vol.All(vol.Coerce(int), vol.Range(min=0, max=65535)),
        vol.Optional(
            "refresh_seconds", default=60, description="Re-read the store at most this often"
        ): vol.All(vol.Coerce(int), vol.Range(min=1, max=3600)),
    }
)


@dataclass
class Snapshot:
    summary: Summary
    progress: list[SyncProgress]
    quota_used_today: int
    version: str
    taken: float  # time.monotonic()
    prices: dict[str, LivePrice] = field(default_factory=dict)  # today's and tomorrow's schedules


class SnapshotCollector(Collector):
    """Yields metric families from one snapshot (a new collector per scrape)."""

    def __init__(self, snapshot: Snapshot, now: dt.datetime | None = None) -> None:
        self.snapshot = snapshot
        self.now = now  # the price in force is read from the snapshot's schedules at this instant

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        info = InfoMetricFamily(PREFIX, "MyElectricalData local client")
        info.add_metric([], {"version": snap.version})
        yield info
        label = ["usage_point_id"]
        point_info = InfoMetricFamily(f"{PREFIX}_usage_point", "Usage point", labels=label)
        subscribed = GaugeMetricFamily(f"{PREFIX}_subscribed_power_kva", "Subscribed power", labels=label)
        max_power = GaugeMetricFamily(
            f"{PREFIX}_max_power_va", "Maximum power of the newest day with a reading", labels=label
        )
        families: dict[str, Metric] = {}

        def family(kind: str, key: str, help_text: str, counter: bool = False) -> Metric:
            name = f"{PREFIX}_{kind}_{key}"
            if name not in families:
                cls = CounterMetricFamily if counter else GaugeMetricFamily
                families[name] = cls(name, help_text, labels=label)
            return families[name]

        yesterday = snap.summary.today - dt.timedelta(days=1)
        for entry in snap.summary.points:
            pdl = entry.point.usage_point_id
            point_info.add_metric(
                [pdl], {"name": entry.point.name, "pricing_option": entry.point.pricing_option.value}
            )
            if entry.subscribed_kva is not None:
                subscribed.add_metric([pdl], entry.subscribed_kva)
            if entry.max_power is not None:
                max_power.add_metric([pdl], entry.max_power.va)
            for kind, part in (("consumption", entry.consumption), ("production", entry.production)):
                if part is not None:
                    self._energy(family, kind, pdl, part, yesterday)
        yield point_info
        yield subscribed
        yield max_power
        yield from families.values()
        tempo = GaugeMetricFamily(
            f"{PREFIX}_tempo_color", "Tempo colour: 1 blue, 2 white, 3 red", labels=["day"]
        )
        for when, day in snap.summary.tempo.items():
            tempo.add_metric([when], TEMPO_LEVEL[day.color])
        yield tempo
        ecowatt = GaugeMetricFamily(
            f"{PREFIX}_ecowatt_level", "EcoWatt level: 1 normal, 2 tense, 3 critical", labels=["day"]
        )
        for when, eco in snap.summary.ecowatt.items():
            ecowatt.add_metric([when], eco.level)
        yield ecowatt
        yield from self._prices()
        yield from self._health()

    def _prices(self) -> Iterator[Metric]:
        label = ["usage_point_id"]
        price = GaugeMetricFamily(
            f"{PREFIX}_price_eur_per_kwh", "Energy price in force now (EUR/kWh)", labels=[*label, "bucket"]
        )
        offpeak = GaugeMetricFamily(f"{PREFIX}_offpeak", "1 during off-peak hours, else 0", labels=label)
        for pdl, live in sorted(self.snapshot.prices.items()):
            slot = slot_at([*live.today, *live.tomorrow], self.now) if self.now else live.current
            if slot is None:
                continue
            price.add_metric([pdl, slot.bucket], float(slot.price))
            offpeak.add_metric([pdl], 1 if slot.offpeak else 0)
        yield price
        yield offpeak

    @staticmethod
    def _energy(family: Any, kind: str, pdl: str, part: DirectionSummary, yesterday: dt.date) -> None:
        family(kind, "energy_wh", f"Cumulative {kind} of every stored day", counter=True).add_metric(
            [pdl], part.total_wh
        )
        if part.yesterday_wh is not None:
            family(kind, "yesterday_wh", f"{kind.capitalize()} of yesterday (Paris day)").add_metric(
                [pdl], part.yesterday_wh
            )
            if part.day == yesterday and part.hp_wh is not None and part.hc_wh is not None:
                family(kind, "yesterday_peak_wh", "Yesterday's peak-hours (HP) part").add_metric(
                    [pdl], part.hp_wh
                )
                family(kind, "yesterday_offpeak_wh", "Yesterday's off-peak (HC) part").add_metric(
                    [pdl], part.hc_wh
                )
            if part.day == yesterday and part.day_cost is not None:
                family(
                    kind, "yesterday_cost_euros", "Energy cost of yesterday, subscription excluded"
                ).add_metric([pdl], float(part.day_cost))
        if part.month_wh is not None:
            family(kind, "month_wh", f"{kind.capitalize()} of the current month so far").add_metric(
                [pdl], part.month_wh
            )
        if part.year_wh is not None:
            family(kind, "year_wh", f"{kind.capitalize()} of the current year so far").add_metric(
                [pdl], part.year_wh
            )

    def _health(self) -> Iterator[Metric]:
        snap = self.snapshot
        label = ["usage_point_id"]
        success = GaugeMetricFamily(
            f"{PREFIX}_sync_last_success_timestamp_seconds",
            "Last successful sync (usage_point_id empty: the account)",
            labels=label,
        )
        errors = GaugeMetricFamily(
            f"{PREFIX}_sync_error", "1 when the last sync of this usage point ended in error", labels=label
        )
        for progress in snap.progress:
            if progress.last_success is not None:
                success.add_metric([progress.usage_point_id], progress.last_success.timestamp())
            failed = progress.phase is SyncPhase.ERROR or progress.last_error_code is not None
            errors.add_metric([progress.usage_point_id], 1 if failed else 0)
        yield success
        yield errors
        yield GaugeMetricFamily(
            f"{PREFIX}_gateway_requests_today",
            "Gateway requests counted against the daily quota today (UTC)",
            value=snap.quota_used_today,
        )


class PrometheusExporter(BaseExporter):
    name: ClassVar[str] = "prometheus"
    title: ClassVar[str] = "Prometheus"
    description: ClassVar[str] = (
        "Serves current values on /metrics for Prometheus to scrape (history: use VictoriaMetrics)."
    )
    config_schema: ClassVar[vol.Schema] = SCHEMA
    texts: ClassVar[dict[str, dict[str, str]]] = {
        "fr": {
            "description": (
                "Sert les valeurs actuelles sur /metrics pour Prometheus (historique : VictoriaMetrics)."
            ),
            "port": "Port dédié",
            "port.help": "Sert aussi /metrics sur ce port (0 : seulement sur le port de l'interface)",
            "refresh_seconds": "Relecture de la base (secondes)",
            "refresh_seconds.help": "Relit la base au plus une fois par cette durée",
        }
    }

    def __init__(self, config: Any, context: Any) -> None:
        super().__init__(config, context)
        self._snapshot: Snapshot | None = None
        self._refreshing: asyncio.Lock = asyncio.Lock()
        self._runner: web.AppRunner | None = None
        self._background: asyncio.Task[Snapshot] | None = None

    async def snapshot(self, *, force: bool = False) -> Snapshot:
        async with self._refreshing:
            current = self._snapshot
            if (
                current is not None
                and not force
                and time.monotonic() - current.taken < int(self.config["refresh_seconds"])
            ):
                return current
            store = self.context.store
            now = self.context.clock()
            self._snapshot = Snapshot(
                summary=await summarize(self.context),
                progress=await store.progress(),
                quota_used_today=await store.quota_calls_on(now.astimezone(dt.UTC).date()),
                version=self.context.version,
                taken=time.monotonic(),
                prices=await live_prices(store, now),
            )
            return self._snapshot

    async def render(self) -> bytes:
        """The exposition text. A stale snapshot is served while a fresh one is read in the background,
        so a scrape never waits on the database (only the very first one does)."""
        current = self._snapshot
        if current is None:
            snapshot = await self.snapshot()
        else:
            snapshot = current
            stale = time.monotonic() - current.taken >= int(self.config["refresh_seconds"])
            if stale and (self._background is None or self._background.done()):
                self._background = asyncio.get_running_loop().create_task(self.snapshot())
        registry = CollectorRegistry(auto_describe=False)
        registry.register(SnapshotCollector(snapshot, self.context.clock()))
        self.status.last_run = self.context.clock()
        return generate_latest(registry)

    async def connect(self) -> None:
        port = int(self.config["port"])
        if port and self._runner is None:
            app = web.Application()
            app.router.add_get("/metrics", self._own_port_handler)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            try:
                await web.TCPSite(runner, "0.0.0.0", port).start()
            except OSError as exc:
                await runner.cleanup()
                raise ExporterError(f"cannot listen on port {port}: {exc.strerror or exc}") from None
            self._runner = runner

    async def _own_port_handler(self, _request: web.Request) -> web.Response:
        return web.Response(body=await self.render(), headers={"Content-Type": CONTENT_TYPE})

    async def disconnect(self) -> None:
        if self._background is not None:
            self._background.cancel()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def export(self) -> ExportResult:
        snapshot = await self.snapshot(force=True)
        newest = max(
            (p.consumption.day for p in snapshot.summary.points if p.consumption and p.consumption.day),
            default=None,
        )
        detail = f"{len(snapshot.summary.points)} usage points"
        if newest is not None:
            detail += f", newest day {newest.isoformat()}"
        return ExportResult(len(snapshot.summary.points), detail)

    async def test_connection(self) -> str:
        snapshot = await self.snapshot(force=True)
        today = timeline.paris_today(self.context.clock())
        return f"/metrics ready: {len(snapshot.summary.points)} usage points (Paris day {today.isoformat()})"
