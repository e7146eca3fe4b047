"""EJP days, the week-end off-peak rule, and pricing on the three databases (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.costing import StoreCostSource
from app.domain import (
    Contract,
    DailyEnergy,
    DateRange,
    Direction,
    IntervalReading,
    Offer,
    OffpeakRange,
    PricingOption,
    TempoColor,
    TempoDay,
    UsagePoint,
)
from app.pricing.catalogue import BUCKETS_BY_OPTION, from_gateway, load_file, load_shipped, parse_offer
from app.pricing.costs import parse_ejp_days
from app.pricing.engine import (
    PARIS,
    bucket_energy,
    ejp_seasons_without_days,
    group_by_local_day,
    price_daily_total,
    price_day,
    totals,
)
from app.pricing.simulation import price_period
from app.store.repository import Store
from app.store.settings import EJP_DAYS_KEY, USER_OFFERS_KEY
from app.web.app import create_app
from tests.support import AiohttpServer, Clock, make_service, same_origin, start_simulator
from tests.test_pricing import AiohttpClient, constant_load

OFFERS = {o.id: o for o in load_shipped()}
NIGHT = (OffpeakRange(dt.time(22), dt.time(6)),)
CENT = Decimal("0.01")
# A test EJP offer (figures of the example only; EDF no longer sells EJP, the gateway or the user gives them)
EJP_OFFER: dict[str, Any] = {
    "id": "test-ejp-9",
    "provider": "EDF",
    "name": "Tarif Bleu EJP",
    "option": "EJP",
    "power_kva": 9,
    "periods": [
        {
            "valid_from": "2024-01-01",
            "valid_to": None,
            "subscription_eur_month": "15.80",
            "prices_eur_kwh": {"ejp_normal": "0.1758", "ejp_peak": "1.5197"},
            "source": "test figures",
        }
    ],
}


# ------------------------------------------------------------------------------------------- EJP


def test_hand_computed_ejp_week() -> None:
    # EJP 9 kVA, constant 1 kW over Sat 2026-01-10 .. Fri 2026-01-16 (7 days, 168 kWh), EJP days Mon 12
    # and Tue 13 January. Peak hours: 12 Jan 07-24 (17 kWh), 13 Jan 00-01 (1) and 07-24 (17), 14 Jan 00-01
    # (1): 36 kWh at 1.5197 = 54.7092; the other 132 kWh at 0.1758 = 23.2056; energy 77.9148.
    # Subscription: 7 x 15.80/31 (0.509677 a day) = 3.567739; bill 81.482539 -> 81.48.
    offer = parse_offer(EJP_OFFER, where="test")
    days = group_by_local_day(constant_load(dt.date(2026, 1, 10), dt.date(2026, 1, 16)))
    ejp = frozenset({dt.date(2026, 1, 12), dt.date(2026, 1, 13)})
    total = totals([c for d in days.values() if (c := price_day(offer, d, ejp_days=ejp))])
    assert total.buckets == {
        "ejp_normal": (132_000, Decimal("23.2056")),
        "ejp_peak": (36_000, Decimal("54.7092")),
    }
    assert total.subscription_eur == Decimal("3.567739")
    assert total.total_eur.quantize(CENT) == Decimal("81.48")
    # no EJP day known: every hour at the normal price (the pages then warn "EJP days unknown")
    unknown = totals([c for d in days.values() if (c := price_day(offer, d))])
    assert unknown.buckets == {"ejp_normal": (168_000, Decimal("29.5344"))}
    assert ejp_seasons_without_days(dt.date(2026, 1, 10), dt.date(2026, 1, 16), frozenset()) == ["2025-2026"]
    assert ejp_seasons_without_days(dt.date(2026, 1, 10), dt.date(2026, 1, 16), ejp) == []
    assert ejp_seasons_without_days(dt.date(2026, 5, 1), dt.date(2026, 9, 30), frozenset()) == []


WINTER = group_by_local_day(constant_load(dt.date(2025, 11, 1), dt.date(2026, 4, 1)))


@settings(max_examples=25, deadline=None)
@given(st.sets(st.dates(min_value=dt.date(2025, 11, 1), max_value=dt.date(2026, 3, 31)), max_size=22))
def test_each_ejp_day_puts_07_00_to_01_00_in_the_peak_bucket(ejp: set[dt.date]) -> None:
    # Constant 1 kW: each EJP day adds 17 kWh (07-24, also on the 29 March 2026 DST day) and 1 kWh
    # (00-01 the next day).
    offer = parse_offer(EJP_OFFER, where="test")
    peak = sum(
        bucket_energy(offer, day, offpeak=(), tempo={}, ejp_days=frozenset(ejp)).get("ejp_peak", 0)
        for day in WINTER.values()
    )
    assert peak == 18_000 * len(ejp)


def test_ejp_offers_parse_from_the_catalogue_format_and_the_gateway(tmp_path: Path) -> None:
    path = tmp_path / "ejp.json"
    path.write_text(json.dumps({"offers": [EJP_OFFER]}))
    (parsed,) = load_file(path)
    assert parsed.option == "EJP" and set(parsed.periods[0].prices_eur_kwh) == BUCKETS_BY_OPTION["EJP"]
    gateway = Offer(
        provider="EDF",
        name="Tarif Bleu EJP",
        option=PricingOption.EJP,
        power_kva=12,
        subscription_eur_month=Decimal("18.76"),
        prices_eur_kwh=(("ejp_normal", Decimal("0.1758")), ("ejp_peak", Decimal("1.5197"))),
        valid_from=dt.date(2025, 2, 1),
    )
    (offer,) = from_gateway([gateway])
    assert offer.option == "EJP" and offer.origin == "gateway"
    assert offer.periods[0].prices_eur_kwh == {"ejp_normal": Decimal("0.1758"), "ejp_peak": Decimal("1.5197")}


def test_a_daily_total_is_exact_under_ejp_outside_peak_days() -> None:
    offer = parse_offer(EJP_OFFER, where="test")
    ejp = frozenset({dt.date(2026, 1, 12)})
    quiet = price_daily_total(offer, dt.date(2026, 1, 20), 10_000, ejp_days=ejp)
    assert (
        quiet is not None
        and not quiet.estimated
        and quiet.buckets == {"ejp_normal": (10_000, Decimal("1.758"))}
    )
    for day in (dt.date(2026, 1, 12), dt.date(2026, 1, 13)):  # the peak day and the next (00:00-01:00)
        cost = price_daily_total(offer, day, 10_000, ejp_days=ejp)
        assert cost is not None and cost.estimated


def test_ejp_days_typed_by_the_user_parse_or_name_the_bad_one() -> None:
    assert parse_ejp_days("2026-01-13, 2026-01-12;2026-01-12\n2025-12-01") == [
        dt.date(2025, 12, 1),
        dt.date(2026, 1, 12),
        dt.date(2026, 1, 13),
    ]
    with pytest.raises(ValueError, match="12/01/2026"):
        parse_ejp_days("2026-01-12, 12/01/2026")


async def test_ejp_pages_warn_until_the_days_are_entered(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    clock = Clock()
    server, _state = await start_simulator(aiohttp_server, clock)
    service = make_service(tmp_path, str(server.make_url("/")), clock)
    await service.start(schedule=False)
    try:
        await service.sync()
        client = await aiohttp_client(create_app(service))
        same_origin(client)
        pdl = "09222222222222"
        saved = await client.post(
            "/api/pricing/offers", json={"pdl": pdl, "offer": EJP_OFFER["id"], "user_offer": EJP_OFFER}
        )
        assert saved.status == 200
        for page in ("consumption_euro?period=year&", "simulation?"):
            html = await (await client.get(f"/{page}pdl={pdl}&lang=en")).text()
            assert "EJP days unknown" in html, page
            assert "Jours EJP inconnus" in await (await client.get(f"/{page}pdl={pdl}")).text()
        before = await (await client.get(f"/api/pricing/consumption_euro?pdl={pdl}&period=year")).json()
        assert before["warnings"] and before["warnings"][0]["code"] == "ejp_days_unknown"
        # a bad day is refused with its name, nothing saved
        bad = await client.post("/offers", data={"pdl": pdl, "ejp_days": "2025-12-01, 31/12/2025"})
        assert bad.status == 400 and "31/12/2025" in await bad.text()
        assert await service.store.get_setting(EJP_DAYS_KEY.format(pdl=pdl)) is None  # type: ignore[union-attr]
        today = clock().astimezone(PARIS).date()
        winters = {today.year - k for k in range(4)}
        days = [dt.date(y, m, d) for y in sorted(winters) for m, d in ((1, 13), (11, 3), (12, 2))]
        typed = ", ".join(d.isoformat() for d in days if d < today)
        form = await client.post("/offers", data={"pdl": pdl, "ejp_days": typed}, allow_redirects=False)
        assert form.status == 303
        offers_page = await (await client.get(f"/offers?pdl={pdl}")).text()
        assert days[0].isoformat() in offers_page
        html = await (await client.get(f"/consumption_euro?period=year&pdl={pdl}&lang=en")).text()
        assert "EJP days unknown" not in html
        after = await (await client.get(f"/api/pricing/consumption_euro?pdl={pdl}&period=year")).json()
        assert after["warnings"] == []
        assert any("ejp_peak" in row["buckets"] for row in after["rows"])
        assert Decimal(after["total"]["energy_eur"]) > Decimal(before["total"]["energy_eur"])
    finally:
        await service.stop()


# ------------------------------------------------------------------------------------ week-end rule


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=dt.datetime(2025, 3, 20), max_value=dt.datetime(2026, 11, 1)),
            st.integers(min_value=0, max_value=9000),
        ),
        max_size=150,
    ),
    st.sampled_from(["edf-hc_hp-6", "edf-hc_hp-9", "market-weekend-6"]),
)
def test_week_end_hours_are_always_off_peak(readings: list[tuple[dt.datetime, int]], offer_id: str) -> None:
    offer = OFFERS[offer_id].with_weekend_offpeak()
    assert offer.weekend_offpeak
    slots = {
        s.replace(minute=s.minute // 30 * 30, second=0, microsecond=0, tzinfo=dt.UTC): w for s, w in readings
    }
    for day in group_by_local_day((s, 30, w) for s, w in slots.items()).values():
        buckets = bucket_energy(offer, day, offpeak=NIGHT, tempo={})
        weekday = bucket_energy(OFFERS["edf-hc_hp-9"], day, offpeak=NIGHT, tempo={})
        if day.day.weekday() >= 5:
            assert set(buckets) <= {"hc"} and buckets.get("hc", 0) == sum(wh for _, wh in day.slots)
        else:  # weekdays keep the off-peak windows
            assert buckets == weekday


def test_dst_week_ends_are_wholly_off_peak() -> None:
    offer = OFFERS["edf-hc_hp-9"].with_weekend_offpeak()
    for saturday, hours in ((dt.date(2026, 3, 28), 24 + 23), (dt.date(2025, 10, 25), 24 + 25)):
        days = group_by_local_day(constant_load(saturday, saturday + dt.timedelta(days=2)))
        total = totals([c for d in days.values() if (c := price_day(offer, d, offpeak=NIGHT))])
        monday_hc = 8_000  # 00-06 and 22-24
        assert total.buckets["hc"][0] == hours * 1000 + monday_hc
        assert total.buckets["hp"][0] == 16_000


async def test_a_pdl_whose_contract_is_hc_weekend_gets_the_week_end_rule(store: Store) -> None:
    pdl = "01234567890123"
    await store.save_usage_points(
        [UsagePoint(pdl, subscribed_power_kva=9, pricing_option=PricingOption.HC_WEEKEND)]
    )
    source = StoreCostSource(store)
    chosen = await source.chosen_offer(pdl)
    assert chosen is not None and chosen.weekend_offpeak and chosen.option == "HC_HP"
    assert chosen.power_kva == 9 and chosen.id == "edf-hc_hp-9+weekend"
    saturday = dt.date(2026, 11, 21)
    readings = [
        IntervalReading(pdl, Direction.CONSUMPTION, s, 30, w) for s, _, w in constant_load(saturday, saturday)
    ]
    await store.save_curve(pdl, Direction.CONSUMPTION, readings, [DateRange(saturday, saturday)])
    (cost,) = await source.day_costs(pdl, saturday, saturday)
    assert set(cost.buckets) == {"hc"} and cost.buckets["hc"][0] == 24_000


# ------------------------------------------------------------------------- the three databases


PDL = "09876543210987"
FIRST, LAST = dt.date(2026, 1, 20), dt.date(2026, 4, 5)  # across the 1 February grid and the March DST
METER_DAYS = [dt.date(2026, 1, 15) + dt.timedelta(days=i) for i in range(5)]  # daily totals only


def _curve() -> list[IntervalReading]:
    out = []
    for i, (start, minutes, _) in enumerate(constant_load(FIRST, LAST)):
        watts = None if i % 97 == 13 else (i * 379) % 4200 + 150
        out.append(IntervalReading(PDL, Direction.CONSUMPTION, start, minutes, watts))
    return out


async def test_the_same_euros_on_every_database(store: Store) -> None:
    """Run once per database kind (SQLite, PostgreSQL, MariaDB): the store-backed costs equal the pure
    engine's on the same readings, to the micro-euro, for every option and rule."""
    curve = _curve()
    tempo = {
        FIRST - dt.timedelta(days=6) + dt.timedelta(days=i): [
            TempoColor.BLUE,
            TempoColor.WHITE,
            TempoColor.RED,
        ][i % 3]
        for i in range(90)
    }
    ejp = frozenset({dt.date(2026, 2, 3), dt.date(2026, 3, 2), dt.date(2026, 3, 31)})
    await store.save_usage_points(
        [UsagePoint(PDL, subscribed_power_kva=9, pricing_option=PricingOption.TEMPO)]
    )
    await store.save_contract(Contract(PDL, subscribed_power_kva=9, offpeak_hours=NIGHT))
    await store.save_curve(PDL, Direction.CONSUMPTION, curve, [DateRange(FIRST, LAST)])
    meter = [DailyEnergy(PDL, Direction.CONSUMPTION, d, 12_345 + i) for i, d in enumerate(METER_DAYS)]
    await store.save_daily(PDL, Direction.CONSUMPTION, meter, [DateRange(METER_DAYS[0], METER_DAYS[-1])])
    await store.save_tempo([TempoDay(d, c) for d, c in tempo.items()], [DateRange(min(tempo), max(tempo))])
    await store.set_setting(USER_OFFERS_KEY, [EJP_OFFER])
    await store.set_setting(EJP_DAYS_KEY.format(pdl=PDL), sorted(d.isoformat() for d in ejp))

    source = StoreCostSource(store)
    days = group_by_local_day((r.start, r.minutes, r.average_w) for r in curve)
    daily = {d.day: d.wh for d in meter}
    offers = {o.id: o for o in await source.offers()}
    for offer in (
        offers["edf-base-9"],
        offers["edf-hc_hp-9"],
        offers["edf-hc_hp-9"].with_weekend_offpeak(),
        offers["edf-tempo-9"],
        offers["test-ejp-9"],
        offers["market-seasonal-9"],
    ):
        stored = await source.day_costs(PDL, METER_DAYS[0], LAST, offer)
        expected = price_period(offer, days, daily, offpeak=NIGHT, tempo=tempo, ejp_days=ejp)
        assert [(c.day, c.buckets, c.subscription, c.estimated) for c in stored] == [
            (c.day, c.buckets, c.subscription, c.estimated) for c in expected
        ], offer.id
        assert len(stored) == (LAST - METER_DAYS[0]).days + 1
    hourly = await source.hourly(
        PDL,
        dt.datetime.combine(FIRST, dt.time(), PARIS).astimezone(dt.UTC),
        dt.datetime.combine(LAST, dt.time(), PARIS).astimezone(dt.UTC),
    )
    chosen = await source.chosen_offer(PDL)
    assert chosen is not None and chosen.id == "edf-tempo-9"
    by_day = price_period(chosen, days, {}, offpeak=NIGHT, tempo=tempo)
    assert sum((h.euros for h in hourly), Decimal(0)) == sum(
        (c.energy_eur for c in by_day if c.day < LAST), Decimal(0)
    )
