"""Parsing of gateway answers: every documented variant, precise errors, and round-trip properties."""

from __future__ import annotations

import datetime as dt
import gc
import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import timeline
from app.domain import (
    DailyEnergy,
    Direction,
    IntervalReading,
    OffpeakRange,
    PricingOption,
    TempoColor,
)
from app.gateway import parsing
from app.gateway.errors import (
    AccessDeniedError,
    DateTooOldError,
    EnedisError,
    EnedisUnavailableError,
    GatewayError,
    GatewayUnavailableError,
    LoadCurveDisabledError,
    MalformedResponseError,
    NoConsentError,
    NoDataError,
    NoProductionError,
    NotActivatedError,
    RateLimitError,
    RequestValidationError,
)

PDL = "01234567890123"
C = Direction.CONSUMPTION
SPRING = dt.date(2024, 3, 31)  # 46 half-hours
FALL = dt.date(2024, 10, 27)  # 50 half-hours
UTC = dt.UTC


def envelope(data: object = None, *, success: bool = True, code: str | None = None, message: str = "") -> Any:
    error = None if code is None else {"code": code, "message": message, "field": None}
    return {"success": success, "data": data, "error": error, "timestamp": "2024-11-20T12:00:00"}


def meter(readings: Sequence[object], **reading_type: str) -> dict[str, Any]:
    return {"meter_reading": {"interval_reading": readings, "reading_type": reading_type}}


def day_stamps(day: dt.date, minutes: int = 30) -> list[tuple[dt.datetime, dt.datetime]]:
    """(UTC start, naive Paris start) of every slot of a Paris day, in UTC order."""
    start, end = timeline.day_bounds_utc(day)
    step = dt.timedelta(minutes=minutes)
    slots = []
    instant = start
    while instant < end:
        slots.append((instant, timeline.utc_to_paris_naive(instant)))
        instant += step
    return slots


def render_day(
    day: dt.date, values: Sequence[int | None], *, minutes: int = 30, order: str = "utc", at_end: bool = False
) -> list[dict[str, Any]]:
    """The readings the gateway would send for one day: start stamps (v2) or end stamps (v1), either in
    UTC order (02:00, 02:30, 02:00, 02:30) or sorted-batch order (02:00, 02:00, 02:30, 02:30)."""
    step = dt.timedelta(minutes=minutes)
    slots = day_stamps(day, minutes)
    rows: list[dict[str, Any]] = []
    for (instant, naive), value in zip(slots, values, strict=True):
        stamp = timeline.utc_to_paris_naive(instant + step) if at_end else naive
        rows.append(
            {
                "value": None if value is None else str(value),
                "date": stamp.isoformat(" "),
                "interval_length": f"PT{minutes}M",
                "measure_type": "B",
            }
        )
    if order == "sorted":
        rows.sort(key=lambda row: row["date"])  # stable: summer-time stamps first
    return rows


# --------------------------------------------------------------------------------------------------
# envelope


def test_envelope_success_returns_data() -> None:
    assert parsing.parse_envelope(envelope([1, 2])) == [1, 2]
    unwrapped = parsing.unwrap_envelope(envelope({"a": 1}))
    assert unwrapped.data == {"a": 1}
    assert unwrapped.partial is None


@pytest.mark.parametrize(
    ("code", "message", "expected", "enedis_code"),
    [
        ("ACCESS_DENIED", "Access denied: PDL not found or not owned by user", AccessDeniedError, None),
        ("ENEDIS_ERROR", "ADAM-DC-0008: No consent can be found", NoConsentError, "ADAM-DC-0008"),
        (
            "ENEDIS_ERROR",
            "STM-ERR-0000014: no_data_found - disabled",
            LoadCurveDisabledError,
            "STM-ERR-0000014",
        ),
        ("ENEDIS_ERROR", "no_data_found", LoadCurveDisabledError, "no_data_found"),
        ("ENEDIS_ERROR", "ADAM-ERR0069: no production contract", NoProductionError, "ADAM-ERR0069"),
        ("ENEDIS_ERROR", "ADAM-ERR0123: before activation", NotActivatedError, "ADAM-ERR0123"),
        ("ENEDIS_ERROR", "SGT500: something else", EnedisError, "SGT500"),
        ("ENEDIS_UNAVAILABLE", "Enedis API is temporarily unavailable", EnedisUnavailableError, None),
        ("NO_DATA", "No data", NoDataError, None),
        ("DATE_TOO_OLD", "Start date is too old", DateTooOldError, None),
        ("INVALID_DATE_RANGE", "Start date must be before end date", RequestValidationError, None),
        ("INVALID_DATE_FORMAT", "bad date", RequestValidationError, None),
        ("ADAM-ERR0123", "The requested period cannot be anterior", NotActivatedError, "ADAM-ERR0123"),
        ("INTERNAL_ERROR", "An unexpected error occurred", GatewayUnavailableError, None),
        ("SOMETHING_NEW", "?", GatewayError, None),
    ],
)
def test_envelope_failure_codes(
    code: str, message: str, expected: type[GatewayError], enedis_code: str | None
) -> None:
    with pytest.raises(expected) as caught:
        parsing.parse_envelope(envelope(success=False, code=code, message=message), usage_point_id=PDL)
    error = caught.value
    assert type(error) is expected
    assert error.usage_point_id == PDL
    assert message in error.message
    if enedis_code is not None:
        assert isinstance(error, EnedisError)
        assert error.enedis_code == enedis_code


