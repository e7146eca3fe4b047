"""End to end against a real Home Assistant core: a contract timeline change re-splits the bucket
statistics from the change on, with sums carried on from the right base, and a second export adds nothing."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from app import timeline
from app.contract_timeline import parse_timeline
from app.domain import Direction
from app.store import Store, contracts
from tests.ha_support import HomeAssistant
from tests.test_homeassistant_e2e import HPHC, demo_store, exporter, hourly, start_of

pytestmark = pytest.mark.e2e
__all__ = ["demo_store"]  # the fixture, imported for this module

CHANGE = dt.date(2026, 11, 16)  # older than the 7-day correction window of the export
SEEN = (dt.date(2026, 11, 14), dt.date(2026, 11, 20))
MOVED = f"- HC_HP 9 22:00-06:00\n{CHANGE} HC_HP 9 01:00-07:00"
ORIGINAL = "- HC_HP 9 22:00-06:00"


def offpeak(hour: dt.datetime, day_hours: tuple[int, int] | None) -> bool:
    local = timeline.to_paris(hour).hour
    if day_hours is None:
        return local >= 22 or local < 6
    return day_hours[0] <= local < day_hours[1]


async def test_a_timeline_change_resplits_the_bucket_statistics_in_home_assistant(
    home_assistant: HomeAssistant, demo_store: Store
) -> None:
    ids = {b: f"myelectricaldata:consumption_{HPHC}_{b}" for b in ("hp", "hc")}
    total_id = f"myelectricaldata:consumption_{HPHC}"
    await contracts.save_user_timeline(demo_store, HPHC, parse_timeline(ORIGINAL))
    await exporter(home_assistant, demo_store).export()
    first, last = SEEN
    stored: dict[dt.datetime, float] = {
        hour: wh
        for hour, wh in await demo_store.curve_energy(HPHC, Direction.CONSUMPTION, "hour", first, last)
        if isinstance(hour, dt.datetime)
    }
    before = await hourly(home_assistant, [*ids.values(), total_id], first, dt.date(2026, 11, 28))

    await contracts.save_user_timeline(demo_store, HPHC, parse_timeline(MOVED))
    await exporter(home_assistant, demo_store).export()
    after = await hourly(home_assistant, [*ids.values(), total_id], first, dt.date(2026, 11, 28))

    for bucket, sid in ids.items():
        states = {start_of(r): r["state"] for r in after[sid]}
        for hour, wh in stored.items():
            day = timeline.paris_date(hour)
            hours = None if day < CHANGE else (1, 7)
            in_bucket = offpeak(hour, hours) == (bucket == "hc")
            assert states.get(hour, 0.0) == pytest.approx(wh / 1000 if in_bucket else 0.0, abs=1e-6), (
                bucket,
                hour,
            )
        # before the change nothing moved; sums carried on hour by hour from the right base
        old = {start_of(r): r for r in before[sid]}
        for row in after[sid]:
            if timeline.paris_date(start_of(row)) < CHANGE:
                assert row["sum"] == pytest.approx(old[start_of(row)]["sum"], abs=1e-6)
        for previous, row in itertools.pairwise(after[sid]):
            assert row["sum"] - previous["sum"] == pytest.approx(row["state"], abs=1e-6)
    # the total does not depend on the contract
    assert [r["sum"] for r in after[total_id]] == pytest.approx(
        [r["sum"] for r in before[total_id]], abs=1e-6
    )
    # hour by hour, HP + HC = total, on both sides of the change
    parts: dict[dt.datetime, float] = {}
    for sid in ids.values():
        for row in after[sid]:
            parts[start_of(row)] = parts.get(start_of(row), 0.0) + row["state"]
    assert {start_of(r): pytest.approx(r["state"], abs=1e-6) for r in after[total_id]} == parts

    # a second export adds nothing twice
    await exporter(home_assistant, demo_store).export()
    again = await hourly(home_assistant, [*ids.values(), total_id], first, dt.date(2026, 11, 28))
    for sid in (*ids.values(), total_id):
        assert [r["sum"] for r in again[sid]] == pytest.approx([r["sum"] for r in after[sid]], abs=1e-6)

    # putting the contract back re-splits back (and leaves the shared core as the other tests expect)
    await contracts.save_user_timeline(demo_store, HPHC, parse_timeline(ORIGINAL))
    await exporter(home_assistant, demo_store).export()
    restored = await hourly(home_assistant, [*ids.values(), total_id], first, dt.date(2026, 11, 28))
    for sid in (*ids.values(), total_id):
        old_sums = {start_of(r): r["sum"] for r in before[sid]}
        for row in restored[sid]:  # the re-split also wrote 0 for hours of the other bucket
            if start_of(row) in old_sums:
                assert row["sum"] == pytest.approx(old_sums[start_of(row)], abs=1e-6), (sid, row)
            else:
                assert row["state"] == 0.0, (sid, row)
