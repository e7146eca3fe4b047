"""Exporter benchmarks: a /metrics scrape with the three demo points, and the first VictoriaMetrics push.

Run: `python -m bench.exporters` (needs the `victoria-metrics` program; scripts/test.sh installs it).
Targets (issue 5): a /metrics scrape < 20 ms; the first VictoriaMetrics push of 2 years x 3 points < 15 s.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from app.domain import Direction
from app.exporters.victoriametrics import VictoriaMetricsExporter
from app.gateway.retry import RetryPolicy
from app.gateway.simulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SimulatorConfig, create_simulator_app
from app.service import Service
from app.settings import Secret, Settings
from app.web.app import create_app
from bench._serve import serve

NOW = dt.datetime.now(dt.UTC).replace(hour=10, minute=0, second=0, microsecond=0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def bench(tmp: Path) -> None:
    simulator, gateway_url = await serve(create_simulator_app(SimulatorConfig(clock=lambda: NOW)))
    settings = Settings(
        client_id=Secret(DEMO_CLIENT_ID),
        client_secret=Secret(DEMO_CLIENT_SECRET),
        gateway_url=gateway_url,
        data_dir=tmp / "data",
    )
    service = Service(settings, retry=RetryPolicy(), clock=lambda: NOW)
    await service.start(schedule=False)
    await service.sync()
    manager = service.exporters
    assert manager is not None and service.store is not None
    await manager.save("prometheus", {"enabled": True})
    await manager.wait_idle()

    web_runner, web_url = await serve(create_app(service))
    timings: list[float] = []
    async with aiohttp.ClientSession() as session:
        for i in range(220):
            started = time.perf_counter()
            async with session.get(web_url + "/metrics") as response:
                body = await response.read()
                assert response.status == 200
            if i >= 20:  # warm-up excluded
                timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    print(
        f"/metrics scrape (3 demo points, {len(body)} bytes, HTTP round trip): "
        f"median {statistics.median(timings):.2f} ms, "
        f"p95 {timings[int(len(timings) * 0.95)]:.2f} ms, max {timings[-1]:.2f} ms (target < 20 ms)"
    )
    prometheus = manager.exporters["prometheus"]
    started = time.perf_counter()
    await prometheus.export()  # the refresh done after each sync: re-reads the store
    refresh_ms = (time.perf_counter() - started) * 1000
    print(f"/metrics snapshot refresh after a sync (store reads, in the background): {refresh_ms:.1f} ms")

    program = shutil.which("victoria-metrics")
    if program is None:
        print("victoria-metrics is not installed: VictoriaMetrics push not measured")
    else:
        port = _free_port()
        process = await asyncio.create_subprocess_exec(
            *(program, f"-httpListenAddr=127.0.0.1:{port}", f"-storageDataPath={tmp / 'vm'}"),
            "-retentionPeriod=100y",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as session:
                for _ in range(600):
                    try:
                        async with session.get(url + "/health") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.05)
            exporter = VictoriaMetricsExporter({"enabled": True, "url": url}, manager.context)
            await exporter.connect()
            started = time.perf_counter()
            result = await exporter.export()
            elapsed = time.perf_counter() - started
            await exporter.disconnect()
            span = []
            for point in await service.store.usage_points():
                pdl = point.usage_point_id
                first = NOW - dt.timedelta(days=3650)
                curve = await service.store.intervals(pdl, Direction.CONSUMPTION, first, NOW)
                span.append(f"{pdl}: {len(curve)} half-hours from {curve[0].start.date()}")
            print(
                f"first VictoriaMetrics push: {result.items:,} samples in {elapsed:.2f} s "
                f"({result.items / elapsed:,.0f} samples/s; {', '.join(span)}) (target < 15 s)"
            )
        finally:
            process.terminate()
            await process.wait()
    await web_runner.cleanup()
    await service.stop()
    await simulator.cleanup()


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bench(Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