def test_rate_limit_resets_at_next_utc_midnight() -> None:
    now = dt.datetime(2024, 11, 20, 23, 30, tzinfo=UTC)
    with pytest.raises(RateLimitError) as caught:
        parsing.parse_envelope(
            envelope(success=False, code="RATE_LIMIT_EXCEEDED", message="1000/1000"), now=now
        )
    assert caught.value.resets_at == dt.datetime(2024, 11, 21, tzinfo=UTC)
    assert not caught.value.retryable


def test_enedis_unavailable_is_retryable_and_rate_limit_is_not() -> None:
    assert EnedisUnavailableError("x").retryable
    assert not RateLimitError("x").retryable


def test_partial_data_keeps_data_and_reports_the_message() -> None:
    data = meter([{"value": "1", "date": "2024-01-02", "interval_length": "PT30M"}])
    unwrapped = parsing.unwrap_envelope(
        envelope(data, code="PARTIAL_DATA", message="Failed to fetch 2024-01-01")
    )
    assert unwrapped.data == data
    assert unwrapped.partial == "Failed to fetch 2024-01-01"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"error": "ADAM-ERR0123", "error_description": "before activation"}, NotActivatedError),
        ({"error": "ADAM-DC-0008", "error_description": "no consent"}, NoConsentError),
        ({"error": "no_data_found", "error_description": "nothing"}, LoadCurveDisabledError),
        ({"error": "ADAM-ERR0069", "error_description": "no production"}, NoProductionError),
        ({"error": "invalid_request", "error_description": "?"}, EnedisError),
    ],
)
def test_success_with_a_raw_enedis_error_is_that_error(
    raw: dict[str, str], expected: type[GatewayError]
) -> None:
    with pytest.raises(expected) as caught:
        parsing.parse_envelope(envelope(raw))
    assert type(caught.value) is expected
    assert isinstance(caught.value, EnedisError)
    assert caught.value.enedis_code == raw["error"]


@pytest.mark.parametrize(
    "payload",
    [[], "text", {"data": []}, {"success": "yes", "data": []}, {"success": True, "error": 3}],
)
def test_malformed_envelopes(payload: object) -> None:
    with pytest.raises(MalformedResponseError):
        parsing.parse_envelope(payload)


def test_optional_envelope_accepts_both_forms() -> None:
    assert parsing.unwrap_optional_envelope([{"a": 1}]).data == [{"a": 1}]
    assert parsing.unwrap_optional_envelope(envelope([{"a": 1}])).data == [{"a": 1}]
    with pytest.raises(RateLimitError):
        parsing.unwrap_optional_envelope(envelope(success=False, code="RATE_LIMIT_EXCEEDED"))


def test_token() -> None:
    assert parsing.parse_token({"access_token": "abc.def", "token_type": "bearer"}) == "abc.def"
    assert parsing.parse_token({"success": True, "data": {"access_token": "t"}}) == "t"
    with pytest.raises(MalformedResponseError) as caught:
        parsing.parse_token({"access_token": "", "secret": "do-not-show"})
    assert "do-not-show" not in str(caught.value)


# --------------------------------------------------------------------------------------------------
# daily


def test_daily_values_nulls_duplicates_and_date_shapes() -> None:
    data = meter(
        [
            {"value": "42045", "date": "2022-03-08"},
            {"value": None, "date": "2022-03-09"},
            {"value": "100", "date": "2022-03-10+01:00"},
            {"value": 7, "date": "2022-03-11 00:00:00"},
            {"value": "0", "date": "2022-03-12"},
            {"value": "200", "date": "2022-03-10"},
        ]
    )
    days = parsing.parse_daily(data, PDL, C)
    assert [(d.day.day, d.wh) for d in days] == [(8, 42045), (10, 200), (11, 7), (12, 0)]
    assert all(d.usage_point_id == PDL and d.direction is C for d in days)


