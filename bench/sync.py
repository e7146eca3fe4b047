"""Full demo sync benchmark: wall time, peak RSS, request counts against the minimum, store ingest rate.

Run: `python -m bench.sync` (a fresh process, so the peak RSS is the sync's own).
Targets (issue 2): full sync of 3 points x 3 years < 10 s, peak RSS < 150 MB, store >= 100,000 rows/s,
first-sync requests == the minimum the routes allow, next-day sync <= 6 requests per point.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from aiohttp import web

from app.domain import DateRange, Direction, IntervalReading
from app.gateway.retry import RetryPolicy
from app.gateway.simulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    SIMULATOR_STATE,
    SimulatorConfig,
    create_simulator_app,
)
from app.service import Service
from app.settings import Secret, Settings
from app.store import Store
from app.sync.planner import minimum_requests

NOW = dt.datetime.now(dt.UTC).replace(hour=10, minute=0, second=0, microsecond=0)


class _Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def bench_sync(data_dir: Path) -> None:
    clock = _Clock()
    app = create_simulator_app(SimulatorConfig(clock=clock))
    state = app[SIMULATOR_STATE]
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    settings = Settings(
        client_id=Secret(DEMO_CLIENT_ID),
        client_secret=Secret(DEMO_CLIENT_SECRET),
        gateway_url=f"http://{host}:{port}",
        data_dir=data_dir,
    )
    service = Service(settings, retry=RetryPolicy(), clock=clock)
    await service.start(schedule=False)
    assert service.store is not None
    started = time.perf_counter()
    outcome = await service.sync()
    elapsed = time.perf_counter() - started
    print(f"first sync: {outcome.phase.value}, {elapsed:.2f} s wall, peak RSS {_peak_rss_mb():.0f} MB")
    counts = await service.store.row_counts()
    print("rows stored: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()) if v))

    contracts = await service.store.contracts()
    per_point = Counter(r.usage_point_id for r in state.requests if r.counted)
    for point in await service.store.usage_points():
        pdl = point.usage_point_id
        minimum = minimum_requests(point, contracts.get(pdl), NOW)
        print(f"  {pdl} ({point.name}): {per_point[pdl]} gateway requests, minimum {minimum}")
    shared = Counter(r.route for r in state.requests if r.usage_point_id is None)
    print("  shared routes: " + ", ".join(f"{k}={v}" for k, v in sorted(shared.items())))

    state.requests.clear()
    clock.now += dt.timedelta(days=1)
    started = time.perf_counter()
    await service.sync()
    elapsed = time.perf_counter() - started
    per_point = Counter(r.usage_point_id for r in state.requests if r.counted and r.usage_point_id)
    print(f"next-day sync: {elapsed:.2f} s, requests per point: {dict(per_point)} (target <= 6)")
    await service.stop()
    await runner.cleanup()


async def bench_ingest(data_dir: Path, rows: int = 100_000) -> None:
    store = await Store.open("", data_dir=data_dir)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    readings = [
        IntervalReading(
            "09999999999999", Direction.CONSUMPTION, start + dt.timedelta(minutes=30 * i), 30, 400 + i % 900
        )
        for i in range(rows)
    ]
    first = readings[0].start.date()
    last = readings[-1].start.date()
    began = time.perf_counter()
    await store.save_curve("09999999999999", Direction.CONSUMPTION, readings, [DateRange(first, last)])
    elapsed = time.perf_counter() - began
    print(f"store ingest (SQLite, save_curve): {rows} rows in {elapsed:.2f} s = {rows / elapsed:,.0f} rows/s")
    began = time.perf_counter()
    year = await store.intervals(
        "09999999999999", Direction.CONSUMPTION, start, start + dt.timedelta(days=365)
    )
    print(f"read one year of half-hours: {len(year)} rows in {1000 * (time.perf_counter() - began):.0f} ms")
    await store.close()


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bench_sync(Path(tmp) / "sync"))
        asyncio.run(bench_ingest(Path(tmp) / "ingest"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
