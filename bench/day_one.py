"""Day one in Home Assistant: how long from the start of a fresh add-on to what the user sees in HA.

Run: `python -m bench.day_one` after `bash scripts/test.sh` has created .ha-venv.
A real Home Assistant core and a private Mosquitto are started first (not timed); then the program is
started as a fresh add-on (`--demo`: the built-in simulator's 3 usage points, empty data dir,
options.json with only the two credentials, the fake supervisor of tests/ in front of HA) and these are
timed from the program's start:
- all entities present in HA's entity registry (as many as the discovery exporter published);
- the first of our statistics listed by `recorder/list_statistic_ids`;
- every statistic imported (the exporter's own "items exported" log line).
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
import time
from pathlib import Path

from app.gateway.simulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from tests.ha_day_one_support import (
    addon_env,
    our_entities,
    our_statistics,
    start_fake_supervisor,
    start_program,
)
from tests.ha_support import HomeAssistant, Mosquitto, start_home_assistant

DISCOVERY_LINE = re.compile(r"exporter homeassistant_discovery: ([1-9]\d*) items exported")
STATISTICS_LINE = re.compile(r"exporter homeassistant_statistics: ([1-9]\d*) items exported")
TIMEOUT = 1800.0


async def _measure(ha: HomeAssistant, workdir: Path) -> dict[str, float]:
    runner, supervisor_url, supervisor = await start_fake_supervisor(ha)
    env = addon_env(workdir, supervisor_url, supervisor, (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET))
    started = time.monotonic()
    program = await start_program(env, workdir, "--demo")
    times: dict[str, float] = {}
    try:
        while time.monotonic() - started < TIMEOUT:
            now = time.monotonic() - started
            published = next((m for line in program.lines if (m := DISCOVERY_LINE.search(line))), None)
            wanted = int(published.group(1)) if published else None
            if "entities" not in times and wanted is not None and len(await our_entities(ha)) >= wanted:
                times["entities"] = now
                times["entity_count"] = float(wanted)
            if "first_statistics" not in times and await our_statistics(ha):
                times["first_statistics"] = now
            imported = next((m for line in program.lines if (m := STATISTICS_LINE.search(line))), None)
            if "all_statistics" not in times and imported is not None:
                times["all_statistics"] = now
                times["statistic_rows"] = float(imported.group(1))
            if {"entities", "first_statistics", "all_statistics"} <= set(times):
                return times
            if program.process.returncode is not None:
                raise AssertionError("the program exited:\n" + program.output[-4000:])
            await asyncio.sleep(0.25)
        raise AssertionError(f"not everything within {TIMEOUT:.0f} s: {times}\n{program.output[-4000:]}")
    finally:
        await program.stop()
        await runner.cleanup()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-day-one-") as tmp:
        root = Path(tmp)
        mosquitto = Mosquitto(root / "mosquitto")
        mosquitto.start()
        ha = start_home_assistant(root, mosquitto)
        try:
            times = asyncio.run(_measure(ha, root / "addon"))
        finally:
            ha.stop()
            mosquitto.stop()
    print("fresh add-on start (3 demo points) -> Home Assistant")
    print(f"  all {times['entity_count']:.0f} entities in HA's registry: {times['entities']:.1f} s")
    print(f"  first statistics listed:            {times['first_statistics']:.1f} s")
    print(f"  every statistic imported ({times['statistic_rows']:.0f} rows): {times['all_statistics']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
