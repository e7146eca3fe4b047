"""Live price publication benchmark: CPU time per day spent publishing the price entities.

Run: `python -m bench.live_prices [--days N]`.
Target (live prices): negligible, under 1 s of CPU per day. A real discovery exporter on a private
Mosquitto publishes the price entities of the three demo usage points (Base, HP/HC, Tempo) at every
price change and every Paris midnight, as it does in production; the program's clock is moved from one
wake-up to the next, so N days run in seconds. Counted: the CPU time of this process (time.process_time)
from the clock move until the new states are sent; not counted: the daily full export after a sync.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
import time
from pathlib import Path

from app.connections import MqttBroker
from app.exporters.base import ExportContext
from app.exporters.homeassistant import HomeAssistantDiscoveryExporter
from app.store import Store
from tests.clock_support import SteppedClock
from tests.ha_support import Mosquitto, build_demo_data
from tests.support import NOW


async def run(days: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        await build_demo_data(data, NOW)
        broker = Mosquitto(Path(tmp) / "mosquitto")
        broker.start()
        store = await Store.open("", data_dir=data)
        clock = SteppedClock(NOW)
        context = ExportContext(
            store=store,
            clock=clock,
            version="bench",
            mqtt_broker=MqttBroker("127.0.0.1", broker.port),
            wait_until=clock.wait_until,
        )
        exporter = HomeAssistantDiscoveryExporter({"enabled": True, "republish_delay": 0}, context)
        try:
            await exporter.connect()
            await asyncio.wait_for(exporter.connected_event.wait(), 30)
            await exporter.export()
            end = NOW + dt.timedelta(days=days)
            cpu = 0.0
            wall = 0.0
            loop = asyncio.get_running_loop()
            wake = await clock.next_waiter()
            while wake < end:
                cpu_start, wall_start = time.process_time(), loop.time()
                await clock.move_to(wake)
                wake = await clock.next_waiter()  # the new states are sent before the next wait starts
                cpu += time.process_time() - cpu_start
                wall += loop.time() - wall_start
            count = exporter.price_publications
            print(f"{days} days, 3 usage points: {count} price publications ({count / days:.1f} per day)")
            print(f"CPU per day: {cpu / days * 1000:.1f} ms (target < 1000 ms)")
            print(f"CPU per publication: {cpu / count * 1000:.1f} ms")
            print(f"wall time per publication: {wall / count * 1000:.1f} ms")
        finally:
            await exporter.disconnect()
            await store.close()
            broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    asyncio.run(run(parser.parse_args().days))


if __name__ == "__main__":
    main()
