"""Web UI benchmark: server time of every page and chart API, one year of half-hours, dashboard weight.

Run: `python -m bench.web` (builds the chart assets first if you want the dashboard weight of a real
install: `npm ci --prefix frontend && npm run build --prefix frontend`).
Targets (issue 7), with the simulator's full history (3 years daily, 2 years of load curve, 3 points):
every page's server time < 50 ms at p95 over many requests; one year of half-hours as compact chart data
< 100 ms; the dashboard's first load < 300 KB transferred.
Times are measured around each request by a middleware (server time) and also end to end over HTTP.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from app.web.api import warm_split_cache
from app.web.app import create_app
from app.web.cache import CACHE
from app.web.pages import all_pages
from app.web.pricing_pages import cached_data
from bench._serve import demo_service, serve

VIEWS = ("month", "year")
PRICED = (("consumption_euro", "month"), ("consumption_euro", "year"), ("simulation", ""), ("bilan", ""))

NOW = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
REQUESTS = 200
HPHC = "09222222222222"
SERVER_TIMES: list[float] = []


@web.middleware
async def _timer(request: web.Request, handler: aiohttp.typedefs.Handler) -> web.StreamResponse:
    started = time.perf_counter()
    response = await handler(request)
    SERVER_TIMES.append(time.perf_counter() - started)
    return response


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] * 1000


async def _measure(
    session: aiohttp.ClientSession, url: str, count: int, cold: Callable[[], None] | None = None
) -> tuple[float, float, int]:
    """p95 server time, p95 end-to-end time, compressed size; `cold` empties the answer cache first."""
    SERVER_TIMES.clear()
    round_trips: list[float] = []
    size = 0
    for _ in range(count):
        if cold is not None:
            cold()
        started = time.perf_counter()
        async with session.get(url) as answer:
            body = await answer.read()
            assert answer.status == 200, (url, answer.status)
        round_trips.append(time.perf_counter() - started)
        size = len(body)
    return _p95(SERVER_TIMES), _p95(round_trips), size


async def main(data_dir: Path) -> int:
    simulator, service = await demo_service(data_dir, NOW)
    assert service.store is not None
    await service.sync()
    counts = await service.store.row_counts()
    print("data: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()) if v))
    app = create_app(service)
    app.middlewares.insert(0, _timer)
    runner, base = await serve(app)
    warmups = []
    for _ in range(5):
        app[CACHE].splits.clear()
        started = time.perf_counter()
        await warm_split_cache(app)
        warmups.append(time.perf_counter() - started)
    print(
        f"peak/off-peak classification of every stored curve (done once after each sync): "
        f"median {statistics.median(warmups) * 1000:.0f} ms"
    )
    failures = 0
    async with aiohttp.ClientSession(
        auto_decompress=False, headers={"Accept-Encoding": "gzip, br"}
    ) as session:
        answers = app[CACHE].answers

        def cold() -> None:
            answers.clear()

        print(
            f"\nserver time p95 over {REQUESTS} requests (target < 50 ms): cold (API answer cache emptied "
            "before each request), warm; end-to-end p95 (cold); compressed size"
        )
        urls = [f"{page.route.lstrip('/')}?pdl={HPHC}" for page in all_pages(app)]
        urls += [
            f"api/{name}?pdl={HPHC}&view={view}"
            for name in ("energy", "split", "max_power")
            for view in ("day", "week", "month", "year")
        ]
        urls += [f"api/curve?pdl={HPHC}", f"api/compare?pdl={HPHC}", "api/ecowatt", "api/tempo", "api/status"]
        urls += [f"api/cost?pdl={HPHC}&period={period}" for period in ("day", "month", "year")]
        urls += [f"api/simulation/{name}?pdl={HPHC}" for name in ("ranking", "months")]
        urls += [
            f"api/bilan/{name}?pdl={HPHC}&view={view}" for name in ("energy", "shares") for view in VIEWS
        ]
        urls += [f"api/bilan/years?pdl={HPHC}"]
        for url in urls:
            server, trip, size = await _measure(session, f"{base}/{url}", REQUESTS, cold)
            warm, _, _ = await _measure(session, f"{base}/{url}", REQUESTS)
            mark = "ok" if server < 50 else "SLOW"
            failures += server >= 50
            print(f"  {url:50s} {server:6.1f} ms {warm:6.1f} ms {trip:6.1f} ms {size / 1024:6.1f} KB  {mark}")

        print(
            "\ncost figures priced from the store (what the cost pages and their charts show; kept until "
            "the next sync or choice of offer, computed again just after a sync):"
        )
        for priced, period in PRICED:
            times = []
            for _ in range(20):
                app[CACHE].figures.clear()
                started = time.perf_counter()
                await cached_data(app, service.store, priced, HPHC, period, NOW.date())
                times.append(time.perf_counter() - started)
            print(f"  {priced:16s} {period:5s} median {statistics.median(times) * 1000:6.1f} ms")

        year = f"api/curve?pdl={HPHC}&first=2025-11-28&last=2026-11-27"
        server, trip, size = await _measure(session, f"{base}/{year}", 50, cold)
        median = statistics.median(SERVER_TIMES) * 1000
        warm, _, _ = await _measure(session, f"{base}/{year}", 50)
        failures += median >= 100  # the issue states no percentile here; the p95 is printed too
        print(
            f"\none year of half-hours (17,520 values, target < 100 ms), server time cold: median "
            f"{median:.1f} ms, p95 {server:.1f} ms; warm p95 {warm:.1f} ms; end-to-end p95 {trip:.1f} ms; "
            f"{size / 1024:.0f} KB gzip"
        )

        # The dashboard's first load: the page and every asset it references, as transferred.
        async with session.get(f"{base}/") as answer:
            raw = await answer.read()
            page = gzip.decompress(raw) if answer.headers.get("Content-Encoding") == "gzip" else raw
            total = len(raw) + sum(len(k) + len(v) + 4 for k, v in answer.raw_headers)
        assets = re.findall(rb'(?:href|src)="(static/[^"]+)"', page)
        for asset in assets:
            async with session.get(f"{base}/{asset.decode()}") as answer:
                total += len(await answer.read()) + sum(len(k) + len(v) + 4 for k, v in answer.raw_headers)
        failures += total >= 300 * 1024
        print(
            f"dashboard first load (target < 300 KB): {total / 1024:.1f} KB transferred "
            f"(page + {len(assets)} assets: {', '.join(a.decode() for a in assets)})"
        )
        async with session.get(f"{base}/static/dist/charts.js") as answer:
            js = len(await answer.read())
            encoding = answer.headers.get("Content-Encoding")
            print(f"chart bundle (loaded by chart pages only): {js / 1024:.1f} KB {encoding}")
    await runner.cleanup()
    await service.stop()
    await simulator.cleanup()
    print("\nall targets met" if not failures else f"\n{failures} target(s) missed")
    return 1 if failures else 0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        sys.exit(asyncio.run(main(Path(tmp))))
