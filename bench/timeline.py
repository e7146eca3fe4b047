"""Contract timeline change benchmark: re-split and re-price 3 years, then re-export to a real Home
Assistant core (from .ha-venv).

Run: `python -m bench.timeline [--costs]` after `bash scripts/test.sh` has created .ha-venv. The HP/HC
demo point alone (3 years of daily values, 2 of half-hourly curve) gets a timeline of four periods
over the 3 years (Base, HP/HC 22:00-06:00, off-peak moved to 01:00-07:00, Tempo); the figures printed
are the time to re-split the curve into HA's hourly buckets and to re-price every day under the new
periods, and the time of the Home Assistant export that re-sends the statistics from the first
changed day. `--costs` adds the EUR twins (twice the rows).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import delete

from app import timeline
from app.contract_timeline import parse_timeline
from app.costing import StoreCostSource
from app.domain import Direction
from app.exporters.base import ExportContext
from app.exporters.homeassistant import HomeAssistantStatisticsExporter
from app.exporters.homeassistant.hourly import classifier_for, hourly_energy
from app.store import Store, contracts
from app.store.tables import daily_energy, interval_reading
from bench.homeassistant import NOW, _Clock, _RssSampler
from tests.ha_support import Mosquitto, build_demo_data, start_home_assistant

PDL = "09222222222222"
WITH_COSTS = "--costs" in sys.argv  # the EUR twins too (twice the rows)


async def _resplit_and_reprice(store: Store, first: dt.date, last: dt.date) -> tuple[float, float, int, int]:
    started = time.perf_counter()
    classifier = await classifier_for(store, PDL, first, last)
    data = await hourly_energy(store, PDL, Direction.CONSUMPTION, first, last, classifier=classifier)
    split = time.perf_counter() - started
    started = time.perf_counter()
    rows = await StoreCostSource(store).daily(PDL, first, last)
    priced = time.perf_counter() - started
    return split, priced, sum(len(v) for v in data.energy.values()), len({r.start for r in rows})


async def bench(workdir: Path) -> None:
    data_dir = workdir / "data"
    print(f"syncing the demo points (clock {NOW:%Y-%m-%d %H:%M} UTC) in a separate process...")
    sync = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.timeline", "--sync", str(data_dir)
    )
    assert await sync.wait() == 0
    mosquitto = Mosquitto(workdir / "mosquitto")
    mosquitto.start()
    ha = await asyncio.to_thread(start_home_assistant, workdir, mosquitto)
    store = await Store.open("", data_dir=data_dir)
    async with store.engine.begin() as conn:  # the HP/HC point alone: the other points are not re-split
        await conn.execute(delete(interval_reading).where(interval_reading.c.usage_point_id != PDL))
        await conn.execute(delete(daily_energy).where(daily_energy.c.usage_point_id != PDL))
    try:
        today = timeline.paris_today(NOW)
        last = today - dt.timedelta(days=1)
        first = today - dt.timedelta(days=3 * 365)
        exporter = HomeAssistantStatisticsExporter(
            {"enabled": True, "url": ha.url, "token": ha.token},
            ExportContext(store, _Clock(), "bench", costs=StoreCostSource(store) if WITH_COSTS else None),
        )
        started = time.perf_counter()
        initial = await exporter.export()
        print(f"first export: {initial.items} rows in {time.perf_counter() - started:.1f} s")
        split, priced, hours, days = await _resplit_and_reprice(store, first, last)
        print(
            f"before the change: split {hours} hourly values in {split:.2f} s, "
            f"priced {days} days in {priced:.2f} s"
        )
        moves = [
            ("-", "BASE 9"),
            ((today - dt.timedelta(days=2 * 365)).isoformat(), "HC_HP 9 22:00-06:00"),
            ((today - dt.timedelta(days=365)).isoformat(), "HC_HP 9 01:00-07:00"),
            ((today - dt.timedelta(days=120)).isoformat(), "TEMPO 9"),
        ]
        text = "\n".join(f"{start} {what}" for start, what in moves)
        started = time.perf_counter()
        changed, since = await contracts.save_user_timeline(store, PDL, parse_timeline(text))
        saved = time.perf_counter() - started
        split, priced, hours, days = await _resplit_and_reprice(store, first, last)
        print(
            f"timeline change (saved in {saved * 1000:.0f} ms, re-split from {since or 'the start'}): "
            f"re-split {hours} hourly bucket values over 3 years in {split:.2f} s, "
            f"re-priced {days} days in {priced:.2f} s"
        )
        with _RssSampler() as rss:
            started = time.perf_counter()
            again = await exporter.export()
            elapsed = time.perf_counter() - started
        print(
            f"re-export to Home Assistant: {again.items} hourly rows in {elapsed:.1f} s, "
            f"peak RSS {rss.peak / 2**20:.0f} MB"
        )
        started = time.perf_counter()
        quiet = await exporter.export()
        elapsed = time.perf_counter() - started
        print(f"next export (correction window only): {quiet.items} rows in {elapsed:.1f} s")
        assert changed
    finally:
        await store.close()
        await asyncio.to_thread(ha.stop)
        mosquitto.stop()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if sys.argv[1:2] == ["--sync"]:
        asyncio.run(build_demo_data(Path(sys.argv[2]), NOW))
        return
    with tempfile.TemporaryDirectory(prefix="bench-timeline-") as tmp:
        asyncio.run(bench(Path(tmp)))


if __name__ == "__main__":
    main()
