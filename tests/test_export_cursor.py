"""ExportCursor: the days a history exporter sends, and cursors saved by earlier versions carried on."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.exporters import influxdb, victoriametrics
from app.exporters.base import ExportCursor, days_to_send
from app.exporters.manager import ExporterManager
from app.store import Store
from tests.exporter_support import synced_service
from tests.fake_jeedom import API_KEY, FakeJeedom
from tests.support import AiohttpServer

PDL = "09111111111111"
DAY = dt.timedelta(days=1)
DAY1, DAY2 = dt.date(2026, 11, 26), dt.date(2026, 11, 27)  # DAY2: yesterday at tests.support.NOW
days = st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2035, 12, 31))


def _span(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + DAY * i for i in range((last - first).days + 1)]


@settings(max_examples=300, deadline=None)
@given(days, st.integers(1, 60), st.integers(-5, 800))
def test_every_new_day_is_sent_once_and_the_window_again(cursor: dt.date, window: int, ahead: int) -> None:
    newest = cursor + DAY * ahead
    plan = days_to_send(cursor, window, newest, first_run_from=dt.date(2000, 1, 1))
    sent = plan.days()
    assert len(sent) == len(set(sent)) and sent == sorted(sent)
    assert [d for d in sent if plan.is_new(d)] == _span(cursor + DAY, newest)
    window_days = _span(cursor - DAY * (window - 1), cursor)
    assert [d for d in sent if not plan.is_new(d)] == [d for d in window_days if d <= newest]
    assert not plan.first_run


@settings(max_examples=200, deadline=None)
@given(days, st.integers(1, 60), st.lists(st.integers(0, 40), min_size=1, max_size=12))
def test_runs_in_a_row_send_each_day_as_new_exactly_once(
    start: dt.date, window: int, gaps: list[int]
) -> None:
    cursor: dt.date | None = None
    newest = start
    new_count: dict[dt.date, int] = {}
    for gap in gaps:
        newest += DAY * gap
        plan = days_to_send(cursor, window, newest, first_run_from=start)
        for day in plan.days():
            if plan.is_new(day):
                new_count[day] = new_count.get(day, 0) + 1
        cursor = newest
    assert new_count == dict.fromkeys(_span(start, newest), 1)


def test_a_first_run_sends_everything_from_the_history_start() -> None:
    plan = days_to_send(None, 7, DAY2, first_run_from=DAY1 - DAY * 29)
    assert plan.first_run and len(plan.days()) == 31 and all(plan.is_new(d) for d in plan.days())
    with pytest.raises(ValueError, match="at least 1"):
        days_to_send(DAY1, 0, DAY2, DAY1)


async def test_a_cursor_saved_before_export_cursor_is_continued(tmp_path: Path) -> None:
    store = await Store.open(None, data_dir=tmp_path)
    try:
        target = ["http://influx:8086", "bucket"]
        old = {"target": target, "last_day": {PDL: "2026-11-20", "09222222222222": "2026-11-25"}}
        await store.set_setting("exporter_state.influxdb", old)  # the key earlier versions wrote

        cursor = await ExportCursor.load(
            store, influxdb.InfluxDbExporter.name, target=target, newest=DAY2, correction_days=3
        )
        assert cursor.last_sent(PDL) == dt.date(2026, 11, 20)
        plan = cursor.days_to_send(PDL, first_run_from=dt.date(2024, 1, 1))
        assert (plan.first, plan.last) == (dt.date(2026, 11, 18), DAY2)
        await cursor.advance(PDL)

        after = await ExportCursor.load(
            store, influxdb.InfluxDbExporter.name, target=target, newest=DAY2 + DAY, correction_days=3
        )
        assert after.last_sent(PDL) == DAY2
        assert after.last_sent("09222222222222") == dt.date(2026, 11, 25)  # not advanced, still kept
        assert after.days_to_send(PDL, dt.date(2024, 1, 1)).first == DAY2 - DAY * 2

        moved = await ExportCursor.load(
            store,
            influxdb.InfluxDbExporter.name,
            target=["http://other:8086", "bucket"],
            newest=DAY2,
            correction_days=3,
        )
        assert moved.last_sent(PDL) is None  # another target starts over

        # VictoriaMetrics kept its cursor beside its digests: the same record, read as it is.
        vm_old = {
            "target": "t",
            "points": {PDL: {"first_day": "2020-01-01", "last_day": "2026-11-26", "digests": {"x": "y"}}},
        }
        await store.set_setting("exporter_state.victoriametrics", vm_old)
        vm = await ExportCursor.load(
            store, victoriametrics.VictoriaMetricsExporter.name, target="t", newest=DAY2, correction_days=7
        )
        assert vm.last_sent(PDL) == DAY1 and vm.notes(PDL)["digests"] == {"x": "y"}
    finally:
        await store.close()


async def test_jeedom_continues_from_a_cursor_saved_by_an_earlier_version(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    """An install upgraded with Jeedom's old state sends the correction window and the new days only,
    not the first run's history."""
    service = await synced_service(aiohttp_server, tmp_path)
    assert service.exporters is not None and service.store is not None
    manager: ExporterManager = service.exporters
    fake = FakeJeedom()
    url = str((await aiohttp_server(fake.app())).make_url("")).rstrip("/")
    daily_id = fake.add_command("daily_consumption")
    old = {"target": json.dumps(["jsonrpc", url, ""]), "last_day": {PDL: "2026-11-25"}, "created": {}}
    await service.store.set_setting("exporter_state.jeedom", old)
    config = {
        "enabled": True,
        "url": url,
        "apikey": API_KEY,
        "commands": f"{PDL}.daily_consumption={daily_id}",
        "history_days": 60,
        "correction_days": 1,
        "load_curve": False,
    }
    await manager.save("jeedom", config)
    await manager.wait_idle()
    assert manager.status("jeedom").last_error is None
    sent_days = [e["datetime"][:10] for e in fake.events() if e["id"] == daily_id]
    assert sent_days == ["2026-11-25", "2026-11-26", "2026-11-27"]  # window (1 day) + two new days

    fake.calls.clear()
    await manager.run("jeedom")
    assert [e["datetime"][:10] for e in fake.events() if e["id"] == daily_id] == ["2026-11-27"]
    assert fake.violations == []
    await service.stop()
