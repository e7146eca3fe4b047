"""The one small interface through which exporters read costs (filled in by the pricing engine).

Exporters (Home Assistant cost statistics, MQTT, Prometheus, VictoriaMetrics) depend on this
protocol only, never on how prices are looked up, so they work unchanged when tariffs change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class BucketCost:
    """Energy and its price in one tariff bucket over one period.

    `start` is the UTC start of the period (a local hour, or a Paris day), `bucket` a stable name:
    "base", "hp", "hc", "tempo_blue_hp", "tempo_blue_hc", ..., `offer_id` the offer that priced it.
    """

    usage_point_id: str
    start: dt.datetime
    minutes: int
    bucket: str
    wh: int
    euros: Decimal
    offer_id: str


class CostSource(Protocol):
    async def hourly(self, usage_point_id: str, start: dt.datetime, end: dt.datetime) -> list[BucketCost]:
        """Energy cost per local hour and bucket for instants in [start, end) (UTC)."""
        ...

    async def daily(self, usage_point_id: str, first: dt.date, last: dt.date) -> list[BucketCost]:
        """Energy cost per Paris day and bucket for days in [first, last], subscription excluded."""
        ...

    async def subscription(self, usage_point_id: str, first: dt.date, last: dt.date) -> Decimal:
        """The subscription prorated per day over [first, last]."""
        ...
