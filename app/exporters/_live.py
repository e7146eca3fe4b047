"""The clock of the live prices every exporter that shows them uses (Home Assistant discovery, MQTT,
Prometheus): sleep until the next price change, then hand the prices in force (`app.costing.live_prices`)
over."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from app import timeline
from app.costing import live_prices
from app.pricing.live import LivePrice
from app.store import Store

log = logging.getLogger(__name__)

MAX_SLEEP = 3600.0  # re-read the clock at least hourly (suspend, clock jumps)
WaitUntil = Callable[[dt.datetime], Awaitable[None]]
OnChange = Callable[[dict[str, LivePrice]], Awaitable[None]]


def next_wake(prices: dict[str, LivePrice], now: dt.datetime) -> dt.datetime:
    """The earliest price change of any usage point, else the next Paris midnight (new day, new grid)."""
    changes = [p.next_change for p in prices.values() if p.next_change is not None and p.next_change > now]
    midnight = timeline.day_start_utc(timeline.paris_today(now) + dt.timedelta(days=1))
    return min([*changes, midnight])


class RealClockWait:
    """`wait_until` on a clock function: one sleep to the instant, re-checked after a suspend or jump."""

    def __init__(self, clock: Callable[[], dt.datetime]) -> None:
        self.clock = clock

    async def __call__(self, when: dt.datetime) -> None:
        remaining = (when - self.clock()).total_seconds()
        while remaining > 0:
            await asyncio.sleep(min(remaining, MAX_SLEEP))
            remaining = (when - self.clock()).total_seconds()


async def run_price_clock(
    store: Store, clock: Callable[[], dt.datetime], wait_until: WaitUntil | None, on_change: OnChange
) -> None:
    """Forever: sleep until the next price change, then hand the prices in force to `on_change`."""
    wait = wait_until or RealClockWait(clock)
    prices: dict[str, LivePrice] | None = None
    while True:
        try:
            now = clock()
            if prices is None:
                prices = await live_prices(store, now)
            wake = next_wake(prices, now)
        except Exception:  # a store hiccup must not stop the price updates for good
            log.exception("live prices: cannot compute the next price change; retrying in a minute")
            prices = None
            await asyncio.sleep(60)
            continue
        await wait(wake)
        try:
            prices = None
            prices = await live_prices(store, clock())
            await on_change(prices)
        except Exception as exc:
            log.warning("live prices: update at %s not sent: %s", wake.isoformat(), exc)