def test_daily_empty_and_malformed() -> None:
    assert parsing.parse_daily(meter([]), PDL, C) == []
    assert parsing.parse_daily({"meter_reading": {"interval_reading": None}}, PDL, C) == []
    with pytest.raises(MalformedResponseError, match=r"interval_reading\[1\]\.value.*'12a'"):
        parsing.parse_daily(
            meter([{"value": "1", "date": "2022-03-08"}, {"value": "12a", "date": "2022-03-09"}]), PDL, C
        )
    with pytest.raises(MalformedResponseError, match=r"\.date.*'08/03/2022'"):
        parsing.parse_daily(meter([{"value": "1", "date": "08/03/2022"}]), PDL, C)
    with pytest.raises(MalformedResponseError, match="meter_reading"):
        parsing.parse_daily({"something": 1}, PDL, C)
    with pytest.raises(MalformedResponseError, match=r"value.*True"):
        parsing.parse_daily(meter([{"value": True, "date": "2022-03-08"}]), PDL, C)


# --------------------------------------------------------------------------------------------------
# curve


def test_curve_basic_energy_and_nulls() -> None:
    rows = [
        {"value": "1344", "date": "2023-03-01 00:00:00", "interval_length": "PT30M", "measure_type": "B"},
        {"value": None, "date": "2023-03-01 00:30:00", "interval_length": "PT30M", "measure_type": "B"},
        {"value": "0", "date": "2023-03-01 01:00:00", "interval_length": "PT30M", "measure_type": "B"},
    ]
    readings = parsing.parse_curve(meter(rows), PDL, C)
    assert [r.start for r in readings] == [
        dt.datetime(2023, 2, 28, 23, 0, tzinfo=UTC),
        dt.datetime(2023, 2, 28, 23, 30, tzinfo=UTC),
        dt.datetime(2023, 3, 1, 0, 0, tzinfo=UTC),
    ]
    assert [r.average_w for r in readings] == [1344, None, 0]
    assert readings[0].energy_wh == 672
    assert readings[1].energy_wh is None


def test_curve_uses_each_readings_own_interval_length() -> None:
    rows = [
        {"value": "600", "date": "2023-03-01 00:00:00", "interval_length": "PT60M"},
        {"value": "300", "date": "2023-03-01 01:00:00", "interval_length": "PT30M"},
        {"value": "60", "date": "2023-03-01 01:30:00", "interval_length": "PT10M"},
        {"value": "60", "date": "2023-03-01 01:40:00", "interval_length": "PT15M"},
    ]
    readings = parsing.parse_curve(meter(rows), PDL, C)
    assert [r.minutes for r in readings] == [60, 30, 10, 15]
    assert [r.energy_wh for r in readings] == [600, 150, 10, 15]


def test_curve_interval_length_falls_back_on_reading_type() -> None:
    rows = [{"value": "10", "date": "2023-03-01 00:00:00"}]
    readings = parsing.parse_curve(meter(rows, interval_length="PT15M"), PDL, C)
    assert readings[0].minutes == 15
    with pytest.raises(MalformedResponseError, match=r"interval_reading\[0\]\.interval_length"):
        parsing.parse_curve(meter(rows), PDL, C)


@pytest.mark.parametrize("order", ["utc", "sorted"])
def test_curve_fall_back_day_keeps_50_slots(order: str) -> None:
    values = list(range(50))
    readings = parsing.parse_curve(meter(render_day(FALL, values, order=order)), PDL, C)
    assert len(readings) == 50
    assert [r.start for r in readings] == [start for start, _ in day_stamps(FALL)]
    assert [r.average_w for r in readings] == values  # each value stays on its own instant


def test_curve_spring_forward_day_has_46_slots() -> None:
    readings = parsing.parse_curve(meter(render_day(SPRING, list(range(46)))), PDL, C)
    assert len(readings) == 46
    assert [r.start for r in readings] == [start for start, _ in day_stamps(SPRING)]


def test_curve_day_sent_twice_is_deduplicated_keeping_the_last() -> None:
    day = dt.date(2024, 1, 10)
    first = render_day(day, [1] * 48)
    second = render_day(day, [2] * 48)
    readings = parsing.parse_curve(meter(first + second), PDL, C)
    assert len(readings) == 48
    assert {r.average_w for r in readings} == {2}


def test_curve_fall_back_day_sent_twice_by_the_batch_route() -> None:
    # the gateway concatenates the cached and the fresh copy, then sorts by stamp (stable)
    rows = render_day(FALL, list(range(50)), order="sorted")
    doubled = sorted(rows + rows, key=lambda row: row["date"])
    readings = parsing.parse_curve(meter(doubled), PDL, C)
    assert len(readings) == 50
    assert [r.average_w for r in readings] == list(range(50))


