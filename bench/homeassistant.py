"""Home Assistant statistics benchmark against a real Home Assistant core (from .ha-venv).

Run: `python -m bench.homeassistant [--costs] [--batch-rows N]` after `bash scripts/test.sh` has created
.ha-venv; `--costs` adds the EUR twins of every statistic.
Targets (issue 4): first statistics import of 2 years for the three demo points (all buckets) < 60 s,
daily incremental export < 5 s, RSS of this program during the export < 150 MB.
The first import time is dominated by Home Assistant's recorder, which checks and writes every imported
row one by one (components/recorder/statistics.py `_import_statistics_with_session`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from app.costing import StoreCostSource
from app.exporters.base import ExportContext
from app.exporters.homeassistant import HomeAssistantStatisticsExporter
from app.store import Store
from tests.ha_support import Mosquitto, build_demo_data, start_home_assistant

NOW = dt.datetime.now(dt.UTC).replace(hour=10, minute=0, second=0, microsecond=0)


class _Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


class _RssSampler:
    """Samples this process's RSS every 20 ms in a thread while an export runs."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._process = psutil.Process()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> _RssSampler:
        self.peak = self._process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def bench(workdir: Path, batch_rows: int | None, with_costs: bool) -> None:
    data_dir = workdir / "data"
    print(f"syncing the demo points (clock {NOW:%Y-%m-%d %H:%M} UTC) in a separate process...")
    sync = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.homeassistant", "--sync", str(data_dir)
    )
    assert await sync.wait() == 0
    mosquitto = Mosquitto(workdir / "mosquitto")
    mosquitto.start()
    ha = await asyncio.to_thread(start_home_assistant, workdir, mosquitto)
    store = await Store.open("", data_dir=data_dir)
    clock = _Clock()
    try:
        config: dict[str, object] = {"enabled": True, "url": ha.url, "token": ha.token}
        if batch_rows is not None:
            config["batch_rows"] = batch_rows
        costs = StoreCostSource(store) if with_costs else None
        exporter = HomeAssistantStatisticsExporter(config, ExportContext(store, clock, "bench", costs=costs))
        ha_process = psutil.Process(ha.process.pid)
        ha_cpu = sum(ha_process.cpu_times()[:2])
        with _RssSampler() as rss:
            started = time.perf_counter()
            first = await exporter.export()
            elapsed = time.perf_counter() - started
        ha_cpu = sum(ha_process.cpu_times()[:2]) - ha_cpu
        print(
            f"first import: {first.items} hourly rows in {elapsed:.1f} s "
            f"(target < 60 s), peak RSS {rss.peak / 2**20:.0f} MB (target < 150 MB); "
            f"Home Assistant used {ha_cpu:.1f} s of CPU "
            f"({ha_cpu / max(first.items, 1) * 1000:.2f} ms per row)"
        )
        if with_costs:
            print(f"  every kWh statistic stored after {exporter.energy_stored_after:.1f} s, euros after")
        clock.now += dt.timedelta(days=1)  # the next day: the correction window again, plus one new day
        with _RssSampler() as rss:
            started = time.perf_counter()
            daily = await exporter.export()
            elapsed = time.perf_counter() - started
        print(
            f"daily incremental export: {daily.items} rows in {elapsed:.2f} s (target < 5 s), "
            f"peak RSS {rss.peak / 2**20:.0f} MB"
        )
    finally:
        await store.close()
        await asyncio.to_thread(ha.stop)
        mosquitto.stop()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("aiohttp").setLevel(logging.WARNING)
    if sys.argv[1:2] == ["--sync"]:
        asyncio.run(build_demo_data(Path(sys.argv[2]), NOW))
        return
    batch_rows = int(sys.argv[sys.argv.index("--batch-rows") + 1]) if "--batch-rows" in sys.argv else None
    with tempfile.TemporaryDirectory(prefix="bench-ha-") as tmp:
        asyncio.run(bench(Path(tmp), batch_rows, "--costs" in sys.argv))


if __name__ == "__main__":
    main()
