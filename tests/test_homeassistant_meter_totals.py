"""End to end against a real Home Assistant core: on every local day the Energy dashboard's hours sum to
the meter's daily value, including a day whose load curve misses slots (the meter's total wins, the
missing energy spread over the missing slots), and a later complete curve replaces the estimate."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections import defaultdict

import pytest

from app import timeline
from app.domain import DailySource, Direction, IntervalReading
from app.store import Store
from tests.ha_support import HomeAssistant
from tests.support import NOW
from tests.test_homeassistant_e2e import HPHC, demo_store, exporter, hourly, start_of

pytestmark = pytest.mark.e2e
__all__ = ["demo_store"]  # the fixture, imported for this module

NULL_DAY = dt.date(2026, 11, 24)  # inside the 7-day correction window of NOW
FIRST = dt.date(2026, 9, 20)  # before the curve history of the demo store: daily-only days too
NULL_SLOTS = range(16, 22)  # 08:00-11:00 UTC: three hours without a value


async def day_sums(ha: HomeAssistant, sid: str, first: dt.date, last: dt.date) -> dict[dt.date, float]:
    sums: dict[dt.date, float] = defaultdict(float)
    for row in (await hourly(ha, [sid], first, last, ("state",)))[sid]:
        sums[timeline.paris_date(start_of(row))] += row["state"]
    return dict(sums)


async def wait_for_hours(ha: HomeAssistant, sid: str, day: dt.date, expected: list[float]) -> None:
    """The day's total does not change between the estimate and the real curve, so the exporter's wait
    on the newest row cannot tell when the recorder has written a re-import: poll the recorder (its
    queue commits within a second or so)."""
    states: list[float] = []
    for _ in range(100):
        states = [round(r["state"], 6) for r in (await hourly(ha, [sid], day, day, ("state",)))[sid]]
        if states == pytest.approx(expected, abs=1e-6):
            return
        await asyncio.sleep(0.1)
    assert states == pytest.approx(expected, abs=1e-6)


async def test_every_local_day_sums_to_the_meter_even_with_null_slots(
    home_assistant: HomeAssistant, demo_store: Store
) -> None:
    bounds = timeline.day_bounds_utc(NULL_DAY)
    complete = await demo_store.intervals(HPHC, Direction.CONSUMPTION, *bounds)
    holed = [
        IntervalReading(
            r.usage_point_id, r.direction, r.start, r.minutes, None if i in NULL_SLOTS else r.average_w
        )
        for i, r in enumerate(complete)
    ]
    await demo_store.save_curve(HPHC, Direction.CONSUMPTION, holed, [])
    daily = {
        d.day: d.wh
        for d in await demo_store.daily(HPHC, Direction.CONSUMPTION, FIRST, NOW.date())
        if d.source is DailySource.METER
    }
    curve_wh = sum(r.average_w * r.minutes for r in holed if r.average_w is not None) / 60
    assert daily[NULL_DAY] - curve_wh > 500  # the meter counted what the curve misses

    await exporter(home_assistant, demo_store).export()

    sid = f"myelectricaldata:consumption_{HPHC}"
    # The HA core is shared by the session: an earlier test may have exported this day's real hours, and
    # the day's total is the same, so wait for the recorder to hold the completed hours themselves.
    filled_hours = {
        hour: round(sum((r.average_w or 0) * r.minutes for r in group) / 60 / 1000, 6)
        for hour, group in itertools.groupby(
            await demo_store.completed_intervals(HPHC, Direction.CONSUMPTION, *bounds),
            key=lambda r: timeline.hour_start_utc(r.start),
        )
    }
    await wait_for_hours(home_assistant, sid, NULL_DAY, list(filled_hours.values()))
    sums = await day_sums(home_assistant, sid, FIRST, max(daily))
    assert set(sums) == set(daily)
    for day, wh in daily.items():
        assert sums[day] == pytest.approx(wh / 1000, abs=1e-6), day
    # the HP/HC split follows the completed hours too
    hp = await day_sums(home_assistant, f"{sid}_hp", NULL_DAY, NULL_DAY)
    hc = await day_sums(home_assistant, f"{sid}_hc", NULL_DAY, NULL_DAY)
    assert hp[NULL_DAY] + hc[NULL_DAY] == pytest.approx(daily[NULL_DAY] / 1000, abs=1e-6)
    filled = [
        r["state"]
        for r in (await hourly(home_assistant, [sid], NULL_DAY, NULL_DAY, ("state",)))[sid]
        if bounds[0] + dt.timedelta(hours=8) <= start_of(r) < bounds[0] + dt.timedelta(hours=11)
    ]
    assert len(filled) == 3 and max(filled) - min(filled) < 1e-3  # spread flat over the missing hours

    # The gateway later serves the complete curve: the correction window re-exports the real hours.
    await demo_store.save_curve(HPHC, Direction.CONSUMPTION, complete, [])
    await exporter(home_assistant, demo_store).export()
    stored = await demo_store.curve_energy(HPHC, Direction.CONSUMPTION, "hour", NULL_DAY, NULL_DAY)
    await wait_for_hours(home_assistant, sid, NULL_DAY, [round(wh / 1000, 6) for _, wh in stored])
    sums = await day_sums(home_assistant, sid, FIRST, max(daily))
    for day, wh in daily.items():
        assert sums[day] == pytest.approx(wh / 1000, abs=1e-6), day
