"""Costs flow from ExportContext.costs (the CostSource protocol) into the exporters' output."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from app import timeline
from app.domain import Direction, OffpeakRange
from app.exporters._data import summarize
from app.exporters.mqtt import MqttExporter
from app.exporters.prometheus import PrometheusExporter
from app.exporters.victoriametrics import VictoriaMetricsExporter
from app.pricing.source import BucketCost
from app.tariff_rules import is_offpeak_minute
from tests.exporter_support import synced_service
from tests.support import AiohttpServer

PDL = "09222222222222"
YESTERDAY = dt.date(2026, 11, 27)


class HalfPriceSource:
    """A tiny CostSource: every day's energy split 60 % HP / 40 % HC at fixed prices."""

    def __init__(self, wh_by_day: dict[dt.date, int]) -> None:
        self.wh_by_day = wh_by_day

    async def hourly(self, usage_point_id: str, start: dt.datetime, end: dt.datetime) -> list[BucketCost]:
        return []

    async def daily(self, usage_point_id: str, first: dt.date, last: dt.date) -> list[BucketCost]:
        out = []
        for day, wh in self.wh_by_day.items():
            if first <= day <= last:
                start = timeline.day_start_utc(day)
                hp = wh * 6 // 10
                hp_eur, hc_eur = Decimal("0.2700") * hp / 1000, Decimal("0.2068") * (wh - hp) / 1000
                out.append(BucketCost(usage_point_id, start, 1440, "hp", hp, hp_eur, "edf-hphc"))
                out.append(BucketCost(usage_point_id, start, 1440, "hc", wh - hp, hc_eur, "edf-hphc"))
        return out

    async def subscription(self, usage_point_id: str, first: dt.date, last: dt.date) -> Decimal:
        return Decimal(0)


async def test_costs_reach_mqtt_and_prometheus(aiohttp_server: AiohttpServer, tmp_path: Path) -> None:
    service = await synced_service(aiohttp_server, tmp_path)
    assert service.store is not None and service.exporters is not None
    wh = (await service.store.daily(PDL, Direction.CONSUMPTION, YESTERDAY, YESTERDAY))[0].wh
    context = service.exporters.context
    context.costs = HalfPriceSource({YESTERDAY: wh})
    hp = wh * 6 // 10
    euros = Decimal("0.2700") * hp / 1000 + Decimal("0.2068") * (wh - hp) / 1000

    mqtt = MqttExporter({"prefix": "t"}, context)
    messages = dict(mqtt.messages(await summarize(context)))
    daily = json.loads(messages[f"t/{PDL}/consumption/daily"])
    assert daily["hp"] == round(hp / 1000, 3) and daily["hc"] == round((wh - hp) / 1000, 3)
    assert daily["cost"] == float(round(euros, 2)) and daily["currency"] == "EUR"

    prometheus = PrometheusExporter({"enabled": True}, context)
    text = (await prometheus.render()).decode()
    values = {
        (s.name, s.labels.get("usage_point_id")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert values[("myelectricaldata_consumption_yesterday_cost_euros", PDL)] == float(euros)
    assert values[("myelectricaldata_consumption_yesterday_peak_wh", PDL)] == hp

    vm = VictoriaMetricsExporter({"url": "http://127.0.0.1:1"}, context)
    point = next(p for p in await service.store.usage_points() if p.usage_point_id == PDL)
    samples = (await vm.samples(point, YESTERDAY, YESTERDAY))[YESTERDAY]
    day_ms = int(timeline.day_start_utc(YESTERDAY).timestamp()) * 1000
    by_name = {(name, dict(labels).get("offer")): (ms, value) for (name, labels), ms, value in samples}
    assert by_name[("myelectricaldata_consumption_daily_cost_euros", "edf-hphc")] == (day_ms, float(euros))
    assert by_name[("myelectricaldata_consumption_daily_hp_wh", None)] == (day_ms, hp)
    assert by_name[("myelectricaldata_consumption_daily_hc_wh", None)] == (day_ms, wh - hp)
    await service.stop()


@given(st.times(), st.times(), st.times())
def test_offpeak_windows_match_a_minute_by_minute_definition(
    start: dt.time, end: dt.time, at: dt.time
) -> None:
    start, end, at = (t.replace(second=0, microsecond=0, tzinfo=None) for t in (start, end, at))
    window = OffpeakRange(start, end)

    def minutes(t: dt.time) -> int:
        return t.hour * 60 + t.minute

    s, e, a = minutes(start), minutes(end), minutes(at)
    expected = (s <= a < e) if e > s else (a >= s or a < e)
    assert is_offpeak_minute(a, (window,)) is expected
