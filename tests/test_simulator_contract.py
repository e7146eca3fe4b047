"""The simulated gateway follows ../shared/gateway-api.md: shapes, auth, quota, traps, faults, v1."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_aiohttp import AiohttpClient

from app.domain import Direction
from app.gateway.simulator import (
    ALL_FAULTS,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_V1_TOKENS,
    SIMULATOR_STATE,
    SimulatedData,
    SimulatedUsagePoint,
    SimulatorConfig,
    SimulatorState,
    create_simulator_app,
    default_usage_points,
)
from app.timeline import PARIS, UTC, add_months, paris_stamps_to_utc, parse_naive_stamp

Client = TestClient[web.Request, web.Application]

NOW = dt.datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # 11:00 Paris
EARLY = dt.datetime(2026, 11, 28, 5, 0, tzinfo=UTC)  # 06:00 Paris, yesterday not published yet
TODAY = dt.date(2026, 11, 28)
YESTERDAY = TODAY - dt.timedelta(days=1)
BASE_PDL, HPHC_PDL, TEMPO_PDL = (p.usage_point_id for p in default_usage_points())
AUTH = {"Authorization": f"Bearer {DEMO_CLIENT_SECRET}"}
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


async def start(
    aiohttp_client: AiohttpClient, now: dt.datetime = NOW, **overrides: Any
) -> tuple[Client, SimulatorState, Clock]:
    clock = Clock(now)
    app = create_simulator_app(SimulatorConfig(clock=clock, **overrides))
    client = await aiohttp_client(app)
    return client, app[SIMULATOR_STATE], clock


async def get_json(client: Client, path: str, params: dict[str, str] | None = None, **kw: Any) -> Any:
    headers = kw.pop("headers", AUTH)
    response = await client.get(path, params=params, headers=headers, **kw)
    assert response.status == 200, await response.text()
    return await response.json()


def assert_envelope(body: dict[str, Any], success: bool = True) -> None:
    assert set(body) == {"success", "data", "error", "timestamp"}
    assert body["success"] is success
    stamp = dt.datetime.fromisoformat(body["timestamp"])
    assert stamp.tzinfo is None
    if success:
        assert body["error"] is None or body["error"]["code"] == "PARTIAL_DATA"
    else:
        assert set(body["error"]) == {"code", "message", "field"}


def error_code(body: dict[str, Any]) -> str:
    assert body["error"] is not None
    return str(body["error"]["code"])


def readings(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body["data"]["meter_reading"]["interval_reading"])


def batch_params(first: dt.date, last: dt.date, **extra: str) -> dict[str, str]:
    return {"start": first.isoformat(), "end": last.isoformat(), "use_cache": "true", **extra}


def points_with(**changes: Any) -> list[SimulatedUsagePoint]:
    """The default points, the HP/HC one changed."""
    points = default_usage_points()
    points[1] = replace(points[1], **changes)
    return points


# ---- auth -------------------------------------------------------------------------------------------


async def test_token_by_form_and_basic(aiohttp_client: AiohttpClient) -> None:
    client, state, _ = await start(aiohttp_client)
    form = {
        "grant_type": "client_credentials",
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
    }
    response = await client.post("/accounts/token", data=form)
    assert response.status == 200
    body = await response.json()
    assert set(body) == {"access_token", "token_type"}
    assert body["token_type"] == "bearer"
    assert body["access_token"].count(".") == 2
    pair = base64.b64encode(f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}".encode()).decode()
    response = await client.post(
        "/accounts/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {pair}"},
    )
    assert response.status == 200
    token = (await response.json())["access_token"]
    pdl = await get_json(client, "/pdl", headers={"Authorization": f"Bearer {token}"})
    assert_envelope(pdl)
    assert [e.route for e in state.requests] == ["token", "token", "pdl"]
    assert not any(e.counted for e in state.requests)


async def test_token_errors(aiohttp_client: AiohttpClient) -> None:
    client, _, _ = await start(aiohttp_client)
    response = await client.post("/accounts/token", data={"grant_type": "client_credentials"})
    assert response.status == 422
    response = await client.post("/accounts/token", data={"client_id": DEMO_CLIENT_ID})
    assert response.status == 422
    wrong = {"grant_type": "client_credentials", "client_id": DEMO_CLIENT_ID, "client_secret": "x" * 86}
    response = await client.post("/accounts/token", data=wrong)
    assert response.status == 401
    assert await response.json() == {"detail": "Invalid client credentials"}


async def test_data_route_auth(aiohttp_client: AiohttpClient) -> None:
    client, state, clock = await start(aiohttp_client)
    response = await client.get("/pdl")
    assert response.status == 401
    assert await response.json() == {"detail": "Not authenticated"}
    response = await client.get("/pdl", headers={"Authorization": "Bearer nope"})
    assert response.status == 401
    assert await response.json() == {"detail": "Invalid authentication credentials"}
    response = await client.get("/pdl", headers={"Authorization": DEMO_CLIENT_SECRET})
    assert response.status == 401
    assert_envelope(await get_json(client, "/pdl"))  # raw secret as bearer
    token = state.issue_token()
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/pdl", headers=bearer)).status == 200
    clock.advance(days=30, seconds=1)
    assert (await client.get("/pdl", headers=bearer)).status == 401
    token = state.issue_token()
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/pdl", headers=bearer)).status == 200
    state.expire_tokens()
    assert (await client.get("/pdl", headers=bearer)).status == 401
    path = f"/enedis/consumption/daily/{BASE_PDL}"
    response = await client.get(path, params={"start": "2026-11-01", "end": "2026-11-02"})
    assert response.status == 401
    assert state.requests[-1].outcome == "auth_failed"
    assert state.quota_used() == (0, 0)


async def test_inactive_account(aiohttp_client: AiohttpClient) -> None:
    client, _, _ = await start(aiohttp_client, account_active=False)
    form = {
        "grant_type": "client_credentials",
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
    }
    assert (await client.post("/accounts/token", data=form)).status == 403
    assert (await client.get("/pdl", headers=AUTH)).status == 403


async def test_no_secret_in_request_log_or_logs(
    aiohttp_client: AiohttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client, state, _ = await start(aiohttp_client)
    form = {
        "grant_type": "client_credentials",
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
    }
    token = (await (await client.post("/accounts/token", data=form)).json())["access_token"]
    await client.get("/pdl", headers={"Authorization": f"Bearer {token}"})
    await client.get(f"/pdl?client_secret={DEMO_CLIENT_SECRET}", headers=AUTH)
    v1 = DEMO_V1_TOKENS[BASE_PDL]
    await client.get(f"/v1/valid_access/{BASE_PDL}", headers={"Authorization": v1})
    # the simulator's own log lines (aiohttp's access log belongs to the test server, off in __main__)
    own = [r.getMessage() for r in caplog.records if r.name.startswith("app.")]
    assert own
    dumped = repr(state.requests) + "\n".join(own)
    for secret in (DEMO_CLIENT_SECRET, token, v1):
        assert secret not in dumped


# ---- /pdl, contract, address ------------------------------------------------------------------------


async def test_pdl_shape(aiohttp_client: AiohttpClient) -> None:
    client, _, _ = await start(aiohttp_client)
    body = await get_json(client, "/pdl")
    assert_envelope(body)
    keys = {
        "usage_point_id",
        "name",
        "subscribed_power",
        "offpeak_hours",
        "pricing_option",
        "has_consumption",
        "has_production",
        "is_active",
        "oldest_available_data_date",
        "activation_date",
        "linked_production_pdl_id",
    }
    forms = []
    for item in body["data"]:
        assert keys <= set(item)
        assert re.fullmatch(r"\d{14}", item["usage_point_id"])
        assert isinstance(item["subscribed_power"], int)
        assert item["pricing_option"] in {"BASE", "HC_HP", "TEMPO", "EJP", "HC_WEEKEND"}
        assert DAY.match(item["activation_date"])
        forms.append(type(item["offpeak_hours"]))
    assert {list, dict, type(None)} <= set(forms)
    by_id = {item["usage_point_id"]: item for item in body["data"]}
    assert by_id[TEMPO_PDL]["has_production"] is True
    assert by_id[HPHC_PDL]["subscribed_power"] == 9


async def test_contract_and_address_shapes(aiohttp_client: AiohttpClient) -> None:
    client, state, _ = await start(aiohttp_client)
    body = await get_json(client, f"/enedis/contract/{HPHC_PDL}", {"use_cache": "true"})
    assert_envelope(body)
    usage_point = body["data"]["customer"]["usage_points"][0]
    assert usage_point["usage_point"]["usage_point_id"] == HPHC_PDL
    contracts = usage_point["contracts"]
    assert contracts["subscribed_power"] == "9 kVA"
    assert contracts["offpeak_hours"] == "HC (22H00-6H00)"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}\+0[12]:00", contracts["last_activation_date"])
    assert contracts["distribution_tariff"].startswith("BTINF")
    offsets = {contracts["last_activation_date"][-6:], contracts["last_distribution_tariff_change_date"][-6:]}
    assert offsets == {"+01:00", "+02:00"}
    tempo = await get_json(client, f"/enedis/contract/{TEMPO_PDL}")
    assert tempo["data"]["customer"]["usage_points"][0]["contracts"]["offpeak_hours"] == "HC (22h00-6H00)"
    body = await get_json(client, f"/enedis/address/{BASE_PDL}")
    address = body["data"]["customer"]["usage_points"][0]["usage_point"]["usage_point_addresses"]
    assert set(address) == {
        "street",
        "locality",
        "postal_code",
        "insee_code",
        "city",
        "country",
        "geo_points",
    }
    assert state.quota_used() == (1, 2)  # contract/address default to use_cache=false


async def test_unknown_pdl_access_denied(aiohttp_client: AiohttpClient) -> None:
    client, state, _ = await start(aiohttp_client)
    body = await get_json(
        client, "/enedis/consumption/daily/01234567890123", {"start": "2026-11-01", "end": "2026-11-05"}
    )
    assert_envelope(body, success=False)
    assert error_code(body) == "ACCESS_DENIED"
    assert state.requests[-1].outcome == "error:ACCESS_DENIED"


# ---- daily ------------------------------------------------------------------------------------------


async def test_daily_shape_and_never_yesterday(aiohttp_client: AiohttpClient) -> None:
    client, state, _ = await start(aiohttp_client)
    path = f"/enedis/consumption/daily/{HPHC_PDL}"
    body = await get_json(client, path, {"start": "2026-11-20", "end": "2026-12-05", "use_cache": "true"})
    assert_envelope(body)
    rows = readings(body)
    assert rows[-1]["date"] == (YESTERDAY - dt.timedelta(days=1)).isoformat()
    assert rows[0]["date"] == "2026-11-20"
    assert len(rows) == 7
    for row in rows:
        assert set(row) == {"value", "date"}
        assert isinstance(row["value"], str)
        assert DAY.match(row["date"])
        day = dt.date.fromisoformat(row["date"])
        assert int(row["value"]) == state.data.daily_wh(HPHC_PDL, Direction.CONSUMPTION, day)
    assert body["data"]["meter_reading"]["reading_type"]["unit"] == "Wh"
    # end exclusive even far from today
    body = await get_json(client, path, {"start": "2026-10-01", "end": "2026-10-03"})
    assert [r["date"] for r in readings(body)] == ["2026-10-01", "2026-10-02"]
    assert state.quota_used() == (1, 1)


async def test_daily_range_errors(aiohttp_client: AiohttpClient) -> None:
    client, state, _ = await start(aiohttp_client)
    path = f"/enedis/consumption/daily/{BASE_PDL}"
    for start_day, end_day in (
        ("2026-11-05", "2026-11-05"),
        ("2026-11-06", "2026-11-05"),
        ("2025-01-01", "2026-01-02"),
    ):
        body = await get_json(client, path, {"start": start_day, "end": end_day, "use_cache": "true"})
        assert_envelope(body, success=False)
        assert error_code(body) == "INVALID_DATE_RANGE"
    body = await get_json(client, path, {"start": "2025-01-01", "end": "2026-01-01", "use_cache": "true"})
    assert len(readings(body)) == 365
    before = state.quota_used()
    response = await client.get(path, params={"start": "2026-1-01", "end": "2026-01-05"}, headers=AUTH)
    assert response.status == 500
    body = await response.json()
    assert_envelope(body, success=False)
    assert error_code(body) == "INTERNAL_ERROR"
    assert state.quota_used() == (before[0], before[1] + 1)
    response = await client.get(path, params={"start": "2026-01-01"}, headers=AUTH)
    assert response.status == 422


async def test_date_too_old(aiohttp_client: AiohttpClient) -> None:
    client, _, _ = await start(aiohttp_client)
    daily_limit = add_months(TODAY, -36) - dt.timedelta(days=15)
    curve_limit = add_months(TODAY, -24) - dt.timedelta(days=15)
    cases = [
        (f"/enedis/consumption/daily/{BASE_PDL}", daily_limit, 30),
        (f"/enedis/power/{BASE_PDL}", daily_limit, 30),
        (f"/enedis/consumption/detail/batch/{BASE_PDL}", curve_limit, 6),
    ]
    for path, limit, length in cases:
        too_old = limit - dt.timedelta(days=1)
        body = await get_json(client, path, batch_params(too_old, too_old + dt.timedelta(days=length)))
        assert error_code(body) == "DATE_TOO_OLD", path
        body = await get_json(client, path, batch_params(limit, limit + dt.timedelta(days=length)))
        assert body["success"] is True, path
        assert readings(body)[0]["date"].startswith(limit.isoformat())


# ---- batch curve ------------------------------------------------------------------------------------


async def test_batch_shape_end_inclusive_and_exact_integral(aiohttp_client: AiohttpClient) -> None:
    client, state, _ = await start(aiohttp_client)
    first = YESTERDAY - dt.timedelta(days=9)
    body = await get_json(client, f"/enedis/consumption/detail/batch/{HPHC_PDL}", batch_params(first, TODAY))
    assert_envelope(body)
    rows = readings(body)
    assert len(rows) == 10 * 48
    assert rows[0]["date"] == f"{first.isoformat()} 00:00:00"
    assert rows[-1]["date"] == f"{YESTERDAY.isoformat()} 23:30:00"
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)
    for row in rows:
        assert set(row) == {"value", "date", "interval_length", "measure_type"}
        assert isinstance(row["value"], str)
        assert STAMP.match(row["date"])
        assert row["interval_length"] == "PT30M"
        assert row["measure_type"] == "B"
    daily = await get_json(
        client,
        f"/enedis/consumption/daily/{HPHC_PDL}",
        {"start": first.isoformat(), "end": TODAY.isoformat()},
    )
    per_day: Counter[str] = Counter()
    for row in rows:
        assert int(row["value"]) % 2 == 0
        per_day[row["date"][:10]] += int(row["value"]) * 30 // 60
    for row in readings(daily):
        assert per_day[row["date"]] == int(row["value"])
    assert state.quota_used() == (1, 1)  # batch defaults to use_cache=true, daily to false
    no_param = await get_json(
        client, f"/enedis/consumption/detail/batch/{HPHC_PDL}", {"start": "2026-11-01", "end": "2026-11-01"}
    )
    assert len(readings(no_param)) == 48
    assert state.quota_used() == (2, 1)


async def test_batch_range_errors(aiohttp_client: AiohttpClient) -> None:
    client, _, _ = await start(aiohttp_client)
    path = f"/enedis/consumption/detail/batch/{BASE_PDL}"
    body = await get_json(client, path, batch_params(dt.date(2026, 11, 5), dt.date(2026, 11, 4)))
    assert error_code(body) == "INVALID_DATE_RANGE"
    first = YESTERDAY - dt.timedelta(days=729)
    body = await get_json(client, path, batch_params(first, YESTERDAY))
    assert error_code(body) == "INVALID_DATE_RANGE"
    body = await get_json(client, path, batch_params(first + dt.timedelta(days=1), YESTERDAY))
    assert body["success"] is True
    assert len(readings(body)) // 48 in (727, 728, 729)


@pytest.mark.parametrize(
    ("now", "day", "count"),
    [
        (dt.datetime(2025, 10, 27, 10, 0, tzinfo=UTC), dt.date(2025, 10, 26), 50),
        (dt.datetime(2025, 3, 31, 10, 0, tzinfo=UTC), dt.date(2025, 3, 30), 46),
    ],
)
async def test_dst_days(aiohttp_client: AiohttpClient, now: dt.datetime, day: dt.date, count: int) -> None:
    client, state, _ = await start(aiohttp_client, now=now)
    body = await get_json(client, f"/enedis/consumption/detail/batch/{HPHC_PDL}", batch_params(day, day))
    rows = readings(body)
    assert len(rows) == count
    stamps = [r["date"][11:16] for r in rows]
    if count == 50:
        assert stamps[4:8] == ["02:00", "02:00", "02:30", "02:30"]
    else:
        assert "02:00" not in stamps and "02:30" not in stamps
    instants = paris_stamps_to_utc([parse_naive_stamp(r["date"]) for r in rows])
    assert sorted(instants) == sorted(set(instants))
    start_utc = dt.datetime(day.year, day.month, day.day, tzinfo=PARIS).astimezone(UTC)
    assert sorted(instants) == [start_utc + dt.timedelta(minutes=30 * i) for i in range(count)]
    total = sum(int(r["value"]) for r in rows) * 30 // 60
    assert total == state.data.daily_wh(HPHC_PDL, Direction.CONSUMPTION, day)
    truth = state.data.curve_day(HPHC_PDL, Direction.CONSUMPTION, day)
    assert [s.isoformat(" ") for s, _ in truth] == [r["date"] for r in rows]
    # v1 (raw Enedis): interval END stamps, in time order, so 02:00, 02:30, 02:00, 02:30 on fall-back
    end = (day + dt.timedelta(days=1)).isoformat()
    v1 = await get_json(
        client,
        f"/v1/consumption_load_curve/{HPHC_PDL}/start/{day.isoformat()}/end/{end}/",
        headers={"Authorization": DEMO_V1_TOKENS[HPHC_PDL]},
    )
    v1_rows = v1["meter_reading"]["interval_reading"]
    assert len(v1_rows) == count
    if count == 50:
        assert [r["date"][11:16] for r in v1_rows[3:7]] == ["02:00", "02:30", "02:00", "02:30"]


async def test_j_plus_one_and_blacklist(aiohttp_client: AiohttpClient) -> None:
    client, state, clock = await start(aiohttp_client, now=EARLY)
    first = YESTERDAY - dt.timedelta(days=2)
    path = f"/enedis/consumption/detail/batch/{TEMPO_PDL}"
    body = await get_json(client, path, batch_params(first, YESTERDAY))
    days = {r["date"][:10] for r in readings(body)}
    assert YESTERDAY.isoformat() not in days
    assert len(days) == 2
    assert state.blacklisted_days(TEMPO_PDL) == [YESTERDAY]
    power = await get_json(client, f"/enedis/power/{TEMPO_PDL}", batch_params(first, TODAY))
    assert YESTERDAY.isoformat() not in {r["date"][:10] for r in readings(power)}
    clock.now = NOW  # published now, but hidden for 24 h, for both directions
    for direction in ("consumption", "production"):
        body = await get_json(
            client, f"/enedis/{direction}/detail/batch/{TEMPO_PDL}", batch_params(first, YESTERDAY)
        )
        assert YESTERDAY.isoformat() not in {r["date"][:10] for r in readings(body)}
    other = await get_json(
        client, f"/enedis/consumption/detail/batch/{BASE_PDL}", batch_params(YESTERDAY, YESTERDAY)
    )
    assert len(readings(other)) == 48
    power = await get_json(client, f"/enedis/power/{TEMPO_PDL}", batch_params(first, TODAY))
    assert readings(power)[-1]["date"].startswith(YESTERDAY.isoformat())
    clock.now = EARLY + dt.timedelta(hours=24, minutes=1)
    body = await get_json(client, path, batch_params(YESTERDAY, YESTERDAY))
    assert len(readings(body)) == 48


async def test_null_slots(aiohttp_client: AiohttpClient) -> None:
    client, state, _ = await start(aiohttp_client, usage_points=points_with(null_slot_rate=0.1))
    first = dt.date(2026, 11, 1)
    body = await get_json(
        client,
        f"/enedis/consumption/detail/batch/{HPHC_PDL}",
        batch_params(first, first + dt.timedelta(days=6)),
    )
    rows = readings(body)
    nulls = [r for r in rows if r["value"] is None]
    assert 0 < len(nulls) < len(rows) // 4
    per_day: Counter[str] = Counter()
    for row in rows:
        per_day[row["date"][:10]] += 0 if row["value"] is None else int(row["value"]) // 2
    for day_text, wh in per_day.items():
        assert wh == state.data.daily_wh(HPHC_PDL, Direction.CONSUMPTION, dt.date.fromisoformat(day_text))


# ---- max power ---------------------------------------------------------------------------------------


async def test_power_shape_and_consistency(aiohttp_client: AiohttpClient) -> None:
    client, state, _ = await start(aiohttp_client)
    first = dt.date(2026, 1, 5)
    body = await get_json(
        client, f"/enedis/power/{HPHC_PDL}", batch_params(first, first + dt.timedelta(days=20))
    )
    assert_envelope(body)
    meter = body["data"]["meter_reading"]
    assert meter["reading_type"] == {
        "unit": "VA",
        "measurement_kind": "power",
        "aggregate": "maximum",
        "measuring_period": "P1D",
    }
    assert {"usage_point_id", "start", "end", "quality", "reading_type", "interval_reading"} <= set(meter)
    rows = meter["interval_reading"]
    assert len(rows) == 20
    for row in rows:
        assert STAMP.match(row["date"]) and isinstance(row["value"], str)
        moment = parse_naive_stamp(row["date"])
        curve = state.data.curve_day(HPHC_PDL, Direction.CONSUMPTION, moment.date())
        highest = max(v for _, v in curve if v is not None)
        assert highest <= int(row["value"]) <= 9 * 1100
        slot_start = moment.replace(minute=moment.minute - moment.minute % 30, second=0)
        assert any(s == slot_start and v == highest for s, v in curve)
    body = await get_json(client, f"/enedis/power/{HPHC_PDL}", batch_params(first, first))
    assert error_code(body) == "INVALID_DATE_RANGE"


# ---- activation and point scenarios ------------------------------------------------------------------


async def test_before_activation(aiohttp_client: AiohttpClient) -> None:
    activation = dt.date(2026, 9, 10)
    client, _, _ = await start(aiohttp_client, usage_points=points_with(activation_date=activation))
    daily = f"/enedis/consumption/daily/{HPHC_PDL}"
    body = await get_json(client, daily, batch_params(dt.date(2026, 9, 1), dt.date(2026, 9, 15)))
    assert readings(body)[0]["date"] == "2026-09-10"
    body = await get_json(client, daily, batch_params(dt.date(2026, 8, 1), dt.date(2026, 9, 1)))
    assert body["success"] is True and readings(body) == []
    batch = f"/enedis/consumption/detail/batch/{HPHC_PDL}"
    body = await get_json(client, batch, batch_params(dt.date(2026, 9, 1), dt.date(2026, 9, 15)))
    assert_envelope(body)
    assert error_code(body) == "PARTIAL_DATA"
    assert readings(body)[0]["date"] == "2026-09-10 00:00:00"
    body = await get_json(client, batch, batch_params(dt.date(2026, 8, 1), dt.date(2026, 8, 5)))
    assert body["success"] is False
    assert error_code(body) == "ADAM-ERR0123"
    body = await get_json(
        client, f"/enedis/power/{HPHC_PDL}", batch_params(dt.date(2026, 8, 1), dt.date(2026, 9, 1))
    )
    assert body["success"] is True
    assert body["data"]["error"] == "ADAM-ERR0123" and "error_description" in body["data"]


@pytest.mark.parametrize(
    ("changes", "path", "code_prefix"),
    [
        ({"load_curve_enabled": False}, "consumption/detail/batch", "STM-ERR-0000014"),
        ({"consent": False}, "consumption/daily", "ADAM-DC-0008"),
        ({"consent": False}, "contract", "ADAM-DC-0008"),
        ({}, "production/detail/batch", "ADAM-ERR0069"),
        ({}, "production/daily", "ADAM-ERR0069"),
    ],
)
async def test_enedis_errors(
    aiohttp_client: AiohttpClient, changes: dict[str, Any], path: str, code_prefix: str
) -> None:
    client, state, _ = await start(aiohttp_client, usage_points=points_with(**changes))
    body = await get_json(
        client, f"/enedis/{path}/{HPHC_PDL}", batch_params(dt.date(2026, 11, 1), dt.date(2026, 11, 3))
    )
    assert_envelope(body, success=False)
    assert error_code(body) == "ENEDIS_ERROR"
    assert body["error"]["message"].startswith(f"{code_prefix}:")
    assert state.requests[-1].counted


async def test_production_curve(aiohttp_client: AiohttpClient) -> None:
    client, _, _ = await start(aiohttp_client)
    day = dt.date(2026, 6, 21)
    body = await get_json(client, f"/enedis/production/detail/batch/{TEMPO_PDL}", batch_params(day, day))
    rows = readings(body)
    by_hour = {r["date"][11:16]: int(r["value"]) for r in rows}
    assert by_hour["00:00"] == 0 and by_hour["23:30"] == 0
    assert max(by_hour.values()) > 500


# ---- quota -------------------------------------------------------------------------------------------


async def test_quota_buckets_and_usage_stats(aiohttp_client: AiohttpClient) -> None:
    client, state, clock = await start(aiohttp_client, quota_cached=3, quota_no_cache=2)
    path = f"/enedis/consumption/daily/{BASE_PDL}"
    params = {"start": "2026-11-01", "end": "2026-11-03", "use_cache": "true"}
    for _ in range(3):
        assert (await get_json(client, path, params))["success"] is True
    body = await get_json(client, path, params)
    assert_envelope(body, success=False)
    assert error_code(body) == "RATE_LIMIT_EXCEEDED"
    assert state.requests[-1].outcome == "rate_limited" and not state.requests[-1].counted
    assert state.quota_used() == (3, 0)
    # the no-cache bucket is separate; free routes do not count
    assert (await get_json(client, path, {"start": "2026-11-01", "end": "2026-11-03"}))["success"] is True
    await get_json(client, "/pdl")
    await get_json(client, "/tempo/days", {"start_date": "2026-11-01", "end_date": "2026-11-03"}, headers={})
    await get_json(client, "/energy/offers", headers={})
    stats = await get_json(client, "/accounts/usage-stats")
    assert_envelope(stats)
    assert stats["data"] == {
        "cached_requests": 3,
        "no_cache_requests": 1,
        "cached_limit": 3,
        "no_cache_limit": 2,
        "date": "2026-11-28",
    }
    # EcoWatt counts in the no-cache bucket and answers HTTP 429 over the limit
    assert (await client.get("/ecowatt/forecast", params={"days": "1"}, headers=AUTH)).status == 200
    response = await client.get("/ecowatt/forecast", params={"days": "1"}, headers=AUTH)
    assert response.status == 429
    assert await response.json() == {"detail": "Rate limit exceeded: 2/2 requests today"}
    assert state.quota_used() == (3, 2)
    # reset at 00:00 UTC (01:00 Paris)
    clock.now = dt.datetime(2026, 11, 28, 23, 59, tzinfo=UTC)
    assert error_code(await get_json(client, path, params)) == "RATE_LIMIT_EXCEEDED"
    clock.now = dt.datetime(2026, 11, 29, 0, 0, 1, tzinfo=UTC)
    assert (await get_json(client, path, params))["success"] is True
    assert state.quota_used() == (1, 0)
    state.reset_quota()
    assert state.quota_used() == (0, 0)


# ---- Tempo, EcoWatt, offers --------------------------------------------------------------------------


async def test_tempo_bounds_and_publication(aiohttp_client: AiohttpClient) -> None:
    client, state, clock = await start(aiohttp_client, now=dt.datetime(2026, 11, 28, 9, 30, tzinfo=UTC))
    params = {"start_date": "2026-11-20", "end_date": "2026-12-05"}
    body = await get_json(client, "/tempo/days", params, headers={})
    assert_envelope(body)
    dates = [item["date"] for item in body["data"]]
    assert dates[0] == "2026-11-21" and dates[-1] == "2026-11-28"
    for item in body["data"]:
        assert set(item) >= {"date", "color"}
        assert item["color"] == state.data.tempo_color(dt.date.fromisoformat(item["date"]))
    clock.now = dt.datetime(2026, 11, 28, 9, 41, tzinfo=UTC)  # 10:41 Paris
    body = await get_json(client, "/tempo/days", params, headers={})
    assert body["data"][-1]["date"] == "2026-11-29"
    body = await get_json(
        client, "/tempo/days", {"start_date": "2026-11-20", "end_date": "2026-11-22"}, headers={}
    )
    assert [item["date"] for item in body["data"]] == ["2026-11-21", "2026-11-22"]
    assert not state.requests[-1].counted


async def test_ecowatt_shape(aiohttp_client: AiohttpClient) -> None:
    client, state, _ = await start(aiohttp_client)
    body = await get_json(client, "/ecowatt/forecast", {"days": "3"})
    assert isinstance(body, list) and len(body) == 3
    for offset, item in enumerate(body):
        assert set(item) == {
            "periode",
            "dvalue",
            "message",
            "values",
            "hdebut",
            "hfin",
            "generation_datetime",
        }
        day = TODAY + dt.timedelta(days=offset)
        assert item["periode"] == f"{day.isoformat()}T00:00:00+01:00"
        assert item["dvalue"] in (1, 2, 3)
        assert len(item["values"]) == 24 and all(v in (0, 1, 2, 3) for v in item["values"])
        assert (item["hdebut"], item["hfin"]) == (0, 23)
        dt.datetime.fromisoformat(item["generation_datetime"])
    assert (await client.get("/ecowatt/forecast", params={"days": "8"}, headers=AUTH)).status == 422
    assert (await client.get("/ecowatt/forecast", params={"days": "1"})).status == 401
    assert state.quota_used() == (0, 1)
    client2, _, _ = await start(aiohttp_client, ecowatt_envelope=True)
    assert_envelope(await get_json(client2, "/ecowatt/forecast", {"days": "1"}))


async def test_offers(aiohttp_client: AiohttpClient) -> None:
    client, _, _ = await start(aiohttp_client)
    current = await get_json(client, "/energy/offers", headers={})
    assert_envelope(current)
    history = await get_json(client, "/energy/offers", {"include_history": "true"}, headers={})
    assert len(history["data"]) == 18 and len(current["data"]) == 6
    fields = {
        "subscription_price",
        "base_price",
        "hc_price",
        "hp_price",
        "ejp_normal",
        "ejp_peak",
        "hc_schedules",
        "power_kva",
        "valid_from",
        "valid_to",
        "provider",
        "name",
        "offer_type",
    } | {f"tempo_{c}_{p}" for c in ("blue", "white", "red") for p in ("hc", "hp")}
    for offer in history["data"]:
        assert fields <= set(offer)
        assert offer["power_kva"] in (6, 9)
    base_9 = [
        o
        for o in history["data"]
        if o["offer_type"] == "BASE" and o["power_kva"] == 9 and o["valid_from"].startswith("2026-02-01")
    ]
    assert base_9[0]["base_price"] == "0.19270" and base_9[0]["valid_to"] is None
    tempo = [
        o for o in history["data"] if o["offer_type"] == "TEMPO" and o["valid_from"].startswith("2025-02-01")
    ]
    assert tempo[0]["tempo_red_hp"] == "0.65860"
    assert tempo[0]["valid_to"].startswith("2025-08-01")
    filtered = await get_json(client, "/energy/offers", {"provider_id": "nobody"}, headers={})
    assert filtered["data"] == []


# ---- faults ------------------------------------------------------------------------------------------


async def test_every_fault_kind(aiohttp_client: AiohttpClient) -> None:
    client, state, _ = await start(aiohttp_client, timeout_delay=0.01)
    path = f"/enedis/consumption/detail/batch/{HPHC_PDL}"
    params = batch_params(dt.date(2026, 11, 1), dt.date(2026, 11, 6))
    truth = await get_json(client, path, params)
    expected_days = {r["date"][:10] for r in readings(truth)}
    seen = set()
    for kind in sorted(ALL_FAULTS):
        state.force_fault(kind)
        before = sum(state.quota_used())
        response = await client.get(path, params=params, headers=AUTH)
        entry = state.requests[-1]
        assert entry.outcome == f"fault:{kind}"
        assert entry.counted is (kind not in {"http_429", "http_502", "timeout"})
        assert sum(state.quota_used()) == before + int(entry.counted)
        seen.add(kind)
        if kind == "http_500":
            assert response.status == 500
            assert error_code(await response.json()) == "INTERNAL_ERROR"
        elif kind == "http_502":
            assert response.status == 502
        elif kind == "http_429":
            assert response.status == 429 and response.headers["Retry-After"] == "1"
        elif kind == "malformed_json":
            assert response.status == 200
            with pytest.raises(json.JSONDecodeError):
                json.loads(await response.text())
        elif kind in ("rate_limit_exceeded", "enedis_unavailable"):
            assert error_code(await response.json()) == kind.upper()
        elif kind == "timeout":
            assert await response.json() == {**truth, "timestamp": truth["timestamp"]}
        elif kind == "partial_data":
            body = await response.json()
            assert body["success"] is True and error_code(body) == "PARTIAL_DATA"
            days = {r["date"][:10] for r in readings(body)}
            assert days < expected_days
        elif kind == "duplicate_days":
            body = await response.json()
            rows = readings(body)
            assert len(rows) == len(readings(truth)) + 48
            assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)
            unique = {r["date"]: r["value"] for r in rows}
            assert unique == {r["date"]: r["value"] for r in readings(truth)}
    assert seen == ALL_FAULTS


async def test_duplicate_fall_back_day_keeps_order(aiohttp_client: AiohttpClient) -> None:
    client, state, _ = await start(aiohttp_client, now=dt.datetime(2025, 10, 27, 10, 0, tzinfo=UTC))
    day = dt.date(2025, 10, 26)
    state.force_fault("duplicate_days")
    body = await get_json(client, f"/enedis/consumption/detail/batch/{HPHC_PDL}", batch_params(day, day))
    rows = readings(body)
    assert len(rows) == 100
    instants = paris_stamps_to_utc([parse_naive_stamp(r["date"]) for r in rows])
    values = dict(zip(instants, (int(r["value"]) for r in rows), strict=True))
    truth = state.data.curve_day(HPHC_PDL, Direction.CONSUMPTION, day)
    truth_instants = paris_stamps_to_utc([s for s, _ in truth])
    assert values == dict(zip(truth_instants, (v for _, v in truth), strict=True))


async def test_random_faults_are_reproducible(aiohttp_client: AiohttpClient) -> None:
    outcomes = []
    for _ in range(2):
        client, state, _ = await start(aiohttp_client, fault_rate=0.5, fault_seed=7, timeout_delay=0.0)
        for _ in range(30):
            await client.get(
                f"/enedis/consumption/daily/{BASE_PDL}",
                params=batch_params(dt.date(2026, 11, 1), dt.date(2026, 11, 3)),
                headers=AUTH,
            )
        await client.get("/pdl", headers=AUTH)
        outcomes.append([e.outcome for e in state.requests])
        assert state.requests[-1].outcome == "ok"  # free routes never get faults
    assert outcomes[0] == outcomes[1]
    kinds = {o for o in outcomes[0] if o.startswith("fault:")}
    assert len(kinds) >= 3
    assert "fault:partial_data" not in kinds and "fault:duplicate_days" not in kinds  # batch-only
    client, state, _ = await start(aiohttp_client, fault_rate=1.0, faults=frozenset({"http_502"}))
    response = await client.get(f"/enedis/contract/{BASE_PDL}", headers=AUTH)
    assert response.status == 502


# ---- v1 ----------------------------------------------------------------------------------------------


def v1_headers(pdl: str) -> dict[str, str]:
    return {"Authorization": DEMO_V1_TOKENS[pdl]}


async def test_v1_routes(aiohttp_client: AiohttpClient) -> None:
    client, state, _ = await start(aiohttp_client, v1_quota=6)
    headers = v1_headers(BASE_PDL)
    curve = await get_json(
        client, f"/v1/consumption_load_curve/{BASE_PDL}/start/2026-11-20/end/2026-11-22/", headers=headers
    )
    rows = curve["meter_reading"]["interval_reading"]
    assert len(rows) == 96
    assert rows[0]["date"] == "2026-11-20 00:30:00"
    assert rows[-1]["date"] == "2026-11-22 00:00:00"
    assert rows[0]["interval_length"] == "PT30M" and isinstance(rows[0]["value"], str)
    truth = state.data.curve_day(BASE_PDL, Direction.CONSUMPTION, dt.date(2026, 11, 20))
    assert [int(r["value"]) for r in rows[:48]] == [v for _, v in truth]
    daily = await get_json(
        client, f"/v1/daily_consumption/{BASE_PDL}/start/2026-11-20/end/2026-11-28/cache/", headers=headers
    )
    assert [r["date"] for r in daily["meter_reading"]["interval_reading"]][-1] == "2026-11-27"
    power = await get_json(
        client, f"/v1/daily_consumption_max_power/{BASE_PDL}/start/2026-11-20/end/2026-11-21", headers=headers
    )
    assert power["meter_reading"]["reading_type"]["unit"] == "VA"
    contract = await get_json(client, f"/v1/contracts/{BASE_PDL}", headers=headers)
    assert contract["customer"]["usage_points"][0]["contracts"]["subscribed_power"] == "6 kVA"
    address = await get_json(client, f"/v1/addresses/{BASE_PDL}/cache", headers=headers)
    assert "usage_point_addresses" in address["customer"]["usage_points"][0]["usage_point"]
    response = await client.get(
        f"/v1/consumption_load_curve/{BASE_PDL}/start/2026-11-01/end/2026-11-09/", headers=headers
    )
    assert response.status == 400
    assert set(await response.json()) == {"error", "error_description"}
    access = await get_json(client, f"/v1/valid_access/{BASE_PDL}/cache", headers=headers)
    assert set(access) == {
        "valid",
        "consent_expiration_date",
        "call_number",
        "quota_reached",
        "quota_limit",
        "quota_reset_at",
        "last_call",
        "ban",
    }
    assert access["call_number"] == 6 and access["quota_reached"] is True
    response = await client.get(
        f"/v1/daily_consumption/{BASE_PDL}/start/2026-11-01/end/2026-11-02/", headers=headers
    )
    assert response.status == 409
    assert "detail" in await response.json()
    assert state.requests[-1].outcome == "rate_limited"
    # one token per usage point; the others' quota is separate
    other = await client.get(
        f"/v1/daily_consumption/{HPHC_PDL}/start/2026-11-01/end/2026-11-02/", headers=headers
    )
    assert other.status == 403
    ok = await client.get(
        f"/v1/daily_production/{TEMPO_PDL}/start/2026-11-01/end/2026-11-02/", headers=v1_headers(TEMPO_PDL)
    )
    assert ok.status == 200
    missing = await client.get(f"/v1/daily_consumption/{HPHC_PDL}/start/2026-11-01/end/2026-11-02/")
    assert missing.status == 401
    assert state.quota_used() == (0, 0)  # v1 has its own quota


async def test_v1_tempo(aiohttp_client: AiohttpClient) -> None:
    client, state, _ = await start(aiohttp_client)
    body = await get_json(client, "/v1/rte/tempo/2026-11-25/2026-12-10", headers={})
    assert list(body) == ["2026-11-25", "2026-11-26", "2026-11-27", "2026-11-28", "2026-11-29"]
    for day, color in body.items():
        assert color == state.data.tempo_color(dt.date.fromisoformat(day)).lower()


# ---- Tempo calendar rules (model) ---------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(season=st.integers(min_value=2014, max_value=2040), seed=st.integers(min_value=0, max_value=10_000))
def test_tempo_season_rules(season: int, seed: int) -> None:
    data = SimulatedData(default_usage_points(), seed)
    first = dt.date(season, 9, 1)
    days = [first + dt.timedelta(days=i) for i in range((dt.date(season + 1, 9, 1) - first).days)]
    colors = {d: data.tempo_color(d) for d in days}
    counts = Counter(colors.values())
    assert counts["RED"] == 22
    assert counts["WHITE"] == 43
    assert counts["BLUE"] == len(days) - 65  # 300, or 301 in a season holding 29 February
    for day, color in colors.items():
        if color == "RED":
            assert day.month in (11, 12, 1, 2, 3)
            assert day.weekday() < 5
        if color == "WHITE":
            assert day.weekday() != 6
    mean = {c: sum(data.temperature(d) for d in days if colors[d] == c) / counts[c] for c in counts}
    assert mean["RED"] < mean["WHITE"] < mean["BLUE"]
    assert SimulatedData(default_usage_points(), seed).tempo_color(days[100]) == colors[days[100]]


async def test_v1_faults_and_unknown_routes_are_logged(aiohttp_client: AiohttpClient) -> None:
    client, state, _ = await start(aiohttp_client)
    state.force_fault("http_500")
    path = f"/v1/daily_consumption/{BASE_PDL}/start/2026-11-01/end/2026-11-02/"
    response = await client.get(path, headers=v1_headers(BASE_PDL))
    assert response.status == 500
    assert state.requests[-1].outcome == "fault:http_500" and state.requests[-1].counted
    assert (await client.get(path, headers=v1_headers(BASE_PDL))).status == 200
    response = await client.get("/enedis/unknown", headers=AUTH)
    assert response.status == 404
    assert state.requests[-1].route == "unknown" and state.requests[-1].status == 404
    assert all(entry.at == NOW for entry in state.requests)