@pytest.mark.parametrize("order", ["utc", "sorted"])
def test_v1_end_stamps_on_the_fall_back_day(order: str) -> None:
    values = list(range(50))
    rows = render_day(FALL, values, order=order, at_end=True)
    assert rows[-1]["date"] == "2024-10-28 00:00:00"
    readings = parsing.parse_curve(meter(rows), PDL, C, stamps_at_end=True)
    assert [r.start for r in readings] == [start for start, _ in day_stamps(FALL)]
    assert [r.average_w for r in readings] == values


def test_curve_accepts_aware_and_t_stamps() -> None:
    rows = [
        {"value": "1", "date": "2023-03-01T00:00:00", "interval_length": "PT30M"},
        {"value": "2", "date": "2023-03-01T00:30:00+01:00", "interval_length": "PT30M"},
    ]
    readings = parsing.parse_curve(meter(rows), PDL, C)
    assert [r.start.isoformat() for r in readings] == [
        "2023-02-28T23:00:00+00:00",
        "2023-02-28T23:30:00+00:00",
    ]


@pytest.mark.parametrize(
    ("row", "pattern"),
    [
        ({"value": "1", "date": "01/03/2023 00:00", "interval_length": "PT30M"}, r"\[1\]\.date.*01/03/2023"),
        ({"value": "1", "date": None, "interval_length": "PT30M"}, r"\[1\]\.date.*None"),
        (
            {"value": "1", "date": "2023-03-01 00:30:00", "interval_length": "30 min"},
            r"\[1\]\.interval_length",
        ),
        ({"value": "x1", "date": "2023-03-01 00:30:00", "interval_length": "PT30M"}, r"\[1\]\.value.*'x1'"),
        ({"value": [1], "date": "2023-03-01 00:30:00", "interval_length": "PT30M"}, r"\[1\]\.value"),
        ("not a reading", r"interval_reading\[1\]"),
    ],
)
def test_curve_malformed_readings_are_named(row: object, pattern: str) -> None:
    good = {"value": "1", "date": "2023-03-01 00:00:00", "interval_length": "PT30M"}
    with pytest.raises(MalformedResponseError, match=pattern):
        parsing.parse_curve(meter([good, row]), PDL, C)


def test_curve_parser_leaves_the_garbage_collector_as_it_found_it() -> None:
    assert gc.isenabled()
    parsing.parse_curve(meter(render_day(FALL, [1] * 50)), PDL, C)
    assert gc.isenabled()
    with pytest.raises(MalformedResponseError):
        parsing.parse_curve(meter([{"date": "x"}]), PDL, C)
    assert gc.isenabled()
    gc.disable()
    try:
        parsing.parse_curve(meter(render_day(FALL, [1] * 50)), PDL, C)
        assert not gc.isenabled()
    finally:
        gc.enable()


# --------------------------------------------------------------------------------------------------
# max power


def test_max_power_va_and_moment() -> None:
    rows = [
        {"value": "5400", "date": "2019-05-06 03:00:00"},
        {"value": None, "date": "2019-05-07 03:00:00"},
        {"value": "6000", "date": "2019-05-08"},
        {"value": "4000", "date": "2024-10-27 02:30:00"},
    ]
    powers = parsing.parse_max_power(meter(rows, unit="VA", aggregate="maximum"), PDL)
    assert [(p.day, p.va) for p in powers] == [
        (dt.date(2019, 5, 6), 5400),
        (dt.date(2019, 5, 8), 6000),
        (dt.date(2024, 10, 27), 4000),
    ]
    assert powers[0].at == dt.datetime(2019, 5, 6, 1, 0, tzinfo=UTC)
    assert powers[1].at is None
    assert powers[2].at == dt.datetime(2024, 10, 27, 0, 30, tzinfo=UTC)  # first occurrence
    with pytest.raises(MalformedResponseError, match=r"max power interval_reading\[0\]\.value"):
        parsing.parse_max_power(meter([{"value": "5,4 kVA", "date": "2019-05-06 03:00:00"}]), PDL)


# --------------------------------------------------------------------------------------------------
# contract, offpeak hours, subscribed power, address, usage points

CONTRACT = {
    "customer": {
        "customer_id": "-1137954749",
        "usage_points": [
            {
                "usage_point": {"usage_point_id": PDL, "usage_point_status": "com", "meter_type": "AMM"},
                "contracts": {
                    "segment": "C5",
                    "subscribed_power": "9 kVA",
                    "last_activation_date": "2006-05-24+02:00",
                    "distribution_tariff": "BTINFMUDT",
                    "offpeak_hours": "HC (1H30-8H00;12H30-14H00)",
                    "contract_status": "SERVC",
                    "last_distribution_tariff_change_date": "2019-09-13+02:00",
                },
            }
        ],
    }
}


