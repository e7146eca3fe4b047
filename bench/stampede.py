"""Cache stampede benchmark: 200 concurrent requests, once, to the cost pages and their chart APIs right
after a sync (caches just emptied), against the web server on 127.0.0.1.

Run: `python -m bench.stampede`. Reports the wall time, the computations started per cache key (at most
one each), whether every answer equals the one computed alone afterwards, and the process' peak RSS
during the burst (VmHWM reset just before it; the client runs in the same process). Target: < 250 MB.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from app.web.app import create_app
from app.web.cache import CACHE
from bench._serve import demo_service, serve

NOW = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
REQUESTS = 200
POINTS = ("09111111111111", "09222222222222", "09333333333333")
TARGET_MB = 250
_TOKEN = re.compile(rb'name="csrf_token" value="[^"]*"')


def _paths() -> list[str]:
    out = []
    for pdl in POINTS:
        out += [
            f"/consumption_euro?pdl={pdl}",
            f"/consumption_euro?pdl={pdl}&period=year",
            f"/simulation?pdl={pdl}",
            f"/bilan?pdl={pdl}",
            f"/api/cost?pdl={pdl}&period=month",
            f"/api/simulation/ranking?pdl={pdl}",
            f"/api/simulation/months?pdl={pdl}",
            f"/api/bilan/energy?pdl={pdl}&view=year",
            f"/api/pricing/simulation?pdl={pdl}",
        ]
    return out


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM back to the current RSS
    except OSError:
        return False
    return True


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, bytes]:
    async with session.get(url) as answer:
        return answer.status, _TOKEN.sub(b"", await answer.read())  # the form token differs per visitor


async def main(data_dir: Path) -> int:
    simulator, service = await demo_service(data_dir, NOW)
    app = create_app(service)
    runner, base = await serve(app)
    await service.sync()
    paths = _paths()
    burst = [paths[i % len(paths)] for i in range(REQUESTS)]

    # Right after a sync: the caches are empty (a sync clears them) and nothing is warm yet.
    cache = app[CACHE]
    cache.clear()
    cache.figures.flights.started.clear()
    cache.answers.flights.started.clear()
    rss_before = _status_kb("VmRSS")
    exact_peak = _reset_peak_rss()
    connector = aiohttp.TCPConnector(limit=REQUESTS)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=300)
    ) as session:
        started = time.perf_counter()
        answers = await asyncio.gather(*(_get(session, base + path) for path in burst))
        elapsed = time.perf_counter() - started
        peak = _status_kb("VmHWM")
        priced = dict(cache.figures.flights.started)
        charted = dict(cache.answers.flights.started)
        health = (await _get(session, base + "/health"))[0]

        # The reference: each URL alone, caches emptied before each.
        reference = {}
        for path in paths:
            cache.clear()
            reference[path] = await _get(session, base + path)
    wrong = [path for path, answer in zip(burst, answers, strict=True) if answer != reference[path]]
    print(f"{REQUESTS} concurrent requests over {len(paths)} URLs: {elapsed:.2f} s")
    print(f"statuses: {sorted({status for status, _ in answers})}, server up after: {health == 200}")
    print(
        f"pricing computations: {sum(priced.values())} for {len(priced)} keys "
        f"(max {max(priced.values())} per key)"
    )
    print(
        f"chart answers computed: {sum(charted.values())} for {len(charted)} keys "
        f"(max {max(charted.values())} per key)"
    )
    print(f"answers equal to the one computed alone: {REQUESTS - len(wrong)}/{REQUESTS}")
    label = "peak RSS during the burst" if exact_peak else "peak RSS of the process"
    print(
        f"RSS before the burst: {rss_before / 1024:.0f} MB; "
        f"{label}: {peak / 1024:.0f} MB (target < {TARGET_MB})"
    )
    await runner.cleanup()
    await service.stop()
    await simulator.cleanup()
    ok = (
        health == 200
        and not wrong
        and max(priced.values()) == 1
        and max(charted.values()) == 1
        and peak / 1024 < TARGET_MB
    )
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        sys.exit(asyncio.run(main(Path(tmp))))
