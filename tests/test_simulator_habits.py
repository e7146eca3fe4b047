"""The simulator reproduces the real gateway's habits of ../shared/gateway-api.md sections 8 and 10, each
switchable: the strict 3-year daily bound, the exclusive end of every daily window, the empty window
before activation, a one-off RATE_LIMIT_EXCEEDED under the usage counters, a null-slot day whose daily
value exceeds the curve."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from pytest_aiohttp import AiohttpClient

from app.domain import Direction
from app.gateway.simulator import SIMULATOR_STATE, SimulatorConfig, create_simulator_app
from app.gateway.simulator.faults import RATE_LIMIT_EXCEEDED
from app.gateway.simulator.model import NULL_SLOT_COUNT
from tests.test_simulator_contract import (
    HPHC_PDL,
    NOW,
    TODAY,
    Clock,
    assert_envelope,
    batch_params,
    error_code,
    get_json,
    points_with,
    readings,
)

DAILY = f"/enedis/consumption/daily/{HPHC_PDL}"


async def _start(aiohttp_client: AiohttpClient, config: SimulatorConfig):  # type: ignore[no-untyped-def]
    app = create_simulator_app(replace(config, clock=Clock(NOW)))
    return await aiohttp_client(app), app[SIMULATOR_STATE]


async def test_strict_three_year_bound_names_the_oldest_allowed_date(aiohttp_client: AiohttpClient) -> None:
    client, _ = await _start(aiohttp_client, SimulatorConfig.real_habits())
    bound = TODAY.replace(year=TODAY.year - 3)
    body = await get_json(
        client, DAILY, batch_params(bound - dt.timedelta(days=1), bound + dt.timedelta(days=30))
    )
    assert_envelope(body, success=False)
    assert error_code(body) == "DATE_TOO_OLD"
    assert f"Oldest allowed date: {bound.isoformat()}" in body["error"]["message"]
    body = await get_json(client, DAILY, batch_params(bound, bound + dt.timedelta(days=30)))
    assert body["success"] is True and readings(body)[0]["date"] == bound.isoformat()
    # production and max power keep Enedis' 36 months + 15 days
    body = await get_json(
        client, f"/enedis/power/{HPHC_PDL}", batch_params(bound - dt.timedelta(days=10), bound)
    )
    assert body["success"] is True
    # switched off: the old bound only
    client, _ = await _start(aiohttp_client, SimulatorConfig())
    body = await get_json(
        client, DAILY, batch_params(bound - dt.timedelta(days=1), bound + dt.timedelta(days=30))
    )
    assert body["success"] is True


async def test_every_daily_window_end_is_exclusive(aiohttp_client: AiohttpClient) -> None:
    first, end = dt.date(2026, 3, 1), dt.date(2026, 3, 11)
    client, _ = await _start(aiohttp_client, SimulatorConfig.real_habits())
    days = [r["date"] for r in readings(await get_json(client, DAILY, batch_params(first, end)))]
    assert days[0] == "2026-03-01" and days[-1] == "2026-03-10" and len(days) == 10
    client, _ = await _start(aiohttp_client, SimulatorConfig(daily_end_exclusive=False))
    days = [r["date"] for r in readings(await get_json(client, DAILY, batch_params(first, end)))]
    assert days[-1] == "2026-03-11"


async def test_window_before_activation_comes_back_empty(aiohttp_client: AiohttpClient) -> None:
    activation = dt.date(2026, 9, 10)
    points = points_with(activation_date=activation)
    client, _ = await _start(aiohttp_client, SimulatorConfig.real_habits(usage_points=points))
    body = await get_json(
        client, DAILY, batch_params(activation - dt.timedelta(days=1), dt.date(2026, 9, 20))
    )
    assert body["success"] is True and readings(body) == []
    body = await get_json(client, DAILY, batch_params(activation, dt.date(2026, 9, 20)))
    assert readings(body)[0]["date"] == activation.isoformat()
    power = f"/enedis/power/{HPHC_PDL}"
    assert (
        readings(
            await get_json(
                client,
                power,
                batch_params(activation - dt.timedelta(days=1), activation + dt.timedelta(days=5)),
            )
        )
        == []
    )
    assert (
        len(
            readings(
                await get_json(client, power, batch_params(activation, activation + dt.timedelta(days=5)))
            )
        )
        == 5
    )
    # switched off: the days from the activation come back
    client, _ = await _start(aiohttp_client, SimulatorConfig(usage_points=points))
    body = await get_json(
        client, DAILY, batch_params(activation - dt.timedelta(days=1), dt.date(2026, 9, 20))
    )
    assert readings(body)[0]["date"] == activation.isoformat()


async def test_announced_activation_may_precede_the_data(aiohttp_client: AiohttpClient) -> None:
    activation = dt.date(2026, 9, 10)
    points = points_with(
        activation_date=activation, announced_activation_date=activation - dt.timedelta(days=1)
    )
    client, _ = await _start(aiohttp_client, SimulatorConfig.real_habits(usage_points=points))
    pdl = next(p for p in (await get_json(client, "/pdl"))["data"] if p["usage_point_id"] == HPHC_PDL)
    assert pdl["activation_date"] == "2026-09-09"
    body = await get_json(client, DAILY, batch_params(dt.date(2026, 9, 9), dt.date(2026, 9, 20)))
    assert readings(body) == []


async def test_one_off_rate_limit_with_usage_stats_under_the_limit(aiohttp_client: AiohttpClient) -> None:
    client, state = await _start(aiohttp_client, SimulatorConfig.real_habits())
    state.force_fault(RATE_LIMIT_EXCEEDED)
    params = batch_params(dt.date(2026, 3, 1), dt.date(2026, 3, 11))
    body = await get_json(client, DAILY, params)
    assert error_code(body) == "RATE_LIMIT_EXCEEDED"
    stats = (await get_json(client, "/accounts/usage-stats"))["data"]
    assert stats["cached_requests"] < stats["cached_limit"]
    assert stats["no_cache_requests"] < stats["no_cache_limit"]
    body = await get_json(client, DAILY, params)
    assert body["success"] is True and len(readings(body)) == 10


async def test_null_slot_day_daily_value_exceeds_the_curve(aiohttp_client: AiohttpClient) -> None:
    day = dt.date(2026, 11, 3)
    points = points_with(null_slot_days=frozenset({day}))
    client, state = await _start(aiohttp_client, SimulatorConfig.real_habits(usage_points=points))
    curve = readings(
        await get_json(client, f"/enedis/consumption/detail/batch/{HPHC_PDL}", batch_params(day, day))
    )
    assert sum(1 for r in curve if r["value"] is None) == NULL_SLOT_COUNT
    curve_wh = sum(int(r["value"]) for r in curve if r["value"] is not None) // 2
    daily = readings(await get_json(client, DAILY, batch_params(day, day + dt.timedelta(days=1))))
    assert [r["date"] for r in daily] == [day.isoformat()]
    meter_wh = int(daily[0]["value"])
    assert meter_wh == state.data.daily_wh(HPHC_PDL, Direction.CONSUMPTION, day)
    assert meter_wh > curve_wh + 100
    # other days: the curve sums to the daily value
    other = day + dt.timedelta(days=1)
    curve = readings(
        await get_json(client, f"/enedis/consumption/detail/batch/{HPHC_PDL}", batch_params(other, other))
    )
    assert sum(int(r["value"]) for r in curve) // 2 == state.data.daily_wh(
        HPHC_PDL, Direction.CONSUMPTION, other
    )
