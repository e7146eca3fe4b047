"""The JSON API behind the charts, its CSV downloads, the OpenAPI document, the page registry and the
pages' HTML (both languages, relative URLs only, the notice when the chart assets are not built)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import given
from hypothesis import strategies as st

from app import timeline
from app.costing import StoreCostSource
from app.domain import DateRange, Direction, IntervalReading, OffpeakRange, UsagePoint
from app.pricing.engine import group_totals, totals
from app.service import Service
from app.settings import Settings
from app.tariff_rules import is_offpeak_minute, offpeak_windows_seconds
from app.web import pages
from app.web.api import api_paths
from app.web.app import create_app
from app.web.charts import VIEWS, Period, bucket_keys, bucket_of, curve_chart
from tests.support import AiohttpServer, synced_service

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]
HPHC, BASE, TEMPO = "09222222222222", "09111111111111", "09333333333333"
CENT = Decimal("0.01")
ABSOLUTE_URL = re.compile(r'(?:href|src|action)="/(?!/)')


async def test_chart_api_matches_the_store_and_downloads_as_csv(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    assert service.store is not None
    app = create_app(service)
    client = await aiohttp_client(app)

    energy = await (await client.get(f"/api/energy?pdl={HPHC}&view=month&end=2026-11-27")).json()
    assert len(energy["labels"]) == 24 and energy["labels"][-1] == "nov. 2026"
    stored = await service.store.daily(
        HPHC, Direction.CONSUMPTION, dt.date(2024, 12, 1), dt.date(2026, 11, 27)
    )
    assert energy["total"] == pytest.approx(sum(d.wh for d in stored) / 1000, abs=0.01)
    english = await (await client.get(f"/api/energy?pdl={HPHC}&view=month&lang=en")).json()
    assert english["labels"][-1] == "Nov 2026" and english["series"][0]["label"] == "Consumption"

    # Peak + off-peak = the load curve's energy over the same days.
    split = await (await client.get(f"/api/split?pdl={HPHC}&view=day&end=2026-11-27")).json()
    curve = await (await client.get(f"/api/curve?pdl={HPHC}&first=2026-10-28&last=2026-11-27")).json()
    peak, offpeak = (sum(v or 0 for v in s["values"]) for s in split["series"])
    assert peak + offpeak == pytest.approx(curve["total"], abs=0.05)
    assert 0.2 < split["offpeak_share"] < 0.8

    # One year of half-hours on a regular UTC grid (the DST days included).
    year = await (await client.get(f"/api/curve?pdl={HPHC}&first=2025-11-28&last=2026-11-27")).json()
    assert year["step"] == 1800 and len(year["series"][0]["values"]) == 365 * 48
    assert year["start"] == int(dt.datetime(2025, 11, 27, 23, 0, tzinfo=dt.UTC).timestamp())

    answer = await client.get(f"/api/energy?pdl={HPHC}&view=day&end=2026-11-27&format=csv")
    assert answer.content_type == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    lines = (await answer.text()).splitlines()
    assert lines[0] == "period;Consommation (kWh)" and len(lines) == 32
    assert lines[-1].startswith("2026-11-27;")

    max_power = await (await client.get(f"/api/max_power?pdl={HPHC}&view=week")).json()
    assert max_power["series"][1]["values"][0] == 9  # subscribed kVA
    compare = await (await client.get(f"/api/compare?pdl={TEMPO}&direction=production")).json()
    assert [s["label"] for s in compare["series"]] == ["2025", "2026"]
    tempo = await (await client.get("/api/tempo")).json()
    assert tempo["season"]["first"] == "2026-09-01"
    assert set(tempo["remaining"]) == {"BLUE", "WHITE", "RED"}
    assert all(0 <= left <= 301 for left in tempo["remaining"].values())
    ecowatt = await (await client.get("/api/ecowatt")).json()
    assert len(ecowatt["t"]) == sum(1 for _ in ecowatt["t"]) > 0

    # Bad input: a 400 naming the parameter, a 404 for an unknown usage point; the server stays up.
    for url, parameter in [
        (f"/api/energy?pdl={HPHC}&view=decade", "view"),
        (f"/api/energy?pdl={HPHC}&end=28/11/2026", "end"),
        (f"/api/curve?pdl={HPHC}&first=2026-11-27&last=2026-11-01", "first"),
        (f"/api/curve?pdl={HPHC}&first=2024-01-01&last=2026-11-01", "first"),
        (f"/api/split?pdl={BASE}", "pdl"),
        ("/api/energy", "pdl"),
    ]:
        bad = await client.get(url)
        assert bad.status == 400, url
        body = await bad.json()
        assert body["parameter"] == parameter and body["message"]
    missing = await client.get("/api/energy?pdl=01234567890123")
    assert missing.status == 404 and "01234567890123" in (await missing.json())["message"]

    # Every /api route is in the OpenAPI document.
    document = await (await client.get("/api/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    assert set(api_paths(app)) <= set(document["paths"])

    # Pages with data: every one in French and English, relative URLs only, a selector of 3 points.
    for page in pages.all_pages(app):
        for lang, label in (("fr", "Tableau de bord"), ("en", "Dashboard")):
            answer = await client.get(page.route, params={"lang": lang, "pdl": HPHC})
            assert answer.status == 200, page.route
            body = await answer.text()
            assert f'<html lang="{lang}">' in body and label in body
            assert not ABSOLUTE_URL.search(body), f"{page.route}: {ABSOLUTE_URL.search(body)}"
    html = await (await client.get("/consumption_kwh", params={"pdl": HPHC, "view": "week"})).text()
    assert html.count("<option ") == 3 and f'value="{HPHC}" selected' in html
    assert "api/split?" in html and "api/max_power?pdl=09222222222222&amp;lang=fr&amp;view=week" in html
    bad_page = await client.get("/consumption_kwh", params={"end": "yesterday", "view": "decade"})
    assert bad_page.status == 200 and "end=yesterday" in await bad_page.text()
    await service.stop()


async def test_nav_lists_other_modules_pages_once_routed_and_empty_store_pages(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    service = Service(Settings(data_dir=tmp_path / "data"))
    await service.start(schedule=False)
    app = create_app(service)
    routed = {route.resource.canonical for route in app.router.routes() if route.resource is not None}
    listed = [p.route for p in pages.all_pages(app)]
    # Other modules' pages (euro, bilan, simulation, exporters) are listed exactly when routed.
    for known in pages.KNOWN_PAGES:
        assert (known.route in listed) == (known.route in routed), known.route
    assert listed[0] == "/" and {"/consumption_kwh", "/production", "/ecowatt", "/tempo"} <= set(listed)
    assert "/bilan" in listed
    routes = [route for route in listed if route != "/exporters"]
    client = await aiohttp_client(app)
    dashboard = await (await client.get("/", headers={"Accept-Language": "en-US,en;q=0.8"})).text()
    assert 'href="./bilan?lang=en">Balance</a>' in dashboard
    for route in routes[1:]:
        answer = await client.get(route)
        assert answer.status == 200
    empty = await (await client.get("/consumption_kwh")).text()
    assert "Aucun point de livraison" in empty
    await service.stop()


async def test_pages_say_how_to_build_missing_chart_assets(
    aiohttp_client: AiohttpClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "DIST", tmp_path / "not-built")
    service = Service(Settings(data_dir=tmp_path / "data"))
    await service.start(schedule=False)
    client = await aiohttp_client(create_app(service))
    body = await (await client.get("/ecowatt")).text()
    assert 'id="assets-missing"' in body and "npm run build --prefix frontend" in body
    assert "static/dist/charts.js" not in body
    await service.stop()


def _minutes(ranges: list[OffpeakRange]) -> set[int]:
    inside: set[int] = set()
    for r in ranges:
        minute = r.start.hour * 60 + r.start.minute
        end = r.end.hour * 60 + r.end.minute
        while True:
            inside.add(minute)
            minute = (minute + 1) % 1440
            if minute == end:
                break
    return inside


times = st.integers(0, 47).map(lambda half: dt.time(half // 2, 30 * (half % 2)))


@given(st.lists(st.tuples(times, times).filter(lambda p: p[0] != p[1]), max_size=3), st.integers(0, 1439))
def test_offpeak_classification_matches_the_windows(
    pairs: list[tuple[dt.time, dt.time]], minute: int
) -> None:
    ranges = [OffpeakRange(a, b) for a, b in pairs]
    assert is_offpeak_minute(minute, tuple(ranges)) == (minute in _minutes(ranges))


@given(st.sampled_from(VIEWS), st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)))
def test_period_buckets_cover_every_day_once(view: Any, end: dt.date) -> None:
    period = Period.of(view, end)
    keys = bucket_keys(period)
    assert keys == sorted(set(keys)) and period.first <= end
    assert bucket_of(view, period.first) == keys[0] and bucket_of(view, end) == keys[-1]
    day = period.first
    while day <= end:
        assert bucket_of(view, day) in keys and bucket_of(view, day) <= day
        day += dt.timedelta(days=1)
    assert period.shifted(-1) < end


async def test_offpeak_split_in_sql_matches_paris_wall_clock_across_dst(store: Any) -> None:
    """The SQL classification (every database) equals a slot-by-slot Paris wall-clock reference,
    including the spring and autumn DST days."""
    pdl = "09444444444444"
    await store.save_usage_points([UsagePoint(pdl)])
    first, last = dt.date(2026, 3, 28), dt.date(2026, 3, 30)
    autumn = dt.date(2026, 10, 25)
    readings: list[IntervalReading] = []
    spans = [(first, last), (autumn, autumn)]
    for span_first, span_last in spans:
        instant = timeline.day_start_utc(span_first)
        stop = timeline.day_start_utc(span_last + dt.timedelta(days=1))
        while instant < stop:
            watts = 100 + (int(instant.timestamp()) // 1800) % 97 * 10
            readings.append(IntervalReading(pdl, Direction.CONSUMPTION, instant, 30, watts))
            instant += dt.timedelta(minutes=30)
        await store.save_curve(pdl, Direction.CONSUMPTION, readings, [DateRange(span_first, span_last)])
    ranges = [OffpeakRange(dt.time(22, 30), dt.time(6, 30)), OffpeakRange(dt.time(12, 0), dt.time(14, 0))]
    expected: dict[dt.date, list[float]] = {}
    for reading in readings:
        local = timeline.to_paris(reading.start)
        inside = is_offpeak_minute(local.hour * 60 + local.minute, tuple(ranges))
        expected.setdefault(local.date(), [0.0, 0.0])[1 if inside else 0] += reading.energy_wh or 0.0
    got = await store.offpeak_energy(
        pdl, Direction.CONSUMPTION, offpeak_windows_seconds(ranges), first, autumn
    )
    assert {day: (pytest.approx(a), pytest.approx(b)) for day, (a, b) in expected.items()} == got
    assert len(got) == 4
    # The compact curve: a complete grid, and a grid with a long gap (nulls where nothing was read).
    full = await curve_chart(store, pdl, Direction.CONSUMPTION, first, last, "fr")
    assert len(full["series"][0]["values"]) == 3 * 48 - 2  # the spring DST day has 46 half-hours
    gapped = await curve_chart(store, pdl, Direction.CONSUMPTION, first, autumn, "en")
    values = gapped["series"][0]["values"]
    assert len(values) == (
        timeline.day_start_utc(autumn + dt.timedelta(days=1)) - timeline.day_start_utc(first)
    ) // (dt.timedelta(minutes=30))
    assert sum(v is not None for v in values) == len(readings)
    assert values[-1] == readings[-1].average_w and values[0] == readings[0].average_w
    assert gapped["total"] == pytest.approx(sum(r.energy_wh or 0 for r in readings) / 1000, abs=0.001)


async def test_cost_page_charts_show_the_pricing_engines_figures(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    assert service.store is not None
    client = await aiohttp_client(create_app(service))
    today = dt.date(2026, 11, 28)

    # /consumption_euro: one month's stacked buckets and subscription are the engine's, to the cent.
    chart = await (await client.get(f"/api/cost?pdl={HPHC}&period=month")).json()
    source = StoreCostSource(service.store)
    costs = await source.day_costs(HPHC, today - dt.timedelta(days=366), today)
    october = group_totals(costs, "month")[dt.date(2026, 10, 1)]
    month = chart["keys"].index("2026-10-01")
    parts = {s["label"]: s["values"][month] for s in chart["series"]}
    assert parts == {
        "Heures creuses": float(october.buckets["hc"][1].quantize(CENT)),
        "Heures pleines": float(october.buckets["hp"][1].quantize(CENT)),
        "Abonnement": float(october.subscription_eur.quantize(CENT)),
    }
    assert [s.get("stack") for s in chart["series"]] == ["energy", "energy", None]
    assert chart["unit"] == "€" and chart["total"] == float(totals(costs).total_eur.quantize(CENT))
    assert sum(parts.values()) == pytest.approx(float(october.total_eur), abs=0.02)
    # ... and the page's table shows that month's total under the chart.
    page = await (await client.get(f"/consumption_euro?pdl={HPHC}&period=month")).text()
    # (written the French way: decimal comma)
    assert f'class="row-total">{str(october.total_eur.quantize(CENT)).replace(".", ",")}</td>' in page
    assert 'data-src="api/cost?pdl=09222222222222&amp;lang=fr&amp;period=month"' in page
    tempo = await (await client.get(f"/api/cost?pdl={TEMPO}&period=year&lang=en")).json()
    assert {"Tempo blue peak", "Tempo red off-peak", "Subscription"} <= {s["label"] for s in tempo["series"]}
    assert tempo["labels"][-1] == "2026"
    days = await (await client.get(f"/api/cost?pdl={HPHC}&period=day")).json()
    csv = (await (await client.get(f"/api/cost?pdl={HPHC}&period=day&format=csv")).text()).splitlines()
    assert csv[0] == "period;Heures creuses (€);Heures pleines (€);Abonnement (€)"
    assert len(csv) == len(days["keys"]) + 1 and days["keys"][-1] == "2026-11-27"

    # /simulation: every offer's 12-month cost, cheapest first, and the current offer month by month.
    sim = await (await client.get(f"/api/pricing/simulation?pdl={HPHC}")).json()
    ranking = await (await client.get(f"/api/simulation/ranking?pdl={HPHC}")).json()
    others, mine = (s["values"] for s in ranking["series"])
    shown = [a if a is not None else b for a, b in zip(others, mine, strict=True)]
    assert shown == [float(r["total_eur"]) for r in sim["offers"]] and shown == sorted(shown)
    current = next(i for i, r in enumerate(sim["offers"]) if r["offer_id"] == sim["current_offer_id"])
    assert [i for i, v in enumerate(mine) if v is not None] == [current]
    months = await (await client.get(f"/api/simulation/months?pdl={HPHC}")).json()
    assert len(months["keys"]) == 13 and months["keys"][-1] == "2026-11-01"
    first_series = months["series"][0]["values"]
    assert first_series == [
        float(v) if (v := sim["offers"][current]["months"].get(k[:7])) else None for k in months["keys"]
    ]
    assert months["total"] == float(sim["offers"][current]["total_eur"])
    if current != 0:
        assert months["series"][1]["values"][-2] == float(sim["offers"][0]["months"]["2026-10"])

    # /bilan: consumption, self-consumed + surplus = production, shares, year over year.
    bilan = await (await client.get(f"/api/pricing/bilan?pdl={TEMPO}")).json()
    energy = await (await client.get(f"/api/bilan/energy?pdl={TEMPO}&view=year")).json()
    cons, own, surplus, without_curve = (s["values"] for s in energy["series"])
    assert cons == [y["consumption_wh"] / 1000 for y in bilan["years"]]
    assert [round(a + b + c, 3) for a, b, c in zip(own, surplus, without_curve, strict=True)] == [
        y["production_wh"] / 1000 for y in bilan["years"]
    ]
    assert without_curve[0] > 0 and without_curve[-1] == 0  # the load curve covers the last 2 years only
    monthly = await (await client.get(f"/api/bilan/energy?pdl={TEMPO}&view=month")).json()
    assert len(monthly["keys"]) == len(bilan["months"]) > 24
    shares = await (await client.get(f"/api/bilan/shares?pdl={HPHC}&view=year")).json()
    hphc = await (await client.get(f"/api/pricing/bilan?pdl={HPHC}")).json()
    assert shares["unit"] == "%" and shares["series"][0]["values"] == [y["hc_share"] for y in hphc["years"]]
    years = await (await client.get(f"/api/bilan/years?pdl={HPHC}")).json()
    latest = hphc["years"][-1]
    assert years["series"][-1]["label"] == str(latest["year"])
    assert sum(v or 0 for v in years["series"][-1]["values"]) == pytest.approx(
        latest["consumption_wh"] / 1000, abs=0.01
    )

    # Bad input is named; another chosen offer changes what the cost chart shows.
    for url, parameter in [
        (f"/api/cost?pdl={HPHC}&period=week", "period"),
        (f"/api/bilan/energy?pdl={HPHC}&view=day", "view"),
        ("/api/simulation/ranking", "pdl"),
    ]:
        bad = await client.get(url)
        assert bad.status == 400 and (await bad.json())["parameter"] == parameter, url
    assert (await client.get("/api/bilan/years?pdl=01234567890123")).status == 404
    other = sim["offers"][-1]["offer_id"] if current == 0 else sim["offers"][0]["offer_id"]
    saved = await client.post("/api/pricing/offers", json={"pdl": HPHC, "offer": other})
    assert saved.status == 200
    repriced = await (await client.get(f"/api/cost?pdl={HPHC}&period=month")).json()
    assert repriced["total"] != chart["total"]
    await service.stop()


async def test_the_users_offpeak_hours_drive_every_peak_offpeak_split(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    from app.exporters.homeassistant.hourly import classifier_for

    service = await synced_service(aiohttp_server, tmp_path)
    assert service.store is not None
    client = await aiohttp_client(create_app(service))
    split_url = f"/api/split?pdl={HPHC}&view=month&end=2026-11-27"
    before = await (await client.get(split_url)).json()

    saved = await client.post(
        "/api/pricing/offers", json={"pdl": HPHC, "offpeak": "11:00-13:00, 02:00-08:00"}
    )
    assert saved.status == 200

    points = {p["usage_point_id"]: p for p in await (await client.get("/api/usage_points")).json()}
    assert points[HPHC]["offpeak_hours"] == ["11:00-13:00", "02:00-08:00"]
    after = await (await client.get(split_url)).json()
    assert after["total"] == pytest.approx(before["total"], abs=0.01)
    assert after["offpeak_share"] != before["offpeak_share"]
    classifier = await classifier_for(service.store, HPHC, dt.date(2026, 11, 1), dt.date(2026, 11, 27))
    noon = timeline.day_start_utc(dt.date(2026, 11, 20)) + dt.timedelta(hours=12)  # 12:00 Paris
    assert classifier(noon) == "hc"  # the Home Assistant statistics buckets follow the same hours
    page = await (await client.get(f"/consumption_kwh?pdl={HPHC}")).text()
    assert "11:00-13:00" in page