def test_contract() -> None:
    contract = parsing.parse_contract(CONTRACT, PDL)
    assert contract.subscribed_power_kva == 9
    assert contract.segment == "C5"
    assert contract.distribution_tariff == "BTINFMUDT"
    assert contract.offpeak_hours == (
        OffpeakRange(dt.time(1, 30), dt.time(8, 0)),
        OffpeakRange(dt.time(12, 30), dt.time(14, 0)),
    )
    assert contract.last_activation_date == dt.date(2006, 5, 24)
    assert contract.last_distribution_tariff_change_date == dt.date(2019, 9, 13)
    assert contract.contract_status == "SERVC"
    assert contract.meter_type == "AMM"
    assert contract.usage_point_status == "com"


def test_contract_malformed() -> None:
    with pytest.raises(MalformedResponseError, match="usage_points"):
        parsing.parse_contract({"customer": {"usage_points": []}}, PDL)
    broken = {"customer": {"usage_points": [{"usage_point": {}, "contracts": {"subscribed_power": "lots"}}]}}
    with pytest.raises(MalformedResponseError, match=r"subscribed_power.*'lots'"):
        parsing.parse_contract(broken, PDL)


H = dt.time


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HC (22H00-6H00)", ((H(22), H(6)),)),
        ("HC (22h00-6H00)", ((H(22), H(6)),)),
        ("HC (1H30-8H00;12H30-14H00)", ((H(1, 30), H(8)), (H(12, 30), H(14)))),
        ("22:30-06:30", ((H(22, 30), H(6, 30)),)),
        ("HC (23H-7H)", ((H(23), H(7)),)),
        ("HC (14H00-24H00)", ((H(14), H(0)),)),
        (["22:00-06:00"], ((H(22), H(6)),)),
        (["HC (1H30-8H00)", "12h30-14h00"], ((H(1, 30), H(8)), (H(12, 30), H(14)))),
        ({"default": "HC (22H00-6H00)"}, ((H(22), H(6)),)),
        (
            {"monday": "22:30-06:30", "tuesday": "22:30-06:30", "sunday": ["22:30-06:30"]},
            ((H(22, 30), H(6, 30)),),
        ),
        ({"start": "22:00", "end": "06:00"}, ((H(22), H(6)),)),
        ([{"start": "22:00", "end": "06:00"}], ((H(22), H(6)),)),
        (None, ()),
        ("", ()),
        ([], ()),
        ({}, ()),
        ("HC ()", ()),
    ],
)
def test_offpeak_variants(raw: object, expected: tuple[tuple[dt.time, dt.time], ...]) -> None:
    ranges = parsing.parse_offpeak(raw)
    assert ranges == tuple(OffpeakRange(start, end) for start, end in expected)


def test_offpeak_crossing_midnight() -> None:
    (night,) = parsing.parse_offpeak("HC (22H00-6H00)")
    assert night.crosses_midnight
    assert str(night) == "22:00-06:00"


@pytest.mark.parametrize(
    "raw", ["HC (soir)", "25H00-6H00", "22H75-6H00", 42, ["22:00-06:00", 3], "HC (22H00-"]
)
def test_offpeak_malformed(raw: object) -> None:
    with pytest.raises(MalformedResponseError, match="offpeak_hours"):
        parsing.parse_offpeak(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("9 kVA", 9), ("9kVA", 9), ("12 KVA", 12), ("6", 6), (9, 9), ("9000 VA", 9), (None, None), ("", None)],
)
def test_subscribed_power(raw: object, expected: int | None) -> None:
    assert parsing.parse_subscribed_power(raw) == expected


@pytest.mark.parametrize("raw", ["nine", "9 kW", True, [9]])
def test_subscribed_power_malformed(raw: object) -> None:
    with pytest.raises(MalformedResponseError, match="subscribed_power"):
        parsing.parse_subscribed_power(raw)


def test_address() -> None:
    data = {
        "customer": {
            "usage_points": [
                {
                    "usage_point": {
                        "usage_point_id": PDL,
                        "usage_point_addresses": {
                            "street": "12 RUE DE LA PAIX",
                            "locality": None,
                            "postal_code": "75002",
                            "insee_code": "75102",
                            "city": "PARIS",
                            "country": "France",
                            "geo_points": {"latitude": "48.8", "longitude": "2.3"},
                        },
                    }
                }
            ]
        }
    }
    address = parsing.parse_address(data, PDL)
    assert (address.street, address.locality, address.postal_code, address.city, address.country) == (
        "12 RUE DE LA PAIX",
        None,
        "75002",
        "PARIS",
        "France",
    )
    assert address.insee_code == "75102"
    with pytest.raises(MalformedResponseError, match="address"):
        parsing.parse_address({"customer": {"usage_points": "none"}}, PDL)


