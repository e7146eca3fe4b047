"""The Tempo forecast on /tempo (FR by default, EN) and in /api/tempo."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from app.web.app import create_app
from tests.support import NOW, AiohttpServer, Clock, make_service, start_simulator

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]


async def test_forecast_shown_on_the_tempo_page_and_in_the_api(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    clock = Clock(NOW)
    server, _ = await start_simulator(aiohttp_server, clock)
    service = make_service(tmp_path, str(server.make_url("/")), clock)
    await service.start(schedule=False)
    try:
        client = await aiohttp_client(await aiohttp_server(create_app(service)))
        empty = await (await client.get("/tempo")).text()
        assert "Pas encore de prévision" in empty
        assert (await (await client.get("/api/tempo")).json())["forecast"] is None

        assert service.tempo_forecast is not None
        forecast = await service.tempo_forecast.refresh()
        assert forecast is not None
        first = forecast.days[0]

        page = await (await client.get("/tempo")).text()
        assert "Prévision des prochains jours" in page
        assert f'<tr data-date="{first.day.isoformat()}">' in page
        assert "29 nov." in page
        assert f"{round(first.probability * 100)} %" in page
        assert "<script>" not in page and "onclick" not in page
        english = await (await client.get("/tempo", headers={"Accept-Language": "en"})).text()
        assert "Forecast for the coming days" in english and "Most likely colour" in english

        body = (await (await client.get("/api/tempo")).json())["forecast"]
        assert body["season"] == "2026-2027"
        assert body["fetched_at"] == NOW.isoformat()
        assert body["remaining"]["RED"] + body["used"]["RED"] == 22
        assert [d["day"] for d in body["days"]][:2] == ["2026-11-29", "2026-11-30"]
        assert body["days"][0]["most_likely"] == first.most_likely.value
        assert abs(sum(body["days"][0]["probabilities"].values()) - 1) < 0.01
        assert dt.date.fromisoformat(body["days"][-1]["day"]) == NOW.date() + dt.timedelta(days=6)
    finally:
        await service.stop()
