"""app.tariff_rules: the one home of the split rules, and every consumer finding the same HP/HC kWh."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from app import tariff_rules, timeline
from app.costing import StoreCostSource
from app.domain import DateRange, Direction, IntervalReading, OffpeakRange, TempoColor, UsagePoint
from app.exporters._data import summarize
from app.exporters.homeassistant.hourly import TOTAL, classifier_for, hourly_energy
from app.exporters.mqtt import MqttExporter
from app.exporters.prometheus import PrometheusExporter
from app.exporters.victoriametrics import VictoriaMetricsExporter
from app.gateway.simulator.model import SimulatedUsagePoint
from app.pricing.catalogue import CatalogueError, parse_offer
from app.pricing.engine import group_by_local_day, price_day, totals
from app.store import Store
from app.tariff_rules import (
    ContractPeriod,
    bucket_of,
    format_offpeak,
    parse_offpeak_text,
    period_in_force,
    tempo_day_of,
)
from app.web.app import create_app
from app.web.charts import SplitCache
from tests.support import AiohttpServer, Clock, make_service, start_simulator
from tests.test_pricing import AiohttpClient, constant_load

PARIS = timeline.PARIS
halves = st.integers(0, 47).map(lambda half: dt.time(half // 2, 30 * (half % 2)))
windows = st.lists(st.tuples(halves, halves).filter(lambda p: p[0] != p[1]), max_size=3).map(
    lambda pairs: tuple(OffpeakRange(a, b) for a, b in pairs)
)


@given(windows)
def test_offpeak_text_round_trips(ranges: tuple[OffpeakRange, ...]) -> None:
    distinct = tuple(dict.fromkeys(ranges))
    assert parse_offpeak_text(format_offpeak(ranges)) == distinct
    enedis = "HC (" + ";".join(
        f"{r.start.hour}H{r.start.minute:02d}-{r.end.hour}H{r.end.minute:02d}" for r in ranges
    )
    assert parse_offpeak_text(enedis + ")") == distinct


@pytest.mark.parametrize("text", ["22:00-", "HC (22H00-6H00", "25:00-06:00", "nuit"])
def test_bad_offpeak_text_names_the_part(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected|within"):
        parse_offpeak_text(text)


@given(st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 12, 31)), windows)
def test_week_end_rule_puts_every_saturday_and_sunday_minute_off_peak(
    naive: dt.datetime, ranges: tuple[OffpeakRange, ...]
) -> None:
    instant = naive.replace(tzinfo=dt.UTC)
    local = timeline.to_paris(instant)
    minute = local.hour * 60 + local.minute
    weekend = ContractPeriod(option="HC_WEEKEND", offpeak_hours=ranges)
    zen = ContractPeriod(option="HC_HP", weekend_offpeak=True)  # Zen Week-End: no weekday windows
    plain = ContractPeriod(option="HC_HP", offpeak_hours=ranges)
    weekday_bucket = "hc" if tariff_rules.is_offpeak_minute(minute, ranges) else "hp"
    assert bucket_of(instant, plain) == weekday_bucket
    if local.weekday() >= 5:
        assert bucket_of(instant, weekend) == bucket_of(instant, zen) == "hc"
    else:
        assert bucket_of(instant, weekend) == weekday_bucket
        assert bucket_of(instant, zen) == "hp"


@given(st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 12, 31)))
def test_tempo_day_starts_at_six(naive: dt.datetime) -> None:
    instant = naive.replace(tzinfo=dt.UTC)
    local = timeline.to_paris(instant)
    expected = local.date() - dt.timedelta(days=1) if local.hour < 6 else local.date()
    assert tempo_day_of(instant) == expected
    tempo = ContractPeriod(option="TEMPO")
    bucket = bucket_of(instant, tempo, TempoColor.WHITE)
    assert bucket == ("tempo_white_hc" if local.hour < 6 or local.hour >= 22 else "tempo_white_hp")


def test_seasonal_off_peak_hours_apply_in_summer_only() -> None:
    period = ContractPeriod(
        option="HC_HP",
        offpeak_hours=parse_offpeak_text("22:00-06:00"),
        summer_offpeak_hours=parse_offpeak_text("02:00-06:00; 11:00-15:00"),
    )
    noon = dt.time(12, 30)
    assert bucket_of(dt.datetime.combine(dt.date(2026, 1, 14), noon, PARIS), period) == "hp"
    assert bucket_of(dt.datetime.combine(dt.date(2026, 7, 15), noon, PARIS), period) == "hc"
    assert bucket_of(dt.datetime.combine(dt.date(2026, 7, 15), dt.time(23), PARIS), period) == "hp"


def test_the_period_in_force_on_a_day() -> None:
    base = ContractPeriod(valid_to=dt.date(2025, 3, 1), option="BASE", power_kva=6)
    tempo = ContractPeriod(valid_from=dt.date(2025, 3, 1), option="TEMPO", power_kva=9)
    assert period_in_force([base, tempo], dt.date(2025, 2, 28)) is base
    assert period_in_force([base, tempo], dt.date(2025, 3, 1)) is tempo
    assert tariff_rules.period_at([base, tempo], dt.datetime(2025, 2, 28, 23, 30, tzinfo=dt.UTC)) is tempo


# ------------------------------------------------------------------ the SQL aggregate equals the rules

SQL_PDL = "09555555555555"
SQL_SPANS = [(dt.date(2026, 3, 27), dt.date(2026, 3, 30)), (dt.date(2026, 10, 23), dt.date(2026, 10, 26))]


def _sql_curve() -> list[IntervalReading]:
    out = []
    for first, last in SQL_SPANS:
        instant, stop = timeline.day_start_utc(first), timeline.day_start_utc(last + dt.timedelta(days=1))
        while instant < stop:
            watts = 100 + (int(instant.timestamp()) // 1800) % 89 * 10
            out.append(IntervalReading(SQL_PDL, Direction.CONSUMPTION, instant, 30, watts))
            instant += dt.timedelta(minutes=30)
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    option=st.sampled_from(["HC_HP", "HC_WEEKEND"]),
    weekend=st.booleans(),
    ranges=windows,
    summer=windows,
)
async def test_the_sql_split_equals_the_pure_rules(
    store: Store,
    option: str,
    weekend: bool,
    ranges: tuple[OffpeakRange, ...],
    summer: tuple[OffpeakRange, ...],
) -> None:
    """Random contracts over the spring and autumn DST week-ends, on every database."""
    curve = _sql_curve()
    if not await store.usage_points():
        await store.save_usage_points([UsagePoint(SQL_PDL)])
        for first, last in SQL_SPANS:
            part = [r for r in curve if first <= timeline.paris_date(r.start) <= last]
            await store.save_curve(SQL_PDL, Direction.CONSUMPTION, part, [DateRange(first, last)])
    period = ContractPeriod(
        option=option, offpeak_hours=ranges, weekend_offpeak=weekend, summer_offpeak_hours=summer
    )
    pure = tariff_rules.peak_offpeak_by_day(
        [period], ((r.start, (r.average_w or 0) * r.minutes) for r in curve)
    )
    sql = await SplitCache().split(store, SQL_PDL, [period], SQL_SPANS[0][0], SQL_SPANS[1][1])
    assert set(sql) == set(pure)
    for day, (hp, hc) in pure.items():
        assert sql[day][0] == pytest.approx(hp / 60) and sql[day][1] == pytest.approx(hc / 60), day


# ------------------------------------------------- HC_WEEKEND: the same kWh through every consumer

WEEKEND_PDL = "09666666666666"
SUNDAY_MORNING = dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC)
SATURDAY, FRIDAY = dt.date(2026, 11, 28), dt.date(2026, 11, 27)


async def test_an_hc_weekend_point_gets_the_same_hp_hc_everywhere(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    point = SimulatedUsagePoint(
        usage_point_id=WEEKEND_PDL,
        name="Week-end",
        subscribed_power_kva=9,
        pricing_option="HC_WEEKEND",
        offpeak_hours="HC (22H00-6H00)",
        profile="electric_heating",
    )
    clock = Clock(SUNDAY_MORNING)
    server, _ = await start_simulator(aiohttp_server, clock, usage_points=[point])
    service = make_service(tmp_path, str(server.make_url("/")), clock)
    await service.start(schedule=False)
    try:
        await service.sync()
        store = service.store
        assert store is not None and service.exporters is not None
        found: dict[str, dict[dt.date, tuple[float, float]]] = {}

        def kwh(wh: float) -> float:
            return round(wh / 1000, 2)

        # chart API
        client = await aiohttp_client(create_app(service))
        chart = await (await client.get(f"/api/split?pdl={WEEKEND_PDL}&view=day&end={SATURDAY}")).json()
        keys = chart["keys"]
        hp_series, hc_series = chart["series"][0]["values"], chart["series"][1]["values"]
        found["chart"] = {
            day: (
                round(hp_series[keys.index(day.isoformat())], 2),
                round(hc_series[keys.index(day.isoformat())], 2),
            )
            for day in (FRIDAY, SATURDAY)
        }
        # Home Assistant statistics buckets
        classifier = await classifier_for(store, WEEKEND_PDL, FRIDAY, SATURDAY)
        assert set(classifier.buckets) == {"hp", "hc"}
        hourly = await hourly_energy(
            store, WEEKEND_PDL, Direction.CONSUMPTION, FRIDAY, SATURDAY, classifier=classifier
        )
        found["ha"] = {
            day: tuple(  # type: ignore[misc]
                kwh(
                    sum(
                        wm
                        for hour, wm in hourly.energy.get(b, {}).items()
                        if timeline.paris_date(hour) == day
                    )
                    / 60
                )
                for b in ("hp", "hc")
            )
            for day in (FRIDAY, SATURDAY)
        }
        totals = {
            day: kwh(sum(wm for h, wm in hourly.energy[TOTAL].items() if timeline.paris_date(h) == day) / 60)
            for day in (FRIDAY, SATURDAY)
        }
        # costs
        costs = await StoreCostSource(store).daily(WEEKEND_PDL, FRIDAY, SATURDAY)
        found["costs"] = {
            day: tuple(  # type: ignore[misc]
                kwh(sum(c.wh for c in costs if timeline.paris_date(c.start) == day and c.bucket == b))
                for b in ("hp", "hc")
            )
            for day in (FRIDAY, SATURDAY)
        }
        # MQTT and Prometheus (yesterday = Saturday), with and without the pricing engine
        context = service.exporters.context
        for with_costs in (True, False):
            context.costs = StoreCostSource(store) if with_costs else None
            messages = dict(MqttExporter({"prefix": "t"}, context).messages(await summarize(context)))
            daily = json.loads(messages[f"t/{WEEKEND_PDL}/consumption/daily"])
            found[f"mqtt costs={with_costs}"] = {SATURDAY: (round(daily["hp"], 2), round(daily["hc"], 2))}
            text = (await PrometheusExporter({"enabled": True}, context).render()).decode()
            values: dict[tuple[str, Any], float] = {
                (s.name, s.labels.get("usage_point_id")): s.value
                for family in text_string_to_metric_families(text)
                for s in family.samples
            }
            found[f"prometheus costs={with_costs}"] = {
                SATURDAY: (
                    kwh(values[("myelectricaldata_consumption_yesterday_peak_wh", WEEKEND_PDL)]),
                    kwh(values[("myelectricaldata_consumption_yesterday_offpeak_wh", WEEKEND_PDL)]),
                )
            }
            vm = VictoriaMetricsExporter({"url": "http://127.0.0.1:1"}, context)
            stored = next(p for p in await store.usage_points() if p.usage_point_id == WEEKEND_PDL)
            samples = await vm.samples(stored, FRIDAY, SATURDAY)
            found[f"victoriametrics costs={with_costs}"] = {
                day: tuple(  # type: ignore[misc]
                    kwh(next(v for (name, _), _, v in samples[day] if name.endswith(f"daily_{b}_wh")))
                    for b in ("hp", "hc")
                )
                for day in (FRIDAY, SATURDAY)
            }
    finally:
        await service.stop()
    assert found["chart"][SATURDAY] == (0.0, totals[SATURDAY])  # the whole Saturday off-peak
    assert found["chart"][FRIDAY][0] > 0 and sum(found["chart"][FRIDAY]) == pytest.approx(
        totals[FRIDAY], abs=0.02
    )
    for consumer, days in found.items():
        for day, split in days.items():
            assert split[0] == pytest.approx(found["chart"][day][0], abs=0.02), (consumer, day)
            assert split[1] == pytest.approx(found["chart"][day][1], abs=0.02), (consumer, day)


# ------------------------------------------------------------ offer shapes: Zen Week-End, seasonal hours


def _user_offer(offer_id: str, **shape: Any) -> dict[str, Any]:
    return {
        "id": offer_id,
        "provider": "EDF",
        "name": offer_id,
        "option": "HC_HP",
        "power_kva": 9,
        **shape,
        "periods": [
            {
                "valid_from": "2026-01-01",
                "valid_to": None,
                "subscription_eur_month": "20",
                "prices_eur_kwh": {"hp": "0.25", "hc": "0.15"},
                "source": "my contract",
            }
        ],
    }


@pytest.mark.parametrize(
    ("shape", "hp_kwh", "hc_kwh", "euros"),
    [
        # Zen Week-End: weekdays all peak, week-end days off-peak: 5 x 24 x .25 + 2 x 24 x .15
        ({"offpeak_weekend": True, "offpeak_hours": ""}, 120, 48, "37.20"),
        # Zen Week-End + HC: the contract's 22:00-06:00 on weekdays too: 80 x .25 + (40 + 48) x .15
        ({"offpeak_weekend": True}, 80, 88, "33.20"),
        # seasonal off-peak hours: in June 02:00-06:00 and 11:00-15:00, 8 h a day: 112 x .25 + 56 x .15
        (
            {"offpeak_hours": "22:00-06:00", "summer_offpeak_hours": "02:00-06:00; 11:00-15:00"},
            112,
            56,
            "36.40",
        ),
    ],
)
def test_hand_computed_week_of_the_offer_shapes_users_have(
    shape: dict[str, Any], hp_kwh: int, hc_kwh: int, euros: str
) -> None:
    offer = parse_offer(_user_offer("mine", **shape), where="user offer 0", origin="user")
    contract_hours = parse_offpeak_text("HC (22H00-6H00)")
    days = group_by_local_day(constant_load(dt.date(2026, 6, 8), dt.date(2026, 6, 14)))  # Monday..Sunday
    costs = [c for d in days.values() if (c := price_day(offer, d, offpeak=contract_hours)) is not None]
    week = totals(costs)
    assert week.buckets["hp"][0] == hp_kwh * 1000 and week.buckets["hc"][0] == hc_kwh * 1000
    assert week.energy_eur == Decimal(euros)


def test_a_bad_offer_shape_names_the_field() -> None:
    with pytest.raises(CatalogueError, match=r"field summer_offpeak_hours"):
        parse_offer(_user_offer("bad", summer_offpeak_hours="midi"), where="user offer 0")
