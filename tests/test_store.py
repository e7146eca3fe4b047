"""The local store on real databases: SQLite, PostgreSQL and MariaDB (see the fixtures in conftest.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import sqlite3
import sys
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import Connection

from app.domain import (
    Address,
    CallRecord,
    Contract,
    DailyEnergy,
    DailySource,
    DataKind,
    DateRange,
    Direction,
    EcoWattDay,
    IntervalReading,
    MaxPower,
    Offer,
    OffpeakRange,
    PricingOption,
    SyncPhase,
    SyncProgress,
    TempoColor,
    TempoDay,
    UsagePoint,
    merge_date_ranges,
)
from app.store import Store, normalise_database_url
from app.store import migrate as store_migrate
from app.store.tables import metadata
from app.timeline import day_bounds_utc, hour_start_utc, paris_date
from tests.conftest import DatabaseFactory

UTC = dt.UTC
PDL = "12345678901234"
PDL2 = "98765432109876"
C = Direction.CONSUMPTION
P = Direction.PRODUCTION
SPRING = dt.date(2024, 3, 31)  # 23 h: 46 half-hours
FALL = dt.date(2024, 10, 27)  # 25 h: 50 half-hours
D = dt.date
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def day_readings(
    day: dt.date,
    *,
    minutes: int = 30,
    pdl: str = PDL,
    direction: Direction = C,
    nulls: Sequence[int] = (),
    base: int = 100,
) -> list[IntervalReading]:
    """Every slot of a Paris day, values base + 7 * i (i = slot index), None at the `nulls` indexes."""
    start, end = day_bounds_utc(day)
    out = []
    for i in itertools.count():
        slot = start + dt.timedelta(minutes=minutes * i)
        if slot >= end:
            break
        out.append(IntervalReading(pdl, direction, slot, minutes, None if i in nulls else base + 7 * i))
    return out


def watt_minutes(readings: Sequence[IntervalReading]) -> int:
    return sum(r.average_w * r.minutes for r in readings if r.average_w is not None)


def kind_of(store: Store) -> str:
    return {"sqlite": "sqlite", "postgresql": "postgresql", "mysql": "mariadb"}[store.dialect]


# ----------------------------------------------------------------------------- a complete dataset


def usage_points() -> list[UsagePoint]:
    return [
        UsagePoint(
            PDL,
            name="Maison",
            subscribed_power_kva=9,
            pricing_option=PricingOption.HC_HP,
            offpeak_hours=(
                OffpeakRange(dt.time(22, 0), dt.time(6, 0)),
                OffpeakRange(dt.time(12, 30), dt.time(14, 30)),
            ),
            has_production=True,
            activation_date=D(2019, 5, 2),
            oldest_available_data_date=D(2021, 1, 1),
            linked_production_pdl_id=PDL2,
        ),
        UsagePoint(PDL2, name="Résidence été — « chalet »", is_active=False),
    ]


def offers() -> list[Offer]:
    return [
        Offer(
            provider="EDF",
            name="Tarif Bleu",
            option=PricingOption.HC_HP,
            power_kva=9,
            subscription_eur_month=Decimal("15.47"),
            prices_eur_kwh=(("HP", Decimal("0.2700")), ("HC", Decimal("0.2068"))),
            valid_from=D(2024, 2, 1),
            valid_to=D(2025, 2, 1),
            offpeak_hours=(OffpeakRange(dt.time(22, 0), dt.time(6, 0)),),
        ),
        Offer(
            provider="EDF",
            name="Tarif Bleu",
            option=PricingOption.TEMPO,
            power_kva=6,
            subscription_eur_month=Decimal("12.96000000001"),
            prices_eur_kwh=(
                ("BLUE_HC", Decimal("0.1296")),
                ("BLUE_HP", Decimal("0.1609")),
                ("WHITE_HC", Decimal("0.1486")),
                ("WHITE_HP", Decimal("0.1894")),
                ("RED_HC", Decimal("0.1568")),
                ("RED_HP", Decimal("0.7562")),
            ),
            valid_from=D(2024, 2, 1),
        ),
        Offer(
            provider="Élec & Co",
            name="Base 100% verte",
            option=PricingOption.BASE,
            power_kva=6,
            subscription_eur_month=Decimal("1E+1"),
            prices_eur_kwh=(("BASE", Decimal("0.000000001")),),
            valid_from=D(2023, 8, 1),
            valid_to=D(2024, 2, 1),
        ),
    ]


class Dataset:
    """One answer of every kind, as a sync would save them."""

    def __init__(self) -> None:
        self.points = usage_points()
        self.contract = Contract(
            PDL,
            segment="C5",
            subscribed_power_kva=9,
            distribution_tariff="BTINFMU4",
            offpeak_hours=(OffpeakRange(dt.time(22, 0), dt.time(6, 0)),),
            last_activation_date=D(2019, 5, 2),
            last_distribution_tariff_change_date=D(2022, 8, 1),
            contract_status="SERVC",
            meter_type="AMM",
            usage_point_status="com",
        )
        self.address = Address(
            PDL, street="1 rue de l'Église", postal_code="75001", city="Paris", country="FR"
        )
        self.daily = [
            DailyEnergy(PDL, C, D(2024, 10, 20) + dt.timedelta(days=i), 9000 + i) for i in range(10)
        ]
        self.daily_production = [DailyEnergy(PDL, P, D(2024, 10, 25), 1234)]
        self.curve = [
            *day_readings(D(2024, 10, 26)),
            *day_readings(FALL, nulls=(3, 4)),
            *day_readings(D(2024, 10, 28), minutes=10),
        ]
        self.curve_production = day_readings(SPRING, direction=P)
        self.max_power = [
            MaxPower(PDL, D(2024, 10, 26), 5230, at(2024, 10, 26, 18, 2, 11)),
            MaxPower(PDL, D(2024, 10, 27), 4100, None),
        ]
        self.tempo = [TempoDay(D(2024, 10, 25), TempoColor.BLUE), TempoDay(D(2024, 10, 26), TempoColor.WHITE)]
        self.ecowatt = [
            EcoWattDay(D(2024, 10, 26), 1, "Pas d'alerte", tuple([1] * 24), at(2024, 10, 25, 15, 0)),
            EcoWattDay(D(2024, 10, 27), 2, "", tuple([1] * 8 + [2] * 17), None),
        ]
        self.offers = offers()

    async def save(self, store: Store, *, shuffled: bool = False) -> None:
        """Everything, once in a natural order, or (shuffled) reversed, split and interleaved."""
        if not shuffled:
            await store.save_usage_points(self.points)
            await store.save_contract(self.contract)
            await store.save_address(self.address)
            await store.save_daily(PDL, C, self.daily, [DateRange(D(2024, 10, 20), D(2024, 10, 29))])
            await store.save_daily(
                PDL, P, self.daily_production, [DateRange(D(2024, 10, 25), D(2024, 10, 25))]
            )
            await store.save_curve(PDL, C, self.curve, [DateRange(D(2024, 10, 26), D(2024, 10, 28))])
            await store.save_curve(PDL, P, self.curve_production, [DateRange(SPRING, SPRING)])
            await store.save_max_power(PDL, self.max_power, [DateRange(D(2024, 10, 26), D(2024, 10, 27))])
            await store.save_tempo(self.tempo, [DateRange(D(2024, 10, 25), D(2024, 10, 26))])
            await store.save_ecowatt(self.ecowatt)
            await store.save_offers(self.offers, source="gateway")
            return
        await store.save_offers(self.offers[::-1], source="gateway")
        await store.save_ecowatt(self.ecowatt[::-1])
        await store.save_tempo(self.tempo[1:], [DateRange(D(2024, 10, 26), D(2024, 10, 26))])
        await store.save_tempo(self.tempo[:1], [DateRange(D(2024, 10, 25), D(2024, 10, 25))])
        await store.save_max_power(PDL, self.max_power[::-1], [DateRange(D(2024, 10, 26), D(2024, 10, 27))])
        # The curve in three overlapping chunks, newest first; the daily totals land in between.
        chunks = [self.curve[:60], self.curve[40:130], self.curve[120:]]
        await store.save_curve(PDL, C, chunks[2][::-1], [DateRange(D(2024, 10, 28), D(2024, 10, 28))])
        await store.save_daily(PDL, C, self.daily[5:], [DateRange(D(2024, 10, 25), D(2024, 10, 29))])
        await store.save_curve(PDL, C, chunks[1], [DateRange(D(2024, 10, 27), D(2024, 10, 27))])
        await store.save_daily(PDL, C, self.daily[:5], [DateRange(D(2024, 10, 20), D(2024, 10, 24))])
        await store.save_curve(PDL, C, chunks[0], [DateRange(D(2024, 10, 26), D(2024, 10, 26))])
        await store.save_curve(PDL, P, self.curve_production[::-1], [DateRange(SPRING, SPRING)])
        await store.save_daily(PDL, P, self.daily_production, [DateRange(D(2024, 10, 25), D(2024, 10, 25))])
        await store.save_address(self.address)
        await store.save_contract(self.contract)
        await store.save_usage_points(self.points[::-1])


# ----------------------------------------------------------------------------- URLs and opening


def test_normalise_database_url(tmp_path: Path) -> None:
    assert normalise_database_url("", tmp_path) == f"sqlite+aiosqlite:///{tmp_path}/myelectricaldata.db"
    assert normalise_database_url(None, tmp_path) == f"sqlite+aiosqlite:///{tmp_path}/myelectricaldata.db"
    assert normalise_database_url("sqlite:///x.db", tmp_path) == "sqlite+aiosqlite:///x.db"
    assert normalise_database_url("sqlite:////data/a.db", tmp_path) == "sqlite+aiosqlite:////data/a.db"
    assert normalise_database_url("sqlite+aiosqlite:///x.db", tmp_path) == "sqlite+aiosqlite:///x.db"
    assert (
        normalise_database_url("postgresql://u:p%40ss@db:5432/med", tmp_path)
        == "postgresql+asyncpg://u:p%40ss@db:5432/med"
    )
    assert normalise_database_url("postgres://u@db/med", tmp_path) == "postgresql+asyncpg://u@db/med"
    assert (
        normalise_database_url("postgresql+psycopg2://u@db/med", tmp_path) == "postgresql+asyncpg://u@db/med"
    )
    assert (
        normalise_database_url("mysql://u:p@db:3306/med", tmp_path)
        == "mysql+aiomysql://u:p@db:3306/med?charset=utf8mb4"
    )
    assert (
        normalise_database_url("mariadb://u@db/med", tmp_path) == "mysql+aiomysql://u@db/med?charset=utf8mb4"
    )
    assert (
        normalise_database_url("mysql+pymysql://u@db/med?charset=utf8", tmp_path)
        == "mysql+aiomysql://u@db/med?charset=utf8"
    )
    with pytest.raises(ValueError, match="unsupported database"):
        normalise_database_url("oracle://u@db/med", tmp_path)
    with pytest.raises(ValueError, match="not a database URL"):
        normalise_database_url("just some text", tmp_path)


async def test_open_migrates_an_empty_database(store: Store, database_url: str) -> None:
    expected = {"sqlite": "sqlite", "postgresql": "postgresql", "mysql": "mysql"}[database_url.split(":")[0]]
    assert store.dialect == expected
    counts = await store.row_counts()
    assert set(counts) == {table.name for table in metadata.sorted_tables}
    assert all(count == 0 for count in counts.values())
    assert all(rows == [] for rows in (await store.snapshot()).values())


async def test_reopening_keeps_everything_and_does_not_migrate_again(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    await Dataset().save(store)
    before = await store.snapshot()
    await store.close()
    reopened = await Store.open(database_url, data_dir=tmp_path / "data")
    try:
        assert await reopened.snapshot() == before
    finally:
        await reopened.close()


async def test_migrated_schema_equals_the_table_metadata(store: Store) -> None:
    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with store.engine.connect() as connection:
        assert await connection.run_sync(diff) == []
        revision = await connection.run_sync(store_migrate.current_revision)
    assert revision == store_migrate.head_revision() == "0001"


# ----------------------------------------------------------------------------- idempotency and order


async def test_saving_the_same_answers_twice_changes_nothing(store: Store) -> None:
    data = Dataset()
    await data.save(store)
    first = await store.snapshot()
    counts = await store.row_counts()
    assert all(first[name] for name in first), {name: len(rows) for name, rows in first.items()}
    await data.save(store)
    await data.save(store, shuffled=True)
    assert await store.snapshot() == first
    assert await store.row_counts() == counts


async def test_snapshot_is_the_same_whatever_the_order(
    store: Store, database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    other = await Store.open(await database_factory(kind_of(store)), data_dir=tmp_path)
    try:
        await Dataset().save(store)
        await Dataset().save(other, shuffled=True)
        assert await other.snapshot() == await store.snapshot()
        assert await other.row_counts() == await store.row_counts()
    finally:
        await other.close()


async def test_snapshots_of_the_three_databases_are_equal(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    snapshots = {}
    for kind in ("sqlite", "postgresql", "mariadb"):
        opened = await Store.open(await database_factory(kind), data_dir=tmp_path)
        try:
            await Dataset().save(opened, shuffled=kind == "postgresql")
            snapshots[kind] = await opened.snapshot()
        finally:
            await opened.close()
    assert snapshots["postgresql"] == snapshots["sqlite"]
    assert snapshots["mariadb"] == snapshots["sqlite"]


async def test_a_failing_save_leaves_nothing(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*_args: object) -> None:
        raise RuntimeError("disk pulled out")

    monkeypatch.setattr(Store, "_merge_coverage", broken)
    with pytest.raises(RuntimeError, match="disk pulled out"):
        await store.save_curve(PDL, C, day_readings(FALL), [DateRange(FALL, FALL)])
    with pytest.raises(RuntimeError, match="disk pulled out"):
        await store.save_daily(PDL, C, [DailyEnergy(PDL, C, FALL, 10)], [DateRange(FALL, FALL)])
    assert all(count == 0 for count in (await store.row_counts()).values())


async def test_rows_of_another_usage_point_or_direction_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="saved under"):
        await store.save_curve(PDL, C, day_readings(FALL, pdl=PDL2), [])
    with pytest.raises(ValueError, match="saved under"):
        await store.save_daily(PDL, C, [DailyEnergy(PDL, P, FALL, 1)], [])
    naive = IntervalReading(PDL, C, dt.datetime(2024, 1, 1), 30, 1)
    with pytest.raises(ValueError, match="naive"):
        await store.save_curve(PDL, C, [naive], [])
    assert (await store.row_counts())["interval_reading"] == 0


# ----------------------------------------------------------------------------- usage points, contract


async def test_usage_points_contract_and_address_round_trip(store: Store) -> None:
    data = Dataset()
    await store.save_usage_points(data.points)
    assert await store.usage_points() == sorted(data.points, key=lambda p: p.usage_point_id)
    changed = UsagePoint(PDL2, name="renamed", pricing_option=PricingOption.TEMPO)
    await store.save_usage_points([changed])
    assert (await store.usage_points())[1] == changed

    assert await store.contract(PDL) is None
    await store.save_contract(data.contract)
    await store.save_contract(Contract(PDL2))
    assert await store.contract(PDL) == data.contract
    assert await store.contracts() == {PDL: data.contract, PDL2: Contract(PDL2)}

    assert await store.address(PDL) is None
    await store.save_address(data.address)
    assert await store.address(PDL) == data.address


async def test_overlong_free_text_is_clipped_the_same_way_everywhere(store: Store) -> None:
    await store.save_usage_points([UsagePoint(PDL, name="é" * 300)])
    assert (await store.usage_points())[0].name == "é" * 255
    await store.save_progress(SyncProgress(PDL, SyncPhase.ERROR, step="s" * 300, last_error_code="E" * 100))
    (progress,) = await store.progress()
    assert (progress.step, progress.last_error_code) == ("s" * 255, "E" * 64)


# ----------------------------------------------------------------------------- daily totals


async def test_meter_rows_replace_curve_rows_and_never_the_reverse(store: Store) -> None:
    day = D(2024, 10, 26)
    readings = day_readings(day)
    curve_wh = round(watt_minutes(readings) / 60)

    # curve first: a derived CURVE row, then the meter's figure replaces it
    await store.save_curve(PDL, C, readings, [DateRange(day, day)])
    assert await store.daily(PDL, C, day, day) == [
        DailyEnergy(PDL, C, day, curve_wh, DailySource.CURVE, True)
    ]
    await store.save_daily(PDL, C, [DailyEnergy(PDL, C, day, 5000)], [DateRange(day, day)])
    assert await store.daily(PDL, C, day, day) == [DailyEnergy(PDL, C, day, 5000, DailySource.METER, True)]
    # ... and stays there when the curve is saved again, or a CURVE daily row comes in
    await store.save_curve(PDL, C, readings, [DateRange(day, day)])
    await store.save_daily(PDL, C, [DailyEnergy(PDL, C, day, 1, DailySource.CURVE, False)], [])
    assert await store.daily(PDL, C, day, day) == [DailyEnergy(PDL, C, day, 5000, DailySource.METER, True)]

    # meter first: the curve never overwrites it
    other = D(2024, 10, 28)
    await store.save_daily(PDL, C, [DailyEnergy(PDL, C, other, 7000)], [DateRange(other, other)])
    await store.save_curve(PDL, C, day_readings(other), [DateRange(other, other)])
    assert await store.daily(PDL, C, other, other) == [
        DailyEnergy(PDL, C, other, 7000, DailySource.METER, True)
    ]
    # a METER row is updated by a newer METER figure (Enedis corrections)
    await store.save_daily(PDL, C, [DailyEnergy(PDL, C, other, 7001)], [])
    assert [d.wh for d in await store.daily(PDL, C, other, other)] == [7001]


async def test_curve_daily_totals_and_completeness(store: Store) -> None:
    normal = D(2024, 10, 26)
    spring = day_readings(SPRING)
    fall = day_readings(FALL)
    holes = day_readings(normal, nulls=(0, 17))
    assert (len(spring), len(fall), len(holes)) == (46, 50, 48)
    await store.save_curve(PDL, C, [*spring, *fall, *holes], [DateRange(SPRING, SPRING)])

    by_day = {d.day: d for d in await store.daily(PDL, C, SPRING, FALL)}
    assert by_day[SPRING] == DailyEnergy(
        PDL, C, SPRING, round(watt_minutes(spring) / 60), DailySource.CURVE, True
    )
    assert by_day[FALL] == DailyEnergy(PDL, C, FALL, round(watt_minutes(fall) / 60), DailySource.CURVE, True)
    assert by_day[normal] == DailyEnergy(
        PDL, C, normal, round(watt_minutes(holes) / 60), DailySource.CURVE, False
    )
    assert len(await store.intervals(PDL, C, *day_bounds_utc(SPRING))) == 46
    assert len(await store.intervals(PDL, C, *day_bounds_utc(FALL))) == 50

    # A day saved in two parts is incomplete, then complete, its total computed from all stored slots.
    split = D(2024, 11, 5)
    slots = day_readings(split, minutes=15)
    await store.save_curve(PDL, C, slots[:50], [])
    (part,) = await store.daily(PDL, C, split, split)
    assert (part.wh, part.complete) == (round(watt_minutes(slots[:50]) / 60), False)
    await store.save_curve(PDL, C, slots[50:], [])
    (whole,) = await store.daily(PDL, C, split, split)
    assert (whole.wh, whole.complete) == (round(watt_minutes(slots) / 60), True)

    # The missing slots arrive later: the day becomes complete.
    await store.save_curve(PDL, C, day_readings(normal), [])
    (filled,) = await store.daily(PDL, C, normal, normal)
    assert filled.complete and filled.wh == round(watt_minutes(day_readings(normal)) / 60)

    # A day whose slots are all missing: a CURVE row with 0 Wh that says it is incomplete.
    empty = D(2024, 11, 6)
    await store.save_curve(PDL, C, day_readings(empty, nulls=range(48)), [])
    assert await store.daily(PDL, C, empty, empty) == [
        DailyEnergy(PDL, C, empty, 0, DailySource.CURVE, False)
    ]


async def test_null_slots_stay_null(store: Store) -> None:
    readings = day_readings(FALL, nulls=(0, 4, 5))
    await store.save_curve(PDL, C, readings, [])
    stored = await store.intervals(PDL, C, *day_bounds_utc(FALL))
    assert stored == readings
    assert [r.average_w for r in stored[:6]] == [None, 107, 114, 121, None, None]
    rows = (await store.snapshot())["interval_reading"]
    assert sum(1 for row in rows if row[4] is None) == 3
    # a known slot can become missing again only if the gateway says so: values are replaced, not summed
    await store.save_curve(PDL, C, [IntervalReading(PDL, C, readings[1].start, 30, None)], [])
    assert (await store.intervals(PDL, C, readings[1].start, readings[2].start))[0].average_w is None


async def test_interval_reads_are_half_open_sorted_and_utc(store: Store) -> None:
    readings = day_readings(FALL)
    await store.save_curve(PDL, C, readings[::-1], [])
    await store.save_curve(PDL, P, day_readings(FALL, direction=P, base=1), [])
    got = await store.intervals(PDL, C, readings[2].start, readings[5].start)
    assert got == readings[2:5]
    assert all(r.start.tzinfo is UTC for r in got)
    # bounds given in another zone or with microseconds mean the same instants
    paris = readings[2].start.astimezone(dt.timezone(dt.timedelta(hours=2)))
    assert (
        await store.intervals(PDL, C, paris, readings[5].start - dt.timedelta(microseconds=1))
        == readings[2:5]
    )
    assert await store.intervals(
        PDL, C, readings[2].start + dt.timedelta(microseconds=1), readings[4].start
    ) == [readings[3]]
    assert await store.intervals(PDL2, C, readings[0].start, readings[-1].start) == []
    with pytest.raises(ValueError, match="naive"):
        await store.intervals(PDL, C, dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2))


async def test_duplicate_starts_in_one_answer_keep_the_last(store: Store) -> None:
    readings = day_readings(FALL)
    again = IntervalReading(PDL, C, readings[3].start, 30, 999)
    await store.save_curve(PDL, C, [*readings, again], [])
    stored = await store.intervals(PDL, C, *day_bounds_utc(FALL))
    assert len(stored) == 50 and stored[3].average_w == 999


# ----------------------------------------------------------------------------- coverage


async def test_coverage_merges_overlapping_and_adjacent_ranges(store: Store) -> None:
    kind = DataKind.DAILY_CONSUMPTION
    await store.save_daily(
        PDL, C, [], [DateRange(D(2024, 1, 10), D(2024, 1, 12)), DateRange(D(2024, 1, 1), D(2024, 1, 5))]
    )
    assert await store.coverage(PDL, kind) == [
        DateRange(D(2024, 1, 1), D(2024, 1, 5)),
        DateRange(D(2024, 1, 10), D(2024, 1, 12)),
    ]
    await store.save_daily(PDL, C, [], [DateRange(D(2024, 1, 6), D(2024, 1, 9))])  # adjacent both sides
    assert await store.coverage(PDL, kind) == [DateRange(D(2024, 1, 1), D(2024, 1, 12))]
    await store.save_daily(PDL, C, [], [DateRange(D(2024, 1, 11), D(2024, 1, 20))])  # overlapping
    await store.save_daily(PDL, C, [], [DateRange(D(2024, 1, 3), D(2024, 1, 4))])  # inside
    await store.save_daily(PDL, C, [], [DateRange(D(2024, 2, 1), D(2024, 2, 1))])  # disjoint
    await store.save_daily(PDL, C, [], [])  # nothing covered: no change
    expected = [DateRange(D(2024, 1, 1), D(2024, 1, 20)), DateRange(D(2024, 2, 1), D(2024, 2, 1))]
    assert await store.coverage(PDL, kind) == expected

    # every kind and usage point is tracked apart; Tempo is shared ("" usage point)
    day = D(2024, 3, 1)
    await store.save_daily(PDL, P, [], [DateRange(day, day)])
    await store.save_curve(PDL, C, [], [DateRange(day, day)])
    await store.save_curve(PDL2, P, [], [DateRange(day, day)])
    await store.save_max_power(PDL, [], [DateRange(day, day)])
    await store.save_tempo([], [DateRange(day, day)])
    assert await store.all_coverage() == {
        ("", DataKind.TEMPO): [DateRange(day, day)],
        (PDL, DataKind.CURVE_CONSUMPTION): [DateRange(day, day)],
        (PDL, DataKind.DAILY_CONSUMPTION): expected,
        (PDL, DataKind.DAILY_PRODUCTION): [DateRange(day, day)],
        (PDL, DataKind.MAX_POWER): [DateRange(day, day)],
        (PDL2, DataKind.CURVE_PRODUCTION): [DateRange(day, day)],
    }
    assert await store.coverage(PDL2, kind) == []


_day = st.dates(min_value=D(2024, 2, 20), max_value=D(2024, 3, 20))
_range = st.builds(
    lambda first, length: DateRange(first, first + dt.timedelta(days=length)), _day, st.integers(0, 6)
)


def _runs(days: set[dt.date]) -> list[DateRange]:
    out: list[DateRange] = []
    for day in sorted(days):
        if out and day == out[-1].last + dt.timedelta(days=1):
            out[-1] = DateRange(out[-1].first, day)
        else:
            out.append(DateRange(day, day))
    return out


@given(st.lists(_range, max_size=12))
def test_merge_ranges_covers_exactly_the_same_days(ranges: list[DateRange]) -> None:
    days = {day for r in ranges for day in r.iter_days()}
    assert merge_date_ranges(ranges) == _runs(days)


def test_stored_coverage_is_the_union_of_every_save_sqlite(tmp_path: Path) -> None:
    """Property (SQLite): whatever batches of ranges are saved, in whatever order, the stored coverage
    is exactly the union of their days as maximal disjoint, non-adjacent ranges."""
    with asyncio.Runner() as runner:
        store = runner.run(Store.open(None, data_dir=tmp_path))
        counter = itertools.count()
        try:

            @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
            @given(st.lists(st.lists(_range, max_size=4), max_size=5))
            def check(batches: list[list[DateRange]]) -> None:
                pdl = f"{next(counter):014d}"

                async def scenario() -> list[DateRange]:
                    for batch in batches:
                        await store.save_max_power(pdl, [], batch)
                    return await store.coverage(pdl, DataKind.MAX_POWER)

                stored = runner.run(scenario())
                assert stored == _runs({day for batch in batches for r in batch for day in r.iter_days()})

            check()
        finally:
            runner.run(store.close())


# ----------------------------------------------------------------------------- aggregates


def python_curve_energy(
    readings: Sequence[IntervalReading], bucket: str, first: dt.date, last: dt.date
) -> list[tuple[Any, float]]:
    totals: dict[Any, int] = defaultdict(int)
    for r in readings:
        day = paris_date(r.start)
        if r.average_w is None or not first <= day <= last:
            continue
        key = {
            "hour": hour_start_utc(r.start),
            "day": day,
            "month": day.replace(day=1),
            "year": D(day.year, 1, 1),
        }[bucket]
        totals[key] += r.average_w * r.minutes
    return sorted((key, total / 60) for key, total in totals.items())


async def test_curve_aggregates_equal_a_python_computation_across_dst(store: Store) -> None:
    readings: list[IntervalReading] = []
    for day in (D(2023, 12, 31), D(2024, 1, 1), D(2024, 3, 30), SPRING, D(2024, 4, 1)):
        readings += day_readings(day, nulls=(5,) if day == SPRING else ())
    readings += day_readings(D(2024, 10, 26), minutes=10, base=3)  # the interval length changes
    readings += day_readings(FALL, nulls=(0, 1, 2, 3, 4, 5, 6, 7, 8, 9))  # the whole fall-back hour missing
    readings += day_readings(FALL, direction=P, base=5000)  # another direction: never counted
    await store.save_curve(PDL, C, [r for r in readings if r.direction is C], [])
    await store.save_curve(PDL, P, [r for r in readings if r.direction is P], [])
    consumption = [r for r in readings if r.direction is C]

    buckets: tuple[Literal["hour", "day", "month", "year"], ...] = ("hour", "day", "month", "year")
    for bucket in buckets:
        for first, last in (
            (D(2023, 1, 1), D(2024, 12, 31)),
            (SPRING, SPRING),
            (FALL, FALL),
            (D(2024, 1, 1), FALL),
        ):
            got = await store.curve_energy(PDL, C, bucket, first, last)
            assert got == python_curve_energy(consumption, bucket, first, last), (bucket, first, last)

    spring_hours = await store.curve_energy(PDL, C, "hour", SPRING, SPRING)
    assert len(spring_hours) == 23
    assert spring_hours[0][0] == at(2024, 3, 30, 23)  # 00:00 Paris (UTC+1)
    assert all(isinstance(key, dt.datetime) and key.tzinfo is UTC for key, _ in spring_hours)
    fall_hours = await store.curve_energy(PDL, C, "hour", FALL, FALL)
    assert len(fall_hours) == 25 - 5  # hours of the 10 missing half-hours are absent, not zero
    assert await store.curve_energy(PDL, C, "day", D(2024, 6, 1), D(2024, 6, 30)) == []


async def test_daily_energy_aggregates_equal_a_python_computation(store: Store) -> None:
    rows = [DailyEnergy(PDL, C, D(2023, 11, 1) + dt.timedelta(days=i), 1000 + 37 * i) for i in range(120)]
    await store.save_daily(PDL, C, rows, [])
    await store.save_daily(PDL, P, [DailyEnergy(PDL, P, D(2024, 1, 1), 10**9)], [])
    first, last = D(2023, 11, 15), D(2024, 2, 10)
    chosen = [r for r in rows if first <= r.day <= last]
    assert await store.daily_energy(PDL, C, "day", first, last) == [(r.day, r.wh) for r in chosen]
    months: dict[dt.date, int] = defaultdict(int)
    years: dict[dt.date, int] = defaultdict(int)
    for r in chosen:
        months[r.day.replace(day=1)] += r.wh
        years[D(r.day.year, 1, 1)] += r.wh
    assert await store.daily_energy(PDL, C, "month", first, last) == sorted(months.items())
    assert await store.daily_energy(PDL, C, "year", first, last) == sorted(years.items())
    assert await store.daily(PDL, C, first, last) == chosen


# ----------------------------------------------------------------------------- other kinds


async def test_max_power_round_trip(store: Store) -> None:
    rows = Dataset().max_power
    await store.save_max_power(PDL, rows, [DateRange(D(2024, 10, 26), D(2024, 10, 27))])
    assert await store.max_power(PDL, D(2024, 10, 1), D(2024, 10, 31)) == rows
    assert await store.max_power(PDL, D(2024, 10, 27), D(2024, 10, 27)) == rows[1:]
    assert await store.max_power(PDL2, D(2024, 10, 1), D(2024, 10, 31)) == []
    corrected = MaxPower(PDL, D(2024, 10, 27), 4200, at(2024, 10, 27, 7, 30))
    await store.save_max_power(PDL, [corrected], [])
    assert (await store.max_power(PDL, D(2024, 10, 27), D(2024, 10, 27))) == [corrected]


async def test_tempo_and_ecowatt_round_trip(store: Store) -> None:
    data = Dataset()
    await store.save_tempo(data.tempo, [DateRange(D(2024, 10, 25), D(2024, 10, 26))])
    assert await store.tempo(D(2024, 10, 1), D(2024, 10, 31)) == data.tempo
    await store.save_tempo([TempoDay(D(2024, 10, 26), TempoColor.RED)], [])
    assert (await store.tempo(D(2024, 10, 26), D(2024, 10, 26)))[0].color is TempoColor.RED
    assert await store.coverage("", DataKind.TEMPO) == [DateRange(D(2024, 10, 25), D(2024, 10, 26))]

    await store.save_ecowatt(data.ecowatt)
    assert await store.ecowatt(D(2024, 10, 1), D(2024, 10, 31)) == data.ecowatt
    assert await store.ecowatt(D(2024, 10, 27), D(2024, 10, 27)) == data.ecowatt[1:]


async def test_offers_round_trip_exactly_and_are_replaced_per_source(store: Store) -> None:
    catalogue = offers()
    await store.save_offers(catalogue, source="gateway")
    got = await store.offers()
    assert len(got) == 3
    expected = sorted(
        (_with_source(o, "gateway") for o in catalogue),
        key=lambda o: (o.provider, o.name, o.option, o.power_kva),
    )
    assert got == expected
    for offer in got:  # Decimal exactness: same digits, same exponent
        original = next(o for o in catalogue if (o.name, o.option) == (offer.name, offer.option))
        assert offer.subscription_eur_month.as_tuple() == original.subscription_eur_month.as_tuple()
        assert [p.as_tuple() for _, p in offer.prices_eur_kwh] == [
            p.as_tuple() for _, p in original.prices_eur_kwh
        ]
        assert [b for b, _ in offer.prices_eur_kwh] == [b for b, _ in original.prices_eur_kwh]

    await store.save_offers(catalogue[:1], source="catalogue")
    await store.save_offers(catalogue[1:2], source="gateway")  # replaces the gateway's three by one
    assert sorted((o.source, o.option) for o in await store.offers()) == [
        ("catalogue", PricingOption.HC_HP),
        ("gateway", PricingOption.TEMPO),
    ]
    await store.save_offers([], source="gateway")
    assert [o.source for o in await store.offers()] == ["catalogue"]


def _with_source(offer: Offer, source: str) -> Offer:
    return Offer(
        provider=offer.provider,
        name=offer.name,
        option=offer.option,
        power_kva=offer.power_kva,
        subscription_eur_month=offer.subscription_eur_month,
        prices_eur_kwh=offer.prices_eur_kwh,
        valid_from=offer.valid_from,
        valid_to=offer.valid_to,
        offpeak_hours=offer.offpeak_hours,
        source=source,
    )


# ----------------------------------------------------------------------------- accounting, progress, settings


async def test_calls_are_counted_by_utc_day(store: Store) -> None:
    def call(when: dt.datetime, counted: bool = True) -> CallRecord:
        return CallRecord("/v2/daily_consumption", PDL, 200, "ok", when, counted)

    await store.record_calls(
        [
            call(at(2024, 10, 26, 0, 0, 0)),
            call(at(2024, 10, 26, 23, 59, 59)),
            call(at(2024, 10, 26, 12), counted=False),  # e.g. the token route
            call(
                dt.datetime(2024, 10, 27, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
            ),  # 26th 23:30 UTC
            call(at(2024, 10, 27, 0, 0, 0)),
        ]
    )
    await store.record_calls([])
    await store.record_calls(
        [CallRecord("/v2/token", None, None, "network_error", at(2024, 10, 27, 5), True)]
    )
    assert await store.quota_calls_on(D(2024, 10, 26)) == 3
    assert await store.quota_calls_on(D(2024, 10, 27)) == 2
    assert await store.quota_calls_on(D(2024, 10, 25)) == 0
    assert (await store.row_counts())["gateway_call"] == 6


async def test_progress_round_trip(store: Store) -> None:
    account = SyncProgress("", SyncPhase.RUNNING, done=3, total=10, step="daily_consumption")
    point = SyncProgress(
        PDL,
        SyncPhase.ERROR,
        done=7,
        total=7,
        step="curve",
        last_success=at(2024, 10, 26, 8, 15, 3),
        last_error_code="STM-ERR-0000014",
        last_error_message="la courbe de charge n'est pas activée",
        updated_at=at(2024, 10, 27, 8, 0),
    )
    await store.save_progress(account)
    await store.save_progress(point)
    assert await store.progress() == [account, point]
    done = SyncProgress("", SyncPhase.DONE, done=10, total=10, last_success=at(2024, 10, 27, 9))
    await store.save_progress(done)
    assert await store.progress() == [done, point]


async def test_fetch_state_round_trip(store: Store) -> None:
    assert await store.fetch_state() == {}
    await store.mark_fetched(PDL, DataKind.CONTRACT, at(2024, 10, 27, 8, 1, 2))
    await store.set_disabled(PDL, DataKind.CURVE_PRODUCTION, "no_production")
    await store.mark_fetched("", DataKind.ECOWATT, at(2024, 10, 27, 9))
    assert await store.fetch_state() == {
        (PDL, DataKind.CONTRACT): (at(2024, 10, 27, 8, 1, 2), None),
        (PDL, DataKind.CURVE_PRODUCTION): (None, "no_production"),
        ("", DataKind.ECOWATT): (at(2024, 10, 27, 9), None),
    }
    await store.mark_fetched(PDL, DataKind.CURVE_PRODUCTION, at(2024, 10, 28))  # keeps the reason
    assert (await store.fetch_state())[(PDL, DataKind.CURVE_PRODUCTION)] == (
        at(2024, 10, 28),
        "no_production",
    )
    await store.set_disabled(PDL, DataKind.CURVE_PRODUCTION, None)  # keeps the date
    assert (await store.fetch_state())[(PDL, DataKind.CURVE_PRODUCTION)] == (at(2024, 10, 28), None)
    with pytest.raises(ValueError, match="naive"):
        await store.mark_fetched(PDL, DataKind.CONTRACT, dt.datetime(2024, 1, 1))


async def test_settings_round_trip(store: Store) -> None:
    assert await store.get_setting("missing") is None
    value = {"mqtt": {"host": "core-mosquitto", "port": 1883, "tls": False}, "tags": ["a", "é"], "x": None}
    await store.set_setting("exporters", value)
    await store.set_setting("install_minute", 17)
    assert await store.get_setting("exporters") == value
    assert await store.get_setting("install_minute") == 17
    await store.set_setting("install_minute", 18)
    assert await store.get_setting("install_minute") == 18
    await store.set_setting("Install_Minute", "case matters")
    assert await store.get_setting("install_minute") == 18


async def test_concurrent_writers_and_readers(store: Store) -> None:
    days = [D(2024, 10, 1) + dt.timedelta(days=i) for i in range(8)]

    async def write(day: dt.date) -> None:
        await store.save_curve(PDL, C, day_readings(day), [DateRange(day, day)])

    async def read() -> int:
        return len(await store.intervals(PDL, C, at(2024, 9, 30), at(2024, 10, 10)))

    results = await asyncio.gather(*(write(day) for day in days), *(read() for _ in range(4)))
    assert all(isinstance(n, int) and n <= 8 * 48 for n in results[len(days) :])
    assert len(await store.intervals(PDL, C, at(2024, 9, 30), at(2024, 10, 10))) == 8 * 48
    assert await store.coverage(PDL, DataKind.CURVE_CONSUMPTION) == [DateRange(days[0], days[-1])]
    assert len(await store.daily(PDL, C, days[0], days[-1])) == 8


# ----------------------------------------------------------------------------- migration safety (SQLite)


def _backups(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("myelectricaldata.db.bak-*"))


async def test_migrating_an_existing_sqlite_file_backs_it_up_first(tmp_path: Path) -> None:
    path = tmp_path / "myelectricaldata.db"
    legacy = sqlite3.connect(path)
    legacy.execute("CREATE TABLE legacy_cache (k TEXT PRIMARY KEY, v TEXT)")
    legacy.execute("INSERT INTO legacy_cache VALUES ('answer', '42')")
    legacy.commit()
    legacy.close()
    # four older backups: after this migration only the three newest backups remain
    for stamp in ("20200101000000", "20210101000000", "20220101000000", "20230101000000"):
        (tmp_path / f"myelectricaldata.db.bak-none-{stamp}").write_bytes(b"old")
    before = dt.datetime.now(UTC).replace(microsecond=0)

    store = await Store.open(None, data_dir=tmp_path)
    try:
        await store.set_setting("k", 1)
    finally:
        await store.close()

    backups = _backups(tmp_path)
    assert len(backups) == 3
    assert backups[:2] == [
        "myelectricaldata.db.bak-none-20220101000000",
        "myelectricaldata.db.bak-none-20230101000000",
    ]
    newest = backups[2]
    made = dt.datetime.strptime(newest.rsplit("-", 1)[1], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    assert newest.startswith("myelectricaldata.db.bak-none-") and before <= made <= dt.datetime.now(UTC)
    copy = sqlite3.connect(tmp_path / newest)
    try:
        assert copy.execute("SELECT v FROM legacy_cache").fetchall() == [("42",)]
        assert copy.execute("SELECT name FROM sqlite_master WHERE name = 'alembic_version'").fetchall() == []
    finally:
        copy.close()

    # at head already: no new backup, data kept, the old table untouched
    store = await Store.open(None, data_dir=tmp_path)
    try:
        assert await store.get_setting("k") == 1
    finally:
        await store.close()
    assert _backups(tmp_path) == backups
    assert store_migrate.sqlite_file_revision(path) == "0001"


_KILLED_WRITER = """
import asyncio, datetime as dt, os, sys
from pathlib import Path
from app.domain import DateRange, Direction, IntervalReading
from app.store import Store

