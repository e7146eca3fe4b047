"""Cost engine, catalogue and store-backed cost source."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from app.costing import StoreCostSource
from app.domain import OffpeakRange, TempoColor
from app.pricing.catalogue import CatalogueError, load_file, load_shipped
from app.pricing.engine import (
    PARIS,
    group_by_local_day,
    group_epochs_by_local_day,
    group_totals,
    price_day,
    totals,
)
from app.store.settings import CHOSEN_KEY
from app.web.app import create_app
from tests.support import AiohttpServer, Clock, make_service, start_simulator

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]
OFFERS = {o.id: o for o in load_shipped()}
NIGHT = (OffpeakRange(dt.time(22), dt.time(6)),)
CENT = Decimal("0.01")


def constant_load(
    first: dt.date, last: dt.date, watts: int = 1000
) -> list[tuple[dt.datetime, int, int | None]]:
    """Half-hour slots at constant power over the Paris days [first, last] (500 Wh per slot at 1 kW)."""
    start = dt.datetime.combine(first, dt.time(), PARIS).astimezone(dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), PARIS).astimezone(dt.UTC)
    out: list[tuple[dt.datetime, int, int | None]] = []
    while start < end:
        out.append((start, 30, watts))
        start += dt.timedelta(minutes=30)
    return out


def test_hand_computed_tempo_month_across_the_1_february_2026_price_change() -> None:
    # Tempo 6 kVA, constant 1 kW, 2026-01-16 .. 2026-02-15. All days BLUE except 31 Jan RED, 1 Feb WHITE.
    # A day = 24 kWh: 00-06 6 kWh HC at the previous day's colour, 06-22 16 kWh HP, 22-24 2 kWh HC.
    # Grid 2025-08-01: blue HC .1232 HP .1494, red HC .1460 HP .6468; sub 15.50/month.
    # Grid 2026-02-01: blue HC .1325 HP .1612, white HC .1499 HP .1871, red HC .1575; sub 15.59/month.
    # 16..30 Jan: 15 x (8 x .1232 + 16 x .1494) = 15 x 3.3760          = 50.6400
    # 31 Jan (RED): 6 x .1232 (blue night) + 16 x .6468 + 2 x .1460    = 11.3800
    # 1 Feb (WHITE): 6 x .1575 (red night, new grid) + 16 x .1871 + 2 x .1499 = 4.2384
    # 2 Feb (BLUE): 6 x .1499 (white night) + 16 x .1612 + 2 x .1325   = 3.7436
    # 3..15 Feb: 13 x (8 x .1325 + 16 x .1612) = 13 x 3.6392          = 47.3096
    # energy = 117.3116; subscription 16 x 15.50/31 = 8.00 + 15 x 15.59/28 = 8.3518 -> bill 133.66
    offer = OFFERS["edf-tempo-6"]
    first, last = dt.date(2026, 1, 16), dt.date(2026, 2, 15)
    tempo = {first + dt.timedelta(days=i): TempoColor.BLUE for i in range(-1, 31)}
    tempo[dt.date(2026, 1, 31)] = TempoColor.RED
    tempo[dt.date(2026, 2, 1)] = TempoColor.WHITE
    days = group_by_local_day(constant_load(first, last))
    costs = [c for d in days.values() if (c := price_day(offer, d, tempo=tempo)) is not None]
    total = totals(costs)
    assert total.wh == 31 * 24_000
    assert total.energy_eur == Decimal("117.3116")
    assert total.subscription_eur.quantize(CENT) == Decimal("16.35")
    assert total.total_eur.quantize(CENT) == Decimal("133.66")
    assert total.buckets["tempo_red_hp"] == (16_000, Decimal("10.3488"))
    assert total.buckets["tempo_red_hc"][0] == 2_000 + 6_000  # 31 Jan evening + 1 Feb night


def test_hand_computed_hphc_month_with_the_october_dst_change() -> None:
    # HP/HC 9 kVA, off-peak 22:00-06:00, constant 1 kW, October 2025 (26 Oct has 25 hours).
    # Normal day: 8 kWh HC + 16 kWh HP; 26 Oct: the repeated 02:00-03:00 hour is off-peak: 9 kWh HC.
    # HC = 31 x 8 + 1 = 249 kWh x .1635 = 40.7115; HP = 31 x 16 = 496 kWh x .2081 = 103.2176
    # energy 143.9291 + subscription 19.81 (whole month) = 163.7391 -> 163.74
    offer = OFFERS["edf-hc_hp-9"]
    days = group_by_local_day(constant_load(dt.date(2025, 10, 1), dt.date(2025, 10, 31)))
    assert len(days[dt.date(2025, 10, 26)].slots) == 50
    costs = [c for d in days.values() if (c := price_day(offer, d, offpeak=NIGHT)) is not None]
    month = group_totals(costs, "month")[dt.date(2025, 10, 1)]
    assert month.buckets == {"hc": (249_000, Decimal("40.7115")), "hp": (496_000, Decimal("103.2176"))}
    assert month.subscription_eur.quantize(CENT) == Decimal("19.81")
    assert month.total_eur.quantize(CENT) == Decimal("163.74")


slots = st.lists(
    st.tuples(
        st.datetimes(min_value=dt.datetime(2025, 2, 1), max_value=dt.datetime(2026, 11, 1)).map(
            lambda d: d.replace(minute=d.minute // 30 * 30, second=0, microsecond=0, tzinfo=dt.UTC)
        ),
        st.integers(min_value=0, max_value=12_000),
    ),
    max_size=200,
)


@settings(max_examples=60, deadline=None)
@given(
    slots,
    st.sampled_from(sorted(o.id for o in OFFERS.values() if o.periods[0].valid_from <= dt.date(2025, 2, 1))),
    st.sampled_from([TempoColor.BLUE, TempoColor.WHITE, TempoColor.RED]),
)
def test_bucket_totals_add_up(
    readings: list[tuple[dt.datetime, int]], offer_id: str, color: TempoColor
) -> None:
    offer = OFFERS[offer_id]
    unique = {start: w for start, w in readings}
    days = group_by_local_day((s, 30, w) for s, w in unique.items())
    tempo = {d + dt.timedelta(days=k): color for d in days for k in (-1, 0)}
    costs = [c for d in days.values() if (c := price_day(offer, d, offpeak=NIGHT, tempo=tempo))]
    expected_wh = sum((w * 30 + 30) // 60 for w in unique.values())
    total = totals(costs)
    assert total.wh == expected_wh
    assert sum(wh for wh, _ in total.buckets.values()) == expected_wh
    assert sum((e for _, e in total.buckets.values()), Decimal(0)) == total.energy_eur
    for period in ("day", "month", "year"):
        groups = group_totals(costs, period)
        assert sum(g.wh for g in groups.values()) == expected_wh
        assert sum((g.total_eur for g in groups.values()), Decimal(0)) == total.total_eur


@pytest.mark.parametrize("change", [dt.date(2025, 8, 1), dt.date(2026, 2, 1)])
@given(minute=st.integers(min_value=0, max_value=47))
def test_price_changes_at_local_midnight(change: dt.date, minute: int) -> None:
    offer = OFFERS["edf-base-6"]
    before = change - dt.timedelta(days=1)
    slot = dt.timedelta(minutes=30 * minute)
    for day, period_day in ((before, before), (change, change)):
        start = dt.datetime.combine(day, dt.time(), PARIS) + slot
        parsed = group_by_local_day([(start.astimezone(dt.UTC), 30, 2000)])
        cost = price_day(offer, parsed[day])
        assert cost is not None
        price = offer.period_on(period_day).prices_eur_kwh["base"]  # type: ignore[union-attr]
        assert cost.buckets["base"] == (1000, price)
    assert offer.period_on(before) != offer.period_on(change)


@given(st.dates(min_value=dt.date(2025, 2, 2), max_value=dt.date(2026, 11, 1)), st.integers(0, 47))
def test_tempo_night_after_midnight_is_priced_at_the_previous_day_colour(
    day: dt.date, half_hour: int
) -> None:
    tempo = {day - dt.timedelta(days=1): TempoColor.RED, day: TempoColor.BLUE}
    start = dt.datetime.combine(day, dt.time(), PARIS) + dt.timedelta(minutes=30 * half_hour)
    parsed = group_by_local_day([(start.astimezone(dt.UTC), 30, 1000)])
    if day not in parsed:  # the non-existent spring-forward hour
        return
    cost = price_day(OFFERS["edf-tempo-6"], parsed[day], tempo=tempo)
    assert cost is not None
    local = start.astimezone(PARIS)
    expected = "tempo_red_hc" if local.hour < 6 else "tempo_blue_hc" if local.hour >= 22 else "tempo_blue_hp"
    assert list(cost.buckets) == [expected]


def test_a_bad_catalogue_file_names_the_file_and_the_field(tmp_path: Path) -> None:
    raw = json.loads((Path(__file__).parents[1] / "app/pricing/offers/edf_tarif_bleu.json").read_text())
    raw["offers"][2]["periods"][1]["subscription_eur_month"] = "abc"
    bad = tmp_path / "broken.json"
    bad.write_text(json.dumps(raw))
    with pytest.raises(
        CatalogueError, match=r"broken\.json offers\.2: field periods\.1\.subscription_eur_month"
    ):
        load_file(bad)
    del raw["offers"][0]["periods"][0]["prices_eur_kwh"]["base"]
    raw["offers"][2]["periods"][1]["subscription_eur_month"] = "1"
    bad.write_text(json.dumps(raw))
    with pytest.raises(
        CatalogueError, match=r"offers\.0: offer edf-base-3: field periods\.0\.prices_eur_kwh"
    ):
        load_file(bad)


# The EDF Tarif Bleu grids shipped (scripts/data/trve.csv): every power from the grid of 2024-02-01.
GRIDS = ("2024-02-01", "2024-11-01", "2025-02-01", "2025-08-01", "2026-02-01")
EXPECTED_EDF = {
    "base": dict.fromkeys((3, 6, 9, 12, 15, 18, 24, 30, 36), "2024-02-01"),
    "hc_hp": dict.fromkeys((6, 9, 12, 15, 18, 24, 30, 36), "2024-02-01"),
    "tempo": dict.fromkeys((6, 9, 12, 15, 18, 30, 36), "2024-02-01"),
}
# shared/integrations.md section 6, the project's given facts: (from, option, kVA) -> (EUR/month, prices)
TEMPO_2025_02 = {"blue_hc": "0.1288", "blue_hp": "0.1552", "white_hc": "0.1447", "white_hp": "0.1792"}
TEMPO_2025_08 = {"blue_hc": "0.1232", "blue_hp": "0.1494", "white_hc": "0.1391", "white_hp": "0.1730"}
TEMPO_2026_02 = {"blue_hc": "0.1325", "blue_hp": "0.1612", "white_hc": "0.1499", "white_hp": "0.1871"}
INTEGRATIONS_6 = {
    ("2025-02-01", "base", 6): ("13.72", {"base": "0.2016"}),
    ("2025-02-01", "base", 9): ("17.27", {"base": "0.2016"}),
    ("2025-02-01", "hc_hp", 6): ("14.04", {"hp": "0.2146", "hc": "0.1696"}),
    ("2025-02-01", "hc_hp", 9): ("18.01", {"hp": "0.2146", "hc": "0.1696"}),
    **{
        ("2025-02-01", "tempo", kva): (sub, {**TEMPO_2025_02, "red_hc": "0.1518", "red_hp": "0.6586"})
        for kva, sub in ((6, "13.97"), (9, "17.45"))
    },
    ("2025-08-01", "base", 6): ("15.47", {"base": "0.1952"}),
    ("2025-08-01", "base", 9): ("19.39", {"base": "0.1952"}),
    ("2025-08-01", "hc_hp", 6): ("15.74", {"hp": "0.2081", "hc": "0.1635"}),
    ("2025-08-01", "hc_hp", 9): ("19.81", {"hp": "0.2081", "hc": "0.1635"}),
    **{
        ("2025-08-01", "tempo", kva): (sub, {**TEMPO_2025_08, "red_hc": "0.1460", "red_hp": "0.6468"})
        for kva, sub in ((6, "15.50"), (9, "19.49"))
    },
    ("2026-02-01", "base", 6): ("15.65", {"base": "0.1940"}),
    ("2026-02-01", "base", 9): ("19.56", {"base": "0.1927"}),
    ("2026-02-01", "hc_hp", 6): ("15.65", {"hp": "0.2065", "hc": "0.1579"}),
    ("2026-02-01", "hc_hp", 9): ("19.56", {"hp": "0.2065", "hc": "0.1579"}),
    **{
        ("2026-02-01", "tempo", kva): (sub, {**TEMPO_2026_02, "red_hc": "0.1575", "red_hp": "0.7060"})
        for kva, sub in ((6, "15.59"), (9, "19.38"))
    },
}


def test_the_shipped_catalogue_covers_every_edf_option_power_and_grid_without_gaps() -> None:
    edf = {o.id for o in OFFERS.values() if o.provider == "EDF" and o.origin == "catalogue"}
    expected_ids = {f"edf-{option}-{kva}" for option, powers in EXPECTED_EDF.items() for kva in powers}
    assert edf == expected_ids
    for option, powers in EXPECTED_EDF.items():
        for kva, first in powers.items():
            offer = OFFERS[f"edf-{option}-{kva}"]
            starts = [p.valid_from.isoformat() for p in offer.periods]
            assert starts == [g for g in GRIDS if g >= first], offer.id
            for before, after in itertools.pairwise(offer.periods):
                assert before.valid_to == after.valid_from, offer.id
            assert offer.periods[-1].valid_to is None
            assert all(p.source and p.subscription_eur_month > 0 for p in offer.periods)


def test_the_integrations_md_figures_are_shipped_exactly() -> None:
    for (when, option, kva), (subscription, prices) in INTEGRATIONS_6.items():
        offer = OFFERS[f"edf-{option}-{kva}"]
        period = offer.period_on(dt.date.fromisoformat(when))
        assert period is not None and period.valid_from.isoformat() == when
        assert period.subscription_eur_month == Decimal(subscription), (when, option, kva)
        names = {k if option != "tempo" else f"tempo_{k}": Decimal(v) for k, v in prices.items()}
        assert dict(period.prices_eur_kwh) == names, (when, option, kva)


async def test_costs_from_synced_data_and_repricing_without_gateway_calls(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    clock = Clock()
    server, state = await start_simulator(aiohttp_server, clock)
    service = make_service(tmp_path, str(server.make_url("/")), clock)
    await service.start(schedule=False)
    try:
        await service.sync()
        assert service.store is not None
        source = StoreCostSource(service.store)
        pdl = "09222222222222"
        chosen = await source.chosen_offer(pdl)
        assert chosen is not None and (chosen.provider, chosen.option, chosen.power_kva) == (
            "EDF",
            "HC_HP",
            9,
        )
        first, last = dt.date(2026, 10, 1), dt.date(2026, 10, 31)
        rows = await source.daily(pdl, first, last)
        assert {r.bucket for r in rows} == {"hp", "hc"}
        assert all(r.offer_id == chosen.id for r in rows)
        hp_hc = sum((r.euros for r in rows), Decimal(0))
        assert hp_hc > 0
        calls = len(state.requests)
        base = next(o for o in await source.offers() if o.option == "BASE" and o.power_kva == 9)
        await service.store.set_setting(CHOSEN_KEY.format(pdl=pdl), base.id)
        rebased = await source.daily(pdl, first, last)
        assert {r.bucket for r in rebased} == {"base"}
        assert sum(r.wh for r in rebased) == sum(r.wh for r in rows)
        assert sum((r.euros for r in rebased), Decimal(0)) != hp_hc
        assert len(state.requests) == calls  # re-pricing made no gateway call
        assert (await source.subscription(pdl, first, last)).quantize(CENT) == Decimal("19.56")
        hourly = await source.hourly(
            pdl, dt.datetime(2026, 10, 5, tzinfo=dt.UTC), dt.datetime(2026, 10, 6, tzinfo=dt.UTC)
        )
        assert len({h.start for h in hourly}) == 24
    finally:
        await service.stop()


async def test_pricing_pages_and_api_on_synced_data(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    clock = Clock()
    server, state = await start_simulator(aiohttp_server, clock)
    service = make_service(tmp_path, str(server.make_url("/")), clock)
    await service.start(schedule=False)
    try:
        await service.sync()
        client = await aiohttp_client(create_app(service))
        calls = len(state.requests)
        for page, marker in (
            ("consumption_euro", "grand-total"),
            ("simulation", "simulation"),
            ("bilan", "bilan"),
            ("offers", "offer-choice"),
        ):
            response = await client.get(f"/{page}?pdl=09333333333333")
            assert response.status == 200, page
            html = await response.text()
            assert marker in html
            assert 'href="/' not in html and 'action="/' not in html  # relative URLs only (ingress)
        offers_page = await (await client.get("/offers?pdl=09333333333333")).text()
        assert "transcription douteuse" in offers_page  # LOW-CONFIDENCE figures of trve.csv are flagged
        sim = await (await client.get("/api/pricing/simulation?pdl=09222222222222")).json()
        assert (sim["power_kva"] == 9 and sim["next_power_kva"] is None) or sim["next_power_kva"] > 9
        totals_eur = [Decimal(r["total_eur"]) for r in sim["offers"]]
        assert totals_eur == sorted(totals_eur) and len(totals_eur) >= 4
        current = next(r for r in sim["offers"] if r["offer_id"] == sim["current_offer_id"])
        assert current["saving_eur"] == "0.00"
        assert all(len(r["months"]) >= 12 for r in sim["offers"])
        bilan = await (await client.get("/api/pricing/bilan?pdl=09333333333333")).json()
        assert bilan["has_production"]
        assert any(y["self_consumption_rate"] is not None for y in bilan["years"])
        english = await client.get("/simulation?lang=en")
        assert "Offer simulation" in await english.text()
        # choosing another offer re-prices from the store; a bad offer gets a clear 400, nothing lost
        bad = await client.post("/api/pricing/offers", json={"pdl": "09222222222222", "offer": "nope"})
        assert bad.status == 400 and "unknown offer" in (await bad.json())["error"]
        user_offer = {
            "id": "my-offer",
            "provider": "Me",
            "name": "Negotiated",
            "option": "BASE",
            "power_kva": 0,
            "periods": [
                {
                    "valid_from": "2024-01-01",
                    "valid_to": None,
                    "subscription_eur_month": "10",
                    "prices_eur_kwh": {"base": "0.1"},
                    "source": "my contract",
                }
            ],
        }
        bad_user = await client.post("/api/pricing/offers", json={"user_offer": user_offer})
        assert bad_user.status == 400 and "field power_kva" in (await bad_user.json())["error"]
        user_offer["power_kva"] = 9
        ok = await client.post(
            "/api/pricing/offers",
            json={"pdl": "09222222222222", "offer": "my-offer", "user_offer": user_offer},
        )
        assert ok.status == 200
        costs = await (
            await client.get("/api/pricing/consumption_euro?pdl=09222222222222&period=year")
        ).json()
        assert costs["offer"] == "my-offer"
        assert costs["sources"] == ["my contract"]
        assert Decimal(costs["total"]["energy_eur"]) == (Decimal(costs["total"]["wh"]) / 10000).quantize(CENT)
        assert len(state.requests) == calls
    finally:
        await service.stop()


@given(
    st.lists(
        st.tuples(
            st.integers(1_600_000_000, 1_900_000_000),  # 2020..2030: DST changes included
            st.sampled_from([10, 15, 30, 60]),
            st.one_of(st.none(), st.integers(0, 36_000)),
        ),
        max_size=60,
    ),
    st.booleans(),
)
def test_grouping_epoch_rows_by_paris_day_equals_the_datetime_grouping(
    rows: list[tuple[int, int, int | None]], near_dst: bool
) -> None:
    if near_dst:  # 10-minute slots from 25 October 2026 00:00 UTC: the autumn change at 01:00 UTC
        rows = [(1_792_886_400 + 600 * i, 10, w) for i, (_, _, w) in enumerate(rows)]
    as_datetimes = [(dt.datetime.fromtimestamp(e, dt.UTC), m, w) for e, m, w in rows]
    assert group_epochs_by_local_day(rows) == group_by_local_day(as_datetimes)


def _days(first: dt.date, last: dt.date, wh: int) -> dict[dt.date, int]:
    return {first + dt.timedelta(days=n): wh for n in range((last - first).days + 1)}


def test_bilan_compares_partial_years_on_the_same_days_only() -> None:
    from app.pricing.figures import bilan

    consumption = {
        **_days(dt.date(2023, 11, 28), dt.date(2023, 12, 31), 10_000),  # history starts late November
        **_days(dt.date(2024, 1, 1), dt.date(2024, 12, 31), 11_000),
        **_days(dt.date(2025, 1, 1), dt.date(2025, 11, 27), 9_900),  # the year in progress
    }
    years = {row["year"]: row for row in bilan(consumption, {}, {}, {})["years"]}
    assert years[2023]["change_vs_previous"] is None
    assert years[2024]["change_vs_previous"] == 10.0  # 28 Nov - 31 Dec 2024 against the same 2023 days
    assert years[2024]["days_compared"] == 34
    assert years[2025]["change_vs_previous"] == -10.0  # 1 Jan - 27 Nov, not against all of 2024
    months = {row["period"]: row for row in bilan(consumption, {}, {}, {}, period="month")["months"]}
    assert months["2024-11-01"]["change_vs_previous"] == 10.0
    assert months["2024-11-01"]["days_compared"] == 3


@given(
    st.dates(dt.date(2020, 1, 1), dt.date(2024, 6, 30)),
    st.integers(1, 500),
    st.integers(1, 400),
    st.integers(0, 50_000),
)
def test_bilan_change_is_zero_when_every_day_repeats(
    first: dt.date, length: int, shift: int, wh: int
) -> None:
    from app.pricing.figures import bilan

    consumption = _days(first, first + dt.timedelta(days=length + shift + 365), wh)
    for row in bilan(consumption, {}, {}, {})["years"]:
        assert row["change_vs_previous"] in (None, 0.0)


def test_bilan_self_consumption_rate_counts_only_days_with_both_curves() -> None:
    from app.pricing.figures import bilan

    production = _days(dt.date(2025, 1, 1), dt.date(2025, 12, 31), 8_000)
    self_consumed = {day: 2_000 for day in _days(dt.date(2025, 7, 1), dt.date(2025, 12, 31), 0)}
    (year,) = bilan({}, production, self_consumed, {})["years"]
    assert year["self_consumption_rate"] == 25.0  # 2 of the 8 kWh of each day with curves
    assert year["surplus_wh"] == 184 * 6_000
    assert year["production_without_curve_wh"] == 181 * 8_000  # January-June: daily values only
    assert year["self_consumed_wh"] + year["surplus_wh"] + year["production_without_curve_wh"] == sum(
        production.values()
    )