def test_usage_points_all_offpeak_shapes() -> None:
    base = {
        "name": "Maison",
        "subscribed_power": 9,
        "pricing_option": "HC_HP",
        "has_consumption": True,
        "has_production": False,
        "is_active": True,
        "oldest_available_data_date": "2022-01-01",
        "activation_date": "2015-03-12",
        "linked_production_pdl_id": None,
    }
    data = [
        {**base, "usage_point_id": "01111111111111", "offpeak_hours": ["HC (22H00-6H00)"]},
        {**base, "usage_point_id": "02222222222222", "offpeak_hours": {"default": "HC (22H00-6H00)"}},
        {**base, "usage_point_id": "03333333333333", "offpeak_hours": {"ranges": ["22:00-06:00"]}},
        {
            "usage_point_id": "04444444444444",
            "pricing_option": "weird",
            "subscribed_power": "6 kVA",
            "offpeak_hours": None,
        },
    ]
    points = parsing.parse_usage_points(data)
    night = (OffpeakRange(H(22), H(6)),)
    assert [p.offpeak_hours for p in points] == [night, night, night, ()]
    assert points[0].pricing_option is PricingOption.HC_HP
    assert points[0].earliest_known_data_day == dt.date(2022, 1, 1)
    assert points[3].pricing_option is PricingOption.UNKNOWN
    assert points[3].subscribed_power_kva == 6
    assert points[3].name == ""
    assert points[3].has_consumption and not points[3].has_production and points[3].is_active


def test_usage_points_malformed() -> None:
    with pytest.raises(MalformedResponseError, match=r"usage point \[0\]\.usage_point_id.*'123'"):
        parsing.parse_usage_points([{"usage_point_id": "123"}])
    with pytest.raises(MalformedResponseError, match="has_production"):
        parsing.parse_usage_points([{"usage_point_id": PDL, "has_production": "maybe"}])
    with pytest.raises(MalformedResponseError, match="usage points"):
        parsing.parse_usage_points("nope")


# --------------------------------------------------------------------------------------------------
# tempo, ecowatt, offers, usage stats


def test_tempo_v2_list_and_v1_dict() -> None:
    v2 = [
        {"date": "2025-01-16", "color": "WHITE"},
        {"date": "2025-01-15", "color": "BLUE", "extra": 1},
        {"date": "2025-01-17", "color": None},
        {"date": "2025-01-18", "color": "RED"},
    ]
    v1 = {"2025-01-15": "blue", "2025-01-16": "white", "2025-01-18": "red", "2025-01-17": "UNKNOWN"}
    expected = [
        (dt.date(2025, 1, 15), TempoColor.BLUE),
        (dt.date(2025, 1, 16), TempoColor.WHITE),
        (dt.date(2025, 1, 18), TempoColor.RED),
    ]
    assert [(t.day, t.color) for t in parsing.parse_tempo(v2)] == expected
    assert [(t.day, t.color) for t in parsing.parse_tempo(v1)] == expected
    with pytest.raises(MalformedResponseError, match=r"tempo \[0\]\.color.*'PURPLE'"):
        parsing.parse_tempo([{"date": "2025-01-15", "color": "PURPLE"}])


def test_ecowatt_both_value_shapes_with_or_without_envelope() -> None:
    hourly = [0] * 6 + [1] * 12 + [2, 3] + [1] * 4
    forecast = [
        {
            "periode": "2024-11-21T00:00:00+01:00",
            "dvalue": 3,
            "message": "Coupures",
            "values": [{"pas": 23 - i, "hvalue": hourly[23 - i]} for i in range(24)],
            "hdebut": 0,
            "hfin": 23,
            "generation_datetime": "2024-11-20T13:00:00+01:00",
        },
        {"periode": "2024-11-20T00:00:00+01:00", "dvalue": "1", "message": "ok", "values": hourly},
    ]
    for payload in (forecast, envelope(forecast)):
        days = parsing.parse_ecowatt(parsing.unwrap_optional_envelope(payload).data)
        assert [d.day for d in days] == [dt.date(2024, 11, 20), dt.date(2024, 11, 21)]
        assert [d.level for d in days] == [1, 3]
        assert days[0].hourly == days[1].hourly == tuple(hourly)
        assert days[1].generated_at == dt.datetime(2024, 11, 20, 12, 0, tzinfo=UTC)
        assert days[0].generated_at is None
    with pytest.raises(MalformedResponseError, match=r"ecowatt \[0\]\.dvalue"):
        parsing.parse_ecowatt([{"periode": "2024-11-20", "dvalue": 5, "values": []}])
    with pytest.raises(MalformedResponseError, match=r"ecowatt \[0\]\.values\[1\]"):
        parsing.parse_ecowatt([{"periode": "2024-11-20", "dvalue": 1, "values": [0, 9]}])


