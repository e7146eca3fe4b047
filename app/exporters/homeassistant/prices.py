"""Price entities of each "Linky <name>" device: current price (EUR/kWh, the entity the Energy dashboard
accepts as "entity with current price"), off-peak now, next change, next price, and the schedules of
today and tomorrow as `{start, end, value}` lists (the shape Target Timeframes and evcc read).

`PriceClock` wakes the discovery exporter exactly at the next change (no polling): it sleeps until that
instant on the injected clock, so tests can move time by giving their own `wait_until`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

from app import timeline
from app.exporters.homeassistant.sensors import Entity
from app.pricing.live import LivePrice

PRICE_GROUP = "price"
PRICE_UNIT = "EUR/kWh"
MAX_SLEEP = 3600.0  # re-read the clock at least hourly (suspend, clock jumps)

WaitUntil = Callable[[dt.datetime], Awaitable[None]]


def _iso(instant: dt.datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(dt.UTC).isoformat()


def price_entities(prices: dict[str, LivePrice]) -> list[Entity]:
    out: list[Entity] = []
    for pdl, live in prices.items():
        current, following = live.current, live.next
        out += [
            Entity(
                pdl,
                "price_current",
                "Current price",
                PRICE_GROUP,
                None if current is None else float(current.price),
                PRICE_UNIT,
                state_class="measurement",
                icon="mdi:cash-clock",
                attributes={
                    "bucket": current.bucket if current else None,
                    "offer": live.offer.name,
                    "offer_id": live.offer.id,
                    "provider": live.offer.provider,
                    "valid_until": None if live.next_change is None else live.next_change.isoformat(),
                    "today": [s.as_local() for s in live.today],
                    "tomorrow": [s.as_local() for s in live.tomorrow],
                },
            ),
            Entity(
                pdl,
                "offpeak_now",
                "Off-peak now",
                PRICE_GROUP,
                None if live.offpeak is None else ("ON" if live.offpeak else "OFF"),
                icon="mdi:clock-star-four-points",
                platform="binary_sensor",
            ),
            Entity(
                pdl,
                "price_next_change",
                "Next price change",
                PRICE_GROUP,
                _iso(live.next_change),
                None,
                "timestamp",
                icon="mdi:clock-end",
            ),
            Entity(
                pdl,
                "price_next",
                "Next price",
                PRICE_GROUP,
                None if following is None else float(following.price),
                PRICE_UNIT,
                icon="mdi:cash-fast",
                attributes={"bucket": following.bucket if following else None},
            ),
        ]
    return out


def next_wake(prices: dict[str, LivePrice], now: dt.datetime) -> dt.datetime:
    """The earliest price change of any usage point, else the next Paris midnight (new day, new grid)."""
    changes = [p.next_change for p in prices.values() if p.next_change is not None and p.next_change > now]
    midnight = timeline.day_start_utc(timeline.paris_today(now) + dt.timedelta(days=1))
    return min([*changes, midnight])


class RealClockWait:
    """`wait_until` on a clock function: sleeps until the instant, re-reading the clock at least hourly."""

    def __init__(self, clock: Callable[[], dt.datetime]) -> None:
        self.clock = clock

    async def __call__(self, when: dt.datetime) -> None:
        remaining = (when - self.clock()).total_seconds()
        while remaining > 0:  # one sleep to the change; re-checked only after a suspend or clock jump
            await asyncio.sleep(min(remaining, MAX_SLEEP))
            remaining = (when - self.clock()).total_seconds()