async def main() -> None:
    store = await Store.open(None, data_dir=Path(sys.argv[1]))
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    readings = [
        IntervalReading("12345678901234", Direction.CONSUMPTION, start + dt.timedelta(minutes=30 * i), 30, i)
        for i in range(5000)
    ]
    await store.save_curve("12345678901234", Direction.CONSUMPTION, readings, [])
    os._exit(0)  # no close, no checkpoint: the -wal and -shm files stay behind, as after a kill

asyncio.run(main())
"""


async def test_sqlite_file_left_by_a_killed_process_reopens_intact(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _KILLED_WRITER,
        str(tmp_path),
        cwd=PROJECT_ROOT,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    assert _exists(tmp_path / "myelectricaldata.db-wal")
    store = await Store.open(None, data_dir=tmp_path)
    try:
        assert (await store.row_counts())["interval_reading"] == 5000
    finally:
        await store.close()
    assert _backups(tmp_path) == []


def _exists(path: Path) -> bool:
    return path.exists()


async def test_a_new_sqlite_database_is_created_in_the_data_dir_without_backup(tmp_path: Path) -> None:
    data_dir = tmp_path / "deep" / "data"
    store = await Store.open("", data_dir=data_dir)
    await store.close()
    assert (data_dir / "myelectricaldata.db").is_file()
    assert list(data_dir.glob("*.bak-*")) == []
    mode = os.stat(data_dir / "myelectricaldata.db").st_mode
    assert mode & 0o600 == 0o600


async def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path: Path) -> None:
    store = await Store.open(None, data_dir=tmp_path)
    try:
        async with store.engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await connection.execute(text("PRAGMA synchronous"))).scalar() == 1  # NORMAL
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one() >= 1000
            # a small page cache per pooled connection (resident memory on a Raspberry Pi)
            assert (await connection.execute(text("PRAGMA cache_size"))).scalar_one() == -512
    finally:
        await store.close()