def _offer(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "o1",
        "provider_id": "uuid-edf",
        "provider": "EDF",
        "name": "Tarif Bleu",
        "offer_type": "BASE",
        "subscription_price": 15.65,
        "base_price": "0.19400",
        "power_kva": 6,
        "hc_schedules": None,
        "valid_from": "2026-02-01T00:00:00+00:00",
        "valid_to": None,
    }
    base.update(fields)
    return base


def test_offers_prices_buckets_and_options() -> None:
    tempo_prices = {
        f"tempo_{color}_{slot}": f"0.1{i}00"
        for i, (color, slot) in enumerate((c, s) for c in ("blue", "white", "red") for s in ("hc", "hp"))
    }
    data = [
        _offer(),
        _offer(
            name="HC",
            offer_type="HC_HP",
            base_price=None,
            hp_price="0.2065",
            hc_price=0.1579,
            hc_schedules={"lundi": "22:00-06:00", "mardi": "22:00-06:00"},
            valid_to="2026-08-01T00:00:00+00:00",
        ),
        _offer(name="Tempo", offer_type=None, base_price=None, **tempo_prices),
        _offer(name="EJP", offer_type="", base_price=None, ejp_normal="0.15", ejp_peak="0.9"),
        _offer(name="incomplete", power_kva=None),
        _offer(name="no prices", base_price=None),
    ]
    offers = parsing.parse_offers(envelope(data)["data"])
    assert [o.name for o in offers] == ["Tarif Bleu", "HC", "Tempo", "EJP"]
    base, hchp, tempo, ejp = offers
    assert base.provider == "EDF"
    assert base.option is PricingOption.BASE
    assert base.subscription_eur_month == Decimal("15.65")
    assert base.price("base") == Decimal("0.19400")
    assert base.valid_from == dt.date(2026, 2, 1)
    assert base.valid_to is None
    assert hchp.option is PricingOption.HC_HP
    assert (hchp.price("hp"), hchp.price("hc")) == (Decimal("0.2065"), Decimal("0.1579"))
    assert hchp.offpeak_hours == (OffpeakRange(H(22), H(6)),)
    assert hchp.valid_to == dt.date(2026, 8, 1)
    assert tempo.option is PricingOption.TEMPO
    assert {name for name, _ in tempo.prices_eur_kwh} == {
        "tempo_blue_hc",
        "tempo_blue_hp",
        "tempo_white_hc",
        "tempo_white_hp",
        "tempo_red_hc",
        "tempo_red_hp",
    }
    assert tempo.price("tempo_red_hp") == Decimal("0.1500")
    assert ejp.option is PricingOption.EJP
    assert (ejp.price("ejp_normal"), ejp.price("ejp_peak")) == (Decimal("0.15"), Decimal("0.9"))
    with pytest.raises(MalformedResponseError, match=r"offer \[0\] 'Tarif Bleu'\.base_price.*'cher'"):
        parsing.parse_offers([_offer(base_price="cher")])


def test_valid_from_at_paris_midnight_written_in_utc_keeps_its_paris_day() -> None:
    (offer,) = parsing.parse_offers([_offer(valid_from="2026-01-31T23:00:00+00:00")])
    assert offer.valid_from == dt.date(2026, 2, 1)


def test_usage_stats_and_valid_access() -> None:
    stats = parsing.parse_usage_stats(
        {
            "cached_requests": 12,
            "no_cache_requests": "3",
            "cached_limit": 1000,
            "no_cache_limit": 50,
            "date": "2025-01-15",
        }
    )
    assert stats.cached_remaining == 988
    assert stats.date == dt.date(2025, 1, 15)
    with pytest.raises(MalformedResponseError, match="cached_limit"):
        parsing.parse_usage_stats(
            {"cached_requests": 1, "no_cache_requests": 0, "no_cache_limit": 50, "date": "x"}
        )
    access = {
        "valid": True,
        "consent_expiration_date": "2026-01-14T15:32:38",
        "call_number": 7,
        "quota_reached": False,
        "quota_limit": 50,
        "quota_reset_at": "2023-03-01T23:59:59.999999",
        "last_call": "2023-03-01T13:58:24.532501",
        "ban": False,
    }
    v1 = parsing.parse_valid_access(access, dt.date(2023, 3, 1))
    assert (v1.cached_requests, v1.cached_limit, v1.cached_remaining) == (7, 50, 43)
    assert (
        parsing.parse_valid_access({**access, "quota_reached": True}, dt.date(2023, 3, 1)).cached_remaining
        == 0
    )


