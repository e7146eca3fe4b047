"""/metrics scraped by a real Prometheus server (Debian package); values read back through its HTTP API."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from app.domain import Direction, TempoColor
from app.exporters.manager import ExporterManager
from app.service import Service
from app.web.app import create_app
from tests.exporter_support import free_port, require, run_server, synced_service, wait_http
from tests.support import AiohttpServer

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]
YESTERDAY = dt.date(2026, 11, 27)
TODAY = dt.date(2026, 11, 28)


def manager_of(service: Service) -> ExporterManager:
    assert service.exporters is not None
    return service.exporters


async def query(prometheus: str, expression: str, want: int) -> dict[str, float]:
    """Poll the Prometheus query API until the expression has `want` series; {usage_point_id: value}."""
    async with aiohttp.ClientSession() as session, asyncio.timeout(60):
        while True:
            async with session.get(prometheus + "/api/v1/query", params={"query": expression}) as response:
                body = await response.json()
            result = body["data"]["result"]
            if len(result) >= want:
                return {
                    r["metric"].get("usage_point_id", r["metric"].get("day", "")): float(r["value"][1])
                    for r in result
                }
            await asyncio.sleep(0.2)


async def test_real_prometheus_scrapes_the_expected_values(
    aiohttp_server: AiohttpServer, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    manager = manager_of(service)
    store = service.store
    assert store is not None
    app_server: TestServer = await aiohttp_server(create_app(service))
    client = await aiohttp_client(app_server)
    assert (await client.get("/metrics")).status == 404  # disabled until the user enables it
    await manager.save("prometheus", {"enabled": True})
    await manager.wait_idle()
    response = await client.get("/metrics")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = await response.text()
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    assert len(samples) > 20 and all(s.timestamp is None for s in samples), "no timestamps"
    assert not any("hour" in s.labels or "date" in s.labels for s in samples), "no per-hour labels"

    # Optionally on a port of its own too.
    own_port = free_port()
    await manager.save("prometheus", {"enabled": True, "port": own_port})
    await manager.wait_idle()
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{own_port}/metrics") as own:
        assert own.status == 200 and "myelectricaldata_consumption_yesterday_wh" in await own.text()

    tmp = tmp_path / "prometheus"
    tmp.mkdir()
    port = free_port()
    config = tmp / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: myelectricaldata\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{app_server.port}']\n"
    )
    args = [
        require("prometheus"),
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    async with run_server(args, tmp / "prometheus.log") as process:
        url = f"http://127.0.0.1:{port}"
        await wait_http(url + "/-/ready", process, tmp / "prometheus.log")
        assert (await query(url, 'up{job="myelectricaldata"} == 1', 1)) == {"": 1.0}

        consumption = await query(url, "myelectricaldata_consumption_yesterday_wh", 3)
        for pdl in ("09111111111111", "09222222222222", "09333333333333"):
            day = await store.daily(pdl, Direction.CONSUMPTION, YESTERDAY, YESTERDAY)
            assert consumption[pdl] == day[0].wh
        production = await query(url, "myelectricaldata_production_yesterday_wh", 1)
        solar = await store.daily("09333333333333", Direction.PRODUCTION, YESTERDAY, YESTERDAY)
        assert production == {"09333333333333": solar[0].wh}

        totals = await query(url, "myelectricaldata_consumption_energy_wh_total", 3)
        everything = await store.daily_energy(
            "09111111111111", Direction.CONSUMPTION, "year", dt.date(2000, 1, 1), TODAY
        )
        assert totals["09111111111111"] == sum(wh for _, wh in everything)
        assert await query(url, "myelectricaldata_subscribed_power_kva", 3) == {
            "09111111111111": 6.0,
            "09222222222222": 9.0,
            "09333333333333": await _subscribed(service, "09333333333333"),
        }
        max_power = await query(url, "myelectricaldata_max_power_va", 3)
        newest = (await store.max_power("09111111111111", YESTERDAY - dt.timedelta(days=5), YESTERDAY))[-1]
        assert max_power["09111111111111"] == newest.va
        hp = await query(url, "myelectricaldata_consumption_yesterday_peak_wh", 1)
        hc = await query(url, "myelectricaldata_consumption_yesterday_offpeak_wh", 1)
        assert hp["09222222222222"] + hc["09222222222222"] == consumption["09222222222222"]
        tempo = await store.tempo(TODAY, TODAY)
        colour = {TempoColor.BLUE: 1, TempoColor.WHITE: 2, TempoColor.RED: 3}[tempo[0].color]
        assert (await query(url, 'myelectricaldata_tempo_color{day="today"}', 1)) == {"today": colour}
        assert (await query(url, "myelectricaldata_gateway_requests_today", 1))[""] > 0
        assert (await query(url, "myelectricaldata_sync_error", 4)) == {
            "": 0.0,
            "09111111111111": 0.0,
            "09222222222222": 0.0,
            "09333333333333": 0.0,
        }
    await service.stop()


async def _subscribed(service: Service, pdl: str) -> float:
    assert service.store is not None
    points = {p.usage_point_id: p for p in await service.store.usage_points()}
    contract = await service.store.contract(pdl)
    value = (contract.subscribed_power_kva if contract else None) or points[pdl].subscribed_power_kva
    assert value is not None
    return float(value)
