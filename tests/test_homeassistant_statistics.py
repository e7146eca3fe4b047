"""Statistics building blocks: tariff buckets, DST hours, sums from a base, metadata per HA version."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import timeline
from app.connections import CoreApi
from app.domain import (
    DailyEnergy,
    DateRange,
    Direction,
    IntervalReading,
    OffpeakRange,
    PricingOption,
    TempoColor,
    UsagePoint,
)
from app.exporters.base import ExportContext, ExporterError
from app.exporters.homeassistant.hourly import (
    TOTAL,
    BucketClassifier,
    HourlyEnergy,
    hourly_energy,
)
from app.exporters.homeassistant.statistics import (
    HomeAssistantStatisticsExporter,
    Resume,
    StatisticSpec,
    build_rows,
    metadata,
    statistic_id,
    statistic_specs,
)
from app.exporters.homeassistant.websocket import core_endpoint, websocket_url
from app.store import Store
from app.tariff_rules import ContractPeriod, is_offpeak_minute

PDL = "09222222222222"
STAT_ID = re.compile(r"^(?!_)(?!.*__)[a-z0-9_]+(?<!_):(?!_)(?!.*__)[a-z0-9_]+(?<!_)$")


def test_statistic_ids_follow_home_assistant_rules() -> None:
    point = UsagePoint(PDL, name="Maison", pricing_option=PricingOption.TEMPO, has_production=True)
    buckets = BucketClassifier([ContractPeriod(option="TEMPO")], {}).buckets
    specs = statistic_specs(point, buckets, with_costs=True)
    ids = [s.statistic_id for s in specs]
    assert all(STAT_ID.match(sid) for sid in ids), ids
    assert len(set(ids)) == len(ids) == 2 * (1 + 6) + 1
    assert f"myelectricaldata:consumption_{PDL}_tempo_blue_hp_cost" in ids
    assert statistic_id(PDL, Direction.PRODUCTION) == f"myelectricaldata:production_{PDL}"


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2025.4.4", {"has_mean": False}),
        ("2025.10.3", {"has_mean": False}),
        ("2025.11.0", {"mean_type": 0, "unit_class": "energy"}),
        ("2026.11.1", {"mean_type": 0, "unit_class": "energy"}),
    ],
)
def test_metadata_follows_the_core_version(version: str, expected: dict[str, object]) -> None:
    spec = StatisticSpec(
        statistic_id(PDL, Direction.CONSUMPTION), "Linky", Direction.CONSUMPTION, TOTAL, False
    )
    meta = metadata(spec, version)
    assert meta.items() >= expected.items()
    assert ("has_mean" in meta) != ("mean_type" in meta)
    cost = StatisticSpec(
        statistic_id(PDL, Direction.CONSUMPTION, cost=True), "€", Direction.CONSUMPTION, TOTAL, True
    )
    assert metadata(cost, version)["unit_of_measurement"] == "EUR"
    if "unit_class" in expected:
        assert metadata(cost, version)["unit_class"] is None


def test_endpoint_is_the_runtime_core_api_unless_the_exporter_overrides_it() -> None:
    core = CoreApi("ws://supervisor/core/websocket", "abc", via_supervisor=True)
    assert core_endpoint("", "", core) == ("ws://supervisor/core/websocket", "abc")
    own = ("wss://ha.local:8123/api/websocket", "tok")
    assert core_endpoint("https://ha.local:8123/", "tok", core) == own
    with pytest.raises(ExporterError, match="HA_URL and HA_TOKEN"):
        core_endpoint("", "", None)
    with pytest.raises(ExporterError, match="long-lived access token"):
        core_endpoint("https://ha.local:8123/", "", core)
    with pytest.raises(ExporterError, match="http:// or https://"):
        websocket_url("ha.local:8123")


@given(st.integers(min_value=0, max_value=24 * 60 - 1), st.integers(0, 47), st.integers(1, 48))
def test_offpeak_membership_matches_minute_arithmetic(minute: int, start_slot: int, length: int) -> None:
    start = start_slot * 30
    end = (start + length * 30) % (24 * 60)
    window = OffpeakRange(dt.time(start // 60, start % 60), dt.time(end // 60, end % 60))
    expected = (minute - start) % (24 * 60) < length * 30 if length < 48 else True
    assert is_offpeak_minute(minute, (window,)) == expected


@given(st.datetimes(min_value=dt.datetime(2021, 1, 1), max_value=dt.datetime(2030, 12, 31)))
def test_tempo_buckets_follow_the_six_o_clock_day(naive: dt.datetime) -> None:
    instant = naive.replace(minute=naive.minute // 30 * 30, second=0, microsecond=0, tzinfo=dt.UTC)
    local = timeline.utc_to_paris_naive(instant)
    colors = {local.date(): TempoColor.RED, local.date() - dt.timedelta(days=1): TempoColor.BLUE}
    bucket = BucketClassifier([ContractPeriod(option="TEMPO")], colors)(instant)
    if local.hour < 6:
        assert bucket == "tempo_blue_hc"  # before 06:00: still the previous Tempo day, off-peak
    elif local.hour >= 22:
        assert bucket == "tempo_red_hc"
    else:
        assert bucket == "tempo_red_hp"


@given(
    st.dictionaries(st.integers(0, 2000), st.integers(0, 10**7), min_size=1, max_size=60),
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.integers(0, 2000),
)
def test_sums_continue_from_the_base_and_never_go_down(
    hours: dict[int, int], base: float, resume_at: int
) -> None:
    origin = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    data = HourlyEnergy()
    data.energy[TOTAL] = {origin + dt.timedelta(hours=h): wm for h, wm in hours.items()}
    resume = Resume(origin + dt.timedelta(hours=resume_at), base)
    spec = StatisticSpec("myelectricaldata:consumption_x", "x", Direction.CONSUMPTION, TOTAL, False)
    rows = build_rows(spec, data, resume)
    kept = sorted(h for h in hours if h >= resume_at)
    assert [r["start"] for r in rows] == [(origin + dt.timedelta(hours=h)).isoformat() for h in kept]
    previous = base
    for row in rows:
        assert row["sum"] >= previous - 1e-6
        assert row["sum"] - previous == pytest.approx(row["state"], abs=2e-6)
        previous = row["sum"]
    if rows:
        assert rows[-1]["sum"] == pytest.approx(base + sum(hours[h] for h in kept) / 60_000, abs=1e-5)


def test_cost_rows_sum_decimals_exactly() -> None:
    origin = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    data = HourlyEnergy()
    data.cost[TOTAL] = {origin + dt.timedelta(hours=h): Decimal("0.1") for h in range(30)}
    spec = StatisticSpec("myelectricaldata:consumption_x_cost", "x", Direction.CONSUMPTION, TOTAL, True)
    rows = build_rows(spec, data, Resume(None, 0.0))
    assert rows[-1]["sum"] == 3.0  # no binary drift


async def test_hours_are_local_hours_on_dst_days_and_old_days_go_to_their_first_hour(store: Store) -> None:
    point = UsagePoint(
        PDL, pricing_option=PricingOption.HC_HP, offpeak_hours=(OffpeakRange(dt.time(22), dt.time(6)),)
    )
    await store.save_usage_points([point])
    readings: list[IntervalReading] = []
    for day in (dt.date(2026, 3, 29), dt.date(2026, 10, 25)):
        start, end = timeline.day_bounds_utc(day)
        slot = start
        while slot < end:
            readings.append(IntervalReading(PDL, Direction.CONSUMPTION, slot, 30, 1000))
            slot += dt.timedelta(minutes=30)
    await store.save_curve(PDL, Direction.CONSUMPTION, readings, [])
    old = dt.date(2025, 6, 1)
    await store.save_daily(
        PDL,
        Direction.CONSUMPTION,
        [DailyEnergy(PDL, Direction.CONSUMPTION, old, 12_345)],
        [DateRange(old, old)],
    )
    classifier = BucketClassifier(
        [ContractPeriod(option=point.pricing_option.value, offpeak_hours=point.offpeak_hours)], {}
    )
    data = await hourly_energy(
        store, PDL, Direction.CONSUMPTION, old, dt.date(2026, 10, 25), classifier=classifier
    )
    total = data.energy[TOTAL]
    per_day: dict[dt.date, int] = {}
    for hour in total:
        per_day[timeline.paris_date(hour)] = per_day.get(timeline.paris_date(hour), 0) + 1
    assert per_day == {old: 1, dt.date(2026, 3, 29): 23, dt.date(2026, 10, 25): 25}
    assert total[timeline.day_start_utc(old)] == 12_345 * 60
    assert all(total[h] == 1000 * 60 for h in total if timeline.paris_date(h) != old)
    # 22:00-06:00 off-peak: 8 local hours HC on both days; HP the rest (15 and 17 hours).
    assert len(data.energy["hc"]) == 16
    assert len(data.energy["hp"]) == 15 + 17


async def test_an_unreachable_home_assistant_is_reported_plainly(tmp_path: Path) -> None:
    from tests.ha_support import free_port
    from tests.support import Clock

    store = await Store.open("", data_dir=tmp_path / "data")
    try:
        context = ExportContext(store=store, clock=Clock(), version="x")
        exporter = HomeAssistantStatisticsExporter(
            {"enabled": True, "url": f"http://127.0.0.1:{free_port()}", "token": "secret-token-xyz"}, context
        )
        with pytest.raises(ExporterError, match="cannot reach Home Assistant") as raised:
            await exporter.export()
        assert "secret-token-xyz" not in str(raised.value)
        assert exporter.status.last_error == str(raised.value)
    finally:
        await store.close()
