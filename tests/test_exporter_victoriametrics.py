"""VictoriaMetrics exporter against a real private server (Debian package), read back to the Wh and ms."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app import timeline
from app.domain import DailyEnergy, DateRange, Direction
from app.exporters.base import ExporterError
from app.exporters.manager import ExporterManager
from app.exporters.victoriametrics import retention_days
from app.service import Service
from tests.exporter_support import free_port, require, run_server, synced_service, wait_http
from tests.support import AiohttpServer

FIRST = dt.date(2020, 1, 1)
LAST = dt.date(2026, 11, 27)  # yesterday at tests.support.NOW


@contextlib.asynccontextmanager
async def victoria_metrics(tmp: Path, retention: str = "100y", *extra: str) -> AsyncIterator[str]:
    tmp.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (set-up, before the test)
    port = free_port()
    args = [
        require("victoria-metrics"),
        f"-httpListenAddr=127.0.0.1:{port}",
        f"-storageDataPath={tmp / 'data'}",
        f"-retentionPeriod={retention}",
        "-search.disableCache",
        *extra,
    ]
    async with run_server(args, tmp / "vm.log") as process:
        url = f"http://127.0.0.1:{port}"
        await wait_http(url + "/health", process, tmp / "vm.log")
        yield url


async def read_series(url: str, name: str, pdl: str) -> list[tuple[int, float]]:
    """Every raw sample of one series, sorted by timestamp (duplicates kept)."""
    async with aiohttp.ClientSession() as session:
        async with session.get(url + "/internal/force_flush") as response:
            assert response.status == 200
        params = {"match[]": f'{{__name__="{name}",usage_point_id="{pdl}"}}', "start": "0"}
        async with session.get(url + "/api/v1/export", params=params) as response:
            assert response.status == 200
            text = await response.text()
    samples: list[tuple[int, float]] = []
    for line in text.splitlines():
        series = json.loads(line)
        samples += zip(series["timestamps"], series["values"], strict=True)
    return sorted(samples)


def manager_of(service: Service) -> ExporterManager:
    assert service.exporters is not None
    return service.exporters


async def test_history_read_back_equals_the_store_and_a_correction_replaces(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    manager = manager_of(service)
    store = service.store
    assert store is not None
    async with victoria_metrics(tmp_path / "vm") as url:
        assert "answers (retention 100y)" in await manager.test("victoriametrics", {"url": url})
        await manager.save("victoriametrics", {"enabled": True, "url": url, "extra_labels": "home=main"})
        await manager.wait_idle()
        status = manager.status("victoriametrics")
        assert status.last_error is None and status.last_exported, status
        assert "warning" not in status.last_exported

        start, end = timeline.day_start_utc(FIRST), timeline.day_start_utc(LAST + dt.timedelta(days=1))
        for pdl, direction in (
            ("09111111111111", Direction.CONSUMPTION),
            ("09222222222222", Direction.CONSUMPTION),
            ("09333333333333", Direction.PRODUCTION),
        ):
            readings = [
                r for r in await store.intervals(pdl, direction, start, end) if r.average_w is not None
            ]
            power = await read_series(url, f"myelectricaldata_{direction.value}_power_w", pdl)
            assert power == [(int(r.start.timestamp()) * 1000, float(r.average_w or 0)) for r in readings]
            energy = await read_series(url, f"myelectricaldata_{direction.value}_interval_energy_wh", pdl)
            assert [v for _, v in energy] == [(r.average_w or 0) * r.minutes / 60 for r in readings]
            daily = await store.daily(pdl, direction, FIRST, LAST)
            got = await read_series(url, f"myelectricaldata_{direction.value}_daily_wh", pdl)
            assert got == [
                (int(timeline.day_start_utc(d.day).timestamp()) * 1000, float(d.wh)) for d in daily
            ]
            assert len(daily) > 365

            # DST days: 46 and 50 half-hours, at their true UTC instants.
            for day, slots in ((dt.date(2026, 3, 29), 46), (dt.date(2025, 10, 26), 50)):
                lo, hi = (int(x.timestamp()) * 1000 for x in timeline.day_bounds_utc(day))
                assert len([t for t, _ in power if lo <= t < hi]) == slots, (pdl, day)

        # HP/HC split of the HP/HC point adds up to the curve's energy.
        hp = dict(await read_series(url, "myelectricaldata_consumption_daily_hp_wh", "09222222222222"))
        hc = dict(await read_series(url, "myelectricaldata_consumption_daily_hc_wh", "09222222222222"))
        day_ms = int(timeline.day_start_utc(LAST).timestamp()) * 1000
        curve_day = await store.curve_energy("09222222222222", Direction.CONSUMPTION, "day", LAST, LAST)
        assert hp[day_ms] + hc[day_ms] == curve_day[0][1] and hc[day_ms] > 0

        # A later sync corrects yesterday's curve and daily total DOWN: the new values must win.
        pdl = "09111111111111"
        day_start, day_end = timeline.day_bounds_utc(LAST)
        old = (await store.intervals(pdl, Direction.CONSUMPTION, day_start, day_end))[10]
        assert old.average_w is not None and old.average_w > 10
        lowered = dataclasses.replace(old, average_w=old.average_w - 7)
        await store.save_curve(pdl, Direction.CONSUMPTION, [lowered], [])
        before = (await store.daily(pdl, Direction.CONSUMPTION, LAST, LAST))[0]
        await store.save_daily(
            pdl, Direction.CONSUMPTION, [DailyEnergy(pdl, Direction.CONSUMPTION, LAST, before.wh - 100)],
            [DateRange(LAST, LAST)],
        )  # fmt: skip
        count_before = len(await read_series(url, "myelectricaldata_consumption_power_w", pdl))
        result = await manager.run("victoriametrics")
        assert result is not None and "corrected series replaced for 09111111111111" in result.detail
        power = await read_series(url, "myelectricaldata_consumption_power_w", pdl)
        assert len(power) == count_before  # replaced, not duplicated
        at = int(old.start.timestamp()) * 1000
        assert [v for t, v in power if t == at] == [float(lowered.average_w or 0)]
        daily_got = dict(await read_series(url, "myelectricaldata_consumption_daily_wh", pdl))
        assert daily_got[day_ms] == before.wh - 100
        series = await _series_labels(url, pdl)
        assert all(labels.get("home") == "main" for labels in series)

        # Nothing new: the next run sends nothing.
        again = await manager.run("victoriametrics")
        assert again is not None and again.items == 0
    await service.stop()


async def _series_labels(url: str, pdl: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as session:
        params = {"match[]": f'{{usage_point_id="{pdl}"}}'}
        async with session.get(url + "/api/v1/export", params=params) as response:
            text = await response.text()
    labels: list[dict[str, Any]] = [json.loads(line)["metric"] for line in text.splitlines()]
    assert len(labels) >= 4
    return labels


async def test_basic_auth_and_short_retention_is_reported(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    manager = manager_of(service)
    auth = ("-httpAuth.username=vmuser", "-httpAuth.password=vm-Pass-77")
    async with victoria_metrics(tmp_path / "vm", "1", *auth) as url:
        with pytest.raises(ExporterError, match="HTTP 401"):
            await manager.test("victoriametrics", {"url": url, "username": "vmuser", "password": "nope"})
        config = {"enabled": True, "url": url, "username": "vmuser", "password": "vm-Pass-77"}
        assert "(retention 1)" in await manager.test("victoriametrics", config)
        await manager.save("victoriametrics", config)
        await manager.wait_idle()
        status = manager.status("victoriametrics")
        assert status.last_error is None
        assert status.last_exported and "keeps 1 of data (-retentionPeriod)" in status.last_exported
    await service.stop()


def test_retention_flag_parsing() -> None:
    assert retention_days("1") == 31
    assert retention_days("100y") == 36500
    assert retention_days("2w") == 14
    assert retention_days("junk") is None
