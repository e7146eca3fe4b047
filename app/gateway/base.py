"""The interface the sync runner uses; the v2 client and the legacy v1 adapter both implement it.

Every ranged method takes an INCLUSIVE range of Paris days [first, last] and translates it to the
route's own bounds (exclusive ends, exclusive Tempo start, ...), so callers never see route quirks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol

from app.domain import (
    Address,
    CallRecord,
    Contract,
    DailyEnergy,
    Direction,
    EcoWattDay,
    Fetched,
    IntervalReading,
    MaxPower,
    Offer,
    TempoDay,
    UsagePoint,
    UsageStats,
)

CallListener = Callable[[CallRecord], None]


class Gateway(Protocol):
    async def usage_points(self) -> list[UsagePoint]: ...

    async def daily(
        self, usage_point_id: str, direction: Direction, first: dt.date, last: dt.date
    ) -> Fetched[DailyEnergy]: ...

    async def curve(
        self, usage_point_id: str, direction: Direction, first: dt.date, last: dt.date
    ) -> Fetched[IntervalReading]: ...

    async def max_power(self, usage_point_id: str, first: dt.date, last: dt.date) -> Fetched[MaxPower]: ...

    async def contract(self, usage_point_id: str) -> Contract: ...

    async def address(self, usage_point_id: str) -> Address: ...

    async def tempo_days(self, first: dt.date, last: dt.date) -> list[TempoDay]: ...

    async def ecowatt(self, days: int = 4) -> list[EcoWattDay]: ...

    async def offers(self) -> list[Offer]: ...

    async def usage_stats(self) -> UsageStats | None: ...

    async def close(self) -> None: ...
