"""The contract timeline: every day split and priced under the contract period in force that day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from app import tariff_rules, timeline
from app.contract_timeline import parse_timeline
from app.costing import StoreCostSource, contract_timeline
from app.domain import (
    Contract,
    DateRange,
    Direction,
    IntervalReading,
    PricingOption,
    TempoColor,
    TempoDay,
    UsagePoint,
)
from app.exporters.homeassistant.hourly import classifier_for
from app.store import Store, contracts
from app.tariff_rules import parse_offpeak_text
from app.web.app import create_app
from app.web.charts import SplitCache
from tests.support import AiohttpServer, same_origin, synced_service
from tests.test_pricing import AiohttpClient, constant_load

PDL = "09777777777777"
FIRST, LAST = dt.date(2025, 3, 1), dt.date(2025, 3, 23)
MOVES = "- BASE 6\n2025-03-03 HC_HP 6 22:00-06:00\n2025-03-10 HC_HP 6 01:00-07:00\n2025-03-17 TEMPO 9"


async def _point_that_moved(store: Store) -> None:
    await store.save_usage_points(
        [UsagePoint(PDL, subscribed_power_kva=9, pricing_option=PricingOption.TEMPO)]
    )
    await contracts.save_user_timeline(store, PDL, parse_timeline(MOVES))
    readings = [
        IntervalReading(PDL, Direction.CONSUMPTION, s, m, w) for s, m, w in constant_load(FIRST, LAST)
    ]
    await store.save_curve(PDL, Direction.CONSUMPTION, readings, [DateRange(FIRST, LAST)])
    colors = {dt.date(2025, 3, 14) + dt.timedelta(days=i): TempoColor.BLUE for i in range(10)}
    colors[dt.date(2025, 3, 18)] = TempoColor.WHITE
    await store.save_tempo([TempoDay(d, c) for d, c in colors.items()], [DateRange(min(colors), max(colors))])


async def test_buckets_and_euros_follow_the_contract_periods(store: Store) -> None:
    """Base 6 kVA -> HP/HC 6 kVA 22:00-06:00 (3 March) -> off-peak moved to 01:00-07:00 (10 March) ->
    Tempo 9 kVA (17 March); constant 1 kW, grids of 1 February 2025 (Base .2016; HP .2146 HC .1696;
    Tempo blue HC .1288 HP .1552, white HC .1447 HP .1792)."""
    await _point_that_moved(store)
    rows = await StoreCostSource(store).daily(PDL, FIRST, LAST)
    by_day: dict[dt.date, dict[str, tuple[int, Decimal]]] = {}
    for row in rows:
        by_day.setdefault(timeline.paris_date(row.start), {})[row.bucket] = (row.wh, row.euros)
    base = {"base": (24_000, Decimal("4.8384"))}  # 24 x .2016
    night = {"hp": (16_000, Decimal("3.4336")), "hc": (8_000, Decimal("1.3568"))}  # 16 x .2146, 8 x .1696
    moved = {"hp": (18_000, Decimal("3.8628")), "hc": (6_000, Decimal("1.0176"))}  # 18 x .2146, 6 x .1696
    assert by_day[dt.date(2025, 3, 2)] == base
    assert by_day[dt.date(2025, 3, 3)] == by_day[dt.date(2025, 3, 9)] == night
    assert by_day[dt.date(2025, 3, 10)] == by_day[dt.date(2025, 3, 16)] == moved
    assert by_day[dt.date(2025, 3, 17)] == {
        "tempo_blue_hc": (8_000, Decimal("1.0304")),  # 00-06 (16 March blue) + 22-24
        "tempo_blue_hp": (16_000, Decimal("2.4832")),
    }
    assert by_day[dt.date(2025, 3, 18)] == {  # white day: its night before 06:00 is still blue
        "tempo_blue_hc": (6_000, Decimal("0.7728")),
        "tempo_white_hp": (16_000, Decimal("2.8672")),
        "tempo_white_hc": (2_000, Decimal("0.2894")),
    }
    assert by_day[dt.date(2025, 3, 19)] == {
        "tempo_white_hc": (6_000, Decimal("0.8682")),
        "tempo_blue_hp": (16_000, Decimal("2.4832")),
        "tempo_blue_hc": (2_000, Decimal("0.2576")),
    }
    assert {r.offer_id for r in rows if timeline.paris_date(r.start) < dt.date(2025, 3, 3)} == {"edf-base-6"}
    assert {r.offer_id for r in rows if timeline.paris_date(r.start) >= dt.date(2025, 3, 17)} == {
        "edf-tempo-9"
    }
    # subscription: 2 x 13.72/31 + 14 x 14.04/31 + 7 x 17.45/31 (per day to the micro-euro)
    subscription = await StoreCostSource(store).subscription(PDL, FIRST, LAST)
    assert subscription == Decimal("0.442581") * 2 + Decimal("0.452903") * 14 + Decimal("0.562903") * 7

    # Home Assistant statistics buckets and the HP/HC chart follow the same periods
    classify = await classifier_for(store, PDL, FIRST, LAST)
    assert set(classify.buckets) >= {"hp", "hc", "tempo_white_hp"}

    def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(dt.date(2025, 3, day), dt.time(hour, minute), timeline.PARIS)

    assert classify(at(2, 23)) is None  # Base: total only
    assert classify(at(9, 23)) == "hc" and classify(at(10, 23)) == "hp"
    assert classify(at(9, 6, 30)) == "hp" and classify(at(10, 6, 30)) == "hc"
    assert classify(at(17, 12)) == "tempo_blue_hp" and classify(at(18, 12)) == "tempo_white_hp"
    assert classify(at(19, 3)) == "tempo_white_hc"
    split = await SplitCache().split(store, PDL, await contract_timeline(store, PDL), FIRST, LAST)
    assert split[dt.date(2025, 3, 3)] == (16_000, 8_000) and split[dt.date(2025, 3, 10)] == (18_000, 6_000)
    assert dt.date(2025, 3, 2) not in split and dt.date(2025, 3, 17) not in split


async def test_a_change_seen_at_a_sync_opens_a_period_from_the_tariff_change_date(store: Store) -> None:
    today = dt.date(2026, 11, 28)
    await store.save_usage_points(
        [UsagePoint(PDL, subscribed_power_kva=6, pricing_option=PricingOption.BASE)]
    )
    await store.save_contract(Contract(PDL, subscribed_power_kva=6))
    assert await contracts.record_seen(store, PDL, today) is None
    assert [p.option for p in await contract_timeline(store, PDL)] == ["BASE"]
    assert await contracts.record_seen(store, PDL, today) is None  # nothing new
    await store.save_usage_points(
        [UsagePoint(PDL, subscribed_power_kva=9, pricing_option=PricingOption.TEMPO)]
    )
    await store.save_contract(
        Contract(PDL, subscribed_power_kva=9, last_distribution_tariff_change_date=dt.date(2026, 11, 20))
    )
    assert await contracts.record_seen(store, PDL, today) == dt.date(2026, 11, 20)
    periods = await contract_timeline(store, PDL)
    assert [(p.valid_from, p.valid_to, p.option, p.power_kva) for p in periods] == [
        (None, dt.date(2026, 11, 20), "BASE", 6),
        (dt.date(2026, 11, 20), None, "TEMPO", 9),
    ]
    pending = await contracts.pending_resplit(store, "x", PDL)
    assert pending is not None and pending[0] == dt.date(2026, 11, 20)
    await contracts.resplit_done(store, "x", PDL, pending[1])
    assert await contracts.pending_resplit(store, "x", PDL) is None
    # off-peak hours moved by Enedis, with no new tariff change date: a period from the day it was seen
    await store.save_contract(
        Contract(
            PDL,
            subscribed_power_kva=9,
            last_distribution_tariff_change_date=dt.date(2026, 11, 20),
            offpeak_hours=parse_offpeak_text("HC (2H00-7H00;13H00-16H00)"),
        )
    )
    assert await contracts.record_seen(store, PDL, today + dt.timedelta(days=1)) == today + dt.timedelta(
        days=1
    )


async def test_the_offers_page_edits_the_timeline_and_names_bad_fields(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    try:
        store = service.store
        assert store is not None
        pdl = "09222222222222"
        client = await aiohttp_client(create_app(service))
        same_origin(client)  # the page's own form, as the browser posts it
        before = await contracts.load_entries(store, pdl)
        assert before and before[0]["origin"] == "gateway"  # recorded by the sync
        for text, field in (
            ("2025-13-01 BASE 6", "timeline line 1: field valid_from"),
            ("- BASE 6\n2025-03-01 TEMPO 7", "timeline line 2: field power_kva"),
            ("- BASE 6\n2025-03-01 NOPE 9", "timeline line 2: field option"),
            ("- HC_HP 6 22h-", "timeline line 1: field offpeak_hours"),
            ("- BASE 6\n2025-03-01 TEMPO 9\n2025-02-01 BASE 6", "timeline line 3: field valid_from"),
        ):
            bad = await client.post("/api/pricing/offers", json={"pdl": pdl, "timeline": text})
            assert bad.status == 400 and field in (await bad.json())["error"], text
            form = await client.post("/offers", data={"pdl": pdl, "timeline": text})
            assert form.status == 400 and field in await form.text()
        assert await contracts.load_entries(store, pdl) == before  # nothing saved
        page = await (await client.get(f"/offers?pdl={pdl}")).text()
        assert (
            'name="timeline"' in page and "<script" not in page.split("timeline-form")[1].split("</form>")[0]
        )
        ok = await client.post(
            "/api/pricing/offers", json={"pdl": pdl, "timeline": "- BASE 9\n2026-10-01 HC_HP 9 22:00-06:00"}
        )
        assert ok.status == 200
        periods = await contract_timeline(store, pdl)
        assert [(p.valid_from, p.option) for p in periods] == [
            (None, "BASE"),
            (dt.date(2026, 10, 1), "HC_HP"),
        ]
        pending = await contracts.pending_resplit(store, "homeassistant_statistics", pdl)
        assert pending is not None and pending[0] <= dt.date(2026, 10, 1)
    finally:
        await service.stop()


async def test_victoriametrics_history_is_replaced_after_a_timeline_change(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    from tests.test_exporter_victoriametrics import read_series, victoria_metrics

    service = await synced_service(aiohttp_server, tmp_path)
    manager = service.exporters
    store = service.store
    assert manager is not None and store is not None
    pdl, last = "09222222222222", dt.date(2026, 11, 27)
    change = last - dt.timedelta(days=20)  # older than the 7-day correction window
    try:
        async with victoria_metrics(tmp_path / "vm") as url:
            await manager.save("victoriametrics", {"enabled": True, "url": url})
            await manager.wait_idle()
            name = "myelectricaldata_consumption_daily_hp_wh"
            before = dict(await read_series(url, name, pdl))
            await contracts.save_user_timeline(
                store, pdl, parse_timeline(f"- HC_HP 9 22:00-06:00\n{change} HC_HP 9 01:00-07:00")
            )
            result = await manager.run("victoriametrics")
            assert result is not None and f"corrected series replaced for {pdl}" in result.detail
            after = dict(await read_series(url, name, pdl))
            assert len(after) == len(before)  # replaced, not duplicated
            periods = await contract_timeline(store, pdl)
            start, end = timeline.day_start_utc(change - dt.timedelta(days=1)), timeline.day_start_utc(last)
            curve = await store.intervals(pdl, Direction.CONSUMPTION, start, end)
            split = tariff_rules.peak_offpeak_by_day(
                periods, [(r.start, r.average_w * r.minutes) for r in curve if r.average_w is not None]
            )
            for day in (change - dt.timedelta(days=1), change, change + dt.timedelta(days=3)):
                ms = int(timeline.day_start_utc(day).timestamp()) * 1000
                assert after[ms] == pytest.approx(split[day][0] / 60), day
            ms_change = int(timeline.day_start_utc(change).timestamp()) * 1000
            ms_before = int(timeline.day_start_utc(change - dt.timedelta(days=1)).timestamp()) * 1000
            assert after[ms_change] != before[ms_change] and after[ms_before] == before[ms_before]
            again = await manager.run("victoriametrics")
            assert again is not None and again.items == 0
    finally:
        await service.stop()
