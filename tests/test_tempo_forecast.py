"""The Tempo forecast: the simulator's `/tempo/forecast` follows the contract, the client fetches and keeps
it (no auth, no quota), a bad answer keeps the previous forecast, the parser survives hostile input."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_aiohttp import AiohttpClient

from app.domain import TempoColor
from app.gateway.simulator import SIMULATOR_STATE, SimulatorConfig, create_simulator_app
from app.store.settings import TEMPO_FORECAST_KEY as FORECAST_KEY
from app.tempo_forecast import parse_tempo_forecast, stored_forecast
from tests.support import AiohttpServer, Clock, make_service, start_simulator

NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)  # 10:00 Paris, tomorrow not published yet


async def simulator(
    aiohttp_client: AiohttpClient, now: dt.datetime = NOW
) -> tuple[TestClient[Any, Any], Any]:
    app = create_simulator_app(SimulatorConfig(clock=Clock(now)))
    return await aiohttp_client(app), app[SIMULATOR_STATE]


async def test_simulator_forecast_follows_the_contract(aiohttp_client: AiohttpClient) -> None:
    client, state = await simulator(aiohttp_client)
    response = await client.get("/tempo/forecast")  # no Authorization header
    assert response.status == 200
    body = await response.json()
    assert set(body) == {"success", "data", "error", "timestamp"} and body["success"] is True
    data = body["data"]
    assert data["season"] == "2026-2027"
    stats = data["season_stats"]
    for colour in ("blue", "white", "red"):
        assert isinstance(stats[f"{colour}_used"], int) and isinstance(stats[f"{colour}_remaining"], int)
    assert stats["red_used"] + stats["red_remaining"] == 22
    assert stats["white_used"] + stats["white_remaining"] == 43
    forecasts = data["forecasts"]
    assert [f["date"] for f in forecasts] == [f"2026-11-{d}" for d in (29, 30)] + [
        f"2026-12-0{d}" for d in (1, 2, 3, 4)
    ]
    for item in forecasts:
        assert set(item) >= {
            "date",
            "probability_blue",
            "probability_white",
            "probability_red",
            "most_likely",
        }
        total = item["probability_blue"] + item["probability_white"] + item["probability_red"]
        assert abs(total - 1) < 0.01
        assert item["most_likely"] == max(
            ("BLUE", "WHITE", "RED"), key=lambda c: item[f"probability_{c.lower()}"]
        )
        assert item["most_likely"] == state.data.tempo_color(dt.date.fromisoformat(item["date"]))
        assert 0 <= item["confidence"] <= 1
    assert [r for r in state.requests if r.route == "tempo_forecast" and r.counted] == []  # no quota

    two = (await (await client.get("/tempo/forecast", params={"days": "2"})).json())["data"]["forecasts"]
    assert len(two) == 2
    for bad in ("0", "7", "x", "-1"):
        response = await client.get("/tempo/forecast", params={"days": bad})
        assert response.status == 422
        assert "days" in json.dumps(await response.json())


async def test_client_fetches_and_keeps_the_forecast_without_quota(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    clock = Clock(NOW)
    server, state = await start_simulator(aiohttp_server, clock)
    service = make_service(tmp_path, str(server.make_url("/")), clock)
    await service.start(schedule=False)
    try:
        assert service.tempo_forecast is not None and service.store is not None
        forecast = await service.tempo_forecast.refresh()
        assert forecast is not None
        assert forecast.days[0].day == dt.date(2026, 11, 29)
        assert forecast.remaining[TempoColor.RED] + forecast.used[TempoColor.RED] == 22
        assert state.quota_used() == (0, 0)
        kept = await stored_forecast(service.store)
        assert kept is not None and kept.days == forecast.days and kept.fetched_at == NOW

        # A broken answer: logged, the previous forecast stays.
        async def broken() -> Any:
            return {"forecasts": "nope"}

        service.tempo_forecast.fetch = broken
        assert await service.tempo_forecast.refresh() is None
        assert service.tempo_forecast.last_error == "the Tempo forecast has no 'forecasts' list"
        again = await stored_forecast(service.store)
        assert again is not None and again.days == forecast.days
    finally:
        await service.stop()


def test_parser_reads_percentages_and_skips_bad_days() -> None:
    forecast = parse_tempo_forecast(
        {
            "season": "2026-2027",
            "season_stats": {"red_remaining": 18, "white_remaining": "x", "blue_used": True},
            "forecasts": [
                {
                    "date": "2026-12-01",
                    "probability_blue": 10,
                    "probability_white": 20,
                    "probability_red": 70,
                },
                {"date": "not a date", "most_likely": "RED"},
                {"date": "2026-12-02", "most_likely": "white", "confidence": 0.5},
                "junk",
            ],
        }
    )
    assert [(d.day.isoformat(), d.most_likely, round(d.probability, 2)) for d in forecast.days] == [
        ("2026-12-01", TempoColor.RED, 0.7),
        ("2026-12-02", TempoColor.WHITE, 0.0),
    ]
    assert forecast.remaining == {TempoColor.RED: 18}
    assert forecast.used == {}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=6)
    ),
    max_leaves=30,
)
DAY = st.fixed_dictionaries(
    {},
    optional={
        "date": st.dates().map(dt.date.isoformat) | JSON,
        "most_likely": st.sampled_from(["BLUE", "WHITE", "RED", "red", "purple"]) | JSON,
        "probability_blue": st.floats(-1, 200) | JSON,
        "probability_white": st.floats(-1, 200) | JSON,
        "probability_red": st.floats(-1, 200) | JSON,
        "confidence": st.floats(-1, 2) | JSON,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    data=JSON
    | st.fixed_dictionaries(
        {"forecasts": st.lists(DAY | JSON, max_size=6)},
        optional={"season": JSON, "season_stats": st.dictionaries(st.text(max_size=20), JSON) | JSON},
    )
)
def test_parser_never_fails_on_hostile_input_except_with_a_named_value_error(data: Any) -> None:
    error: ValueError | None = None
    try:
        forecast = parse_tempo_forecast(data)
    except ValueError as exc:
        error = exc
    if error is not None:
        assert "forecast" in str(error)
        return
    for day in forecast.days:
        assert all(0 <= p <= 1 for p in day.probabilities.values())
        assert day.most_likely in TempoColor
    assert all(isinstance(v, int) and v >= 0 for v in forecast.remaining.values())


async def test_nothing_stored_reads_as_no_forecast(aiohttp_server: AiohttpServer, tmp_path: Path) -> None:
    clock = Clock(NOW)
    server, _ = await start_simulator(aiohttp_server, clock)
    service = make_service(tmp_path, str(server.make_url("/")), clock)
    await service.start(schedule=False)
    try:
        assert service.store is not None
        assert await stored_forecast(service.store) is None
        await service.store.set_setting(FORECAST_KEY, {"fetched_at": "garbage", "data": {}})
        assert await stored_forecast(service.store) is None
    finally:
        await service.stop()
