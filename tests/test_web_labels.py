"""Words and numbers as a person reads them on the pages (app/web/labels.py): offer names instead of
ids, option names instead of codes, numbers and euros written the French or English way."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import PricingOption
from app.web import labels

AMOUNTS = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), allow_nan=False, places=4)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


@given(AMOUNTS)
def test_french_numbers_use_a_decimal_comma_and_thin_spaces_and_read_back_exactly(value: Decimal) -> None:
    written = labels.decimal(value, "fr")
    assert "." not in written and written.count(",") == 1
    whole = written.split(",")[0].lstrip("-")
    assert all(len(group) == 3 for group in whole.split("\u202f")[1:])
    assert Decimal(written.replace("\u202f", "").replace(",", ".")) == _cents(value)


@given(AMOUNTS)
def test_english_numbers_use_a_decimal_point_and_read_back_exactly(value: Decimal) -> None:
    written = labels.decimal(value, "en")
    assert written.count(".") == 1 and len(written.split(".")[1]) == 2
    assert Decimal(written.replace(",", "")) == _cents(value)


@given(AMOUNTS)
def test_money_has_two_decimals_and_the_euro_sign_where_each_language_puts_it(value: Decimal) -> None:
    french, english = labels.money(value, "fr"), labels.money(value, "en")
    assert french.endswith("\u00a0€") and french[:-2] == labels.decimal(value, "fr")
    assert english.lstrip("-").startswith("€")
    assert english.replace("€", "") == labels.decimal(value, "en")


@pytest.mark.parametrize("bad", [None, "", "abc", "NaN", "Infinity"])
def test_missing_or_unreadable_numbers_are_a_dash(bad: object) -> None:
    assert labels.decimal(bad, "fr") == "—" and labels.money(bad, "en") == "—"


def test_engine_strings_and_watt_hours() -> None:
    assert labels.money("1234.5", "fr") == "1\u202f234,50\u00a0€"
    assert labels.money("-3.84", "en") == "-€3.84"
    assert labels.kwh(6_369_700, "fr") == "6\u202f369,7"
    assert labels.kwh(6_369_700, "en") == "6,369.7"
    assert labels.percent(39.6, "fr") == "39,6\u00a0%"
    assert labels.percent(-2.4, "en") == "-2.4%"
    assert labels.percent(None, "fr") == "—"


def test_offers_are_named_by_provider_name_and_power_never_by_id() -> None:
    gateway = {"provider": "EDF", "name": "Tarif Bleu - Base 6 kVA", "power_kva": 6, "id": "edf-tarif-bleu"}
    catalogue = {"provider": "Example supplier", "name": "Fixed price 2 years", "power_kva": 9}
    assert labels.offer_label(gateway, "fr") == "EDF — Tarif Bleu - Base 6 kVA"
    assert labels.offer_label(catalogue, "en") == "Example supplier — Fixed price 2 years · 9\u00a0kVA"
    assert labels.offer_label(None, "fr") == "—"


def test_pricing_options_and_buckets_have_names_in_both_languages() -> None:
    for lang in ("fr", "en"):
        for option in [*PricingOption, "SEASONAL"]:
            label = labels.option_label(str(option), lang)
            assert label and "_" not in label, (lang, option, label)
        assert labels.option_label("SOMETHING_NEW", lang) == "SOMETHING_NEW"  # shown, not hidden
    assert labels.option_label("HC_HP", "fr") == "Heures pleines / Heures creuses"
    assert labels.bucket_label("tempo_blue_hc", "fr") == "Tempo bleu HC"
    assert labels.bucket_label("hp", "en") == "Peak hours"
    assert labels.bucket_label("mystery", "en") == "mystery"
    row = {"tempo_red_hp": 1, "tempo_blue_hp": 2, "zz": 3, "tempo_white_hc": 4, "tempo_blue_hc": 5}
    assert [name for name, _ in labels.ordered_buckets(row)] == [
        "tempo_blue_hc",
        "tempo_blue_hp",
        "tempo_white_hc",
        "tempo_red_hp",
        "zz",
    ]


def test_periods_and_days_are_written_as_words() -> None:
    assert labels.period_label("2026-11-01", "month", "fr") == "nov. 2026"
    assert labels.period_label("2026-11-28", "day", "en") == "28/11"
    assert labels.period_label("2026-01-01", "year", "en") == "2026"
    assert labels.month_label("2026-02", "en") == "Feb 2026"
    assert labels.day_label("2026-11-28", "fr") == "28/11/2026"
    assert labels.point_label("Maison Base", "09111111111111") == "Maison Base · 09111111111111"
    assert labels.point_label("", "09111111111111") == "09111111111111"
