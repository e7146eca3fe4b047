"""The simulator's data model: deterministic, realistic, exactly consistent, fast."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import Direction
from app.gateway.simulator import SimulatedData, SimulatorConfig, SimulatorState, default_usage_points
from app.gateway.simulator.app import batch_day_readings
from app.gateway.simulator.model import parse_offpeak_minutes
from app.timeline import slots_in_day

POINTS = default_usage_points()
BASE, HPHC, TEMPO = POINTS
days_strategy = st.dates(min_value=dt.date(2016, 1, 1), max_value=dt.date(2036, 12, 31))


def year_days(year: int) -> list[dt.date]:
    first = dt.date(year, 1, 1)
    return [first + dt.timedelta(days=i) for i in range((dt.date(year + 1, 1, 1) - first).days)]


def test_deterministic_and_seeded() -> None:
    day = dt.date(2025, 1, 15)
    one = SimulatedData(POINTS, 42).curve_day(HPHC.usage_point_id, Direction.CONSUMPTION, day)
    two = SimulatedData(default_usage_points(), 42).curve_day(HPHC.usage_point_id, Direction.CONSUMPTION, day)
    other = SimulatedData(POINTS, 43).curve_day(HPHC.usage_point_id, Direction.CONSUMPTION, day)
    assert one == two
    assert one != other


@settings(max_examples=60, deadline=None)
@given(day=days_strategy, index=st.integers(min_value=0, max_value=2))
def test_curve_day_invariants(day: dt.date, index: int) -> None:
    data = SimulatedData(POINTS, 42)
    point = POINTS[index]
    pdl = point.usage_point_id
    curve = data.curve_day(pdl, Direction.CONSUMPTION, day)
    assert len(curve) == slots_in_day(day)
    assert [s for s, _ in curve] == sorted(s for s, _ in curve)
    assert all(s.date() == day for s, _ in curve)
    values = [v for _, v in curve]
    assert all(v is not None and v > 0 and v % 2 == 0 for v in values)
    assert data.daily_wh(pdl, Direction.CONSUMPTION, day) == sum(v or 0 for v in values) // 2
    va, moment = data.max_power(pdl, day)
    highest = max(v or 0 for v in values)
    assert highest <= va <= point.subscribed_power_kva * 1100
    slot = moment.replace(minute=moment.minute - moment.minute % 30, second=0)
    assert any(s == slot and v == highest for s, v in curve)
    if point.has_production:
        production = data.curve_day(pdl, Direction.PRODUCTION, day)
        assert len(production) == len(curve)
        assert all(v == 0 for s, v in production if s.hour < 4 or s.hour >= 23)


def test_other_interval_lengths_integrate_exactly() -> None:
    for minutes, count in ((15, 96), (60, 24), (10, 144)):
        point = replace(HPHC, interval_minutes=minutes)
        data = SimulatedData([point], 1)
        day = dt.date(2025, 2, 3)
        curve = data.curve_day(point.usage_point_id, Direction.CONSUMPTION, day)
        assert len(curve) == count
        assert all((v or 0) * minutes % 60 == 0 for _, v in curve)
        total = sum((v or 0) * minutes // 60 for _, v in curve)
        assert data.daily_wh(point.usage_point_id, Direction.CONSUMPTION, day) == total


def test_null_slots_are_deterministic_and_do_not_move_values() -> None:
    point = replace(HPHC, null_slot_rate=0.2)
    day = dt.date(2025, 2, 3)
    with_nulls = SimulatedData([point], 42).curve_day(point.usage_point_id, Direction.CONSUMPTION, day)
    again = SimulatedData([point], 42).curve_day(point.usage_point_id, Direction.CONSUMPTION, day)
    plain = SimulatedData(POINTS, 42).curve_day(point.usage_point_id, Direction.CONSUMPTION, day)
    assert with_nulls == again
    assert any(v is None for _, v in with_nulls)
    assert all(v is None or v == p for (_, v), (_, p) in zip(with_nulls, plain, strict=True))


def test_yearly_magnitudes_and_seasons() -> None:
    data = SimulatedData(POINTS, 42)
    days = year_days(2025)

    def kwh(pdl: str, direction: Direction, chosen: list[dt.date]) -> float:
        return sum(data.daily_wh(pdl, direction, d) for d in chosen) / 1000

    assert 3000 < kwh(BASE.usage_point_id, Direction.CONSUMPTION, days) < 4200
    assert 10000 < kwh(HPHC.usage_point_id, Direction.CONSUMPTION, days) < 14000
    assert 5000 < kwh(TEMPO.usage_point_id, Direction.CONSUMPTION, days) < 7200
    assert 3300 < kwh(TEMPO.usage_point_id, Direction.PRODUCTION, days) < 4700
    assert kwh(BASE.usage_point_id, Direction.PRODUCTION, days) == 0
    january, july = days[:31], days[181:212]
    heating = HPHC.usage_point_id
    assert kwh(heating, Direction.CONSUMPTION, january) > 2.5 * kwh(heating, Direction.CONSUMPTION, july)
    solar = TEMPO.usage_point_id
    assert kwh(solar, Direction.PRODUCTION, july) > 2 * kwh(solar, Direction.PRODUCTION, january)


def test_daily_shape() -> None:
    """Evening peak above the small hours; the HP/HC water heater runs in off-peak hours."""
    data = SimulatedData(POINTS, 42)
    days = year_days(2025)[:60]
    night: dict[int, int] = {}
    for day in days:
        for stamp, value in data.curve_day(HPHC.usage_point_id, Direction.CONSUMPTION, day):
            night[stamp.hour] = night.get(stamp.hour, 0) + (value or 0)
    assert night[22] > night[4] and night[19] > night[4]
    assert night[23] > night[15]
    assert parse_offpeak_minutes("HC (22H00-6H00;12h30-14H00)") == [(1320, 360), (750, 840)]


def test_ecowatt_and_offers() -> None:
    data = SimulatedData(POINTS, 42)
    for day in year_days(2025):
        dvalue, values, message = data.ecowatt_day(day)
        assert len(values) == 24 and message
        assert dvalue == 1 or max(values) == dvalue
    offers = data.offers()
    assert len(offers) == 18
    offers[0]["name"] = "changed"
    assert data.offers()[0]["name"] != "changed"


def test_one_year_of_curve_has_every_half_hour() -> None:
    state = SimulatorState(SimulatorConfig(seed=1234))
    point = state.data.point(TEMPO.usage_point_id)
    days = year_days(2023)
    readings = []
    for day in days:
        readings.extend(batch_day_readings(state, point, Direction.CONSUMPTION, day))
    text = json.dumps({"meter_reading": {"interval_reading": readings}})
    assert len(readings) == 365 * 48  # speed: python -m bench.sync (simulator inside a full sync)
    assert len(text) > 1_000_000
