"""The shipped EDF Tarif Bleu catalogue is generated from scripts/data/trve.csv and bills to the cent."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from app.domain import Offer, PricingOption, TempoColor
from app.pricing.catalogue import from_gateway, load_shipped, merge
from app.pricing.engine import PARIS, group_by_local_day, price_day, totals

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "scripts" / "data" / "trve.csv"
SHARED_CSV = ROOT.parent / "shared" / "tariffs" / "trve.csv"
OFFERS = {o.id: o for o in load_shipped()}
CENT = Decimal("0.01")
OPTION_IDS = {"BASE": "base", "HPHC": "hc_hp", "TEMPO": "tempo"}


def _rows() -> list[dict[str, str]]:
    with CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_csv_row_is_in_the_catalogue_with_its_source() -> None:
    rows = _rows()
    assert len(rows) == 335
    for row in rows:
        offer = OFFERS[f"edf-{OPTION_IDS[row['option']]}-{row['power_kva']}"]
        start = dt.date.fromisoformat(row["valid_from"])
        period = offer.period_on(start)
        assert period is not None and period.valid_from == start, row
        if row["valid_to"]:
            assert period.valid_to == dt.date.fromisoformat(row["valid_to"]) + dt.timedelta(days=1), row
        else:
            assert period.valid_to is None, row
        assert period.subscription_eur_month == Decimal(row["subscription_eur_month_ttc"]), row
        bucket = row["bucket"].lower()
        bucket = f"tempo_{bucket}" if row["option"] == "TEMPO" else bucket
        assert period.prices_eur_kwh[bucket] == Decimal(row["price_eur_kwh_ttc"]), row
        assert row["source"] in period.source, row
        if "LOW-CONFIDENCE" in row["source"]:
            assert period.low_confidence, row


def test_periods_are_the_published_grids_with_an_open_last_one() -> None:
    grids = ["2024-02-01", "2024-11-01", "2025-02-01", "2025-08-01", "2026-02-01"]
    edf = [o for o in OFFERS.values() if o.provider == "EDF" and o.origin == "catalogue"]
    assert len(edf) == 9 + 8 + 7  # Base 3-36, HP/HC 6-36, Tempo 6-36 without 24
    for offer in edf:
        assert [p.valid_from.isoformat() for p in offer.periods] == grids, offer.id
        assert offer.periods[-1].valid_to is None
    assert not any(p.valid_from == dt.date(2024, 8, 1) for o in edf for p in o.periods)
    flagged = sorted(o.id for o in edf for p in o.periods if p.low_confidence)
    assert flagged == ["edf-base-15", "edf-base-36", "edf-hc_hp-30", "edf-hc_hp-9", "edf-tempo-15"]
    new_grid = dt.date(2026, 2, 1)
    base_kwh = {kva: OFFERS[f"edf-base-{kva}"].periods[-1].prices_eur_kwh["base"] for kva in (3, 6, 9, 36)}
    assert all(OFFERS[f"edf-base-{kva}"].periods[-1].valid_from == new_grid for kva in base_kwh)
    assert base_kwh == {
        3: Decimal("0.1940"),
        6: Decimal("0.1940"),
        9: Decimal("0.1927"),
        36: Decimal("0.1927"),
    }


@pytest.mark.skipif(not SHARED_CSV.exists(), reason="no ../shared/tariffs next to the repository")
def test_the_repository_copy_is_the_shared_figures() -> None:
    assert CSV.read_bytes() == SHARED_CSV.read_bytes()


def test_the_catalogue_json_is_what_the_csv_produces() -> None:
    from scripts.edf_tarif_bleu import OUT, render

    assert OUT.read_text(encoding="utf-8") == render(), "run: python -m scripts.edf_tarif_bleu"


def _hours(day: dt.date, kwh_by_local_hour: dict[int, int]) -> list[tuple[dt.datetime, int, int | None]]:
    out: list[tuple[dt.datetime, int, int | None]] = []
    for hour, kwh in kwh_by_local_hour.items():
        start = dt.datetime.combine(day, dt.time(hour), PARIS).astimezone(dt.UTC)
        out.append((start, 60, kwh * 1000))
    return out


def test_hand_computed_2025_tempo_9_kva_bill() -> None:
    # Every day of 2025: 1 kWh 04:00-05:00 (off-peak at the previous day's colour), 2 kWh 12:00-13:00 (peak),
    # 1 kWh 23:00-24:00 (off-peak). Red 6..27 Jan (22 days), white 3 Feb..17 Mar (43 days), blue otherwise.
    # Jan (grid 2024-11-01, 16.25/month): red HC 44 x .1568 = 6.8992, red HP 44 x .7562 = 33.2728,
    #   blue HC 18 x .1296 = 2.3328 (nights 1-6, 29-31 Jan, evenings), HP 18 x .1609 = 2.8962 -> 45.4010
    # Feb-Jul (grid 2025-02-01, 17.45/month): white HP 86 x .1792 = 15.4112, white HC 86 x .1447 = 12.4442,
    #   blue HP 276 x .1552 = 42.8352, blue HC 276 x .1288 = 35.5488 -> 106.2394
    # Aug-Dec (grid 2025-08-01, 19.49/month): blue HP 306 x .1494 = 45.7164, HC 306 x .1232 = 37.6992
    #   -> 83.4156. energy 235.0560; subscription 16.25 + 6 x 17.45 + 5 x 19.49 = 218.40; bill 453.46
    tempo: dict[dt.date, TempoColor] = {}
    for i in range(22):
        tempo[dt.date(2025, 1, 6) + dt.timedelta(days=i)] = TempoColor.RED
    for i in range(43):
        tempo[dt.date(2025, 2, 3) + dt.timedelta(days=i)] = TempoColor.WHITE
    readings = []
    for i in range(365):
        readings += _hours(dt.date(2025, 1, 1) + dt.timedelta(days=i), {4: 1, 12: 2, 23: 1})
    days = group_by_local_day(readings)
    costs = [c for d in days.values() if (c := price_day(OFFERS["edf-tempo-9"], d, tempo=tempo)) is not None]
    bill = totals(costs)
    assert bill.days == 365 and bill.wh == 365 * 4000
    assert bill.energy_eur == Decimal("235.0560")
    assert bill.buckets["tempo_red_hp"] == (44_000, Decimal("33.2728"))
    assert bill.buckets["tempo_white_hc"] == (86_000, Decimal("12.4442"))
    assert bill.subscription_eur.quantize(CENT) == Decimal("218.40")
    assert bill.total_eur.quantize(CENT) == Decimal("453.46")


def test_hand_computed_2024_base_12_kva_bill() -> None:
    # The catalogue starts with the grid of 1 February 2024: the 2024 bill runs from 1 Feb to 31 Dec.
    # 10 kWh a day (12:00-13:00) Feb-Oct, 20 kWh a day Nov-Dec, 0.2516 EUR/kWh in both grids:
    # 274 x 10 x .2516 = 689.3840 + 61 x 20 x .2516 = 306.9520 -> energy 996.3360
    # subscription 9 x 19.04 (grid 2024-02-01) + 2 x 19.16 (grid 2024-11-01) = 209.68; bill 1206.02
    readings = []
    day = dt.date(2024, 1, 1)
    while day.year == 2024:
        readings += _hours(day, {12: 20 if day.month >= 11 else 10})
        day += dt.timedelta(days=1)
    days = group_by_local_day(readings)
    costs = [c for d in days.values() if (c := price_day(OFFERS["edf-base-12"], d)) is not None]
    bill = totals(costs)
    assert bill.days == 335  # January 2024 has no grid in the catalogue: not priced
    assert bill.energy_eur == Decimal("996.3360")
    assert bill.subscription_eur.quantize(CENT) == Decimal("209.68")
    assert bill.total_eur.quantize(CENT) == Decimal("1206.02")


def test_gateway_offers_still_win_over_the_catalogue() -> None:
    gateway = from_gateway(
        [
            Offer(
                provider="EDF",
                name="Tarif Bleu",
                option=PricingOption.BASE,
                power_kva=6,
                valid_from=dt.date(2026, 2, 1),
                valid_to=None,
                subscription_eur_month=Decimal("16.00"),
                prices_eur_kwh=(("BASE", Decimal("0.2000")),),
                source="gateway",
            )
        ]
    )
    merged = merge(OFFERS.values(), gateway, [])
    base6 = [o for o in merged if (o.provider, o.option, o.power_kva) == ("EDF", "BASE", 6)]
    assert [o.origin for o in base6] == ["gateway"]
    assert base6[0].period_on(dt.date(2026, 3, 1)).prices_eur_kwh["base"] == Decimal("0.2000")  # type: ignore[union-attr]