# --------------------------------------------------------------------------------------------------
# properties

days_strategy = st.dates(min_value=dt.date(2016, 1, 1), max_value=dt.date(2030, 12, 31))
dst_days = st.sampled_from(
    [dt.date(y, 3, d) for y, d in ((2023, 26), (2024, 31), (2025, 30))]
    + [dt.date(y, 10, d) for y, d in ((2023, 29), (2024, 27), (2025, 26))]
)
some_days = st.one_of(days_strategy, dst_days)


@given(st.dictionaries(days_strategy, st.one_of(st.none(), st.integers(0, 10**7)), max_size=40))
def test_property_daily_round_trip(truth: dict[dt.date, int | None]) -> None:
    rows = [{"value": None if wh is None else str(wh), "date": day.isoformat()} for day, wh in truth.items()]
    parsed = parsing.parse_daily(meter(rows), PDL, C)
    assert parsed == [DailyEnergy(PDL, C, day, wh) for day, wh in sorted(truth.items()) if wh is not None]


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    days=st.lists(some_days, min_size=1, max_size=5),
    minutes=st.sampled_from([10, 15, 30, 60]),
    order=st.sampled_from(["utc", "sorted"]),
    at_end=st.booleans(),
    repeat=st.booleans(),
    data=st.data(),
)
def test_property_curve_round_trip_on_any_days(
    days: list[dt.date], minutes: int, order: str, at_end: bool, repeat: bool, data: st.DataObject
) -> None:
    values_of: dict[dt.date, list[int | None]] = {}
    rows: list[dict[str, Any]] = []
    for day in days:
        count = timeline.slots_in_day(day, minutes)
        values = data.draw(
            st.lists(st.one_of(st.none(), st.integers(0, 20_000)), min_size=count, max_size=count)
        )
        values_of[day] = values  # a day asked twice: the last copy wins
        rows.extend(render_day(day, values, minutes=minutes, order=order, at_end=at_end))
    if repeat:  # the batch route sending one day again
        day = days[0]
        rows.extend(render_day(day, values_of[day], minutes=minutes, order=order, at_end=at_end))
    readings = parsing.parse_curve(meter(rows), PDL, C, stamps_at_end=at_end)

    starts = [r.start for r in readings]
    assert all(a < b for a, b in itertools.pairwise(starts))
    expected = [
        IntervalReading(PDL, C, start, minutes, value)
        for day in sorted(values_of)
        for (start, _), value in zip(day_stamps(day, minutes), values_of[day], strict=True)
    ]
    assert readings == expected  # 46/48/50 half-hours per day, nulls stay None (never 0)
    for day in values_of:
        assert sum(1 for r in readings if timeline.paris_date(r.start) == day) == timeline.slots_in_day(
            day, minutes
        )


clock_times = st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


def _render_clock(value: dt.time, style: str) -> str:
    if style == "colon":
        return f"{value:%H:%M}"
    letter = "H" if style == "H" else "h"
    return f"{value.hour}{letter}{value.minute:02d}"


@given(
    st.lists(st.builds(OffpeakRange, clock_times, clock_times), min_size=1, max_size=4, unique=True),
    st.lists(st.sampled_from(["H", "h", "colon"]), min_size=8, max_size=8),
    st.sampled_from(["contract", "list", "default", "bare"]),
)
def test_property_offpeak_round_trip(ranges: list[OffpeakRange], styles: list[str], shape: str) -> None:
    texts = [
        f"{_render_clock(r.start, styles[2 * i])}-{_render_clock(r.end, styles[2 * i + 1])}"
        for i, r in enumerate(ranges)
    ]
    raw: object
    if shape == "contract":
        raw = f"HC ({';'.join(texts)})"
    elif shape == "list":
        raw = texts
    elif shape == "default":
        raw = {"default": f"HC ({';'.join(texts)})"}
    else:
        raw = ";".join(texts)
    assert parsing.parse_offpeak(raw) == tuple(ranges)


@given(
    st.decimals(
        min_value=Decimal("0"), max_value=Decimal("1000"), places=5, allow_nan=False, allow_infinity=False
    ),
    st.sampled_from(["str", "float", "comma"]),
)
def test_property_price_round_trip(price: Decimal, style: str) -> None:
    if style == "str":
        raw: object = str(price)
    elif style == "comma":
        raw = str(price).replace(".", ",")
    else:
        raw = float(price)
    parsed = parsing.parse_price(raw, "price")
    assert parsed == price
    assert isinstance(parsed, Decimal)
